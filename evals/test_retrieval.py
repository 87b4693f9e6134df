"""hit@1, hit@3 and MRR of the gold span for dense-only, BM25-only and the hybrid retrieval the engine uses
(plus plain reciprocal-rank fusion, for comparison).

Seeds only. Cases: every answerable stand-alone question with a gold (figures, names, first turns of conversations).
A passage hits when it is from the gold's source and its [start, end) contains the gold's offsets (the gold
located with text.find). A case with several golds (`also`, or the alternatives of expected_any) counts its
best-ranked one. The rank is the first hitting passage among top_k=10; a miss scores 0.
"""
from __future__ import annotations

import pytest

from evals.cases import retrieval_cases
from evals.conftest import RETRIEVAL

pytestmark = pytest.mark.suite("seeds")

MODES = ("dense", "bm25", "hybrid", "rrf")  # rrf: reported for comparison, not the engine's ranking
TOP_K = 10


def rank_of(passages, spans: list[tuple[str, int, int]]) -> int | None:
    for rank, p in enumerate(passages, 1):
        if any(p.source_id == src and p.start <= g0 and g1 <= p.end for src, g0, g1 in spans):
            return rank
    return None


def metrics(assistant, mode: str) -> dict:
    cases = retrieval_cases()
    hits1 = hits3 = rr = 0.0
    ranks: dict[str, int | None] = {}
    for case in cases:
        spans = []
        for src, gold in case["golds"]:
            g0 = assistant.source_text(src).find(gold)
            assert g0 >= 0, f"{case['id']}: gold not in {src}: {gold!r}"
            spans.append((src, g0, g0 + len(gold)))
        rank = rank_of(assistant.retrieve(case["question"], mode=mode, top_k=TOP_K), spans)
        ranks[case["id"]] = rank
        if rank:
            hits1 += rank == 1
            hits3 += rank <= 3
            rr += 1.0 / rank
    n = len(cases)
    return {"n": n, "hit@1": hits1 / n, "hit@3": hits3 / n, "mrr": rr / n,
            "missed_top3": sorted(k for k, r in ranks.items() if not r or r > 3), "ranks": ranks}


@pytest.fixture(scope="module")
def table(assistant):
    for mode in MODES:
        RETRIEVAL[mode] = metrics(assistant, mode)
    return RETRIEVAL


@pytest.mark.parametrize("metric", ["hit@3", "mrr"])
def test_hybrid_at_least_as_good_as_either_alone(table, metric) -> None:
    best_single = max(table["dense"][metric], table["bm25"][metric])
    assert table["hybrid"][metric] >= best_single, {m: round(table[m][metric], 3) for m in MODES}


def test_hybrid_finds_most_gold_spans_in_top_3(table) -> None:
    assert table["hybrid"]["hit@3"] >= 0.7, table["hybrid"]["missed_top3"]
