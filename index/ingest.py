"""Bring the index in line with sources/: add new sources, replace changed ones, delete removed ones.

Idempotent (unchanged sources cost a hash, no embedding) and crash-safe (see store.py: the manifest
is the only commit point, and a source is written under ids that include its content hash).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from index.chunking import Span, chunk_sentences, split_clauses, split_sentences
from index.embeddings import get_embedder
from index.loaders import LoaderError, SourceDocument, iter_sources, load_source, safe_upload_name
from index.settings import IndexSettings
from index.store import IndexStore, Manifest, SourceEntry, StoreError

log = logging.getLogger(__name__)

CHUNK_MAX_WORDS = 60


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


class Ingestor:
    def __init__(self, settings: IndexSettings, store: IndexStore | None = None, embedder=None,
                 progress: bool = True) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self._embedder = embedder
        self.progress = progress

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder, self.settings.embedder_path)
        return self._embedder

    # ------------------------------------------------------------ public
    def build(self, rebuild: bool = False) -> IngestReport:
        """A write that fails (read-only or full disk, Chroma refusing it) is a StoreError saying so;
        the store then serves the last committed manifest, never a half-built one."""
        previous = self.store.manifest
        try:
            return self._build(rebuild)
        except Exception as exc:
            try:
                self.store.load_manifest()
                self.store.load_bm25()
            except Exception:  # noqa: BLE001  (unreadable too: keep what was served before)
                self.store.manifest = previous
            if isinstance(exc, StoreError) or not (isinstance(exc, OSError) or _is_chroma_error(exc)):
                raise
            reason = getattr(exc, "strerror", None) or str(exc)
            raise StoreError(f"cannot write the index in {self.store.root} ({reason}); check that ASSISTANT_INDEX_DIR "
                             "is writable and its disk has free space. The last committed index is kept.") from exc

    def _build(self, rebuild: bool) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        store = self.store
        try:
            manifest = store.load_manifest()
        except StoreError as exc:
            report.notes.append(str(exc))
            log.warning("%s", exc)
            manifest = Manifest()
            rebuild = True
        docs, errors = iter_sources(self.settings.sources_dir)
        report.errors.extend(str(e) for e in errors)
        if not rebuild and manifest.sources:
            # Quotes are cut from the stored texts: one missing or damaged means rows and text disagree.
            damaged = [d.source_id for d in docs if (e := manifest.sources.get(d.source_id)) is not None
                       and e.content_hash == d.content_hash and not store.text_matches(d.content_hash, d.text)]
            if damaged:
                note = (f"the stored text of {', '.join(damaged[:3])}{' and others' if len(damaged) > 3 else ''} "
                        f"in {store.root / 'texts'} is missing or differs from its source; "
                        "the index will be rebuilt from sources")
                report.notes.append(note)
                log.warning("%s", note)
                rebuild = True

        new_generation = rebuild or manifest.embedder != self.embedder.identity or not manifest.generation
        if not new_generation and manifest.sources:
            # The manifest says what Chroma should hold; a store that was emptied, lost, or swapped
            # (embedded -> server) must not leave an index that lists articles but finds nothing.
            held, listed = store.chunks().count(), sum(e.chunks for e in manifest.sources.values())
            if held < listed:
                note = (f"the Chroma store holds {held} chunks where the manifest lists {listed} "
                        "(a new, emptied or lost store?); it will be rebuilt from sources")
                report.notes.append(note)
                log.warning("%s", note)
                new_generation = rebuild = True
        if new_generation:
            # Build beside the live generation; it is dropped only once the new manifest is committed.
            old = manifest
            manifest = Manifest(self.embedder.identity, self.embedder.dim,
                                hashlib.sha256(self.embedder.identity.encode()).hexdigest()[:8]
                                + "-" + secrets.token_hex(3))
            report.rebuilt = bool(old.sources) or rebuild
        store.manifest = manifest

        wanted = {d.source_id: d for d in docs}
        todo = [d for d in docs if manifest.sources.get(d.source_id) is None
                or manifest.sources[d.source_id].content_hash != d.content_hash]
        for doc in tqdm(todo, desc="ingest", unit="article", disable=not self.progress or len(todo) < 2):
            was = doc.source_id in manifest.sources
            self._write_source(doc, manifest, commit=not new_generation, report=report)
            (report.replaced if was else report.added).append(doc.source_id)
        report.unchanged = [d.source_id for d in docs if d not in todo]

        for source_id in sorted(set(manifest.sources) - set(wanted)):
            del manifest.sources[source_id]
            if not new_generation:
                manifest.save(store.manifest_path)
            self._delete_rows(source_id)
            report.deleted.append(source_id)

        if report.changed or not manifest.bm25_dir or not (store.root / manifest.bm25_dir).exists():
            manifest.bm25_dir = store.build_bm25()
        manifest.save(store.manifest_path)  # the commit point of a new generation
        if new_generation:
            for generation in store.generations() - {manifest.generation}:
                store.drop_generation(generation)
        store.drop_unused_bm25()
        self._drop_unused_texts(manifest)
        store.reset_caches()
        try:
            store.load_bm25()
        except StoreError as exc:  # damaged on disk while its name still matched: rebuilt from Chroma's rows
            report.notes.append(str(exc))
            log.warning("%s", exc)
            shutil.rmtree(store.root / manifest.bm25_dir, ignore_errors=True)
            manifest.bm25_dir = store.build_bm25()
            manifest.save(store.manifest_path)
            store.load_bm25()
        report.notes[:0] = store.notes  # damage repaired when the store was opened
        store.notes.clear()
        report.chunks = sum(e.chunks for e in manifest.sources.values())
        report.seconds = time.perf_counter() - started
        return report

    def add_files(self, paths: list[Path]) -> tuple[list[str], IngestReport]:
        """Copy files into sources/ (safe names, validated first) and bring the index up to date.
        The same file added twice is one source: its name and content are the same."""
        copied: list[str] = []
        errors: list[str] = []
        self.settings.sources_dir.mkdir(parents=True, exist_ok=True)
        for path in paths:
            try:
                name = safe_upload_name(Path(path).name)
                load_source(Path(path))  # validate before it enters sources/
                target = self.settings.sources_dir / name
                twin = _same_bytes(self.settings.sources_dir, Path(path))
                if twin:  # already in sources/, maybe under another name ("article (1).txt"): one source
                    copied.append(twin)
                    continue
                tmp = target.with_name(f".{name}.part")
                shutil.copyfile(path, tmp)
                tmp.replace(target)
                copied.append(name)
            except LoaderError as exc:
                errors.append(str(exc))
            except OSError as exc:
                errors.append(f"{Path(path).name}: cannot copy into {self.settings.sources_dir}: {exc.strerror or exc}")
        report = self.build()
        report.errors = errors + report.errors
        return copied, report

    # ------------------------------------------------------------ internals
    def _write_source(self, doc: SourceDocument, manifest: Manifest, commit: bool, report: IngestReport) -> None:
        store = self.store
        text = doc.text
        sentences, segs = _segments(text)
        chunks = chunk_sentences(doc.source_id, text, sentences, max_words=CHUNK_MAX_WORDS)
        base = {"source_id": doc.source_id, "source_hash": doc.content_hash, "title": doc.title,
                "language": doc.language, "publisher": doc.publisher}

        store.save_text(doc.content_hash, text)
        chunk_vecs = self.embedder.encode_passages([c.text for c in chunks]) if chunks else []
        seg_vecs = self.embedder.encode_passages([s.text for _, _, s in segs]) if segs else []
        report.embedded += len(chunks) + len(segs)

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
            existing = {i for k in range(0, len(ids), 5000)  # batches: SQLite bounds the variables per query
                        for i in store.chunks().get(ids=ids[k:k + 5000], include=[])["ids"]}
            fresh = [n for n in nodes if n.node_id not in existing]  # add() does not upsert
            if fresh:
                store.vector_store().add(fresh)
        if segs:
            store.segments().upsert(
                ids=[_row_id(doc.content_hash, kind, s.start, s.end) for kind, _, s in segs],
                embeddings=[v.tolist() for v in seg_vecs],
                documents=[s.text for _, _, s in segs],
                metadatas=[{"source_id": doc.source_id, "source_hash": doc.content_hash, "kind": kind,
                            "sent_idx": i, "start": s.start, "end": s.end} for kind, i, s in segs],
            )
        manifest.sources[doc.source_id] = SourceEntry(
            doc.source_id, doc.content_hash, doc.title, doc.language, doc.publisher, str(doc.path),
            len(chunks), len(segs),
        )
        if commit:
            manifest.save(store.manifest_path)
            self._delete_rows(doc.source_id, keep_hash=doc.content_hash)

    def _delete_rows(self, source_id: str, keep_hash: str | None = None) -> None:
        where: dict = {"source_id": source_id}
        if keep_hash is not None:
            where = {"$and": [{"source_id": source_id}, {"source_hash": {"$ne": keep_hash}}]}
        for collection in (self.store.chunks(), self.store.segments()):
            collection.delete(where=where)

    def _drop_unused_texts(self, manifest: Manifest) -> None:
        keep = {e.content_hash for e in manifest.sources.values()}
        for path in (self.store.root / "texts").glob("*.txt"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)


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
