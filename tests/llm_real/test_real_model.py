"""The optional LLM path against a real model: llama.cpp's server on 127.0.0.1 serving
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), through the OpenAI-compatible client, as a user would run it.

Safety, not wording: whatever the engine that wrote it, every final answer must be judged right by the eval
judge (`evals.judge.judge`), no call raises, every `fallback_reason` is a documented one, and streaming
gives text chunks, then the final Answer. A small model writes many replies the verifier must reject (a
list of figures, markers only, the prompt echoed, the wrong language or scale, a bad follow-up rewrite):
those become the extractive answer, which the judge then holds to the same standard.
"""
from __future__ import annotations

import re
import time

import pytest

from assistant.types import Answer
from evals.judge import judge

from .conftest import ROWS

pytestmark = pytest.mark.slow

A = "xai-financement-6-milliards.txt"
B = "xai-pertes-1-milliard-par-mois-mac4ever.txt"

LOSS = {"expected": {"value": 1.0e9, "unit": "USD", "kind": "money", "per": "month"}, "source": B,
        "gold": "1 milliard de dollars par mois"}

SINGLE = [  # (question, language, what the judge expects)
    ("Combien xAI perd-elle par mois ?", "fr", LOSS),  # a real reply here was a list of six figures
    ("How much is xAI losing each month?", "en", LOSS),
    ("À combien la nouvelle levée valorise-t-elle xAI ?", "fr",
     {"expected": {"value": 1.8e10, "unit": "USD", "kind": "money"}, "source": A,
      "gold": "Le nouveau cycle de financement voit désormais xAI évalué à environ 18 milliards de dollars."}),
    ("How much extra funding did xAI secure from backers such as Sequoia and Andreessen Horowitz?", "en",
     {"expected": {"value": 6.0e9, "unit": "USD", "kind": "money"}, "source": A,
      "gold": "près de 6 milliards de dollars de financement supplémentaire"}),
    ("Combien de GPU xAI utilise-t-elle ?", "fr",
     {"expected": {"value": 30000, "unit": "GPU", "kind": "count"}, "source": A,
      "gold": "On pense que xAI exploite actuellement environ 30 000 GPU H100"}),
    ("Which investors took part in xAI's funding?", "en",
     {"expected": {"names": ["Lightspeed Venture Partners", "Andreessen Horowitz", "Sequoia Capital", "Tribe Capital"]},
      "source": A, "gold": "notamment Lightspeed Venture Partners, Andreessen Horowitz, Sequoia Capital et Tribe Capital"}),
    ("Quel média a révélé les pertes de xAI ?", "fr",
     {"expected": {"names": ["Bloomberg"]}, "source": B, "gold": "selon un rapport publié par Bloomberg"}),
    ("Qui dirige Meta ?", "fr",
     {"expected": {"names": ["Mark Zuckerberg"]}, "source": A, "gold": "le PDG de Meta, Mark Zuckerberg"}),
    ("How many employees does xAI have?", "en", {"unanswerable": True}),
    ("Quelle est la capitale de l'Australie ?", "fr", {"unanswerable": True}),
]

CONVERSATIONS = [
    # The real model rewrote "Et combien lève-t-elle en ce moment ?" as "Combien xAI a-t-il en ce moment ?"
    # (the verb lost): the rule-based rewrite stands.
    ("fr", [("Combien xAI perd-elle par mois ?", LOSS),
            ("Et combien lève-t-elle en ce moment ?",
             {"expected": {"value": 9.3e9, "unit": "USD", "kind": "money"}, "source": B,
              "gold": "xAI est en train de finaliser une levée de fonds de 9,3 milliards de dollars"}),
            ("Et elle compte combien de salariés ?", {"unanswerable": True})]),
    ("en", [("How many GPUs does Meta run?",
             {"expected": {"value": 500000, "unit": "GPU", "kind": "count"}, "source": A,
              "gold": "Meta aurait désormais environ 500 000 GPU en service"}),
            ("And OpenAI?",
             {"expected": {"value": 1.0e7, "unit": "GPU", "kind": "count"}, "source": A,
              "gold": "déclare qu'il vise à mettre en production environ 10 millions de GPU"})]),
]

STREAMED = ("What is xAI worth after the new funding round?", "en",
            {"expected": {"value": 1.8e10, "unit": "USD", "kind": "money"}, "source": A,
             "gold": "Le nouveau cycle de financement voit désormais xAI évalué à environ 18 milliards de dollars."})

# The fallback reasons the README documents (a cooldown may add its note).
DOCUMENTED = re.compile(
    r"^(?:|llm-timeout|llm-unreachable|llm-rate-limited|llm-http-\d{3}|llm-empty|llm-declined|llm-no-evidence"
    r"|llm-not-trusted-over-refusal|verifier: .+)(?: \(recent failure; retried after [\d.]+ s\))?$", re.S)


def _record(assistant, answer: Answer, turn: dict, elapsed: float) -> list[str]:
    failures = judge(answer, turn, assistant.source_text)
    ROWS.append({"question": turn["question"], "language": turn["language"], "engine": answer.engine,
                 "fallback_reason": answer.fallback_reason, "llm_s": round(answer.timings.get("llm", 0.0), 2),
                 "total_s": round(elapsed, 2), "right": not failures, "failures": failures,
                 "text": answer.text})
    return failures


def _check(assistant, answer: Answer, turn: dict, elapsed: float) -> None:
    failures = _record(assistant, answer, turn, elapsed)
    assert DOCUMENTED.match(answer.fallback_reason), f"undocumented fallback reason {answer.fallback_reason!r}"
    assert not failures, (answer.engine, answer.fallback_reason, answer.text, failures)


@pytest.mark.parametrize("question, language, expect", SINGLE, ids=[q for q, _, _ in SINGLE])
def test_answer_is_right_whatever_the_engine(real_assistant, question, language, expect) -> None:
    started = time.perf_counter()
    answer = real_assistant.ask(question)
    _check(real_assistant, answer, {"question": question, "language": language, **expect},
           time.perf_counter() - started)


@pytest.mark.parametrize("language, turns", CONVERSATIONS, ids=[t[0][0] for _, t in CONVERSATIONS])
def test_follow_up_is_right_whatever_the_engine(real_assistant, language, turns) -> None:
    chat = real_assistant.chat()
    for question, expect in turns:
        started = time.perf_counter()
        answer = chat.ask(question)
        _check(real_assistant, answer, {"question": question, "language": language, **expect},
               time.perf_counter() - started)


def test_streaming_gives_chunks_then_a_right_final_answer(real_assistant) -> None:
    question, language, expect = STREAMED
    started = time.perf_counter()
    items = list(real_assistant.ask_stream(question))
    elapsed = time.perf_counter() - started
    final = items[-1]
    assert isinstance(final, Answer)
    chunks = [i for i in items[:-1] if isinstance(i, str)]
    shown_first = [i for i in items[:-1] if isinstance(i, Answer)]
    assert all(isinstance(i, (str, Answer)) for i in items[:-1])
    assert chunks, "no text chunk was streamed"
    assert len(shown_first) <= 1 and all(a.engine == "extractive" for a in shown_first)
    _check(real_assistant, final, {"question": question, "language": language, **expect}, elapsed)


def test_the_server_really_answered() -> None:
    """Runs last (file order): the questions above reached the model, it was not all timeouts."""
    replied = [r for r in ROWS if r["engine"] == "llm"
               or r["fallback_reason"].startswith(("verifier", "llm-declined", "llm-empty"))]
    assert ROWS and replied, [(r["question"], r["fallback_reason"]) for r in ROWS]
