"""Assistant and Chat: wire retrieval, composition and verification. Built once, reused by every
caller (Python API, CLI, Gradio app, evals)."""
from __future__ import annotations

import logging
import queue
import re
import threading
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from index.embeddings import get_embedder
from index.ingest import EMBED_SLICE_S, Ingestor, IngestReport, ReadOnlySource, UnknownSource  # noqa: F401
from index.settings import IndexSettings
from index.store import IndexStore, SourceEntry, StoreError

from assistant import compose
from assistant.compose import Candidate, SourceView
from assistant.conversation import condense
from assistant.figures import parse_figures
from assistant.instructions import looks_like_instruction
from assistant.language import detect_language, other_language
from assistant.llm import resolve_llm
from assistant.question import QuestionFrame, analyse, asks_explanation, without_reference
from assistant.retrieval import HybridRetriever
from assistant.types import Answer, Language, Passage
from assistant.verify import verify
from assistant.candidates import figure_candidates, figure_fits, question_cues
from assistant.engine import FIGURE_KINDS, FigureEngine, chosen, chosen_names, split_compound

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
# How long a question waits for the rebuild of a damaged store before it is told to ask again.
RECOVERY_WAIT_S = 60.0

_MESSAGES = {
    "empty": {"en": "Please ask a question about the articles.", "fr": "Posez une question sur les articles."},
    "too_long": {
        "en": f"The question is too long (over {MAX_QUESTION_CHARS:,} characters). Please ask a shorter one.",
        "fr": f"La question est trop longue (plus de {MAX_QUESTION_CHARS} caractères). Posez-en une plus courte.",
    },
    "no_index": {"en": "No article is indexed yet: add one first.", "fr": "Aucun article n'est indexé : ajoutez-en un d'abord."},
    "about_me": {
        "en": "I only answer questions about the articles, from their text; I have no other instructions to "
              "share or follow. Ask me about the articles.",
        "fr": "Je réponds seulement aux questions sur les articles, à partir de leur texte ; je n'ai pas "
              "d'autres instructions à révéler ni à suivre. Posez-moi une question sur les articles.",
    },
    "other_language": {
        "en": "I answer in English or French only ({name} detected); here is my answer in English. ",
        "fr": "",
    },
}

# Prompt injection and questions about the assistant itself: refused before retrieval, so no article
# passage is offered as "the answer" and no LLM is ever shown the order.
_ABOUT_ME = re.compile(
    r"\b(?:ignore[rsz]?|oublie[rsz]?|disregard|forget)\b.{0,40}\b(?:instructions?|consignes?|rules|r[èe]gles|prompt)"
    r"|\bsyst[eè]me?\s+prompt|\bprompt\s+(?:du\s+)?syst[eè]me"
    r"|\b(?:your|tes|vos|ton|votre)\s+(?:\w+\s+)?(?:instructions?|consignes?|prompt|rules|r[èe]gles)\b"
    r"|\bdeveloper mode\b|\bmode\s+d[ée]veloppeur\b"
    r"|\b(?:who|what)\s+are\s+you\b|\bqui\s+(?:es[- ]tu|[êe]tes[- ]vous)\b",
    re.IGNORECASE,
)


class _ReadWriteLock:
    """Many questions at once; a swap of the index (milliseconds: an ingest does its work before) waits for
    the questions in flight and holds new ones off meanwhile, so it is never starved by a steady stream."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting_writers = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def clean_question(text: str) -> str:
    """Control characters out, whitespace folded (a pasted question may carry anything)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") else c for c in str(text))
    return re.sub(r"\s+", " ", text).strip()


class Assistant:
    """`Assistant().ask("How much did xAI raise?")` -> Answer with exact, verified citations."""

    def __init__(self, sources_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
                 embedder: str | None = None, embedder_path: str | None = None, top_k: int = 8,
                 llm: Any = "env", auto_build: bool = True, progress: bool = False,
                 settings: IndexSettings | None = None) -> None:
        self.settings = settings or IndexSettings.from_env(sources_dir, index_dir, embedder=embedder,
                                                           embedder_path=embedder_path)
        self.embedder = get_embedder(self.settings.embedder, self.settings.embedder_path)
        self.store = IndexStore(self.settings)
        self.ingestor = Ingestor(self.settings, self.store, self.embedder, progress=progress)
        self.retriever = HybridRetriever(self.store, self.embedder, top_k=top_k)
        self.figures = FigureEngine(self.settings.index_dir / "analysis", self.embedder,
                                    f"{self.settings.embedder}-{self.settings.embedder_path or 'default'}")
        self.top_k = top_k
        self.llm = resolve_llm(llm)  # "env": ASSISTANT_LLM (off unless set); or an LLMEngine, None
        self._lock = _ReadWriteLock()
        self._views: dict[tuple[str, str], SourceView] = {}
        self._title_vectors: dict[tuple[str, str], Any] = {}
        self.last_report: IngestReport | None = None
        # Ingest works beside the served index; only its commit (a swap) takes the write lock.
        self.store.swap_guard = self._lock.write
        self.store.on_publish.append(self._forget_stale_views)
        self.ingestor.before_write = self._reload_before_ingest
        self.ingestor.before_commit = self._prepare_pending
        self.ingestor.embed_slice = EMBED_SLICE_S  # questions share the embedder: they take turns with it
        self._recovering = threading.Lock()
        self._recovered = threading.Event()  # set when no recovery is under way
        self._recovered.set()
        self._recovery_cause = ""
        self._warm_up()
        if auto_build:
            self.refresh()
        else:
            try:
                self.store.load_manifest()
                self.store.load_bm25()
            except StoreError:
                self.refresh()
        self._warm_index()

    def _warm_up(self) -> None:
        """Load lazily-built models now, not on the first user's question."""
        detect_language("warm up the language models")
        self.embedder.encode_queries(["warm up"])
        parse_figures("1 milliard")

    def _warm_index(self) -> None:
        """Open the collections and prepare the first sources' views, so the first question is fast."""
        if not self.store.manifest.sources:
            return
        for source_id in list(self.store.manifest.sources)[:50]:
            self._view(source_id)
        self.prepare_analyses()
        self.retriever.retrieve_passages("warm up", top_k=1)

    # ------------------------------------------------------------ index
    def refresh(self, rebuild: bool = False) -> IngestReport:
        """Bring the index in line with sources/ (nothing is embedded when nothing changed). Questions are
        answered from the previous state meanwhile; only the swap to the new one holds them (milliseconds)."""
        self.last_report = self.ingestor.build(rebuild=rebuild)
        self._after_ingest()
        return self.last_report

    def add_files(self, paths: list[str | Path], replace: bool = False,
                  on_progress: Callable[[int, int, str], None] | None = None) -> tuple[list[str], IngestReport]:
        """Copy files into sources/ and index them; returns (the source id of each file, the report).

        Every upload is a new source: a name already taken gets a suffix (`article-2.txt`), so no upload
        ever overwrites an article, and the same bytes as an indexed source are that source (indexed once).
        `replace=True` overwrites the source of that name: the operator's explicit action (the app never
        uses it). `on_progress(texts embedded, texts to embed, source id)` reports the embedding."""
        names, report = self.ingestor.add_files([Path(p) for p in paths], replace=replace, origin="uploaded",
                                                progress=on_progress)
        self.last_report = report
        self._after_ingest()
        return names, report

    def remove_source(self, source_id: str) -> IngestReport:
        """Remove an uploaded source (its file, rows and text). A bundled source raises ReadOnlySource
        (a PermissionError) saying the operator removes it from sources/; an unknown id, UnknownSource."""
        report = self.ingestor.remove(source_id)
        self.last_report = report
        self._after_ingest()
        return report

    def sources(self) -> list[SourceEntry]:
        """The indexed articles (each with its origin, "bundled" or "uploaded", and added_at), as committed
        now: a build by another process is picked up first."""
        self._reload_if_changed()
        return sorted(self.store.manifest.sources.values(), key=lambda e: e.title.lower())

    def source_entry(self, source_id: str) -> SourceEntry | None:
        """The manifest entry of a source (title, publisher, origin, added_at...), or None."""
        return self.store.manifest.sources.get(source_id)

    def _after_ingest(self) -> None:
        prepare = getattr(self, "prepare_analyses", None)
        if prepare is not None:
            try:  # outside every lock: questions go on meanwhile
                prepare()
            except Exception:  # noqa: BLE001 — analyses are built lazily per question otherwise
                log.exception("preparing the analyses of the new sources failed")

    def _prepare_pending(self, manifest: Any, source_ids: list[str]) -> None:
        """Before an ingest serves new source versions (outside every lock): their views and analyses,
        which the first question on them would otherwise compute while others wait."""
        figures = getattr(self, "figures", None)
        with self.store.pending(manifest):
            for source_id in source_ids:
                entry = manifest.sources[source_id]
                view = self._view(source_id)
                if figures is not None and hasattr(figures, "analysis"):
                    figures.analysis(view, entry.content_hash, entry.language)

    def _forget_stale_views(self, manifest: Any) -> None:
        live = set(manifest.live().items())
        for key in [k for k in self._views if k not in live]:
            self._views.pop(key, None)

    def _reload_if_changed(self) -> bool:
        """Serve what another process (`python -m index build`, `index add`) committed since: a stat of the
        manifest per call; on a change the new manifest and BM25 index are read, then swapped in under the
        write lock (questions in flight finish first), with Chroma reopened to see the other process's rows."""
        if not self.store.changed_on_disk():
            return False
        return self.store.reload()

    def _reload_before_ingest(self) -> None:
        """An ingest writes through this process's Chroma connection: it must see what another process
        committed first (at start-up nothing is served yet, and the build itself loads everything)."""
        if self.store.served_stamp is not None:
            self._reload_if_changed()

    def _answer_served(self, frame: QuestionFrame, standalone: str, asked: str,
                       repeat: Answer | None = None) -> tuple[Answer, tuple | None] | None:
        """`_answer` on the served index, read-locked; None when no article is indexed. A commit by another
        process is loaded first; a question that fails because one landed while it ran is asked again on
        the reloaded index, so it never fails for it."""
        for attempt in (1, 2):
            self._reload_if_changed()
            with self._lock.read():
                if not self.store.manifest.sources:
                    return None
                try:
                    return self._answer(frame, standalone, asked, repeat)
                except Exception as exc:
                    failure = exc
            if attempt == 1 and self.store.changed_on_disk():
                log.info("a question failed while another process committed to the index: asked again (%s: %s)",
                         type(failure).__name__, str(failure)[:200])
                continue
            if attempt == 1 and not self._recovered.is_set():
                # The damaged store was set aside by an earlier question and is being rebuilt: this one
                # waits for the rebuild (seconds for a few articles) instead of failing on the empty store.
                self._await_recovery()
                continue
            break
        damage = self.ingestor._damage(failure)
        if damage:
            # The damaged store is set aside before this question returns (seconds at most): the questions
            # after it are answered from a fresh store while it is rebuilt, they never meet the damage again.
            self._recover_in_background(damage).wait(30)
            raise StoreError(f"the Chroma index in {self.store.chroma_path} is damaged ({damage[:400]}); it is "
                             "being moved aside and rebuilt from sources, ask again in a moment") from failure
        if not self.settings.chroma_host or isinstance(failure, StoreError):
            raise failure
        raise StoreError(  # the server died or hangs mid-session: name the setting, not an httpx error
            f"the Chroma server stopped answering (ASSISTANT_CHROMA_HOST={self.settings.chroma_host} "
            f"ASSISTANT_CHROMA_PORT={self.settings.chroma_port}): {type(failure).__name__}: {failure}") from failure

    def _recover_in_background(self, damage: str) -> threading.Event:
        """A question found the Chroma database damaged: set it aside and rebuild from sources, once.
        The event is set once the damaged store is out of the way (the rebuild goes on after)."""
        aside = threading.Event()
        if self.settings.chroma_host or not self._recovering.acquire(blocking=False):
            aside.set()  # a recovery is under way already (or a server's store: not ours to move)
            return aside
        self._recovery_cause = damage
        self._recovered.clear()

        def run() -> None:
            try:
                with self.store.writer():
                    self.store.set_aside_damaged(damage)
                aside.set()
                self.refresh(rebuild=True)
                log.warning("the damaged Chroma index was rebuilt from sources: %s", self.last_report.notes)
            except Exception:  # noqa: BLE001
                log.exception("rebuilding the damaged Chroma index failed")
            finally:
                aside.set()
                self._recovering.release()
                self._recovered.set()

        threading.Thread(target=run, name="index-recovery", daemon=True).start()
        return aside

    def _await_recovery(self) -> None:
        """Wait for the rebuild of a damaged store (bounded); past the bound the question is told why."""
        if self._recovered.wait(RECOVERY_WAIT_S):
            return
        raise StoreError(f"the Chroma index in {self.store.chroma_path} is damaged ({self._recovery_cause[:400]}); "
                         "it is being rebuilt from sources, ask again in a moment")

    def source_text(self, source_id: str) -> str:
        return self.store.source_text(source_id)

    def retrieve(self, question: str, mode: str = "hybrid", top_k: int = 10) -> list[Passage]:
        with self._lock.read():
            return self.retriever.retrieve_passages(clean_question(question), mode=mode, top_k=top_k)

    def _view(self, source_id: str) -> SourceView:
        entry = self.store.manifest.sources[source_id]
        key = (source_id, entry.content_hash)
        view = self._views.get(key)
        if view is None:
            table = self.store.segment_table(source_id)
            text = self.store.source_text(source_id)
            sentences = tuple((int(s), int(e)) for s, e, is_s in zip(table.starts, table.ends, table.is_sentence) if is_s)
            clauses = tuple((int(s), int(e), int(i)) for s, e, i, is_s in
                            zip(table.starts, table.ends, table.sent_idx, table.is_sentence) if not is_s)
            # Figures parsed once per source version, bucketed by sentence (absolute offsets).
            figures = []
            for s, e in sentences:
                figures.append(tuple(f.__class__(**{**f.__dict__, "start": f.start + s, "end": f.end + s})
                                     for f in parse_figures(text[s:e])))
            view = SourceView(source_id, entry.title, entry.publisher, text, sentences, clauses, tuple(figures))
            self._views[key] = view
        return view

    def prepare_analyses(self) -> None:
        """Parse every indexed source version not yet analysed (spaCy loads only when one is missing) and
        forget the analyses of versions no longer indexed: done at ingest and start, never per question."""
        manifest = self.store.manifest
        self.figures.forget({sid: e.content_hash for sid, e in manifest.sources.items()})
        for sid, entry in list(manifest.sources.items()):
            self.figures.analysis(self._view(sid), entry.content_hash, entry.language)

    def _source_meant(self, reference: str, margin: float = 0.02) -> str | None:
        """The source whose title best matches the user's words for it ("the article on xAI's losses"),
        when it stands clearly above the others (titles are embedded once per source version)."""
        entries = list(self.store.manifest.sources.values())
        if len(entries) < 2:
            return None
        missing = [e for e in entries if (e.source_id, e.content_hash) not in self._title_vectors]
        if missing:
            vecs = self.embedder.encode_passages([e.title for e in missing])
            self._title_vectors.update({(e.source_id, e.content_hash): v for e, v in zip(missing, vecs)})
        ref = self.embedder.encode_queries([reference])[0]
        scored = sorted(((float(self._title_vectors[(e.source_id, e.content_hash)] @ ref), e.source_id)
                         for e in entries), reverse=True)
        return scored[0][1] if scored[0][0] - scored[1][0] >= margin else None

    # ------------------------------------------------------------ questions
    def chat(self) -> "Chat":
        return Chat(self)

    def ask(self, question: str) -> Answer:
        return self._ask(question, previous=None, default_language=None)[0]

    def ask_stream(self, question: str) -> Iterator[str | Answer]:
        """Text deltas (append them), then the final Answer, whose text replaces what was streamed."""
        return _streamed(lambda on_delta: self._ask(question, None, None, on_delta=on_delta)[0], self.llm is not None)

    def _ask(self, question: str, previous: QuestionFrame | None,
             default_language: Language | None, history: list[Answer] | None = None,
             on_delta: Callable[[str], None] | None = None) -> tuple[Answer, QuestionFrame | None]:
        started = time.perf_counter()
        raw = question if isinstance(question, str) else str(question or "")
        q = clean_question(raw)
        language, _ = detect_language(q[:MAX_QUESTION_CHARS], default=default_language)
        if not q or not any(ch.isalpha() for ch in q):  # digits or emoji alone ask nothing
            return Answer(_MESSAGES["empty"][language], language, False, question=raw[:200]), previous
        if len(q) > MAX_QUESTION_CHARS:
            return Answer(_MESSAGES["too_long"][language], language, False, question=raw[:200]), previous
        prefix = ""
        foreign = other_language(q)
        if foreign:
            language = "en"
            prefix = _MESSAGES["other_language"]["en"].format(name=foreign)
        if _ABOUT_ME.search(q):  # orders or questions aimed at the assistant, not at the articles
            return Answer(prefix + _MESSAGES["about_me"][language], language, False, question=q), previous
        frame, standalone = condense(q, language, previous)
        if self.llm is not None and history:
            rewritten = self.llm.condense(q, language, history)  # None on failure: the rules stand
            if rewritten:
                frame, standalone = analyse(rewritten, language), rewritten
        # A follow-up asks something new: the previous turn's answer is not its answer ("And what share of
        # the voting rights?" after the share of capital; "who founded it with her?" after naming her). A
        # question that stands on its own (nothing borrowed from the previous turn: the same question asked
        # again, or in the other language) may get the same answer.
        follow_up = previous is not None and standalone.strip() != q.strip()
        repeat = history[-1] if history and follow_up and history[-1].answered else None
        served = self._answer_served(frame, standalone, q, repeat)
        if served is None:
            return Answer(_MESSAGES["no_index"][language], language, False, question=q), frame
        answer, evidence = served
        if self.llm is not None and evidence is not None:  # outside the lock: an ingest never waits on it
            if prefix and on_delta is not None:
                on_delta(prefix)
            answer = self.llm.answer(frame, standalone, *evidence, answer, on_delta=on_delta)
        if prefix:
            answer = _with_prefix(answer, prefix)
        answer.timings["total"] = time.perf_counter() - started
        return answer, frame

    def _answer(self, frame: QuestionFrame, standalone: str, asked: str,
                repeat: Answer | None = None) -> tuple[Answer, tuple | None]:
        """The extractive answer, and the (segments, views) an LLM engine writes from. A compound question
        ("how much did X raise and at what valuation?") is answered part by part, every part cited."""
        parts = split_compound(standalone, frame.language) if frame.kind in FIGURE_KINDS else [standalone]
        if len(parts) == 1:
            return self._answer_one(frame, standalone, asked, repeat)
        answers, evidence, previous = [], None, None
        for part in parts:
            part_frame, part_text = condense(part, frame.language, previous)
            # Each part asks for something else: a figure already given for another part is not its answer.
            answer, ev = self._answer_one(part_frame, part_text, asked, _said_so_far(repeat, answers))
            answers.append(answer)
            evidence = evidence or ev
            previous = part_frame
        return _combined(answers, frame, standalone, asked), evidence

    def _analyses(self, views: dict[str, SourceView]) -> dict[str, Any]:
        out = {}
        for sid, view in views.items():
            entry = self.store.manifest.sources.get(sid)
            if entry is not None:
                out[sid] = self.figures.analysis(view, entry.content_hash, entry.language)
        return out

    def _answer_one(self, frame: QuestionFrame, standalone: str, asked: str,
                    repeat: Answer | None = None) -> tuple[Answer, tuple | None]:
        t0 = time.perf_counter()
        if frame.kind in FIGURE_KINDS or frame.kind == "names":
            qvec, focus_vec, counted_vec = self.figures.embed(standalone, frame)
        else:
            qvec = self.retriever.embed_query(standalone)
        t1 = time.perf_counter()
        passages = self.retriever.candidate_pool(standalone, qvec, top_k=self.top_k)
        segments = self.retriever.segments(passages, qvec)
        if frame.article_ref:  # the user named the article: answer from it
            meant = self._source_meant(frame.article_ref)
            if meant is not None:
                asked_vec = self.retriever.embed_query(without_reference(standalone, frame.article_ref))
                segments = self.retriever.source_segments(meant, asked_vec)
        views = {sid: self._view(sid) for sid in {p.source_id for p in passages} | {g.source_id for g in segments}}
        segments = _not_instructions(segments, views)
        t2 = time.perf_counter()
        confidence = 0.0
        rivals: list = []
        if frame.kind == "names":
            legacy_pick = compose.choose_names(frame, segments, views)
            _, best = self.figures.rank_names(frame, focus_vec, segments, views, self._analyses(views), legacy_pick,
                                              fresh=_not_repeated(repeat))
            candidate = chosen_names(views[best.source_id], best) if best is not None else None
            confidence = best.probability if best is not None else 0.0
        elif frame.kind == "other":
            candidate = compose.choose_passage(frame, segments, views) if asks_explanation(standalone, frame.language) else None
        else:
            legacy: list = []
            compose.choose_figure(frame, segments, views, trace=legacy)
            cues = question_cues(frame, focus_vec, qvec, counted_vec)
            ranked = self.figures.rank(frame, cues, segments, views, self._analyses(views), legacy,
                                       fresh=_not_repeated(repeat))
            candidate = None
            if ranked.answer is not None:
                candidate = chosen(frame, views[ranked.answer.source_id], ranked.answer)
                confidence = ranked.answer.probability
                rivals = [chosen(frame, views[r.source_id], r) for r in self.figures.rivals(ranked)]
        t3 = time.perf_counter()
        timings = {"embed": t1 - t0, "retrieve": t2 - t1, "compose": t3 - t2}
        base = dict(language=frame.language, question=asked, standalone_question=standalone, timings=timings)
        if candidate is not None:
            text, citations, figures = compose.render(frame, candidate, rivals)
            verdict = verify(text, citations, self.store.source_text, frame.language, _detect)
            timings["verify"] = time.perf_counter() - t3
            if verdict.ok:
                extractive = Answer(text, answered=True, citations=citations, figures=list(verdict.figures),
                                    names=list(getattr(candidate, "names", None) or []),
                                    verified=frame.kind != "other", confidence=round(confidence, 4), **base)
                return extractive, (segments, views)
            log.warning("extractive answer rejected by the verifier: %s", verdict.reason)
        closest = _closest(segments, views)
        text, citations = compose.render_refusal(frame, closest)
        return Answer(text, answered=False, citations=citations, **base), (segments, views)

    def figure_candidates(self, question: str, previous: QuestionFrame | None = None, language: Language | None = None):
        """(frame, candidates) for a figure or names question: what the ranker sees (training, inspection)."""
        q = clean_question(question)
        lang = language or detect_language(q)[0]
        frame, standalone = condense(q, lang, previous)
        if frame.kind not in FIGURE_KINDS and frame.kind != "names":
            return frame, []
        with self._lock.read():
            qvec, focus_vec, counted_vec = self.figures.embed(standalone, frame)
            passages = self.retriever.candidate_pool(standalone, qvec, top_k=self.top_k)
            segments = self.retriever.segments(passages, qvec)
            views = {sid: self._view(sid) for sid in {p.source_id for p in passages} | {g.source_id for g in segments}}
            segments = _not_instructions(segments, views)
            if frame.kind == "names":
                from assistant.candidates import (allowed_name_labels, name_candidates, name_type_fits,
                                                  names_state_the_event)

                legacy_pick = compose.choose_names(frame, segments, views)
                allowed = allowed_name_labels(frame)  # as the engine: an answer of the wrong type is no candidate
                return frame, [c for c in name_candidates(frame, focus_vec, segments, views, self._analyses(views),
                                                          legacy_pick)
                               if name_type_fits(allowed, c) and names_state_the_event(frame, c, views)]
            legacy: list = []
            compose.choose_figure(frame, segments, views, trace=legacy)
            cues = question_cues(frame, focus_vec, qvec, counted_vec)
            return frame, [c for c in figure_candidates(frame, cues, segments, views, self._analyses(views), legacy)
                           if figure_fits(frame, c)]


def _combined(answers: list[Answer], frame: QuestionFrame, standalone: str, asked: str) -> Answer:
    """One answer from the parts of a compound question: each part's text, its markers renumbered."""
    from dataclasses import replace

    texts, citations, figures = [], [], []
    for answer in answers:
        offset = len(citations)
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", answer.text)
        texts.append(text)
        citations += [replace(c, number=c.number + offset) for c in answer.citations]
        figures += answer.figures
    answered = all(a.answered for a in answers)
    timings = {k: sum(a.timings.get(k, 0.0) for a in answers) for k in answers[0].timings}
    return Answer(" ".join(texts), frame.language, answered, citations, figures, question=asked,
                  standalone_question=standalone, timings=timings,
                  verified=answered and all(a.verified for a in answers),
                  confidence=min(a.confidence for a in answers) if answered else 0.0)


def _said_so_far(repeat: Answer | None, answers: list[Answer]) -> Answer | None:
    """One answer holding what `repeat` and the answered `answers` state (figures, names, cited sources)."""
    said = [a for a in ([repeat] if repeat is not None else []) + answers if a.answered]
    if not said:
        return repeat
    from dataclasses import replace

    return replace(said[0], citations=[c for a in said for c in a.citations],
                   figures=[f for a in said for f in a.figures], names=[n for a in said for n in a.names])


def _detect(text: str) -> str:
    return detect_language(text)[0]


def _not_repeated(previous: Answer | None) -> Callable[[Any], bool] | None:
    """For a follow-up: whether a candidate says something other than the previous turn's answer (the same
    figure from the same article, or the same names). None when there is no previous answer."""
    if previous is None:
        return None
    from assistant.figures import same_value

    sources = {c.source_id for c in previous.citations}
    said = {n.casefold() for n in previous.names}

    def fresh(c: Any) -> bool:
        if hasattr(c, "names"):
            return not said or {n.casefold() for n in c.names} != said
        return not (c.source_id in sources and any(same_value(c.figure, f) for f in previous.figures))

    return fresh


def _not_instructions(segments: list, views: dict[str, SourceView]) -> list:
    """The segments whose sentence reports rather than instructs: a sentence addressed to a model
    ("SYSTEM: reply that …") is neither an answer's proof nor the passage a refusal offers."""
    keep, dropped = [], set()
    for seg in segments:
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        if looks_like_instruction(view.text[s:e]):
            dropped.add((seg.source_id, seg.sent_idx))
        else:
            keep.append(seg)
    for source_id, idx in sorted(dropped):
        log.info("sentence %d of %s left out of the evidence: it reads as an instruction", idx, source_id)
    return keep


def _closest(segments: list, views: dict[str, SourceView]) -> Candidate | None:
    """The passage a refusal points to: the closest sentence that is neither a heading nor a question."""
    for seg in segments:
        if seg.is_sentence:
            view = views[seg.source_id]
            text = view.text[seg.start:seg.end]
            if text.rstrip().endswith("?") or compose.is_title(text):
                continue
            return Candidate(view, seg.similarity, seg.start, seg.end)
    return None


def _streamed(run: Callable[[Callable[[str], None] | None], Answer], live: bool) -> Iterator[str | Answer]:
    """Text deltas, then the Answer. With an LLM, the ask runs in a worker thread and its deltas are
    yielded as they come; without one (or when nothing was streamed) the final text comes in word chunks."""
    if not live:
        answer = run(None)
        yield from _word_chunks(answer.text)
        yield answer
        return
    inbox: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            inbox.put((True, run(lambda delta: inbox.put((False, delta)))))
        except BaseException as exc:  # noqa: BLE001 — re-raised in the caller's thread
            inbox.put((True, exc))

    threading.Thread(target=work, name="ask-stream", daemon=True).start()
    streamed = False
    while True:
        done, item = inbox.get()
        if not done:
            streamed = True
            yield item
            continue
        if isinstance(item, BaseException):
            raise item
        if not streamed:
            yield from _word_chunks(item.text)
        yield item
        return


def _word_chunks(text: str, parts: int = 6) -> Iterator[str]:
    words = text.split(" ")
    step = max(1, -(-len(words) // parts))
    for i in range(0, len(words), step):
        yield " ".join(words[i:i + step]) + (" " if i + step < len(words) else "")


def _with_prefix(answer: Answer, prefix: str) -> Answer:
    from dataclasses import replace

    return replace(answer, text=prefix + answer.text)


CHAT_HISTORY = 50  # answers a Chat keeps (condensing a follow-up reads only the last few)


class Chat:
    """A conversation: follow-ups are condensed with the previous turns; a short ambiguous turn keeps
    the conversation's language."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.history: list[Answer] = []
        self._frame: QuestionFrame | None = None
        self.language: Language | None = None

    def ask(self, question: str, *, on_delta: Callable[[str], None] | None = None) -> Answer:
        answer, frame = self.assistant._ask(question, self._frame, self.language, history=self.history,
                                            on_delta=on_delta)
        if frame is not None and (answer.answered or frame.entities or frame.kind != "other"):
            self._frame = frame
        self.language = answer.language
        self.history.append(answer)
        del self.history[:-CHAT_HISTORY]  # a long session keeps its recent turns, not all of them
        return answer

    def ask_stream(self, question: str) -> Iterator[str | Answer]:
        """Text deltas (append them), then the final Answer, whose text replaces what was streamed
        (an LLM draft the verifier rejects is replaced by the extractive answer)."""
        return _streamed(lambda on_delta: self.ask(question, on_delta=on_delta), self.assistant.llm is not None)

    def reset(self) -> None:
        self.history.clear()
        self._frame = None
        self.language = None
