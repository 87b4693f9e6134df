"""The bars a suite's totals are held to (evals/suites.py, evals/bars.yaml): pure counting, no engine."""
from evals.suites import bar_verdict, load_bars, tally


def _records(correct: int, wrong: int, refused: int) -> list[dict]:
    rec = lambda outcome, answered: {"outcome": outcome, "kind": "figure", "answered": answered}  # noqa: E731
    return [rec("correct", True)] * correct + [rec("wrong_stated", True)] * wrong + [rec("false_refusal", False)] * refused


def test_net_rate_counts_a_wrong_answer_as_two_right_ones() -> None:
    totals = tally(_records(30, 10, 60))
    assert totals["net_rate"] == 0.1 and totals["wrong_stated_rate"] == 0.1 and totals["correct_rate"] == 0.3


def test_each_bar_is_checked() -> None:
    bars = {"s": {"max_wrong_stated": 0.05, "min_correct": 0.35, "min_net": 0.2}}
    missed = bar_verdict("s", tally(_records(30, 10, 60)), bars)
    assert len(missed) == 3 and any("net score" in m for m in missed)
    assert bar_verdict("s", tally(_records(40, 2, 58)), bars) == []


def test_the_shipped_bars_bound_every_unseen_suite() -> None:
    bars = load_bars()
    for suite in ("unseen-dev", "unseen-test"):
        assert {"max_wrong_stated", "min_correct", "min_net"} <= set(bars[suite])
