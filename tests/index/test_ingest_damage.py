"""What the ingestor calls damage: a Chroma error, or an error raised from one, met on a database file that
SQLite's quick_check finds broken (the page listing the collections damaged makes the served collection
"not exist": that is damage to repair, not another process's rebuild)."""
from __future__ import annotations

from chromadb.errors import NotFoundError

from index.ingest import Ingestor
from index.settings import IndexSettings
from index.store import StoreError


def _ingestor(tmp_path) -> Ingestor:
    settings = IndexSettings(sources_dir=tmp_path / "sources", index_dir=tmp_path / "index")
    return Ingestor(settings, progress=False)


def _missing_collection() -> StoreError:
    try:
        try:
            raise NotFoundError("Collection [chunks_g1] does not exist")
        except NotFoundError as exc:
            raise StoreError("the served generation g1 of the index is gone (rebuilt by another process?)") from exc
    except StoreError as exc:
        return exc


def test_an_error_raised_from_a_chroma_error_on_a_broken_file_is_damage(tmp_path) -> None:
    ingestor = _ingestor(tmp_path)
    db = ingestor.store.chroma_path / "chroma.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database at all " * 4096)
    assert "not a database" in ingestor._damage(_missing_collection())


def test_the_same_error_on_a_sound_store_is_not_damage(tmp_path) -> None:
    import sqlite3

    ingestor = _ingestor(tmp_path)
    db = ingestor.store.chroma_path / "chroma.sqlite3"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    assert ingestor._damage(_missing_collection()) == ""  # another process's rebuild: asked again, not repaired
