"""`pytest evals`: one Assistant for the session, results gathered for the summary and evals/report.json."""
from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index import settings as _settings  # noqa: E402,F401  (offline environment)

RESULTS: list[dict] = []
RETRIEVAL: dict[str, dict[str, float]] = {}
_STARTED = time.time()


@pytest.fixture(scope="session")
def assistant():
    from assistant import Assistant

    return Assistant()  # the project's sources/ and index, built if missing or stale


def record(case_id: str, category: str, failures: list[str], latency: float) -> None:
    RESULTS.append({"id": case_id, "category": category, "failures": failures, "latency_s": round(latency, 4)})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS and not RETRIEVAL:
        return
    from evals.judge import CHECKS

    tr = terminalreporter
    tr.section("article assistant: accuracy")
    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_check: dict[str, int] = defaultdict(int)
    for r in RESULTS:
        per_cat[r["category"]].append(not r["failures"])
        for f in r["failures"]:
            per_check[f.split(":", 1)[0]] += 1
    for cat, oks in sorted(per_cat.items()):
        tr.write_line(f"{cat:<14} {sum(oks):>3}/{len(oks):<3} passed ({100 * sum(oks) / len(oks):.0f}%)")
    total = len(RESULTS)
    for check in CHECKS:
        tr.write_line(f"check {check:<10} failed in {per_check.get(check, 0)} of {total} judged answers")
    if RETRIEVAL:
        tr.write_line("")
        tr.write_line(f"{'retrieval':<10} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}")
        for mode, m in RETRIEVAL.items():
            tr.write_line(f"{mode:<10} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['mrr']:>6.3f}")
    lat = sorted(r["latency_s"] for r in RESULTS)
    if lat:
        tr.write_line(f"answer latency p50 {1000 * lat[len(lat) // 2]:.0f} ms, max {1000 * lat[-1]:.0f} ms; "
                      f"suite {time.time() - _STARTED:.1f} s")
    failing = [r for r in RESULTS if r["failures"]]
    for r in failing:
        tr.write_line(f"FAILED {r['id']}: {'; '.join(r['failures'])[:300]}")
    report = {
        "categories": {c: {"passed": sum(o), "total": len(o)} for c, o in per_cat.items()},
        "check_failures": dict(per_check),
        "retrieval": RETRIEVAL,
        "cases": RESULTS,
        "seconds": round(time.time() - _STARTED, 1),
    }
    (Path(__file__).resolve().parent / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                                                 encoding="utf-8")
