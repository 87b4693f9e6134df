"""unseen-dev and unseen-test: every case of the suite asked of one Assistant over evals/unseen/articles (no LLM)
and judged turn by turn; no case is a test of its own (the engine was not developed on these articles). ONE test
per suite holds its totals to evals/bars.yaml: wrong-stated rate at most max_wrong_stated, correct rate at least
min_correct.

unseen-test is hidden: the run keeps the engine's logs and prints out of the test report, an engine exception
is recorded by its type only, and the assertion states totals only (no case id, question or answer).
"""
from __future__ import annotations

import contextlib
import io
import logging

import pytest

from evals.cases import UNSEEN_ARTICLES, SourceFiles, suite_cases
from evals.conftest import BARS, NOTES, record
from evals.suites import HIDDEN, bar_verdict, breakdown, load_bars, run_case


@contextlib.contextmanager
def _silenced():
    """No log record or print of the engine reaches pytest's captured output (shown when a test fails)."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def _run_suite(suite: str, engine) -> dict:
    """Ask and record every case of `suite`; only the totals come back."""
    errors: list[str] = []
    cases = suite_cases(suite, errors)
    NOTES.extend(f"unseen case file left out: {e}" for e in errors)
    sources = SourceFiles(UNSEEN_ARTICLES, fallback=engine.source_text)
    hidden = suite == HIDDEN
    with _silenced() if hidden else contextlib.nullcontext():
        for case in cases:
            try:
                ask = engine.chat().ask if "turns" in case else engine.ask
                answers = run_case(ask, case, sources, catch=True)
            except Exception as e:  # noqa: BLE001  (a malformed case, or the judge itself: counted, not raised)
                answers = [{"turn": 1, "kind": "error", "question": "", "text": "", "language": "", "answered": False,
                            "checks": [], "outcome": "error", "latency_s": 0.0,
                            "failures": [f"error: judging raised {type(e).__name__}"],
                            "error": f"{type(e).__name__}: {str(e)[:200]}"}]
            if hidden:
                for a in answers:
                    a.pop("error", None)
            record(suite, {"id": case.get("id", "?"), "category": case.get("category", "?"),
                           "language": case.get("language", "?"), "near_miss": case.get("near_miss"),
                           "tags": case.get("tags", [])}, answers)
    from evals.conftest import RECORDS

    return breakdown(RECORDS[suite])["totals"] if cases else {}


@pytest.mark.parametrize("suite", [pytest.param("unseen-dev", marks=pytest.mark.suite("unseen-dev")),
                                   pytest.param("unseen-test", marks=pytest.mark.suite("unseen-test"))])
def test_unseen_suite_meets_its_bars(unseen_assistant, suite: str) -> None:
    totals = _run_suite(suite, unseen_assistant)
    if not totals:
        pytest.skip(f"{suite}: no cases")
    bars = load_bars().get(suite, {})
    missed = bar_verdict(suite, totals, {suite: bars})
    BARS[suite] = {"bars": bars, "missed": missed}
    assert not missed, "; ".join(missed)
