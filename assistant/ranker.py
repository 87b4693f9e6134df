"""The learned, calibrated answer ranker: a logistic model over the candidates' features
(assistant.candidates.FEATURES), trained by `python -m assistant.train` and shipped as a small JSON file
(coefficients, intercept, the abstention threshold chosen on dev data, and how it was measured). Scoring is
a dot product: no scikit-learn at query time."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.candidates import FEATURES, vector

MODEL_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float
    threshold: float  # a candidate is answered when its probability reaches it...
    legacy_threshold: float  # ...or, for the pick of the constraint-based composer, this one
    unconfirmed_threshold: float  # names: the composer's pick that NER does not confirm
    mean: np.ndarray
    scale: np.ndarray
    # Per answer kind ('money', 'percent', ...): the composer's pick is more reliable for some kinds than for
    # others, so each kind has its own bar (chosen on dev like the rest); a kind not listed uses the default.
    legacy_by_kind: dict[str, float] = field(default_factory=dict)

    def legacy_threshold_for(self, kind: str) -> float:
        return self.legacy_by_kind.get(kind, self.legacy_threshold)

    def score(self, candidates: list, catalogue: tuple[str, ...] = FEATURES, vectorize=vector) -> list:
        """Each candidate's probability of being the right answer, best first. `catalogue` and `vectorize`
        say which features a candidate carries (figures by default; names: NAME_FEATURES, name_vector)."""
        if not candidates:
            return []
        index = {name: i for i, name in enumerate(catalogue)}
        X = np.asarray([vectorize(c) for c in candidates], dtype=np.float64)
        cols = [index[name] for name in self.features]
        z = ((X[:, cols] - self.mean) / self.scale) @ self.coef + self.intercept
        for c, zi in zip(candidates, z):
            c.probability = 1.0 / (1.0 + math.exp(-float(zi)))
        return sorted(candidates, key=lambda c: -c.probability)


@lru_cache(maxsize=4)
def load(name: str = "figures") -> Ranker | None:
    path = MODEL_DIR / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Ranker(tuple(data["features"]), np.asarray(data["coef"]), float(data["intercept"]),
                  float(data["threshold"]), float(data.get("legacy_threshold", data["threshold"])),
                  float(data.get("unconfirmed_threshold", data.get("legacy_threshold", data["threshold"]))),
                  np.asarray(data["mean"]), np.asarray(data["scale"]),
                  {k: float(v) for k, v in (data.get("legacy_threshold_by_kind") or {}).items()})
