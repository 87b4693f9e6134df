"""`pytest evals`: one Assistant for the session; every judged case is recorded for the end-of-run summary
(per category, per language and per check pass rates, the retrieval table, the failing cases with their
reasons) and for evals/report.json (gitignored).

`pytest evals` given explicitly collects this directory only (pyproject's testpaths=["tests"] applies when no
path is given; the fast judge/data tests live in tests/evals and need no engine).
"""
from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index import settings as _settings  # noqa: E402,F401  (offline environment: no hub, no telemetry)

REPORT = Path(__file__).resolve().parent / "report.json"
RESULTS: list[dict[str, Any]] = []  # one entry per case
RETRIEVAL: dict[str, dict[str, Any]] = {}  # mode -> metrics
_TIMES: dict[str, float] = {"start": time.perf_counter()}


@pytest.fixture(scope="session")
def assistant():
    from assistant import Assistant

    started = time.perf_counter()
    a = Assistant()  # the project's sources/ and var/index, built if missing or stale
    _TIMES["setup_s"] = time.perf_counter() - started
    _TIMES["after_setup"] = time.perf_counter()
    return a


def record(case: dict[str, Any], answers: list[dict[str, Any]], latency: float) -> None:
    """answers: one dict per turn (question, text, language, answered, checks applied, failures)."""
    failures = [f for a in answers for f in a["failures"]]
    RESULTS.append({"id": case["id"], "category": case["category"], "language": case["language"],
                    "near_miss": case.get("near_miss"), "passed": not failures, "failures": failures,
                    "latency_s": round(latency, 4), "turns": answers})


def _rate(ok: int, n: int) -> str:
    return f"{ok:>3}/{n:<3} ({100 * ok / n:5.1f}%)" if n else "  -"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS and not RETRIEVAL:
        return
    from evals.cases import CATEGORIES, LABELS
    from evals.judge import CHECKS

    tr = terminalreporter
    tr.section("article assistant: accuracy (evals/)")
    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_lang: dict[str, list[bool]] = defaultdict(list)
    for r in RESULTS:
        per_cat[r["category"]].append(r["passed"])
        per_lang[r["language"]].append(r["passed"])
        if r["category"] == "unanswerable":
            per_cat["near misses" if r["near_miss"] else "off topic"].append(r["passed"])
    tr.write_line("cases by category (a conversation passes only if every turn does)")
    order = [c for cat in CATEGORIES for c in ((cat, "near misses", "off topic") if cat == "unanswerable" else (cat,))]
    for cat in order:
        if cat in per_cat:
            label = LABELS.get(cat, "  " + cat)
            tr.write_line(f"  {label:<14} {_rate(sum(per_cat[cat]), len(per_cat[cat]))}")
    everything = [r["passed"] for r in RESULTS]
    tr.write_line(f"  {'all':<14} {_rate(sum(everything), len(everything))}")
    tr.write_line("cases by question language (both articles are French: 'en' is cross-lingual)")
    for lang, oks in sorted(per_lang.items()):
        tr.write_line(f"  {lang:<14} {_rate(sum(oks), len(oks))}")

    tr.write_line("answers by check (answers the check applies to; every turn of a conversation counts)")
    checks = {}
    answers = [a for r in RESULTS for a in r["turns"]]
    for check in CHECKS:
        applies = [a for a in answers if check in a["checks"]]
        ok = sum(1 for a in applies if not any(f.startswith(check + ":") for f in a["failures"]))
        checks[check] = {"passed": ok, "total": len(applies)}
        tr.write_line(f"  {check:<14} {_rate(ok, len(applies))}")

    if RETRIEVAL:
        n = next(iter(RETRIEVAL.values()))["n"]
        tr.write_line(f"retrieval of the gold span ({n} stand-alone questions, top_k=10)")
        tr.write_line(f"  {'mode':<8} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}")
        for mode, m in RETRIEVAL.items():
            tr.write_line(f"  {mode:<8} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['mrr']:>6.3f}")

    now = time.perf_counter()
    after = now - _TIMES.get("after_setup", _TIMES["start"])
    lat = sorted(r["latency_s"] for r in RESULTS)
    if lat:
        tr.write_line(f"answer latency p50 {1000 * lat[len(lat) // 2]:.0f} ms, max {1000 * lat[-1]:.0f} ms")
    tr.write_line(f"time: set-up (Assistant()) {_TIMES.get('setup_s', 0):.1f} s, after set-up {after:.1f} s")
    failing = [r for r in RESULTS if not r["passed"]]
    if failing:
        tr.write_line(f"failing cases ({len(failing)}):")
    for r in failing:
        tr.write_line(f"  {r['id']}: {' | '.join(r['failures'])[:400]}")

    report = {
        "categories": {LABELS.get(c, c): {"passed": sum(o), "total": len(o)} for c, o in per_cat.items()},
        "languages": {c: {"passed": sum(o), "total": len(o)} for c, o in per_lang.items()},
        "checks": checks,
        "retrieval": RETRIEVAL,
        "failing": [r["id"] for r in failing],
        "setup_s": round(_TIMES.get("setup_s", 0), 1),
        "after_setup_s": round(after, 1),
        "cases": RESULTS,
    }
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    tr.write_line(f"report: {REPORT.relative_to(ROOT)}")
