"""One test per case, judged through the public API (Assistant.ask / Assistant.chat)."""
from __future__ import annotations

import time

import pytest

from evals.cases import load
from evals.conftest import record
from evals.judge import judge

SINGLE = load("figures") + load("names") + load("unanswerable")
FOLLOWUPS = load("followups")


@pytest.mark.parametrize("case", SINGLE, ids=lambda c: c["id"])
def test_case(assistant, case) -> None:
    started = time.perf_counter()
    answer = assistant.ask(case["question"])
    failures = judge(answer, case["expected"], case["language"], assistant.source_text)
    record(case["id"], case["category"], failures, time.perf_counter() - started)
    assert not failures, f"{case['question']!r} -> {answer.text!r}\n" + "\n".join(failures)


@pytest.mark.parametrize("case", FOLLOWUPS, ids=lambda c: c["id"])
def test_conversation(assistant, case) -> None:
    chat = assistant.chat()
    failures: list[str] = []
    started = time.perf_counter()
    transcript = []
    for n, turn in enumerate(case["turns"], 1):
        answer = chat.ask(turn["question"])
        transcript.append(f"{turn['question']!r} -> {answer.text[:160]!r}")
        failures += [f"{f.split(':', 1)[0]}: turn {n}: {f.split(':', 1)[1].strip()}"
                     for f in judge(answer, turn["expected"], case["language"], assistant.source_text)]
    record(case["id"], "followups", failures, (time.perf_counter() - started) / len(case["turns"]))
    assert not failures, "\n".join(transcript + failures)
