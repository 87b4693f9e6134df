"""One test per case, asked and judged through the public API (Assistant.ask / Assistant.chat) by evals/judge.py."""
from __future__ import annotations

import time

import pytest

from evals.cases import load, turns
from evals.conftest import record
from evals.judge import applicable, judge

SINGLE = load("figures") + load("names") + load("unanswerable")
FOLLOWUPS = load("followups")


def _run(ask, case, source_text) -> tuple[list[dict], float]:
    answers = []
    started = time.perf_counter()
    for n, turn in enumerate(turns(case), 1):
        answer = ask(turn["question"])
        failures = judge(answer, turn, source_text)
        if "turns" in case:
            failures = [f"{f.split(':', 1)[0]}: turn {n}: {f.split(':', 1)[1].strip()}" for f in failures]
        answers.append({"question": turn["question"], "text": answer.text, "language": answer.language,
                        "answered": answer.answered, "checks": list(applicable(turn)), "failures": failures})
    return answers, (time.perf_counter() - started) / len(answers)


def _explain(answers: list[dict]) -> str:
    return "\n".join(f"Q {a['question']!r}\nA [{a['language']}, answered={a['answered']}] {a['text']!r}\n  "
                     + "\n  ".join(a["failures"]) for a in answers)


@pytest.mark.parametrize("case", SINGLE, ids=lambda c: c["id"])
def test_case(assistant, case) -> None:
    answers, latency = _run(assistant.ask, case, assistant.source_text)
    record(case, answers, latency)
    assert not any(a["failures"] for a in answers), _explain(answers)


@pytest.mark.parametrize("case", FOLLOWUPS, ids=lambda c: c["id"])
def test_conversation(assistant, case) -> None:
    answers, latency = _run(assistant.chat().ask, case, assistant.source_text)
    record(case, answers, latency)
    assert not any(a["failures"] for a in answers), _explain(answers)
