"""Where the index lives: Chroma (chunks and sentence/clause segments), BM25, source texts, manifest.

Crash safety comes from one rule: the manifest is the only commit point. Rows are written first
(with ids that include the source's content hash, so a new version never overwrites the old one),
then the manifest is replaced atomically, then stale rows are deleted. Readers only trust rows whose
(source_id, source_hash) the manifest lists, so a killed ingest leaves the previous index answering.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

import numpy as np

from index.settings import IndexSettings

MANIFEST_VERSION = 2
log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The index cannot be opened or written; the message says which setting or path to check."""


# ---------------------------------------------------------------- manifest

ORIGINS = ("bundled", "uploaded")  # shipped with sources/ (read-only to the app) | added through an upload
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_GENERATION = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}\Z")
_BM25_DIR = re.compile(r"bm25-[0-9A-Za-z-]{1,100}\Z")


def utc_now() -> str:
    """Now as ISO-8601 UTC, to the second: '2026-11-29T14:03:12Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ok(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


@dataclass
class SourceEntry:
    source_id: str
    content_hash: str
    title: str
    language: str
    publisher: str
    path: str
    chunks: int
    segments: int
    origin: str = "bundled"  # "bundled" | "uploaded"
    added_at: str = ""  # ISO-8601 UTC: when the article was uploaded (or first indexed); "" = unknown (old manifest)

    def problem(self, key: str) -> str | None:
        """Why this entry cannot be trusted, or None. Every value is checked: a path is built from the
        content hash, counts are summed and compared with Chroma's."""
        strings = ("source_id", "content_hash", "title", "language", "publisher", "path", "origin", "added_at")
        for name in strings:
            if not isinstance(getattr(self, name), str):
                return f"{name} is not a string"
        for name in ("chunks", "segments"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return f"{name}={value!r} is not a count"
        if self.source_id != key or not key or "/" in key or "\\" in key or key.startswith("."):
            return "the source id does not match its key or is not a file name"
        if not _HEX64.match(self.content_hash):
            return "the content hash is not 64 hex digits"
        if self.language not in ("fr", "en"):
            return f"language={self.language!r}"
        if self.origin not in ORIGINS:
            return f"origin={self.origin!r}"
        if self.added_at and not _iso_ok(self.added_at):
            return f"added_at={self.added_at!r} is not an ISO-8601 time"
        return None


_ENTRY_FIELDS = {f.name for f in fields(SourceEntry)}


@dataclass
class Manifest:
    embedder: str = ""
    dim: int = 0
    generation: str = ""  # suffix of the Chroma collections for this embedder
    bm25_dir: str = ""
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    revision: int = 0  # +1 at every commit: a running app compares it to notice another process's build

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        """A missing manifest is an empty index; a corrupt or invalid one raises StoreError (caller rebuilds)."""
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError(f"a JSON {type(raw).__name__}, not an object")
            if raw.get("version") != MANIFEST_VERSION:
                raise ValueError(f"version {raw.get('version')!r}")
            if not isinstance(raw["sources"], dict):
                raise ValueError("sources is not an object")
            sources = {}
            for key, value in raw["sources"].items():
                entry = SourceEntry(**{k: v for k, v in value.items() if k in _ENTRY_FIELDS})
                why = entry.problem(key)
                if why:
                    raise ValueError(f"source {key[:100]!r}: {why}")
                sources[key] = entry
            manifest = cls(raw["embedder"], raw["dim"], raw["generation"], raw.get("bm25_dir", ""), sources,
                           raw.get("revision", 0))
            why = manifest.problem()
            if why:
                raise ValueError(why)
            return manifest
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise StoreError(f"index manifest {path} is unreadable ({exc}); it will be rebuilt from sources") from exc

    def problem(self) -> str | None:
        if not isinstance(self.embedder, str) or not isinstance(self.generation, str):
            return "embedder or generation is not a string"
        for name in ("dim", "revision"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return f"{name}={value!r}"
        if self.generation and not _GENERATION.match(self.generation):
            return f"generation={self.generation[:80]!r}"
        if not isinstance(self.bm25_dir, str) or (self.bm25_dir and not _BM25_DIR.match(self.bm25_dir)):
            return f"bm25_dir={str(self.bm25_dir)[:80]!r}"  # a path under the index directory: never ../
        if self.sources and (not self.generation or self.dim <= 0 or not self.embedder):
            return "sources listed without an embedder, a dimension or a generation"
        return None

    def save(self, path: Path) -> None:
        self.revision += 1
        data = {
            "version": MANIFEST_VERSION,
            "revision": self.revision,
            "embedder": self.embedder,
            "dim": self.dim,
            "generation": self.generation,
            "bm25_dir": self.bm25_dir,
            "sources": {k: vars(v) for k, v in sorted(self.sources.items())},
        }
        _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1))

    def copy(self) -> "Manifest":
        return replace(self, sources={k: replace(v) for k, v in self.sources.items()})

    def live(self) -> dict[str, str]:
        return {k: v.content_hash for k, v in self.sources.items()}


def paged_get(collection: Any, page: int = 5000, **kwargs: Any) -> dict[str, list]:
    """collection.get(...) in pages: one call for a whole large collection overflows SQLite's limit on
    bound variables ("too many SQL variables", seen at 100k chunks)."""
    out: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
    offset = 0
    while True:
        got = collection.get(limit=page, offset=offset, **kwargs)
        for key in out:
            values = got.get(key)
            if values is not None:
                out[key].extend(values)
        if len(got["ids"]) < page:
            return out
        offset += page


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- BM25 tokenisation

@lru_cache(maxsize=1)
def _stemmers() -> dict[str, Any]:
    import Stemmer

    return {"fr": Stemmer.Stemmer("french"), "en": Stemmer.Stemmer("english")}


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s import stopwords

    words = set(stopwords.STOPWORDS_FRENCH) | set(stopwords.STOPWORDS_EN)
    return frozenset(_fold(w) for w in words)


def _fold(word: str) -> str:
    """Lower-case, accents off: 'Évalué' and 'evalue' meet."""
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


_WORD = re.compile(r"\w+", re.UNICODE)


def bm25_tokens(text: str, languages: tuple[str, ...]) -> list[str]:
    """Tokens for BM25: folded, stop words out, stemmed per language. A query whose language is
    uncertain passes both languages and gets both stems, so an English 'GPUs' still meets 'GPU'."""
    stop = _stopwords()
    words = [_fold(w) for w in _WORD.findall(text.replace("’", "'"))]
    words = [w for w in words if w not in stop and (len(w) > 1 or w.isdigit())]
    out: list[str] = []
    for lang in languages:
        out.extend(_stemmers()[lang].stemWords(words))
    return out


# ---------------------------------------------------------------- rows

@dataclass(frozen=True)
class SegmentTable:
    """All sentences and clauses of one source version, with their embeddings (rows L2-normalised)."""

    source_id: str
    starts: np.ndarray
    ends: np.ndarray
    sent_idx: np.ndarray  # the sentence each segment belongs to
    is_sentence: np.ndarray
    embeddings: np.ndarray


_KEEP: Any = object()  # publish(): leave this part of the served state as it is


@dataclass(frozen=True)
class Bm25Data:
    """A loaded BM25 index: the bm25s retriever (None when empty), the row ids and their slim metadata."""

    retriever: Any = None
    ids: tuple[str, ...] = ()
    meta: tuple[dict[str, Any], ...] = ()


_WRITERS_LOCK = threading.Lock()
_WRITERS: dict[str, list] = {}  # resolved index dir -> [RLock, depth]: one writer per index in this process


class IndexStore:
    """Chroma (embedded or server) + BM25 + texts + manifest under one index directory.

    What is served (the manifest, the BM25 index) changes only in `publish`, under `swap_guard` (the
    Assistant sets it to its write lock, so a question never sees half of a swap); everything an ingest
    writes before that (rows under content-hash ids, texts, a BM25 directory) is invisible to readers."""

    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.manifest_path = self.root / "manifest.json"
        self._client: Any = None
        self._lock = threading.RLock()
        self._bm25_data = Bm25Data()
        self._bm25_mask: tuple | None = None
        self._segments: OrderedDict[tuple[str, str], SegmentTable] = OrderedDict()
        self._segment_rows = 0  # rows held by the segment tables' cache
        self._texts: dict[str, str] = {}
        self._manifest = Manifest()
        self._pending = threading.local()
        self._reload_lock = threading.Lock()
        self.served_stamp: tuple | None = None  # the manifest file (inode, size, times) the served state came from
        self.notes: list[str] = []  # damage found and repaired on opening; the next ingest reports it
        self.swap_guard: Callable[[], ContextManager[Any]] = nullcontext
        self.on_publish: list[Callable[[Manifest], None]] = []
        self._marker: Path | None = None

    @property
    def manifest(self) -> Manifest:
        """The served manifest; inside `pending(...)`, this thread's not yet committed one."""
        pending = getattr(self._pending, "manifest", None)
        return pending if pending is not None else self._manifest

    @manifest.setter
    def manifest(self, value: Manifest) -> None:
        self._manifest = value

    @contextmanager
    def pending(self, manifest: Manifest) -> Iterator[None]:
        """Read `manifest` (written, not yet committed) in this thread only: an ingest prepares what the
        first question on a new source would otherwise compute (its view, its analysis) before the swap."""
        self._pending.manifest = manifest
        try:
            yield
        finally:
            self._pending.manifest = None

    # ---- connection
    @property
    def chroma_path(self) -> Path:
        return self.root / "chroma"

    @property
    def client(self) -> Any:
        client = self._client
        if client is not None and (self.settings.chroma_host or _system_current(client, self.chroma_path)):
            return client
        with _CLIENT_LOCK:  # Chroma registers a System before starting it: never let two threads race there
            if self._client is not None and not self.settings.chroma_host and not _system_current(
                    self._client, self.chroma_path):
                self._client = None  # another store of this process reopened the directory: follow it
            if self._client is None:
                self._client = self._open_client()
            return self._client

    def _open_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_host:
            return _http_client(self.settings, chroma_settings)
        path = self.chroma_path
        try:
            path.mkdir(parents=True, exist_ok=True)
            unclean = self._mark_open()
            if unclean:  # the previous run died with the store open: check the database before trusting it
                damage = sqlite_damage(path / "chroma.sqlite3")
                if damage:
                    self._set_aside(path, f"{damage}; found by an integrity check because {unclean}")
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except StoreError:
            raise
        except Exception as exc:  # OSError, or Chroma's own errors ("attempt to write a readonly database")
            if not is_damage(exc):
                raise StoreError(f"cannot open the Chroma index in {path} ({exc}); check ASSISTANT_INDEX_DIR"
                                 ) from exc
            # A damaged database (not a readonly or locked one): set aside, never deleted; the next
            # build finds an empty store and rebuilds it from sources/.
            self._set_aside(path, str(exc))
            try:
                return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as again:  # noqa: BLE001
                raise StoreError(f"cannot open the Chroma index in {path} ({exc}; then {again}); "
                                 "check ASSISTANT_INDEX_DIR") from again

    def _set_aside(self, path: Path, cause: str) -> None:
        """Move a damaged Chroma directory aside (kept for inspection) and start an empty one."""
        aside = path.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        note = (f"the Chroma index in {path} is damaged ({_short(cause)}); moved to {aside.name}, "
                "it will be rebuilt from sources")
        log.warning("%s", note)
        with _CLIENT_LOCK:
            _forget_chroma_system(path)
            self._client = None
        try:
            path.rename(aside)
            path.mkdir()
        except OSError as exc:
            raise StoreError(f"the Chroma index in {path} is damaged ({_short(cause)}) and cannot be moved aside "
                             f"({exc.strerror or exc}); check ASSISTANT_INDEX_DIR") from exc
        self.notes.append(note)

    def set_aside_damaged(self, cause: str) -> None:
        """The embedded Chroma store failed as a damaged database does: move it aside (under the swap
        guard: no question is reading it) so that the next build starts from an empty one."""
        if self.settings.chroma_host:
            raise StoreError(f"the Chroma server reports a damaged database ({_short(cause)}); repair or reset "
                             "the server's store, then run `python -m index build --rebuild`")
        with self.swap_guard():
            self._set_aside(self.chroma_path, cause)

    def reopen(self) -> None:
        """Open the Chroma directory afresh, to see what another process wrote (an embedded client keeps
        its own view of the rows from when it opened). The caller holds `swap_guard`: no reader uses it."""
        if self.settings.chroma_host:
            return
        with _CLIENT_LOCK:
            _forget_chroma_system(self.chroma_path)
            self._client = None
            self._client = self._open_client()

    def _mark_open(self) -> str:
        """Leave a marker while this process has the embedded store open; a marker whose process is
        gone means that process did not close cleanly. Returns why a check is due, or ''."""
        unclean = ""
        try:
            for marker in self.root.glob(".chroma-open.*"):
                pid = marker.suffix[1:]
                if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                    unclean = f"process {pid} did not close the index cleanly"
                    marker.unlink(missing_ok=True)
            if self._marker is None:
                self._marker = self.root / f".chroma-open.{os.getpid()}"
                self._marker.touch()
                _MARKERS.add(self._marker)
        except OSError:  # a read-only index: nothing to mark, and nothing will be written either
            pass
        return unclean

    def close(self) -> None:
        """Release the marker of a clean close (also done at interpreter exit)."""
        if self._marker is not None:
            self._marker.unlink(missing_ok=True)
            _MARKERS.discard(self._marker)
            self._marker = None

    # ---- one writer at a time (threads of this process, and other processes through a file lock)
    @contextmanager
    def writer(self) -> Iterator[None]:
        key = str(self.root.resolve())
        with _WRITERS_LOCK:
            slot = _WRITERS.setdefault(key, [threading.RLock(), 0])
        lock = slot[0]
        with lock:
            slot[1] += 1
            fd = None
            try:
                if slot[1] == 1:
                    fd = _file_lock(self.root)
                yield
            finally:
                slot[1] -= 1
                if fd is not None:
                    import fcntl

                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)

    def load_manifest(self) -> Manifest:
        stamp = file_stamp(self.manifest_path)
        self.manifest = Manifest.load(self.manifest_path)
        self.served_stamp = stamp
        return self.manifest

    def read_manifest(self) -> Manifest:
        """The committed manifest on disk, without serving it."""
        return Manifest.load(self.manifest_path)

    def changed_on_disk(self) -> bool:
        """The manifest file is not the one the served state came from (a commit by another process)."""
        return file_stamp(self.manifest_path) != self.served_stamp

    # ---- the served state
    def publish(self, manifest: Manifest, bm25: Any = _KEEP, stamp: Any = _KEEP) -> None:
        """Serve `manifest` (and a BM25 index loaded for it). The caller holds `swap_guard`."""
        self.manifest = manifest
        if bm25 is not _KEEP:
            self._bm25_data = bm25 if bm25 is not None else Bm25Data()
        if stamp is not _KEEP:
            self.served_stamp = stamp
        live = set(manifest.live().items())
        with self._lock:
            for key in [k for k in self._segments if k not in live]:
                self._segment_rows -= len(self._segments.pop(key).starts)
            hashes = {h for _, h in live}
            for key in [k for k in self._texts if k not in hashes]:
                del self._texts[key]
        for listener in list(self.on_publish):
            listener(manifest)

    def commit(self, manifest: Manifest, bm25: Any = _KEEP) -> Manifest:
        """The commit point: write the manifest (atomically) and serve it, as one step for readers. A copy
        is served, so the caller may go on editing `manifest` (its revision follows the commit)."""
        snapshot = manifest.copy()
        with self.swap_guard():
            snapshot.save(self.manifest_path)
            self.publish(snapshot, bm25, file_stamp(self.manifest_path))
        manifest.revision = snapshot.revision
        return snapshot

    def reload(self) -> bool:
        """Serve what another process committed: its manifest, its BM25 index, and Chroma reopened so its
        rows are seen. Reading happens before the swap; only the swap holds `swap_guard`, and it is skipped
        when what is on disk was published meanwhile (by this process's own commit). False when nothing
        was swapped, e.g. the manifest on disk is unreadable (the served state is kept; a build repairs it)."""
        with self._reload_lock:  # one reader of the new state at a time; the others then find it served
            return self._reload()

    def _reload(self) -> bool:
        for _ in range(3):
            stamp = file_stamp(self.manifest_path)
            if stamp == self.served_stamp:
                return False
            try:
                manifest = self.read_manifest()
            except StoreError as exc:
                log.warning("not reloading the index: %s", exc)
                with self.swap_guard():
                    if file_stamp(self.manifest_path) == stamp:
                        self.served_stamp = stamp  # warned once; the next change is looked at again
                return False
            try:
                bm25 = self.read_bm25(manifest.bm25_dir)
            except StoreError as exc:  # the words' index only; dense retrieval still serves every article
                log.warning("%s", exc)
                bm25 = None
            with self.swap_guard():
                now = file_stamp(self.manifest_path)
                if now == self.served_stamp:
                    return False  # published by this process while we read
                if now != stamp:
                    continue  # committed again while we read: read the newer one
                self.reopen()
                self.publish(manifest, bm25, stamp)
            log.info("index reloaded: revision %d, %d sources (committed by another process)", manifest.revision,
                     len(manifest.sources))
            return True
        return False

    # ---- collections
    def collection(self, kind: str, generation: str) -> Any:
        # cosine space: scores are thresholded; embedding_function=None: never download a default model.
        return self.client.get_or_create_collection(
            name=f"{kind}_{generation}", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    _collection = collection

    def served(self, kind: str) -> Any:
        """A collection of the served generation, for reading: fetched, never created. Another process's
        `index build --rebuild` drops the generation this process still serves right after its commit;
        re-creating it here would answer the question from an empty collection (a refusal). A missing
        one raises instead, and the question is asked again on the reloaded index."""
        generation = self.manifest.generation
        try:
            return self.client.get_collection(name=f"{kind}_{generation}", embedding_function=None)
        except Exception as exc:  # chromadb's NotFoundError (ValueError in older releases)
            if is_damage(exc) or "does not exist" not in str(exc).lower():
                raise
            raise StoreError(f"the served generation {generation} of the index is gone (rebuilt by another "
                             "process?)") from exc

    def chunks(self) -> Any:
        return self.served("chunks")

    def segments(self) -> Any:
        return self.served("segments")

    def vector_store(self, generation: str | None = None) -> Any:
        """The chunks collection as a llama-index vector store (used by ingest and dense retrieval)."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection("chunks", generation or self.manifest.generation))

    def drop_generation(self, generation: str) -> None:
        for kind in ("chunks", "segments"):
            try:
                self.client.delete_collection(f"{kind}_{generation}")
            except Exception:  # already gone: nothing to drop  # noqa: BLE001
                pass

    def generations(self) -> set[str]:
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return {n.split("_", 1)[1] for n in names if n.startswith(("chunks_", "segments_"))}

    def row_census(self, manifest: Manifest | None = None) -> dict[str, Any]:
        """Every raw row of the live generation against the manifest: per kind, the rows held, the rows
        the manifest lists, rows of versions it does not list (orphans), duplicate ids, and sources
        whose rows are missing. `python -m index status --check` prints it; a build collects orphans."""
        manifest = manifest or self.manifest
        live = manifest.live()
        out: dict[str, Any] = {"generations": sorted(self.generations())}
        for kind, attr in (("chunks", "chunks"), ("segments", "segments")):
            got = paged_get(self.collection(kind, manifest.generation), include=["metadatas"])
            per: dict[str, int] = {}
            orphans: list[str] = []
            for row_id, meta in zip(got["ids"], got["metadatas"]):
                meta = meta or {}
                if live.get(meta.get("source_id")) == meta.get("source_hash"):
                    per[meta["source_id"]] = per.get(meta["source_id"], 0) + 1
                else:
                    orphans.append(row_id)
            expected = {sid: getattr(e, attr) for sid, e in manifest.sources.items()}
            out[kind] = {
                "held": len(got["ids"]), "listed": sum(expected.values()), "orphans": orphans,
                "duplicates": len(got["ids"]) - len(set(got["ids"])),
                "mismatched": {sid: (per.get(sid, 0), n) for sid, n in expected.items() if per.get(sid, 0) != n},
            }
        return out

    def collect_orphans(self, manifest: Manifest) -> int:
        """Delete rows of the live generation that no listed source version owns (a killed ingest's
        rows, or a source removed while its rows were being written). Cheap when there are none: the
        row counts are compared first."""
        removed = 0
        for kind, attr in (("chunks", "chunks"), ("segments", "segments")):
            col = self.collection(kind, manifest.generation)
            if col.count() <= sum(getattr(e, attr) for e in manifest.sources.values()):
                continue
            live = manifest.live()
            got = paged_get(col, include=["metadatas"])
            stale = [i for i, m in zip(got["ids"], got["metadatas"])
                     if live.get((m or {}).get("source_id")) != (m or {}).get("source_hash")]
            for k in range(0, len(stale), 5000):
                col.delete(ids=stale[k:k + 5000])
            removed += len(stale)
        return removed

    # ---- texts
    def text_path(self, content_hash: str) -> Path:
        return self.root / "texts" / f"{content_hash}.txt"

    def save_text(self, content_hash: str, text: str) -> None:
        if not self.text_matches(content_hash, text):
            _atomic_write(self.text_path(content_hash), text)

    def text_matches(self, content_hash: str, text: str) -> bool:
        """The stored text of this source version exists and is exactly `text` (offsets point into it)."""
        path = self.text_path(content_hash)
        try:
            if path.stat().st_size != len(text.encode("utf-8")):
                return False
            with open(path, encoding="utf-8", newline="") as fh:
                return fh.read() == text
        except (OSError, UnicodeDecodeError):
            return False

    def source_text(self, source_id: str) -> str:
        entry = self.manifest.sources.get(source_id)
        if entry is None:
            raise KeyError(f"unknown source {source_id!r}")
        key = entry.content_hash
        text = self._texts.get(key)
        if text is None:
            # newline="" keeps the text byte-exact (offsets point into it).
            with open(self.text_path(key), encoding="utf-8", newline="") as fh:
                text = self._texts[key] = fh.read()
        return text

    # ---- BM25
    def build_bm25(self, manifest: Manifest | None = None) -> str:
        """Index every live chunk of `manifest` (default: the served one); written to a fresh directory
        named after its content, so the directory a manifest points at is never half-written."""
        import hashlib

        import bm25s

        manifest = manifest or self.manifest
        live = manifest.live()
        got = paged_get(self.collection("chunks", manifest.generation), include=["documents", "metadatas"])
        rows = [
            (i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
            if m and live.get(m.get("source_id")) == m.get("source_hash")
        ]
        rows.sort(key=lambda r: r[0])
        digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()[:16]
        name = f"bm25-{manifest.generation}-{digest}"
        target = self.root / name
        if not (target / "ids.json").exists():
            tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".bm25-"))
            try:
                tokens = [bm25_tokens(d, (m.get("language", "fr") if m.get("language") in ("fr", "en") else "fr",))
                          for _, d, m in rows]
                retriever = bm25s.BM25()
                if rows:
                    retriever.index(tokens, show_progress=False)
                    retriever.save(str(tmp / "bm25"))
                _atomic_write(tmp / "ids.json", json.dumps([[r[0], _slim(r[2])] for r in rows]))
                if target.exists():
                    shutil.rmtree(target)
                os.replace(tmp, target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        return name

    def drop_unused_bm25(self, keep: str | None = None) -> None:
        keep = self.manifest.bm25_dir if keep is None else keep
        for path in self.root.glob("bm25-*"):
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(".bm25-*"):
            shutil.rmtree(path, ignore_errors=True)

    def read_bm25(self, name: str) -> Bm25Data:
        """Load a BM25 directory without serving it; StoreError when it is missing or damaged."""
        import bm25s

        if not name:
            return Bm25Data()
        base = self.root / name
        try:
            pairs = json.loads((base / "ids.json").read_text(encoding="utf-8"))
            ids, meta = tuple(p[0] for p in pairs), tuple(dict(p[1]) for p in pairs)
            bm25 = bm25s.BM25.load(str(base / "bm25")) if pairs else None
            docs = int(bm25.scores.get("num_docs", len(ids))) if bm25 is not None else 0
            if bm25 is not None and docs != len(ids):
                raise ValueError(f"{docs} documents for {len(ids)} ids")
        except Exception as exc:  # missing, truncated or garbage files: ingest rebuilds the BM25 index
            raise StoreError(f"the BM25 index {base} is unreadable ({type(exc).__name__}: {exc}); "
                             "it will be rebuilt") from exc
        return Bm25Data(bm25, ids, meta)

    def load_bm25(self) -> None:
        """Serve the BM25 index the served manifest names."""
        self._bm25_data = Bm25Data()
        self._bm25_data = self.read_bm25(self.manifest.bm25_dir)

    def bm25_search(self, query: str, top_k: int, languages: tuple[str, ...] = ("fr", "en")) -> list[tuple[str, dict[str, Any], float]]:
        data = self._bm25_data  # one read: a swap never mixes two indexes in one search
        if data.retriever is None or not data.ids:
            return []
        tokens = bm25_tokens(query, languages)
        if not tokens:
            return []
        vocab = data.retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        # bm25s scores (summing the query terms' posting lists); the top k is taken among the documents
        # that hold a query term only: bm25s's argpartition over every score crawls on the ties of the
        # zero-scored majority (2.9 ms at 30k chunks, 14 ms at 100k, against 0.1 ms here).
        scores = data.retriever.get_scores(known)
        # Rows of a version the manifest no longer lists are never offered (the BM25 index may lag a commit).
        hits = np.flatnonzero((scores > 0) & self._bm25_live(data))
        if len(hits) > top_k:
            hits = hits[np.argpartition(-scores[hits], top_k - 1)[:top_k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return [(data.ids[int(d)], data.meta[int(d)], float(scores[d])) for d in hits]

    def _bm25_live(self, data: Bm25Data) -> np.ndarray:
        """Which BM25 rows belong to a source version the served manifest lists (computed once per swap)."""
        manifest = self.manifest
        cached = self._bm25_mask
        if cached is not None and cached[0] is manifest and cached[1] is data:
            return cached[2]
        live = manifest.live()
        mask = np.fromiter((live.get(m.get("source_id")) == m.get("source_hash") for m in data.meta), dtype=bool,
                           count=len(data.meta))
        self._bm25_mask = (manifest, data, mask)
        return mask

    # ---- segments
    def segment_table(self, source_id: str) -> SegmentTable:
        """Sentences and clauses of a source with their ingest-time embeddings: one Chroma read per
        source version, then served from a bounded in-memory cache."""
        entry = self.manifest.sources[source_id]
        key = (source_id, entry.content_hash)
        with self._lock:
            table = self._segments.get(key)
            if table is not None:
                self._segments.move_to_end(key)
                return table
        got = self.segments().get(
            where={"$and": [{"source_id": source_id}, {"source_hash": entry.content_hash}]},
            include=["embeddings", "metadatas"],
        )
        metas = got["metadatas"]
        order = sorted(range(len(metas)), key=lambda i: (metas[i]["start"], -metas[i]["end"]))
        emb = np.asarray(got["embeddings"], dtype=np.float32)
        if len(order):
            emb = emb[order]
        table = SegmentTable(
            source_id=source_id,
            starts=np.array([metas[i]["start"] for i in order], dtype=np.int64),
            ends=np.array([metas[i]["end"] for i in order], dtype=np.int64),
            sent_idx=np.array([metas[i]["sent_idx"] for i in order], dtype=np.int64),
            is_sentence=np.array([metas[i]["kind"] == "sentence" for i in order], dtype=bool),
            embeddings=emb.reshape(len(order), -1) if len(order) else np.zeros((0, self.manifest.dim), np.float32),
        )
        with self._lock:
            if key not in self._segments:
                self._segments[key] = table
                self._segment_rows += len(table.starts)
            # Bounded by rows, not sources: one answer reads ~18 sources' tables and 30 questions ~400, so a
            # cap of 256 sources thrashed at 1,000 articles (p50 176 ms); 120k rows (~185 MB) hold them all.
            while self._segment_rows > SEGMENT_CACHE_ROWS and len(self._segments) > 1:
                _, dropped = self._segments.popitem(last=False)
                self._segment_rows -= len(dropped.starts)
        return table

    def reset_caches(self) -> None:
        with self._lock:
            self._segments.clear()
            self._segment_rows = 0
            self._texts.clear()


# Damage as SQLite reports it through Chroma (SQLITE_CORRUPT = 11, SQLITE_NOTADB = 26), also when Chroma's
# Rust core wraps it ("Error executing plan: ... (code: 11) database disk image is malformed").
_CLIENT_LOCK = threading.RLock()
SEGMENT_CACHE_ROWS = 120_000
_DAMAGED_DB = re.compile(r"file is not a database|database disk image is malformed|malformed database schema"
                         r"|\(code: (?:11|26)\)|SQLITE_(?:CORRUPT|NOTADB)|database corruption", re.IGNORECASE)
_MARKERS: set[Path] = set()


def is_damage(exc: BaseException | str) -> bool:
    """The error (or one it was raised from) says the database is damaged, not locked or read-only."""
    if isinstance(exc, str):
        return bool(_DAMAGED_DB.search(exc))
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if _DAMAGED_DB.search(f"{type(current).__name__}: {current}"):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def sqlite_damage(db: Path) -> str:
    """'' when SQLite's quick_check passes on the database file (or it cannot be checked: missing, locked),
    else what SQLite reports (the first problem only)."""
    if not db.exists():
        return ""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        return f"SQLite: {exc}" if is_damage(str(exc)) else ""
    first = str(rows[0][0]) if rows else "ok"
    return "" if first == "ok" else f"SQLite quick_check: database disk image is malformed ({_short(first, 120)})"


def file_stamp(path: Path) -> tuple | None:
    """What tells one version of a file from the next (os.replace gives every commit a new inode)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _file_lock(root: Path) -> int | None:
    """An exclusive lock on ROOT/.ingest.lock (blocking; says whom it waits for). None when the index
    directory cannot be written: the writes themselves then fail with the reason."""
    import fcntl

    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".ingest.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
        log.warning("waiting for another ingest of %s to finish (process %s)", root, holder)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    except OSError:
        pass
    return fd


def _system_current(client: Any, path: Path) -> bool:
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        return SharedSystemClient._identifier_to_system.get(str(path)) is getattr(client, "_system", None)
    except Exception:  # noqa: BLE001  (another chromadb layout: assume it is)
        return True


def _release_markers() -> None:
    for marker in list(_MARKERS):
        marker.unlink(missing_ok=True)


import atexit  # noqa: E402

atexit.register(_release_markers)


def _forget_chroma_system(path: Path) -> None:
    """Chroma caches one System per directory, even one that failed to start: drop it so that the
    directory can be opened again."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None:
            system.stop()
    except Exception:  # noqa: BLE001  (a half-started system may not stop cleanly)
        pass


def _slim(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in ("source_id", "source_hash", "start", "end", "sent_lo", "sent_hi") if k in meta}


def _http_client(settings: IndexSettings, chroma_settings: Any) -> Any:
    """Client/server mode; a server that is down fails fast with the setting to check, never a hang."""
    import chromadb

    import httpx

    where = f"ASSISTANT_CHROMA_HOST={settings.chroma_host} ASSISTANT_CHROMA_PORT={settings.chroma_port}"
    try:
        # chromadb's HTTP session has no timeout: a port that accepts but never answers would hang the
        # constructor forever. Probe first with a bound, then bound every later request too.
        httpx.get(f"http://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat", timeout=5.0)
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(30.0, connect=5.0)
        client.heartbeat()
        return client
    except Exception as exc:  # chromadb raises several types for a refused connection  # noqa: BLE001
        raise StoreError(f"cannot reach the Chroma server ({where}): {exc}. Start it with "
                         f"`chroma run --path DIR --host {settings.chroma_host} --port {settings.chroma_port}` "
                         "or unset ASSISTANT_CHROMA_HOST to use the embedded index.") from exc
