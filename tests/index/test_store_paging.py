"""Large collections are read in pages (one get() of 100k rows overflows SQLite's bound variables)."""
from __future__ import annotations

import chromadb
from chromadb.config import Settings

from index.store import paged_get


def test_paged_get_reads_every_row_once(tmp_path) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    col = client.create_collection("paging", embedding_function=None, metadata={"hnsw:space": "cosine"})
    ids = [f"id{i:03d}" for i in range(23)]
    col.add(ids=ids, documents=[f"doc {i}" for i in range(23)], metadatas=[{"n": i} for i in range(23)],
            embeddings=[[float(i), 1.0] for i in range(23)])
    got = paged_get(col, page=5, include=["documents", "metadatas"])
    assert sorted(got["ids"]) == ids and len(got["documents"]) == len(got["metadatas"]) == 23
    assert {m["n"] for m in got["metadatas"]} == set(range(23))
