"""Bring the index in line with sources/: add new sources, replace changed ones, delete removed ones.

Idempotent (unchanged sources cost a hash, no parse and no embedding: extracted text is cached by the
file's hash) and crash-safe (see store.py: the manifest is the only commit point, and a source is written
under ids that include its content hash). An ingest never holds up questions: it parses, embeds and writes
rows, texts and the BM25 index while the previous state is served, and only the commit (write the manifest,
swap what is served) happens under the store's swap guard. One ingest runs at a time per index directory,
across processes too (`IndexStore.writer`).

Uploads never overwrite: `add_files` gives a file whose name is taken a new name (`article-2.txt`), the same
bytes twice are one source, and `sources/.uploads.json` records which files came through an upload and when
(so the origin survives a rebuild). Replacing a source is the operator's explicit `replace=True`
(`python -m index add --replace`); bundled sources cannot be removed through `remove_source`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from index.chunking import Span, chunk_sentences, split_clauses, split_sentences
from index.embeddings import get_embedder
from index.loaders import (LoaderError, ParseCache, SourceDocument, iter_sources, load_source, safe_upload_name,
                           sidecar_path)
from index.settings import IndexSettings
from index.store import (IndexStore, Manifest, SourceEntry, StoreError, _atomic_write, _iso_ok, file_stamp, is_damage,
                         sqlite_damage, utc_now)

log = logging.getLogger(__name__)

CHUNK_MAX_WORDS = 60
UPLOADS_FILE = ".uploads.json"  # in the sources directory (hidden: never read as an article)
EMBED_BATCH = 32  # texts per embedder call when nobody is waiting (a build from the command line)
EMBED_SLICE_S = 0.25  # seconds per embedder call while questions may be waiting (the app): they take turns
WRITE_BATCH = 2000  # rows per Chroma write (its own bound is a few thousand)


class ReadOnlySource(PermissionError):
    """A bundled source cannot be removed or replaced through the app."""


class UnknownSource(LookupError):
    """No indexed source has this id."""

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # user-facing messages, one per rejected file
    embedded: int = 0  # texts embedded in this run (0 when nothing changed)
    chunks: int = 0  # live chunks after the run
    rebuilt: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    parsed: int = 0  # files parsed in this run (the others came from the parse cache)
    collected: int = 0  # orphan rows and generations removed

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.deleted or self.rebuilt)


def _row_id(*parts: object) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:32]


def _segments(text: str) -> tuple[list[Span], list[tuple[str, int, Span]]]:
    """Sentences, and every sentence and clause as (kind, sentence index, span)."""
    sentences = split_sentences(text)
    segs: list[tuple[str, int, Span]] = []
    for i, sentence in enumerate(sentences):
        segs.append(("sentence", i, sentence))
        clauses = split_clauses(sentence)
        if len(clauses) > 1:
            segs.extend(("clause", i, c) for c in clauses)
    return sentences, segs


Progress = Callable[[int, int, str], None]  # (texts embedded, texts to embed, source id)


class Ingestor:
    def __init__(self, settings: IndexSettings, store: IndexStore | None = None, embedder=None,
                 progress: bool = True) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self._embedder = embedder
        self.progress = progress
        self.cache = ParseCache(settings.index_dir / "extracted")
        # Seconds per embedder call, so that questions sharing the embedder take turns with the ingest;
        # None: large batches (nobody is waiting, e.g. `python -m index build`).
        self.embed_slice: float | None = None
        self.on_progress: Progress | None = None
        # Called with the writer lock held, before anything is read: the Assistant reloads there what
        # another process committed, so an ingest always builds on the latest committed state.
        self.before_write: Callable[[], None] | None = None
        # Called with (the manifest about to be committed, the source ids it adds or changes), before the
        # commit and outside every lock: the Assistant prepares there what questions on them need.
        self.before_commit: Callable[[Manifest, list[str]], None] | None = None

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder, self.settings.embedder_path)
        return self._embedder

    # ------------------------------------------------------------ public
    def build(self, rebuild: bool = False) -> IngestReport:
        """A write that fails (read-only or full disk, Chroma refusing it) is a StoreError saying so; the
        store keeps serving the last committed manifest, never a half-built one. A damaged Chroma database
        is moved aside and the index rebuilt from sources, with a note naming the damage."""
        with self.store.writer():
            return self._guarded(lambda again: self._build(rebuild or again))

    def add_files(self, paths: list[Path], replace: bool = False, origin: str = "uploaded",
                  progress: Progress | None = None) -> tuple[list[str], IngestReport]:
        """Copy files into sources/ (safe names, validated and parsed first) and index them.

        Every file becomes a new source: a name already taken gets a suffix (`article-2.txt`), so an upload
        can never overwrite an article; the same bytes as a source already there are that source (nothing
        copied or embedded). `replace=True` is the operator's explicit overwrite of the source of that name
        (`python -m index add --replace`). `origin` is recorded for new files ("uploaded": listed in
        sources/.uploads.json with the time; "bundled": the operator's own, read-only to the app)."""
        if origin not in ("uploaded", "bundled"):
            raise ValueError(f"origin must be 'uploaded' or 'bundled', not {origin!r}")
        with self.store.writer():
            if self.before_write is not None:
                self.before_write()
            copied: list[str] = []
            errors: list[str] = []
            try:
                self.settings.sources_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the sources directory {self.settings.sources_dir} "
                                 f"({exc.strerror or exc}); check ASSISTANT_SOURCES_DIR") from exc
            for path in paths:
                try:
                    copied.append(self._place(Path(path), replace, origin))
                except LoaderError as exc:
                    errors.append(str(exc))
                except OSError as exc:
                    errors.append(f"{Path(path).name}: cannot copy into {self.settings.sources_dir}: "
                                  f"{exc.strerror or exc}")
            previous, self.on_progress = self.on_progress, progress or self.on_progress
            try:
                report = self._guarded(lambda again: self._build(again))
            finally:
                self.on_progress = previous
            report.errors = errors + report.errors
            return copied, report

    def remove(self, source_id: str) -> IngestReport:
        """Remove an uploaded source (its file, its rows, its text); a bundled one is refused."""
        with self.store.writer():
            if self.before_write is not None:
                self.before_write()
            try:
                entry = self.store.read_manifest().sources.get(source_id)
            except StoreError:
                entry = None
            uploads = read_uploads(self.settings.sources_dir)
            if entry is None and source_id not in uploads:
                raise UnknownSource(f"{source_id}: no indexed article has this name.")
            if source_id not in uploads or (entry is not None and entry.origin != "uploaded"):
                raise ReadOnlySource(f"{source_id} is a bundled article: it cannot be removed from the app. "
                                     "The operator removes it from the sources directory, then runs "
                                     "`python -m index build`.")
            path = self.settings.sources_dir / source_id
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot remove {path} ({exc.strerror or exc}); check ASSISTANT_SOURCES_DIR") from exc
            del uploads[source_id]
            write_uploads(self.settings.sources_dir, uploads)
            return self._guarded(lambda again: self._build(again))

    # ------------------------------------------------------------ placing a file in sources/
    def _place(self, path: Path, replace: bool, origin: str) -> str:
        name = safe_upload_name(path.name)
        load_source(path, self.cache)  # validated (and parsed, once: the build reads the cache) before it enters
        sources = self.settings.sources_dir
        twin = _same_bytes(sources, path)
        if twin and (not replace or twin == name):  # already in sources/, maybe under another name: one source
            return twin
        fd, tmp_name = tempfile.mkstemp(dir=sources, prefix=f".{name}.", suffix=".part")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(path, tmp)
            uploads = read_uploads(sources)
            if replace and (sources / name).exists():
                # The operator's explicit overwrite: the new text is theirs now (bundled), whatever it was.
                uploads.pop(name, None)
                if origin == "uploaded":
                    uploads[name] = {"added_at": utc_now()}
                write_uploads(sources, uploads)
                os.replace(tmp, sources / name)
                return name
            stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
            for n in range(1, 10_000):
                candidate = name if n == 1 else f"{stem}-{n}{suffix}"
                # A name is free when neither the file nor a metadata sidecar for it exists (a leftover
                # sidecar must never dress an upload in another article's title and publisher).
                if (sources / candidate).exists() or sidecar_path(sources / candidate).exists():
                    continue
                try:
                    os.link(tmp, sources / candidate)  # never replaces: fails if the name was taken meanwhile
                except FileExistsError:
                    continue
                if origin == "uploaded":  # after the link: a crash in between leaves it bundled (read-only)
                    uploads[candidate] = {"added_at": utc_now()}
                    write_uploads(sources, uploads)
                return candidate
            raise LoaderError(f"{path.name}: too many articles are named {name}; rename the file.")
        finally:
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------ the build
    def _guarded(self, run: Callable[[bool], IngestReport]) -> IngestReport:
        try:
            return run(False)
        except Exception as exc:  # noqa: BLE001 — mapped to a StoreError below, or re-raised
            failure: BaseException = exc
            damage = self._damage(exc)
            if damage:
                # The database is damaged (SQLite's own words), not read-only or full: set it aside and
                # rebuild from sources. The note names the damage, not a permissions problem.
                self.store.set_aside_damaged(damage)
                try:
                    return run(True)
                except Exception as again:  # noqa: BLE001
                    failure = again
            if isinstance(failure, StoreError) or not (isinstance(failure, OSError) or _is_chroma_error(failure)):
                raise failure
            if is_damage(failure):
                raise StoreError(f"the Chroma index in {self.store.root} is damaged ({failure}); move it aside and "
                                 "run `python -m index build --rebuild`") from failure
            reason = getattr(failure, "strerror", None) or str(failure)
            raise StoreError(f"cannot write the index in {self.store.root} ({reason}); check that "
                             "ASSISTANT_INDEX_DIR is writable and its disk has free space. The last committed "
                             "index is kept.") from failure

    def _damage(self, exc: BaseException) -> str:
        """What is damaged, when `exc` comes from a damaged embedded database: SQLite said so, or a Chroma
        error (its messages vary with where the damage lies) and SQLite's quick_check then finds it."""
        if self.settings.chroma_host:
            return ""
        if is_damage(exc):
            return f"{type(exc).__name__}: {exc}"
        chain, current = [], exc
        while current is not None and len(chain) < 10:  # also what a StoreError was raised from
            chain.append(current)
            current = current.__cause__ or current.__context__
        if any(_is_chroma_error(e) or "chroma" in type(e).__module__ for e in chain):
            # e.g. the served collection "does not exist" when the page that lists collections is damaged
            found = sqlite_damage(self.store.chroma_path / "chroma.sqlite3")
            if found:
                return f"{found}; Chroma reported {type(exc).__name__}: {exc}"
        return ""

    def _build(self, rebuild: bool) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        store = self.store
        if self.before_write is not None:
            self.before_write()
        stamp = file_stamp(store.manifest_path)
        try:
            base = store.read_manifest()  # the committed state: what this build starts from
        except StoreError as exc:
            report.notes.append(str(exc))
            log.warning("%s", exc)
            base, rebuild = Manifest(), True
        parses = self.cache.parses
        docs, errors = iter_sources(self.settings.sources_dir, self.cache)
        report.parsed = self.cache.parses - parses
        report.errors.extend(str(e) for e in errors)
        uploads = read_uploads(self.settings.sources_dir, report.notes)
        if any(not (self.settings.sources_dir / name).is_file() for name in uploads):
            try:  # records of files removed by hand, or of a copy that never completed
                write_uploads(self.settings.sources_dir, uploads)
            except OSError:
                pass
            uploads = {k: v for k, v in uploads.items() if (self.settings.sources_dir / k).is_file()}
        if not rebuild and base.sources:
            # Quotes are cut from the stored texts: one missing or damaged means rows and text disagree.
            damaged = [d.source_id for d in docs if (e := base.sources.get(d.source_id)) is not None
                       and e.content_hash == d.content_hash and not store.text_matches(d.content_hash, d.text)]
            if damaged:
                note = (f"the stored text of {', '.join(damaged[:3])}{' and others' if len(damaged) > 3 else ''} "
                        f"in {store.root / 'texts'} is missing or differs from its source; "
                        "the index will be rebuilt from sources")
                report.notes.append(note)
                log.warning("%s", note)
                rebuild = True

        new_generation = rebuild or base.embedder != self.embedder.identity or not base.generation
        if not new_generation and base.sources:
            # The manifest says what Chroma should hold; a store that was emptied, lost, or swapped
            # (embedded -> server) must not leave an index that lists articles but finds nothing.
            held = store.collection("chunks", base.generation).count()
            listed = sum(e.chunks for e in base.sources.values())
            if held < listed:
                note = (f"the Chroma store holds {held} chunks where the manifest lists {listed} "
                        "(a new, emptied or lost store?); it will be rebuilt from sources")
                report.notes.append(note)
                log.warning("%s", note)
                new_generation = rebuild = True
        if new_generation:
            # Built beside the served generation, which is dropped only once the new manifest is committed.
            work = Manifest(self.embedder.identity, self.embedder.dim, _generation_name(self.embedder.identity),
                            revision=base.revision)
            report.rebuilt = bool(base.sources) or rebuild
        else:
            work = base.copy()

        now = utc_now()
        wanted = {d.source_id: d for d in docs}
        todo = [d for d in docs if work.sources.get(d.source_id) is None
                or work.sources[d.source_id].content_hash != d.content_hash]
        for doc in tqdm(todo, desc="ingest", unit="article", disable=not self.progress or len(todo) < 2):
            was = doc.source_id in work.sources
            previous = base.sources.get(doc.source_id)
            entry = self._write_source(doc, work.generation, report)
            entry.origin, entry.added_at = _origin(doc.source_id, uploads, previous, now)
            work.sources[doc.source_id] = entry
            if not new_generation:  # each source is committed as soon as it is written
                self._prepare(work, [doc.source_id])
                store.commit(work)
                self._delete_rows(doc.source_id, work.generation, keep_hash=doc.content_hash)
            (report.replaced if was else report.added).append(doc.source_id)
        report.unchanged = [d.source_id for d in docs if d not in todo]

        relabelled = False  # origin or time recorded differently (an old manifest, an edited uploads file)
        for source_id in report.unchanged:
            entry = work.sources[source_id]
            origin, added_at = _origin(source_id, uploads, entry, now)
            if (entry.origin, entry.added_at) != (origin, added_at):
                entry.origin, entry.added_at = origin, added_at
                relabelled = True

        gone = sorted(set(work.sources) - set(wanted))
        for source_id in gone:
            del work.sources[source_id]
            report.deleted.append(source_id)
        if gone and not new_generation:
            store.commit(work)
            for source_id in gone:
                self._delete_rows(source_id, work.generation)

        if report.changed or not work.bm25_dir or not (store.root / work.bm25_dir).exists():
            work.bm25_dir = store.build_bm25(work)
        try:
            bm25 = store.read_bm25(work.bm25_dir)
        except StoreError as exc:  # damaged on disk while its name still matched: rebuilt from Chroma's rows
            report.notes.append(str(exc))
            log.warning("%s", exc)
            shutil.rmtree(store.root / work.bm25_dir, ignore_errors=True)
            work.bm25_dir = store.build_bm25(work)
            bm25 = store.read_bm25(work.bm25_dir)
        if report.changed or relabelled or work.bm25_dir != base.bm25_dir or new_generation:
            if new_generation:
                self._prepare(work, [d.source_id for d in todo])
            store.commit(work, bm25)  # the commit point of a new generation
        else:  # nothing to write: serve what is committed
            with store.swap_guard():
                store.publish(work, bm25, stamp)

        report.collected = self._collect(work, new_generation)
        report.notes[:0] = store.notes  # damage repaired when the store was opened
        store.notes.clear()
        report.chunks = sum(e.chunks for e in work.sources.values())
        report.seconds = time.perf_counter() - started
        return report

    def _collect(self, manifest: Manifest, new_generation: bool) -> int:
        """After a commit: drop what no committed manifest needs any more (other generations, a killed
        ingest's rows, unused BM25 directories, texts and parse-cache entries). Never fails the build."""
        store, collected = self.store, 0
        try:
            prefix = manifest.generation.split("-", 1)[0]
            for generation in store.generations() - {manifest.generation}:
                # A new generation replaces them all; otherwise only a killed rebuild of this embedder's.
                if new_generation or generation.split("-", 1)[0] == prefix:
                    store.drop_generation(generation)
                    collected += 1
            collected += store.collect_orphans(manifest)
            store.drop_unused_bm25(keep=manifest.bm25_dir)
            keep = {e.content_hash for e in manifest.sources.values()}
            for path in (store.root / "texts").glob("*.txt"):
                if path.stem not in keep:
                    path.unlink(missing_ok=True)
            self.cache.prune()
        except Exception as exc:  # noqa: BLE001 — clean-up only: the next build tries again
            log.warning("clean-up after the build was incomplete: %s", exc)
        return collected

    # ------------------------------------------------------------ internals
    def _prepare(self, manifest: Manifest, source_ids: list[str]) -> None:
        if self.before_commit is None or not source_ids:
            return
        try:
            self.before_commit(manifest, source_ids)
        except Exception:  # noqa: BLE001 — an optimisation: questions compute it themselves otherwise
            log.exception("preparing %s before serving it failed", ", ".join(source_ids[:3]))

    def _embed(self, texts: list[str], done: int, total: int, source_id: str) -> tuple[np.ndarray, int]:
        """Passage vectors in slices: with `embed_slice`, each embedder call lasts about that long, so a
        question (which needs the same embedder) waits at most one slice."""
        out: list[np.ndarray] = []
        batch = 4 if self.embed_slice else EMBED_BATCH
        i = 0
        while i < len(texts):
            t0 = time.perf_counter()
            part = texts[i:i + batch]
            out.append(np.atleast_2d(np.asarray(self.embedder.encode_passages(part), dtype=np.float32)))
            i += len(part)
            done += len(part)
            if self.on_progress is not None:
                self.on_progress(done, total, source_id)
            if self.embed_slice:
                per_text = (time.perf_counter() - t0) / len(part)
                batch = max(1, min(EMBED_BATCH, int(self.embed_slice / max(per_text, 1e-4))))
                time.sleep(0.002)  # hand the embedder (and the GIL) to a waiting question
        return (np.concatenate(out) if out else np.zeros((0, self.embedder.dim), np.float32)), done

    def _write_source(self, doc: SourceDocument, generation: str, report: IngestReport) -> SourceEntry:
        """Write a source version's text and rows into `generation` (invisible until a manifest lists it)."""
        store = self.store
        text = doc.text
        sentences, segs = _segments(text)
        chunks = chunk_sentences(doc.source_id, text, sentences, max_words=CHUNK_MAX_WORDS)
        base = {"source_id": doc.source_id, "source_hash": doc.content_hash, "title": doc.title,
                "language": doc.language, "publisher": doc.publisher}

        store.save_text(doc.content_hash, text)
        total = len(chunks) + len(segs)
        chunk_vecs, done = self._embed([c.text for c in chunks], 0, total, doc.source_id)
        seg_vecs, _ = self._embed([s.text for _, _, s in segs], done, total, doc.source_id)
        report.embedded += total

        if chunks:
            from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

            nodes = []
            for chunk, vec in zip(chunks, chunk_vecs):
                node = TextNode(
                    id_=_row_id(doc.content_hash, chunk.chunk_id),
                    text=chunk.text,
                    embedding=vec.tolist(),
                    start_char_idx=chunk.start,
                    end_char_idx=chunk.end,
                    metadata={**base, "chunk_id": chunk.chunk_id, "start": chunk.start, "end": chunk.end,
                              "sent_lo": chunk.sent_lo, "sent_hi": chunk.sent_hi},
                    # Nothing but the text is embedded or shown to an LLM as content.
                    excluded_embed_metadata_keys=list(base) + ["chunk_id", "start", "end", "sent_lo", "sent_hi"],
                    excluded_llm_metadata_keys=list(base) + ["chunk_id", "start", "end", "sent_lo", "sent_hi"],
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.source_id)
                nodes.append(node)
            ids = [n.node_id for n in nodes]
            collection = store.collection("chunks", generation)
            existing = {i for k in range(0, len(ids), 5000)  # batches: SQLite bounds the variables per query
                        for i in collection.get(ids=ids[k:k + 5000], include=[])["ids"]}
            fresh = [n for n in nodes if n.node_id not in existing]  # add() does not upsert
            vector_store = store.vector_store(generation)
            for k in range(0, len(fresh), WRITE_BATCH):  # Chroma bounds the rows per call (5461 here)
                vector_store.add(fresh[k:k + WRITE_BATCH])
        segments = store.collection("segments", generation)
        for k in range(0, len(segs), WRITE_BATCH):
            part, vecs = segs[k:k + WRITE_BATCH], seg_vecs[k:k + WRITE_BATCH]
            segments.upsert(
                ids=[_row_id(doc.content_hash, kind, s.start, s.end) for kind, _, s in part],
                embeddings=[v.tolist() for v in vecs],
                documents=[s.text for _, _, s in part],
                metadatas=[{"source_id": doc.source_id, "source_hash": doc.content_hash, "kind": kind,
                            "sent_idx": i, "start": s.start, "end": s.end} for kind, i, s in part],
            )
        return SourceEntry(doc.source_id, doc.content_hash, doc.title, doc.language, doc.publisher, str(doc.path),
                           len(chunks), len(segs))

    def _delete_rows(self, source_id: str, generation: str, keep_hash: str | None = None) -> None:
        where: dict = {"source_id": source_id}
        if keep_hash is not None:
            where = {"$and": [{"source_id": source_id}, {"source_hash": {"$ne": keep_hash}}]}
        for kind in ("chunks", "segments"):
            self.store.collection(kind, generation).delete(where=where)


def _generation_name(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:8] + "-" + secrets.token_hex(3)


def _origin(source_id: str, uploads: dict[str, dict], previous: SourceEntry | None, now: str) -> tuple[str, str]:
    """(origin, added_at) of a source: uploaded when sources/.uploads.json lists it (with its upload time),
    else bundled, first seen when an earlier manifest says so."""
    record = uploads.get(source_id)
    if record is not None:
        return "uploaded", record.get("added_at") or (previous.added_at if previous else "") or now
    if previous is not None and previous.origin == "bundled" and previous.added_at:
        return "bundled", previous.added_at
    return "bundled", now


def read_uploads(sources_dir: Path, notes: list[str] | None = None) -> dict[str, dict]:
    """{file name: {"added_at": ISO time}} of the files that came through an upload. A damaged record is
    noted and read as empty: those files then count as bundled (read-only to the app), never the reverse."""
    path = Path(sources_dir) / UPLOADS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        out = {}
        for name, record in raw.items():
            if not isinstance(name, str) or not isinstance(record, dict):
                raise ValueError(f"bad record for {str(name)[:80]!r}")
            added = record.get("added_at", "")
            out[name] = {"added_at": added if isinstance(added, str) and _iso_ok(added) else ""}
        return out
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        note = f"the uploads record {path} is unreadable ({exc}); its articles are listed as bundled"
        log.warning("%s", note)
        if notes is not None:
            notes.append(note)
        return {}


def write_uploads(sources_dir: Path, uploads: dict[str, dict]) -> None:
    """Record the uploaded files (those no longer in the directory are left out)."""
    present = {k: v for k, v in sorted(uploads.items()) if (Path(sources_dir) / k).is_file()}
    _atomic_write(Path(sources_dir) / UPLOADS_FILE, json.dumps(present, ensure_ascii=False, indent=1))


def _is_chroma_error(exc: BaseException) -> bool:
    from chromadb.errors import ChromaError

    return isinstance(exc, ChromaError)


def _same_bytes(directory: Path, path: Path) -> str | None:
    """The name of an article of `directory` whose bytes are exactly those of `path`, else None."""
    size = path.stat().st_size
    data: bytes | None = None
    for other in sorted(directory.iterdir()):
        if other.name.startswith(".") or other.name.endswith(".meta.json") or not other.is_file():
            continue
        if other.stat().st_size == size:
            data = path.read_bytes() if data is None else data
            if other.read_bytes() == data:
                return other.name
    return None


def build_index(settings: IndexSettings | None = None, rebuild: bool = False, progress: bool = True) -> IngestReport:
    return Ingestor(settings or IndexSettings.from_env(), progress=progress).build(rebuild=rebuild)
