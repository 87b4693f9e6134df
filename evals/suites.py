"""Running and counting the suites: one record per turn, outcome totals, the bars.

Suites (`EVALS_SUITES=seeds,unseen-dev,unseen-test`, default all three):
  seeds        evals/cases/*.yaml over the project's sources/: one pytest test per case, every one must pass.
  unseen-dev   evals/unseen/cases/*.yaml of the dev articles, asked of one Assistant over evals/unseen/articles
  unseen-test  (index var/index-unseen, no LLM); of the test articles. Each turn's outcome is recorded, no case
               is a test of its own; one test per suite holds the totals to evals/bars.yaml.

Counted per suite, per language and per category, over turns (a conversation's turns each count):
  correct, wrong_stated, false_refusal, refused (an unanswerable refused: right), flawed, error (the engine
  raised); coverage = answered answerable turns / answerable turns; precision = correct / answered turns;
  correct_rate and wrong_stated_rate = count / all turns; net_rate = (correct - 2 x wrong_stated) / all turns
  (what the bars bound).
"""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import yaml

from evals.cases import SUITES, kind_of, turns
from evals.judge import CHECKS, applicable, assess

BARS_FILE = Path(__file__).resolve().parent / "bars.yaml"
COUNTS = ("correct", "wrong_stated", "false_refusal", "refused", "flawed", "error")
HIDDEN = "unseen-test"  # reported as totals only: never a case id, question or answer
WRONG_COST = 2.0  # net score: a wrong-stated answer costs this many correct ones


def selected_suites() -> tuple[str, ...]:
    """The suites EVALS_SUITES names (comma-separated), in their canonical order; all when unset or empty."""
    raw = os.environ.get("EVALS_SUITES", "").strip()
    if not raw:
        return SUITES
    asked = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in asked if s not in SUITES]
    if unknown:
        raise ValueError(f"EVALS_SUITES names unknown suites {unknown}; known: {', '.join(SUITES)}")
    return tuple(s for s in SUITES if s in asked)


def load_bars() -> dict[str, dict[str, float]]:
    data = yaml.safe_load(BARS_FILE.read_text(encoding="utf-8")) or {}
    return {suite: {k: float(v) for k, v in (bars or {}).items()} for suite, bars in data.items()}


def run_case(ask: Callable[[str], Any], case: dict[str, Any], source_text: Callable[[str], str],
             catch: bool = False) -> list[dict[str, Any]]:
    """Ask every turn of `case` through `ask` (Assistant.ask, or a Chat's ask for a conversation) and judge it:
    one record per turn. With `catch`, an exception of the engine is recorded as the turn's outcome 'error'
    (its type only) and the conversation stops there."""
    records = []
    for n, turn in enumerate(turns(case), 1):
        started = time.perf_counter()
        try:
            answer = ask(turn["question"])
        except Exception as e:  # noqa: BLE001
            if not catch:
                raise
            records.append({"turn": n, "kind": kind_of(turn), "question": turn["question"], "text": "",
                            "language": "", "answered": False, "checks": [], "outcome": "error",
                            "failures": [f"error: the engine raised {type(e).__name__}"], "latency_s": 0.0,
                            "error": f"{type(e).__name__}: {str(e)[:200]}"})
            break
        latency = time.perf_counter() - started
        failures, result = assess(answer, turn, source_text)
        if "turns" in case:
            failures = [f"{f.split(':', 1)[0]}: turn {n}: {f.split(':', 1)[1].strip()}" for f in failures]
        records.append({"turn": n, "kind": kind_of(turn), "question": turn["question"], "text": answer.text,
                        "language": answer.language, "answered": answer.answered, "checks": list(applicable(turn)),
                        "outcome": result, "failures": failures, "latency_s": round(latency, 4)})
    return records


def tally(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Outcome counts and rates over turn records (see the module doc)."""
    n = len(records)
    count = Counter(r["outcome"] for r in records)
    answerable = [r for r in records if r["kind"] != "unanswerable"]
    answered = [r for r in records if r["answered"]]
    out: dict[str, Any] = {"turns": n, **{k: count.get(k, 0) for k in COUNTS},
                           "answerable": len(answerable), "unanswerable": n - len(answerable),
                           "answered": len(answered)}
    out["coverage"] = round(sum(r["answered"] for r in answerable) / len(answerable), 4) if answerable else None
    out["precision"] = round(count.get("correct", 0) / len(answered), 4) if answered else None
    out["correct_rate"] = round(count.get("correct", 0) / n, 4) if n else None
    out["wrong_stated_rate"] = round(count.get("wrong_stated", 0) / n, 4) if n else None
    # A wrong answer costs two right ones (it is worse than a refusal): the trust-weighted score per turn.
    out["net_rate"] = round((count.get("correct", 0) - WRONG_COST * count.get("wrong_stated", 0)) / n, 4) if n else None
    return out


def breakdown(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, per language (the question's), per category, per language x category, per check."""
    langs = sorted({r["case_language"] for r in records})
    cats = [c for c in ("figures", "names", "unanswerable", "followups", "compound")
            if any(r["category"] == c for r in records)]
    checks = {}
    for check in CHECKS:
        applies = [r for r in records if check in r["checks"]]
        ok = sum(1 for r in applies if not any(f.startswith(check + ":") for f in r["failures"]))
        checks[check] = {"passed": ok, "total": len(applies)}
    return {
        "totals": tally(records),
        "languages": {lang: tally([r for r in records if r["case_language"] == lang]) for lang in langs},
        "categories": {cat: tally([r for r in records if r["category"] == cat]) for cat in cats},
        "language_category": {f"{lang}/{cat}": tally([r for r in records if r["case_language"] == lang
                                                      and r["category"] == cat])
                              for lang in langs for cat in cats
                              if any(r["case_language"] == lang and r["category"] == cat for r in records)},
        "checks": checks,
    }


def bar_verdict(suite: str, totals: dict[str, Any], bars: dict[str, dict[str, float]]) -> list[str]:
    """The bars `totals` misses (empty: all met). Totals only: safe for the hidden suite."""
    bar = bars.get(suite, {})
    out = []
    if totals["turns"] == 0:
        return out
    if "max_wrong_stated" in bar and totals["wrong_stated_rate"] > bar["max_wrong_stated"] + 1e-9:
        out.append(f"{suite}: wrong-stated {totals['wrong_stated']}/{totals['turns']} "
                   f"({totals['wrong_stated_rate']:.3f}) exceeds the bar {bar['max_wrong_stated']:.3f}")
    if "min_net" in bar and totals["net_rate"] < bar["min_net"] - 1e-9:
        out.append(f"{suite}: net score (correct - {WRONG_COST:g} x wrong-stated) per turn {totals['net_rate']:.3f} "
                   f"is under the bar {bar['min_net']:.3f}")
    if "min_correct" in bar and totals["correct_rate"] < bar["min_correct"] - 1e-9:
        out.append(f"{suite}: correct {totals['correct']}/{totals['turns']} ({totals['correct_rate']:.3f}) "
                   f"is under the bar {bar['min_correct']:.3f}")
    if totals.get("error"):
        out.append(f"{suite}: {totals['error']} answers raised an exception")
    return out
