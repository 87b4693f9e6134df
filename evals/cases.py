"""Load the eval cases: YAML data in evals/cases/, one file per category.

figures.yaml       single questions whose answer is one figure
names.yaml         single questions whose answer is one or more names (ALL required)
unanswerable.yaml  single questions the articles do not answer (near_miss: entity present, attribute absent)
followups.yaml     conversations: `turns`, each judged on its own expectation

A *turn* is one question and what it must get (a single-question case is its own turn):
  expected: {value, unit, kind[, per][, qualifier]} + source, gold    one figure
  expected_any: [{value, unit, kind, ..., source, gold}, ...]          documented alternatives, either is right
  expected: {names: [...]}                           + source, gold    names
  unanswerable: true                                                   a refusal
  also: [{source, gold}, ...]   further spans stating the same answer (retrieval counts them as hits)
`language` (fr|en) is set on the case; turns() copies it onto every turn.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"
SOURCES_DIR = Path(__file__).resolve().parent.parent / "sources"
CATEGORIES = ("figures", "names", "unanswerable", "followups")
LABELS = {"figures": "figures", "names": "names", "unanswerable": "refusals", "followups": "follow-ups"}


def load(category: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASES_DIR / f"{category}.yaml").read_text(encoding="utf-8")) or []
    for case in data:
        case["category"] = category
    return data


def all_cases() -> list[dict[str, Any]]:
    return [c for cat in CATEGORIES for c in load(cat)]


def turns(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's turns, each carrying the case's language."""
    raw = case["turns"] if "turns" in case else [case]
    return [{**t, "language": case["language"]} for t in raw]


def kind_of(turn: dict[str, Any]) -> str:
    """'figure' | 'names' | 'unanswerable'."""
    if turn.get("unanswerable"):
        return "unanswerable"
    if "expected_any" not in turn and "names" in turn["expected"]:
        return "names"
    return "figure"


def alternatives(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The acceptable figures of a figure turn, each with its source and gold."""
    if "expected_any" in turn:
        return list(turn["expected_any"])
    return [{**turn["expected"], "source": turn.get("source"), "gold": turn.get("gold")}]


def golds(turn: dict[str, Any]) -> list[tuple[str, str]]:
    """(source file, gold text) pairs, any of which proves the turn's answer."""
    if turn.get("unanswerable"):
        return []
    if "expected_any" in turn:
        return [(a["source"], a["gold"]) for a in turn["expected_any"]]
    main = [(turn["source"], turn["gold"])] if "gold" in turn else []
    return main + [(a["source"], a["gold"]) for a in turn.get("also", [])]


def retrieval_cases() -> list[dict[str, Any]]:
    """Every answerable stand-alone question with its gold span(s), for the retrieval metrics. Of a
    conversation only the first turn counts (later turns only make sense within the conversation)."""
    out = []
    for case in all_cases():
        first = turns(case)[0]
        g = golds(first)
        if g:
            out.append({"id": case["id"], "question": first["question"], "golds": g})
    return out


def source_text(name: str) -> str:
    return (SOURCES_DIR / name).read_text(encoding="utf-8")
