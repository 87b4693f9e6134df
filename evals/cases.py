"""Load the eval cases (YAML data in evals/cases/)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"
CATEGORIES = ("figures", "names", "unanswerable", "followups")


def load(category: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASES_DIR / f"{category}.yaml").read_text(encoding="utf-8")) or []
    for case in data:
        case["category"] = category
        if category == "unanswerable":
            case["expected"] = "unanswerable"
    return data


def all_cases() -> list[dict[str, Any]]:
    return [c for cat in CATEGORIES for c in load(cat)]


def single_turn_with_gold() -> list[dict[str, Any]]:
    """Every (question, source, gold) an answer must be found in: for retrieval metrics."""
    out = []
    for case in all_cases():
        if case["category"] == "followups":
            first = case["turns"][0]  # later turns depend on the conversation
            if "gold" in first:
                out.append({"id": case["id"], "question": first["question"], "source": first["source"], "gold": first["gold"]})
        elif "gold" in case:
            out.append({"id": case["id"], "question": case["question"], "source": case["source"], "gold": case["gold"]})
    return out
