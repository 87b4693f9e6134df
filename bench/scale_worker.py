"""Scale bench workers, each run in a fresh process by bench/run.py so its memory is its own.

  build  --n N --dir D --base base.npy [--templates K]   synthetic index of N chunks in D/index
  query  --dir D --queries q.json [--rounds R] [--chroma-host H --chroma-port P]
  build-query ...                                         both in one process (--quick only)

`build` writes what the engine's ingest writes (index/store.py): a Chroma chunks collection in cosine
space with embedding_function=None (rows in llama-index's node format, added in batches of
client.get_max_batch_size()), the source texts, the BM25 index (IndexStore.build_bm25, i.e. the
engine's own per-language tokenisation via index.store.bm25_tokens) and the manifest.
`query` opens it like the engine does and times the engine's own retriever
(assistant.retrieval.HybridRetriever.retrieve_passages) in dense, bm25 and hybrid (score fusion) modes with
precomputed real e5 query vectors; it prints one JSON object on its last line of stdout.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index import settings as _settings  # noqa: E402,F401  (offline, no telemetry)


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


def build(n: int, directory: Path, base_path: Path, n_templates: int | None, seed: int) -> dict:
    import numpy as np
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    from bench.corpus import articles, chunk_vectors, templates
    from index.chunking import chunk_sentences, split_sentences
    from index.ingest import CHUNK_MAX_WORDS, _row_id
    from index.settings import IndexSettings
    from index.store import IndexStore, Manifest, SourceEntry

    t0 = time.perf_counter()
    base = np.load(base_path)
    tpls = templates(n_templates)
    settings = IndexSettings(sources_dir=directory / "sources", index_dir=directory / "index")
    store = IndexStore(settings)
    manifest = Manifest("bench-synthetic:e5-standin", int(base.shape[-1]), f"bench{n}", "")
    store.manifest = manifest
    collection = store.collection("chunks", manifest.generation)  # built here: created, not fetched
    batch_max = int(store.client.get_max_batch_size())
    rng = np.random.default_rng(seed + n)

    pending: dict[str, list] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    t_gen = t_add = 0.0
    total = 0

    def flush() -> None:
        nonlocal t_add
        if not pending["ids"]:
            return
        t = time.perf_counter()
        for i in range(0, len(pending["ids"]), batch_max):  # Chroma refuses a batch over its maximum
            sl = slice(i, i + batch_max)
            collection.add(ids=pending["ids"][sl], embeddings=np.asarray(pending["embeddings"][sl], np.float32),
                           documents=pending["documents"][sl], metadatas=pending["metadatas"][sl])
        t_add += time.perf_counter() - t
        for v in pending.values():
            v.clear()

    stream = articles(tpls, seed=seed)
    while total < n:
        t = time.perf_counter()
        art = next(stream)
        chunks = chunk_sentences(art.source_id, art.text, split_sentences(art.text), max_words=CHUNK_MAX_WORDS)
        chunks = chunks[: n - total]
        vecs = chunk_vectors(art, chunks, base, rng)
        content_hash = hashlib.sha256(art.text.encode()).hexdigest()
        store.save_text(content_hash, art.text)
        meta_base = {"source_id": art.source_id, "source_hash": content_hash, "title": art.title,
                     "language": art.language, "publisher": "bench"}
        for chunk, vec in zip(chunks, vecs):
            extra = {"chunk_id": chunk.chunk_id, "start": chunk.start, "end": chunk.end,
                     "sent_lo": chunk.sent_lo, "sent_hi": chunk.sent_hi}
            node = TextNode(id_=_row_id(content_hash, chunk.chunk_id), text=chunk.text,
                            start_char_idx=chunk.start, end_char_idx=chunk.end, metadata={**meta_base, **extra},
                            excluded_embed_metadata_keys=list(meta_base) + list(extra),
                            excluded_llm_metadata_keys=list(meta_base) + list(extra))
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=art.source_id)
            # The row exactly as llama-index's ChromaVectorStore.add writes it.
            pending["ids"].append(node.node_id)
            pending["embeddings"].append(vec)
            pending["documents"].append(chunk.text)
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            pending["metadatas"].append({k: ("" if v is None else v) for k, v in meta.items()})
        manifest.sources[art.source_id] = SourceEntry(art.source_id, content_hash, art.title, art.language,
                                                      "bench", str(directory / "sources" / art.source_id),
                                                      len(chunks), 0)
        total += len(chunks)
        t_gen += time.perf_counter() - t
        if len(pending["ids"]) >= batch_max:
            flush()
    flush()

    t = time.perf_counter()
    manifest.bm25_dir = store.build_bm25()
    t_bm25 = time.perf_counter() - t
    manifest.save(store.manifest_path)
    return {
        "n": total, "sources": len(manifest.sources), "batch_max": batch_max,
        "seconds_generate": round(t_gen, 2), "seconds_chroma_add": round(t_add, 2),
        "seconds_bm25_build": round(t_bm25, 2), "seconds_total": round(time.perf_counter() - t0, 2),
        "chroma_rows_per_s": round(total / max(t_add, 1e-9), 1),
        "disk_mb": {"chroma": round(dir_mb(directory / "index" / "chroma"), 1),
                    "bm25": round(dir_mb(directory / "index" / manifest.bm25_dir), 1),
                    "texts": round(dir_mb(directory / "index" / "texts"), 1)},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def query(directory: Path, queries_path: Path, rounds: int, chroma_host: str, chroma_port: int) -> dict:
    import numpy as np

    from assistant.retrieval import HybridRetriever
    from index.settings import IndexSettings
    from index.store import IndexStore

    rss_imports = rss_mb()
    data = json.loads(Path(queries_path).read_text(encoding="utf-8"))
    questions = data["questions"]
    vectors = np.asarray(data["vectors"], dtype=np.float32)
    settings = IndexSettings(sources_dir=directory / "sources", index_dir=directory / "index",
                             chroma_host=chroma_host, chroma_port=chroma_port)
    t = time.perf_counter()
    store = IndexStore(settings)
    store.load_manifest()
    store.load_bm25()
    retriever = HybridRetriever(store, embedder=None, top_k=8)
    retriever.retrieve_passages(questions[0], mode="hybrid", query_vec=vectors[0])  # opens HNSW, warms caches
    open_s = time.perf_counter() - t
    rss_open = rss_mb()
    modes = ("dense", "bm25", "hybrid")
    for q, v in zip(questions, vectors):  # one warm pass
        for mode in modes:
            retriever.retrieve_passages(q, mode=mode, query_vec=v)
    lat: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(rounds):
        for q, v in zip(questions, vectors):
            for mode in modes:  # interleaved, so no mode gets a cache the others do not
                t = time.perf_counter()
                got = retriever.retrieve_passages(q, mode=mode, query_vec=v)
                lat[mode].append(time.perf_counter() - t)
                assert got or mode == "bm25", (mode, q)
    # The bare HNSW search (ids only, no documents, metadata or llama-index decoding), for comparison.
    collection = store.chunks()
    raw: list[float] = []
    for v in vectors:
        t = time.perf_counter()
        collection.query(query_embeddings=[v.tolist()], n_results=24, include=[])
        raw.append(time.perf_counter() - t)
    lat["hnsw_ids_only"] = raw
    return {
        "n_chunks": sum(e.chunks for e in store.manifest.sources.values()),
        "sources": len(store.manifest.sources),
        "server": bool(chroma_host),
        "open_s": round(open_s, 3),
        "rss_imports_mb": round(rss_imports, 1),
        "rss_open_mb": round(rss_open, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "latency_s": lat,
        "samples": len(lat["hybrid"]),
        "pid": os.getpid(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--n", type=int, required=True)
    b.add_argument("--dir", type=Path, required=True)
    b.add_argument("--base", type=Path, required=True)
    b.add_argument("--templates", type=int, default=0)
    b.add_argument("--seed", type=int, default=1)
    bq = sub.add_parser("build-query", help="both in one process (the --quick bench: saves an import)")
    bq.add_argument("--n", type=int, required=True)
    bq.add_argument("--dir", type=Path, required=True)
    bq.add_argument("--base", type=Path, required=True)
    bq.add_argument("--templates", type=int, default=0)
    bq.add_argument("--seed", type=int, default=1)
    bq.add_argument("--queries", type=Path, required=True)
    bq.add_argument("--rounds", type=int, default=1)
    q = sub.add_parser("query")
    q.add_argument("--dir", type=Path, required=True)
    q.add_argument("--queries", type=Path, required=True)
    q.add_argument("--rounds", type=int, default=2)
    q.add_argument("--chroma-host", default="")
    q.add_argument("--chroma-port", type=int, default=8000)
    args = ap.parse_args(argv)
    if args.cmd == "build":
        out = build(args.n, args.dir, args.base, args.templates or None, args.seed)
    elif args.cmd == "build-query":
        out = {"build": build(args.n, args.dir, args.base, args.templates or None, args.seed),
               "query": query(args.dir, args.queries, args.rounds, "", 0)}
    else:
        out = query(args.dir, args.queries, args.rounds, args.chroma_host, args.chroma_port)
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
