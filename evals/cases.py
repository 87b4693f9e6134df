"""Load the eval cases: YAML data, three suites.

seeds        evals/cases/<category>.yaml, about the project's own sources/ (the category is the file name):
               figures.yaml       single questions whose answer is one figure
               names.yaml         single questions whose answer is one or more names (ALL required)
               unanswerable.yaml  single questions the articles do not answer (near_miss: entity present)
               followups.yaml     conversations: `turns`, each judged on its own expectation
unseen-dev   evals/unseen/cases/<article stem>.yaml, one file per article of evals/unseen/articles/ (each case
unseen-test  names its `category`), split BY ARTICLE in evals/unseen/split.yaml: `dev` may be looked at case by
             case, `test` only through its totals. An article the split does not list yet counts as `test`
             (the safe side; tests/evals/test_split.py asks for it to be listed).

A *turn* is one question and what it must get (a single-question case is its own turn):
  expected: {value, unit, kind[, per][, qualifier]} + source, gold    one figure
  expected_any: [{value, unit, kind, ..., source, gold}, ...]          documented alternatives, either is right
  expected_all: [{value, unit, kind, ..., gold}, ...] + source         compound: every figure, each cited
  expected: {names: [...]}                           + source, gold    names
  unanswerable: true                                                   a refusal
  also: [{source, gold}, ...]   further spans stating the same answer (retrieval counts them as hits)
`language` (fr|en) is set on the case; turns() copies it onto every turn.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

EVALS_DIR = Path(__file__).resolve().parent
ROOT = EVALS_DIR.parent
CASES_DIR = EVALS_DIR / "cases"
SOURCES_DIR = ROOT / "sources"
UNSEEN_DIR = EVALS_DIR / "unseen"
UNSEEN_ARTICLES = UNSEEN_DIR / "articles"
UNSEEN_CASES = UNSEEN_DIR / "cases"
SPLIT_FILE = UNSEEN_DIR / "split.yaml"

SEED_CATEGORIES = ("figures", "names", "unanswerable", "followups")
CATEGORIES = ("figures", "names", "unanswerable", "followups", "compound")
LABELS = {"figures": "figures", "names": "names", "unanswerable": "refusals", "followups": "follow-ups",
          "compound": "compound"}
SUITES = ("seeds", "unseen-dev", "unseen-test")
SPLITS = ("dev", "test")


# ------------------------------------------------------------------ seeds

def load(category: str) -> list[dict[str, Any]]:
    """The seed cases of one category (evals/cases/<category>.yaml)."""
    data = yaml.safe_load((CASES_DIR / f"{category}.yaml").read_text(encoding="utf-8")) or []
    for case in data:
        case["category"] = category
    return data


def all_cases() -> list[dict[str, Any]]:
    """Every seed case."""
    return [c for cat in SEED_CATEGORIES for c in load(cat)]


# ------------------------------------------------------------------ unseen

def article_stems() -> list[str]:
    """The unseen articles present (file stems of evals/unseen/articles/*.txt)."""
    return sorted(p.stem for p in UNSEEN_ARTICLES.glob("*.txt")) if UNSEEN_ARTICLES.is_dir() else []


def read_split() -> dict[str, list[str]]:
    """split.yaml as written: {"dev": [stems], "test": [stems]} (missing lists are empty)."""
    if not SPLIT_FILE.is_file():
        return {s: [] for s in SPLITS}
    data = yaml.safe_load(SPLIT_FILE.read_text(encoding="utf-8")) or {}
    return {s: [str(x) for x in (data.get(s) or [])] for s in SPLITS}


def split_of(stem: str, split: dict[str, list[str]] | None = None) -> str:
    """'dev' | 'test' for an article stem (or file name); an article not listed is 'test'."""
    stem = Path(stem).stem if stem.endswith(".txt") else stem
    split = read_split() if split is None else split
    return "dev" if stem in split["dev"] and stem not in split["test"] else "test"


def unseen_case_files() -> list[Path]:
    return sorted(UNSEEN_CASES.glob("*.yaml")) if UNSEEN_CASES.is_dir() else []


def load_unseen(errors: list[str] | None = None) -> list[dict[str, Any]]:
    """Every unseen case, each with `article` (the stem of its case file, i.e. of its article) and `_position` (its
    place in the file). A file that does
    not parse is left out and named in `errors` (when given), else raises."""
    out = []
    for path in unseen_case_files():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            if not isinstance(data, list):
                raise ValueError("not a YAML list")
        except Exception as e:  # noqa: BLE001  (a file being written, or broken)
            if errors is None:
                raise
            errors.append(f"{path.name}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
            continue
        for position, case in enumerate(data, 1):
            if isinstance(case, dict):
                case["article"] = path.stem
                case["_position"] = position  # its place in the file: how a hidden (test) case is named
                out.append(case)
    return out


def suite_cases(suite: str, errors: list[str] | None = None) -> list[dict[str, Any]]:
    """The cases of 'seeds' | 'unseen-dev' | 'unseen-test'."""
    if suite == "seeds":
        return all_cases()
    want = suite.split("-", 1)[1]
    split = read_split()
    return [c for c in load_unseen(errors) if split_of(c["article"], split) == want]


def case_sources(case: dict[str, Any]) -> set[str]:
    """Every source file a case's golds name."""
    return {src for t in turns(case) for src, _ in golds(t)}


# ------------------------------------------------------------------ turns

def turns(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's turns, each carrying the case's language."""
    raw = case["turns"] if "turns" in case else [case]
    return [{**t, "language": case["language"]} for t in raw]


def kind_of(turn: dict[str, Any]) -> str:
    """'figure' | 'names' | 'compound' | 'unanswerable'."""
    if turn.get("unanswerable"):
        return "unanswerable"
    if "expected_all" in turn:
        return "compound"
    if "expected_any" not in turn and "names" in turn["expected"]:
        return "names"
    return "figure"


def alternatives(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The acceptable figures of a figure turn, each with its source and gold."""
    if "expected_any" in turn:
        return list(turn["expected_any"])
    return [{**turn["expected"], "source": turn.get("source"), "gold": turn.get("gold")}]


def required(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures a compound turn must all give, each with its source (the turn's unless it names one) and gold."""
    return [{**item, "source": item.get("source", turn.get("source"))} for item in turn["expected_all"]]


def golds(turn: dict[str, Any]) -> list[tuple[str, str]]:
    """(source file, gold text) pairs proving the turn's answer (any of them; all of them for a compound)."""
    if turn.get("unanswerable"):
        return []
    if "expected_any" in turn:
        return [(a["source"], a["gold"]) for a in turn["expected_any"]]
    if "expected_all" in turn:
        return [(a["source"], a["gold"]) for a in required(turn)]
    main = [(turn["source"], turn["gold"])] if "gold" in turn else []
    return main + [(a["source"], a["gold"]) for a in turn.get("also", [])]


def retrieval_cases() -> list[dict[str, Any]]:
    """Every answerable stand-alone seed question with its gold span(s), for the retrieval metrics. Of a
    conversation only the first turn counts (later turns only make sense within the conversation)."""
    out = []
    for case in all_cases():
        first = turns(case)[0]
        g = golds(first)
        if g:
            out.append({"id": case["id"], "question": first["question"], "golds": g})
    return out


# ------------------------------------------------------------------ source texts

def source_text(name: str, directory: Path = SOURCES_DIR) -> str:
    return (directory / name).read_text(encoding="utf-8")


class SourceFiles:
    """`source_text(source_id) -> str` read by the judge itself from a directory (not from the engine), cached.
    An id that names no file there raises KeyError."""

    def __init__(self, directory: Path, fallback: Callable[[str], str] | None = None) -> None:
        self.directory = Path(directory)
        self.fallback = fallback  # for sources that are not plain text files (html, pdf): the engine's text
        self._cache: dict[str, str] = {}

    def __call__(self, source_id: str) -> str:
        if source_id not in self._cache:
            path = self.directory / source_id
            if Path(source_id).name != source_id or not path.is_file():
                raise KeyError(source_id)
            if path.suffix.lower() in (".txt", ".md") or self.fallback is None:
                self._cache[source_id] = path.read_text(encoding="utf-8")
            else:
                self._cache[source_id] = self.fallback(source_id)
        return self._cache[source_id]
