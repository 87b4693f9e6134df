"""The eval data itself: golds are exact source text, every figure asked in both languages."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from assistant.figures import parse_figures, same_value
from evals.cases import all_cases, load
from evals.judge import expected_figure

SOURCES = Path(__file__).resolve().parents[2] / "sources"


def _turns(case):
    return case["turns"] if "turns" in case else [case]


def test_ids_unique() -> None:
    ids = [c["id"] for c in all_cases()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c["id"])
def test_golds_are_exact_and_prove_the_figure(case) -> None:
    for turn in _turns(case):
        if "gold" not in turn:
            continue
        text = (SOURCES / turn["source"]).read_text(encoding="utf-8")
        assert turn["gold"] in text
        expected = turn["expected"]
        if isinstance(expected, dict) and "value" in expected:
            want = expected_figure(expected)
            assert any(same_value(f, want) for f in parse_figures(turn["gold"])), turn["gold"]
        elif isinstance(expected, dict) and "names" in expected:
            assert all(n in turn["gold"] for n in expected["names"])


def test_every_figure_is_asked_in_both_languages() -> None:
    langs = defaultdict(set)
    for case in load("figures"):
        e = case["expected"]
        langs[(e["value"], e["unit"], case["gold"])].add(case["language"])
    assert all(v == {"fr", "en"} for v in langs.values()), langs


def test_every_figure_of_the_articles_has_a_case() -> None:
    asked = [expected_figure(c["expected"]) for c in load("figures")]
    for path in SOURCES.glob("*.txt"):
        for fig in parse_figures(path.read_text(encoding="utf-8")):
            assert any(same_value(fig, a) for a in asked), f"{path.name}: {fig.text!r} is asked by no case"


def test_counts() -> None:
    unanswerable = load("unanswerable")
    assert len(unanswerable) >= 10 and sum(c.get("near_miss", False) for c in unanswerable) >= len(unanswerable) / 2 - 1
    assert len(load("followups")) >= 6
    assert {c["language"] for c in load("followups")} == {"fr", "en"}
