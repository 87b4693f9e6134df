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
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.settings import IndexSettings

MANIFEST_VERSION = 2
log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The index cannot be opened or written; the message says which setting or path to check."""


# ---------------------------------------------------------------- manifest

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


@dataclass
class Manifest:
    embedder: str = ""
    dim: int = 0
    generation: str = ""  # suffix of the Chroma collections for this embedder
    bm25_dir: str = ""
    sources: dict[str, SourceEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        """A missing manifest is an empty index; a corrupt one raises StoreError (caller rebuilds)."""
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != MANIFEST_VERSION:
                raise ValueError(f"version {raw.get('version')!r}")
            sources = {k: SourceEntry(**v) for k, v in raw["sources"].items()}
            return cls(raw["embedder"], int(raw["dim"]), raw["generation"], raw.get("bm25_dir", ""), sources)
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise StoreError(f"index manifest {path} is unreadable ({exc}); it will be rebuilt from sources") from exc

    def save(self, path: Path) -> None:
        data = {
            "version": MANIFEST_VERSION,
            "embedder": self.embedder,
            "dim": self.dim,
            "generation": self.generation,
            "bm25_dir": self.bm25_dir,
            "sources": {k: vars(v) for k, v in sorted(self.sources.items())},
        }
        _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1))

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


class IndexStore:
    """Chroma (embedded or server) + BM25 + texts + manifest under one index directory."""

    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.manifest_path = self.root / "manifest.json"
        self._client: Any = None
        self._lock = threading.RLock()
        self._bm25: Any = None
        self._bm25_ids: list[str] = []
        self._bm25_meta: list[dict[str, Any]] = []
        self._segments: OrderedDict[tuple[str, str], SegmentTable] = OrderedDict()
        self._texts: dict[str, str] = {}
        self.manifest = Manifest()
        self.notes: list[str] = []  # damage found and repaired on opening; the next ingest reports it

    # ---- connection
    @property
    def client(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            if self.settings.chroma_host:
                self._client = _http_client(self.settings, chroma_settings)
            else:
                path = self.root / "chroma"
                try:
                    path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                except Exception as exc:  # OSError, or Chroma's own errors ("attempt to write a readonly database")
                    if not _DAMAGED_DB.search(str(exc)):
                        raise StoreError(f"cannot open the Chroma index in {path} ({exc}); check ASSISTANT_INDEX_DIR"
                                         ) from exc
                    # A damaged database (not a readonly or locked one): set aside, never deleted; the next
                    # build finds an empty store and rebuilds it from sources/.
                    aside = path.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
                    note = (f"the Chroma index in {path} is damaged ({exc}); moved to {aside.name}, "
                            "it will be rebuilt from sources")
                    log.warning("%s", note)
                    _forget_chroma_system(path)
                    try:
                        path.rename(aside)
                        path.mkdir()
                        self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                    except Exception as again:  # noqa: BLE001
                        raise StoreError(f"cannot open the Chroma index in {path} ({exc}; then {again}); "
                                         "check ASSISTANT_INDEX_DIR") from again
                    self.notes.append(note)
        return self._client

    def load_manifest(self) -> Manifest:
        self.manifest = Manifest.load(self.manifest_path)
        return self.manifest

    # ---- collections
    def _collection(self, kind: str, generation: str) -> Any:
        # cosine space: scores are thresholded; embedding_function=None: never download a default model.
        return self.client.get_or_create_collection(
            name=f"{kind}_{generation}", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def chunks(self) -> Any:
        return self._collection("chunks", self.manifest.generation)

    def segments(self) -> Any:
        return self._collection("segments", self.manifest.generation)

    def vector_store(self) -> Any:
        """The chunks collection as a llama-index vector store (used by ingest and dense retrieval)."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks())

    def drop_generation(self, generation: str) -> None:
        for kind in ("chunks", "segments"):
            try:
                self.client.delete_collection(f"{kind}_{generation}")
            except Exception:  # already gone: nothing to drop  # noqa: BLE001
                pass

    def generations(self) -> set[str]:
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return {n.split("_", 1)[1] for n in names if n.startswith(("chunks_", "segments_"))}

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
        if key not in self._texts:
            # newline="" keeps the text byte-exact (offsets point into it).
            with open(self.text_path(key), encoding="utf-8", newline="") as fh:
                self._texts[key] = fh.read()
        return self._texts[key]

    # ---- BM25
    def build_bm25(self) -> str:
        """Index every live chunk; written to a fresh directory named after its content, so the
        directory the manifest points at is never half-written."""
        import hashlib

        import bm25s

        live = self.manifest.live()
        got = paged_get(self.chunks(), include=["documents", "metadatas"])
        rows = [
            (i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
            if live.get(m.get("source_id")) == m.get("source_hash")
        ]
        rows.sort(key=lambda r: r[0])
        digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()[:16]
        name = f"bm25-{self.manifest.generation}-{digest}"
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

    def drop_unused_bm25(self) -> None:
        for path in self.root.glob("bm25-*"):
            if path.name != self.manifest.bm25_dir:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(".bm25-*"):
            shutil.rmtree(path, ignore_errors=True)

    def load_bm25(self) -> None:
        import bm25s

        self._bm25, self._bm25_ids, self._bm25_meta = None, [], []
        if not self.manifest.bm25_dir:
            return
        base = self.root / self.manifest.bm25_dir
        try:
            pairs = json.loads((base / "ids.json").read_text(encoding="utf-8"))
            ids, meta = [p[0] for p in pairs], [dict(p[1]) for p in pairs]
            bm25 = bm25s.BM25.load(str(base / "bm25")) if pairs else None
            docs = int(bm25.scores.get("num_docs", len(ids))) if bm25 is not None else 0
            if bm25 is not None and docs != len(ids):
                raise ValueError(f"{docs} documents for {len(ids)} ids")
        except Exception as exc:  # missing, truncated or garbage files: ingest rebuilds the BM25 index
            raise StoreError(f"the BM25 index {base} is unreadable ({type(exc).__name__}: {exc}); "
                             "it will be rebuilt") from exc
        self._bm25, self._bm25_ids, self._bm25_meta = bm25, ids, meta

    def bm25_search(self, query: str, top_k: int, languages: tuple[str, ...] = ("fr", "en")) -> list[tuple[str, dict[str, Any], float]]:
        if self._bm25 is None or not self._bm25_ids:
            return []
        tokens = bm25_tokens(query, languages)
        if not tokens:
            return []
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        # bm25s scores (summing the query terms' posting lists); the top k is taken among the documents
        # that hold a query term only: bm25s's argpartition over every score crawls on the ties of the
        # zero-scored majority (2.9 ms at 30k chunks, 14 ms at 100k, against 0.1 ms here).
        scores = self._bm25.get_scores(known)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > top_k:
            hits = hits[np.argpartition(-scores[hits], top_k - 1)[:top_k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return [(self._bm25_ids[int(d)], self._bm25_meta[int(d)], float(scores[d])) for d in hits]

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
            self._segments[key] = table
            while len(self._segments) > 256:
                self._segments.popitem(last=False)
        return table

    def reset_caches(self) -> None:
        with self._lock:
            self._segments.clear()
            self._texts.clear()


_DAMAGED_DB = re.compile(r"file is not a database|database disk image is malformed|\(code: (?:11|26)\)")


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
