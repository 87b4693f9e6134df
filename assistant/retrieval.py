"""Hybrid retrieval: dense (Chroma) + BM25, fused, then a sentence/clause re-rank against the question with
the same multilingual embedder (segment vectors are computed at ingest).

Fusion: the dense cosine plus a small weight of the query-normalised BM25 score ("hybrid"). Reciprocal-rank
fusion is kept as a mode ("rrf") and reported beside it by `pytest evals`: on these paraphrased, half
cross-lingual questions it ranks the gold lower than dense alone, because it throws away the score gaps.
BM25 earns its place as recall instead: its best chunks join the candidate pool (`candidate_pool`)."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.types import Passage
from index.store import IndexStore

log = logging.getLogger(__name__)

RRF_K = 60  # the usual constant: flattens rank differences deep in each list
# Weight of the normalised BM25 score added to the dense cosine. Small: most questions are paraphrased
# and half are cross-lingual, where word overlap is weak evidence; calibrated once on the whole eval set
# (evals/test_retrieval.py), where RRF (k=60, weights 1/0.35) lost to dense alone.
BM25_WEIGHT = 0.02


@dataclass(frozen=True)
class Segment:
    """A sentence or clause candidate for quoting, scored against the question."""

    source_id: str
    start: int
    end: int
    sent_idx: int
    is_sentence: bool
    similarity: float  # cosine with the question
    passage_rank: int  # rank of the best passage holding it (0 = best)
    passage_score: float


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K,
                           weights: list[float] | None = None) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank + 1)
    return scores


class HybridRetriever(BaseRetriever):
    """llama-index retriever over the index store; `retrieve_passages` is the typed entry point."""

    def __init__(self, store: IndexStore, embedder: Any, top_k: int = 8) -> None:
        super().__init__()
        self.store = store
        self.embedder = embedder
        self.top_k = top_k

    # ---- llama-index protocol
    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        out = []
        for p in self.retrieve_passages(query_bundle.query_str):
            node = TextNode(id_=p.chunk_id, text=p.text, start_char_idx=p.start, end_char_idx=p.end,
                            metadata={"source_id": p.source_id})
            out.append(NodeWithScore(node=node, score=p.score))
        return out

    # ---- typed API
    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.encode_queries([question])[0]

    def retrieve_passages(self, question: str, mode: str = "hybrid", top_k: int | None = None,
                          query_vec: np.ndarray | None = None) -> list[Passage]:
        top_k = top_k or self.top_k
        if mode not in ("dense", "bm25", "hybrid", "rrf"):
            raise ValueError(f"mode must be dense, bm25, hybrid or rrf, not {mode!r}")
        pool = max(top_k * 3, 20)
        dense: list[tuple[str, dict, float]] = []
        sparse: list[tuple[str, dict, float]] = []
        if mode in ("dense", "hybrid", "rrf"):
            if query_vec is None:
                query_vec = self.embed_query(question)
            dense = self._dense(query_vec, pool)
        if mode in ("bm25", "hybrid", "rrf"):
            sparse = self.store.bm25_search(question, pool)
        meta = {i: m for i, m, _ in sparse}
        meta.update({i: m for i, m, _ in dense})
        if mode == "dense":
            scores = {i: s for i, _, s in dense}
        elif mode == "bm25":
            scores = {i: s for i, _, s in sparse}
        elif mode == "rrf":
            scores = reciprocal_rank_fusion([[i for i, _, _ in dense], [i for i, _, _ in sparse]])
        else:
            # Convex fusion of scores: the dense cosine, plus BM25 scaled to [0, 1] within this query
            # (RRF discards the score gaps, and on paraphrased, cross-lingual questions the dense gap
            # is the stronger evidence; BM25 then separates near-ties by exact words and names).
            top = max((sc for _, _, sc in sparse), default=0.0) or 1.0
            lexical = {i: sc / top for i, _, sc in sparse}
            floor = min((sc for _, _, sc in dense), default=0.0)
            scores = {i: sc for i, _, sc in dense}
            for i in set(scores) | set(lexical):
                scores[i] = scores.get(i, floor) + BM25_WEIGHT * lexical.get(i, 0.0)
        ranked = sorted(scores, key=lambda i: -scores[i])[:top_k]
        out = []
        for row_id in ranked:
            m = meta[row_id]
            text = self.store.source_text(m["source_id"])
            out.append(Passage(m["source_id"], row_id, int(m["start"]), int(m["end"]),
                               text[int(m["start"]):int(m["end"])], float(scores[row_id])))
        return out

    def candidate_pool(self, question: str, query_vec: np.ndarray, top_k: int | None = None,
                       lexical_extra: int = 3) -> list[Passage]:
        """The passages the answer is chosen from: the hybrid ranking's top_k, plus the best BM25 chunks it
        left out. The fused rank is tuned for where the gold lands first; the pool is tuned for recall (an
        exact word the embedder under-weights, like a product name), and the sentence re-rank decides."""
        passages = self.retrieve_passages(question, query_vec=query_vec, top_k=top_k)
        have = {p.chunk_id for p in passages}
        for row_id, m, score in self.store.bm25_search(question, lexical_extra):
            if row_id not in have and self.store.manifest.live().get(m.get("source_id")) == m.get("source_hash"):
                text = self.store.source_text(m["source_id"])
                passages.append(Passage(m["source_id"], row_id, int(m["start"]), int(m["end"]),
                                        text[int(m["start"]):int(m["end"])], 0.0))
        return passages

    def _dense(self, query_vec: np.ndarray, k: int) -> list[tuple[str, dict, float]]:
        live = self.store.manifest.live()
        if not live:
            return []
        # The rows llama-index's ChromaVectorStore wrote, queried without their documents: a passage's text
        # is sliced from the exact source, so fetching and decoding node JSON would be wasted (~1.3 ms of
        # ~4 ms). Similarity as ChromaVectorStore reports it, exp(-distance), which the fusion is tuned on.
        got = self.store.chunks().query(query_embeddings=[query_vec.tolist()], n_results=k,
                                        include=["metadatas", "distances"])
        out = []
        for row_id, m, dist in zip(got["ids"][0], got["metadatas"][0], got["distances"][0]):
            if live.get(m.get("source_id")) == m.get("source_hash"):  # rows of an uncommitted ingest are ignored
                out.append((row_id, m, math.exp(-float(dist))))
        return out

    def segment_hits(self, query_vec: np.ndarray, k: int = 16) -> list[Passage]:
        """The sentences and clauses closest to the question, searched directly: recall for a figure
        whose sentence sits in a chunk the chunk-level fusion ranked low."""
        live = self.store.manifest.live()
        if not live:
            return []
        got = self.store.segments().query(query_embeddings=[query_vec.tolist()], n_results=k,
                                          include=["metadatas", "distances"])
        out = []
        for row_id, m, dist in zip(got["ids"][0], got["metadatas"][0], got["distances"][0]):
            if live.get(m.get("source_id")) == m.get("source_hash"):
                out.append(Passage(m["source_id"], row_id, int(m["start"]), int(m["end"]), "", 1.0 - float(dist)))
        return out

    def source_segments(self, source_id: str, query_vec: np.ndarray) -> list[Segment]:
        """Every sentence and clause of one source, scored against the question (for a question that
        names its article: that article is searched whole)."""
        table = self.store.segment_table(source_id)
        sims = table.embeddings @ query_vec if len(table.starts) else np.zeros(0)
        out = [Segment(source_id, int(table.starts[j]), int(table.ends[j]), int(table.sent_idx[j]),
                       bool(table.is_sentence[j]), float(sims[j]), 0, 0.0) for j in range(len(table.starts))]
        return sorted(out, key=lambda g: -g.similarity)

    def segments(self, passages: list[Passage], query_vec: np.ndarray) -> list[Segment]:
        """Every sentence and clause inside the retrieved passages (and the sentences of the closest
        segments), scored by cosine with the question."""
        passages = list(passages)
        for hit in self.segment_hits(query_vec):
            table = self.store.segment_table(hit.source_id)
            idx = np.nonzero((table.starts == hit.start) & (table.ends == hit.end))[0]
            if len(idx):
                sent = int(table.sent_idx[idx[0]])
                whole = np.nonzero((table.sent_idx == sent) & table.is_sentence)[0]
                if len(whole):
                    j = whole[0]
                    passages.append(Passage(hit.source_id, hit.chunk_id, int(table.starts[j]), int(table.ends[j]),
                                            "", hit.score))
        best: dict[tuple[str, int, int], Segment] = {}
        for rank, p in enumerate(passages):
            table = self.store.segment_table(p.source_id)
            if not len(table.starts):
                continue
            inside = np.nonzero((table.starts >= p.start) & (table.ends <= p.end))[0]
            if not len(inside):
                continue
            sims = table.embeddings[inside] @ query_vec
            for j, sim in zip(inside, sims):
                key = (p.source_id, int(table.starts[j]), int(table.ends[j]))
                if key not in best:
                    best[key] = Segment(p.source_id, key[1], key[2], int(table.sent_idx[j]),
                                        bool(table.is_sentence[j]), float(sim), rank, p.score)
        return sorted(best.values(), key=lambda s: -s.similarity)
