"""hit@1, hit@3 and MRR of the gold span for dense-only, BM25-only and the hybrid the engine uses."""
from __future__ import annotations

import pytest

from evals.cases import single_turn_with_gold
from evals.conftest import RETRIEVAL

MODES = ("dense", "bm25", "hybrid")


def metrics(assistant, mode: str) -> dict[str, float]:
    hits1 = hits3 = rr = 0.0
    cases = single_turn_with_gold()
    for case in cases:
        text = assistant.source_text(case["source"])
        g0 = text.find(case["gold"])
        assert g0 >= 0, case["id"]
        g1 = g0 + len(case["gold"])
        passages = assistant.retrieve(case["question"], mode=mode, top_k=10)
        rank = next((i for i, p in enumerate(passages, 1)
                     if p.source_id == case["source"] and p.start <= g0 and g1 <= p.end), None)
        if rank:
            hits1 += rank == 1
            hits3 += rank <= 3
            rr += 1.0 / rank
    n = len(cases)
    return {"hit@1": hits1 / n, "hit@3": hits3 / n, "mrr": rr / n, "n": n}


@pytest.fixture(scope="module")
def table(assistant):
    for mode in MODES:
        RETRIEVAL[mode] = metrics(assistant, mode)
    return RETRIEVAL


def test_hybrid_at_least_as_good_as_either_alone(table) -> None:
    for metric in ("hit@3", "mrr"):
        best_single = max(table["dense"][metric], table["bm25"][metric])
        assert table["hybrid"][metric] >= best_single, (metric, table)


def test_hybrid_finds_most_gold_spans_in_top_3(table) -> None:
    assert table["hybrid"]["hit@3"] >= 0.7, table
