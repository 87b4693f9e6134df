"""`pytest evals`: the accuracy suites (evals/suites.py): seeds (one test per case), unseen-dev and unseen-test
(one test each, holding the outcome totals to evals/bars.yaml). EVALS_SUITES=seeds,unseen-dev,unseen-test picks
suites (default all). Every judged turn is recorded for the end-of-run summary (per suite, language and category:
correct, wrong-stated, false refusals, refused unanswerables, flawed, coverage, precision; for seeds also the
per-case and per-check pass rates and the retrieval table) and for evals/report.json (gitignored).

unseen-test is never shown case by case: its totals only, in the summary and in report.json.

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

from evals.suites import HIDDEN, breakdown, selected_suites  # noqa: E402

REPORT = Path(__file__).resolve().parent / "report.json"
UNSEEN_INDEX = ROOT / "var" / "index-unseen"
RECORDS: dict[str, list[dict[str, Any]]] = defaultdict(list)  # suite -> one record per judged turn
CASES: list[dict[str, Any]] = []  # seeds: one entry per case (passed, failures)
RETRIEVAL: dict[str, dict[str, Any]] = {}  # seeds: mode -> metrics
BARS: dict[str, dict[str, Any]] = {}  # unseen suite -> {"bars": ..., "missed": [...]}
NOTES: list[str] = []  # e.g. case files that did not parse
_TIMES: dict[str, float] = {"start": time.perf_counter(), "setup_s": 0.0}


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "suite(name): the eval suite a test belongs to (EVALS_SUITES selects)")


def pytest_collection_modifyitems(config, items) -> None:
    try:
        wanted = selected_suites()
    except ValueError as e:
        raise pytest.UsageError(str(e)) from e
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("suite")
        suite = marker.args[0] if marker else None
        (keep if suite is None or suite in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _timed_setup(build):
    started = time.perf_counter()
    value = build()
    _TIMES["setup_s"] += time.perf_counter() - started
    return value


@pytest.fixture(scope="session")
def assistant():
    """The seeds' engine: the project's sources/ and var/index, built if missing or stale."""
    from assistant import Assistant

    return _timed_setup(Assistant)


@pytest.fixture(scope="session")
def seed_sources(assistant):
    from evals.cases import SourceFiles

    return SourceFiles(assistant.settings.sources_dir, fallback=assistant.source_text)


@pytest.fixture(scope="session")
def unseen_assistant():
    """One engine over every unseen article (dev and test alike: each is the other's distractors), its own index."""
    from assistant import Assistant
    from evals.cases import UNSEEN_ARTICLES, article_stems

    if not article_stems():
        pytest.skip(f"no unseen articles in {UNSEEN_ARTICLES.relative_to(ROOT)}")
    return _timed_setup(lambda: Assistant(sources_dir=UNSEEN_ARTICLES, index_dir=UNSEEN_INDEX, llm=None))


def record(suite: str, case: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    """answers: one record per turn (evals.suites.run_case)."""
    for a in answers:
        a.update({"case": case["id"], "category": case["category"], "case_language": case["language"],
                  "near_miss": case.get("near_miss"), "tags": case.get("tags", [])})
        RECORDS[suite].append(a)
    if suite == "seeds":
        failures = [f for a in answers for f in a["failures"]]
        CASES.append({"id": case["id"], "category": case["category"], "language": case["language"],
                      "near_miss": case.get("near_miss"), "passed": not failures, "failures": failures})


# ------------------------------------------------------------------ the summary

def _rate(ok: int, n: int) -> str:
    return f"{ok:>3}/{n:<3} ({100 * ok / n:5.1f}%)" if n else "  -"


def _pct(x: float | None) -> str:
    return f"{100 * x:5.1f}%" if x is not None else "     -"


_HEADER = (f"  {'suite':<12} {'slice':<22} {'turns':>5} {'correct':>7} {'wrong':>5} {'f.ref':>5} {'refus':>5} "
           f"{'flawd':>5} {'err':>3} {'coverage':>8} {'precision':>9}")


def _row(suite: str, label: str, t: dict[str, Any]) -> str:
    return (f"  {suite:<12} {label:<22} {t['turns']:>5} {t['correct']:>7} {t['wrong_stated']:>5} "
            f"{t['false_refusal']:>5} {t['refused']:>5} {t['flawed']:>5} {t['error']:>3} {_pct(t['coverage']):>8} "
            f"{_pct(t['precision']):>9}")


def _seed_lines(tr) -> dict[str, Any]:
    from evals.cases import LABELS, SEED_CATEGORIES

    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_lang: dict[str, list[bool]] = defaultdict(list)
    for r in CASES:
        per_cat[r["category"]].append(r["passed"])
        per_lang[r["language"]].append(r["passed"])
        if r["category"] == "unanswerable":
            per_cat["near misses" if r["near_miss"] else "off topic"].append(r["passed"])
    tr.write_line("seeds: cases by category (a conversation passes only if every turn does)")
    order = [c for cat in SEED_CATEGORIES for c in ((cat, "near misses", "off topic") if cat == "unanswerable" else (cat,))]
    for cat in order:
        if cat in per_cat:
            label = LABELS.get(cat, "  " + cat)
            tr.write_line(f"  {label:<14} {_rate(sum(per_cat[cat]), len(per_cat[cat]))}")
    everything = [r["passed"] for r in CASES]
    tr.write_line(f"  {'all':<14} {_rate(sum(everything), len(everything))}")
    tr.write_line("seeds: cases by question language (both articles are French: 'en' is cross-lingual)")
    for lang, oks in sorted(per_lang.items()):
        tr.write_line(f"  {lang:<14} {_rate(sum(oks), len(oks))}")
    return {"categories": {LABELS.get(c, c): {"passed": sum(o), "total": len(o)} for c, o in per_cat.items()},
            "languages": {c: {"passed": sum(o), "total": len(o)} for c, o in per_lang.items()}}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RECORDS and not RETRIEVAL and not NOTES:
        return
    tr = terminalreporter
    tr.section("article assistant: accuracy (evals/)")
    report: dict[str, Any] = {"suites": {}}
    tr.write_line("outcomes per turn: correct | wrong = wrong-stated (a figure or names not the gold, or an "
                  "unanswerable answered) | f.ref = false refusal | refus = unanswerable refused (right) | flawd = "
                  "right figure, a citation/grounding/language check failed | err = the engine raised; coverage = "
                  "answered/answerable, precision = correct/answered")
    tr.write_line(_HEADER)
    for suite in ("seeds", "unseen-dev", HIDDEN):
        records = RECORDS.get(suite)
        if not records:
            continue
        b = breakdown(records)
        tr.write_line(_row(suite, "all", b["totals"]))
        for lang, t in b["languages"].items():
            tr.write_line(_row("", f"question {lang}", t))
        for cat, t in b["categories"].items():
            tr.write_line(_row("", cat, t))
        entry: dict[str, Any] = dict(b)
        if suite in BARS:
            entry["bars"] = BARS[suite]
        if suite != HIDDEN:
            not_correct = [r for r in records if r["outcome"] not in ("correct", "refused")]
            entry["not_correct"] = [{"case": r["case"], "turn": r["turn"], "outcome": r["outcome"],
                                     "failures": r["failures"]} for r in not_correct]
            entry["turns"] = records
        report["suites"][suite] = entry
    for suite, verdict in BARS.items():
        state = "met" if not verdict["missed"] else "MISSED: " + "; ".join(verdict["missed"])
        tr.write_line(f"bars {suite} (evals/bars.yaml {verdict['bars']}): {state}")

    if CASES:
        report["seeds_cases"] = _seed_lines(tr)
        checks = report["suites"]["seeds"]["checks"]
        tr.write_line("seeds: answers by check (answers the check applies to; every turn of a conversation counts)")
        for check, c in checks.items():
            if c["total"]:
                tr.write_line(f"  {check:<14} {_rate(c['passed'], c['total'])}")
    if RETRIEVAL:
        n = next(iter(RETRIEVAL.values()))["n"]
        tr.write_line(f"seeds: retrieval of the gold span ({n} stand-alone questions, top_k=10)")
        tr.write_line(f"  {'mode':<8} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}")
        for mode, m in RETRIEVAL.items():
            tr.write_line(f"  {mode:<8} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['mrr']:>6.3f}")
        report["retrieval"] = RETRIEVAL

    now = time.perf_counter()
    after = now - _TIMES["start"] - _TIMES["setup_s"]
    lat = sorted(r["latency_s"] for recs in RECORDS.values() for r in recs if r["outcome"] != "error")
    if lat:
        tr.write_line(f"answer latency p50 {1000 * lat[len(lat) // 2]:.0f} ms, max {1000 * lat[-1]:.0f} ms "
                      f"({len(lat)} answers)")
    tr.write_line(f"time: set-up (Assistant() builds) {_TIMES['setup_s']:.1f} s, after set-up {after:.1f} s")
    failing = [r for r in CASES if not r["passed"]]
    if failing:
        tr.write_line(f"failing seed cases ({len(failing)}):")
        for r in failing:
            tr.write_line(f"  {r['id']}: {' | '.join(r['failures'])[:400]}")
    dev = [r for r in RECORDS.get("unseen-dev", []) if r["outcome"] not in ("correct", "refused")]
    if dev:
        tr.write_line(f"unseen-dev turns not correct ({len(dev)}; all in {REPORT.relative_to(ROOT)}), first 30:")
        for r in dev[:30]:
            why = " | ".join(r["failures"])[:220]
            tr.write_line(f"  {r['case']}#{r['turn']} {r['outcome']}: {why}")
    for note in NOTES:
        tr.write_line(f"note: {note}")

    report.update({"failing": [r["id"] for r in failing], "seed_case_results": CASES, "notes": NOTES,
                   "setup_s": round(_TIMES["setup_s"], 1), "after_setup_s": round(after, 1)})
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    tr.write_line(f"report: {REPORT.relative_to(ROOT)}")
