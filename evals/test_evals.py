"""seeds: one test per case, asked and judged through the public API (Assistant.ask / Assistant.chat) by
evals/judge.py; every case must pass."""
from __future__ import annotations

import pytest

from evals.cases import load
from evals.conftest import record
from evals.suites import run_case

pytestmark = pytest.mark.suite("seeds")

SINGLE = load("figures") + load("names") + load("unanswerable")
FOLLOWUPS = load("followups")


def _explain(answers: list[dict]) -> str:
    return "\n".join(f"Q {a['question']!r}\nA [{a['language']}, answered={a['answered']}, {a['outcome']}] "
                     f"{a['text']!r}\n  " + "\n  ".join(a["failures"]) for a in answers)


@pytest.mark.parametrize("case", SINGLE, ids=lambda c: c["id"])
def test_case(assistant, seed_sources, case) -> None:
    answers = run_case(assistant.ask, case, seed_sources)
    record("seeds", case, answers)
    assert not any(a["failures"] for a in answers), _explain(answers)


@pytest.mark.parametrize("case", FOLLOWUPS, ids=lambda c: c["id"])
def test_conversation(assistant, seed_sources, case) -> None:
    answers = run_case(assistant.chat().ask, case, seed_sources)
    record("seeds", case, answers)
    assert not any(a["failures"] for a in answers), _explain(answers)
