"""The figure engine: candidates from the retrieved sentences, ranked by the learned model, answered only
above its calibrated threshold. Analyses are computed once per source version (at ingest: `prepare`) and
kept on disk beside the index and in memory."""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant import analysis as an
from assistant import lang as langdata
from assistant import ranker as ranking
from assistant.candidates import (NAME_FEATURES, Candidate, NameCandidate, QuestionCues, counted_text,
                                  allowed_name_labels, figure_candidates, figure_fits, focus_text, name_candidates, name_type_fits,
                                  names_state_the_event,
                                  name_vector)
from assistant.compose import Candidate as Chosen
from assistant.compose import SourceView, _clause_of, _quote_span
from assistant.question import QuestionFrame

log = logging.getLogger(__name__)

FIGURE_KINDS = ("money", "count", "percent", "duration", "year", "measure")
# Two figures of different value both this close to the best, from different sentences: say both.
TIE_MARGIN = 0.05


@dataclass
class Ranked:
    """The engine's decision for one question: the candidates best first and whether to answer."""

    frame: QuestionFrame
    candidates: list[Candidate]
    answer: Candidate | None
    threshold: float


class FigureEngine:
    def __init__(self, folder: Path, embedder: Any, embedder_id: str) -> None:
        self.folder = folder
        self.embedder = embedder
        self.embedder_id = embedder_id
        self._cache: dict[tuple[str, str], an.SourceAnalysis] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- analyses
    def analysis(self, view: SourceView, content_hash: str, language: str) -> an.SourceAnalysis:
        key = (view.source_id, content_hash)
        got = self._cache.get(key)
        if got is not None:
            return got
        with self._lock:
            got = self._cache.get(key)
            if got is None:
                got = an.load(self.folder, view.source_id, content_hash, self.embedder_id)
                if got is None:
                    got = an.analyse_source(view.source_id, content_hash, language if language in langdata.SUPPORTED
                                            else "fr", view.text, list(view.sentences))
                    an.embed_roles(got, self.embedder)
                    try:
                        an.save(self.folder, got, self.embedder_id)
                    except OSError as exc:  # a read-only index still answers; it recomputes next time
                        log.warning("could not store the analysis of %s: %s", view.source_id, exc)
                self._cache[key] = got
        return got

    def forget(self, live: dict[str, str]) -> None:
        """Drop analyses of versions no longer indexed (memory and disk)."""
        with self._lock:
            for key in [k for k in self._cache if live.get(k[0]) != k[1]]:
                del self._cache[key]
        try:
            an.collect_garbage(self.folder, live, self.embedder_id)
        except OSError:
            pass

    # ---------------------------------------------------------------- ranking
    def embed(self, standalone: str, frame: QuestionFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The question's vector, its focus's and its counted thing's (count questions), in one call."""
        counted = counted_text(frame)
        texts = [standalone, focus_text(frame)] + ([counted] if counted else [])
        vecs = self.embedder.encode_queries(texts)
        return np.asarray(vecs[0]), np.asarray(vecs[1]), (np.asarray(vecs[2]) if counted else None)

    def rank(self, frame: QuestionFrame, cues: QuestionCues, segments: list, views: dict[str, SourceView],
             analyses: dict[str, an.SourceAnalysis], legacy: list | None, fresh=None) -> Ranked:
        """`fresh`: for a follow-up, whether a candidate differs from the previous turn's answer."""
        model = ranking.load("figures")
        candidates = [c for c in figure_candidates(frame, cues, segments, views, analyses, legacy)
                      if figure_fits(frame, c) and (fresh is None or fresh(c))]
        if model is None:  # no trained model shipped: the legacy composer's choice, never a guess
            ranked = sorted(candidates, key=lambda c: -c.features.get("legacy_best", 0.0))
            best = ranked[0] if ranked and ranked[0].features.get("legacy_best") else None
            return Ranked(frame, ranked, best, 1.0)
        ranked = model.score(candidates)
        # The constraint-based composer's pick, when the ranker finds it likely enough; else the ranker's
        # best, only when it is confident; else no answer.
        legacy = next((c for c in ranked if c.features.get("legacy_best")), None)
        bar = model.legacy_threshold_for(frame.kind)
        if legacy is not None and legacy.probability >= bar:
            return Ranked(frame, ranked, legacy, bar)
        best = ranked[0] if ranked and ranked[0].probability >= model.threshold else None
        return Ranked(frame, ranked, best, model.threshold)

    def rank_names(self, frame: QuestionFrame, focus_vec: np.ndarray, segments: list, views: dict[str, SourceView],
                   analyses: dict[str, an.SourceAnalysis], legacy_pick, fresh=None) -> tuple[list[NameCandidate],
                                                                                                      NameCandidate | None]:
        """Names by NER spans ranked like figures; the legacy composer's names count only as a feature."""
        model = ranking.load("names")
        candidates = name_candidates(frame, focus_vec, segments, views, analyses, legacy_pick)
        if model is None:
            return candidates, None
        ranked = model.score(candidates, NAME_FEATURES, name_vector)
        allowed = allowed_name_labels(frame)
        ranked = [c for c in ranked if name_type_fits(allowed, c)  # hard constraints, not features
                  and names_state_the_event(frame, c, views) and (fresh is None or fresh(c))]
        legacy = next((c for c in ranked if c.features.get("legacy_same")), None)
        bar = model.legacy_threshold if legacy is not None and legacy.features.get("ner_agrees") else model.unconfirmed_threshold
        if legacy is not None and legacy.probability >= bar:
            return ranked, legacy
        return ranked, (ranked[0] if ranked and ranked[0].probability >= model.threshold else None)

    def rivals(self, ranked: Ranked) -> list[Candidate]:
        """Candidates of another value that fit as well as the answer (two articles or two dates disagree)."""
        if ranked.answer is None:
            return []
        from assistant.figures import same_value

        best = ranked.answer
        out = []
        for c in [c for c in ranked.candidates if c is not best][:3]:
            if (c.probability >= max(ranked.threshold, best.probability - TIE_MARGIN)
                    and not same_value(c.figure, best.figure) and (c.source_id, c.sent_idx) != (best.source_id, best.sent_idx)
                    and not any(same_value(c.figure, o.figure) for o in out)):
                out.append(c)
        return out[:1]


def chosen(frame: QuestionFrame, view: SourceView, c: Candidate) -> Chosen:
    """The composer's candidate (quote span and figure) for a ranked figure."""
    from dataclasses import replace

    clause = _clause_of(view, c.sent_idx, c.figure.start)
    qs, qe = _quote_span(view, c.sent_idx, clause, frame)
    fig = c.figure
    if frame.kind == "count" and not fig.unit and frame.unit:
        fig = replace(fig, unit=_counted_word(frame))  # the question's counted thing, in its words
    return Chosen(view, c.probability, qs, qe, figure=fig)


def _counted_word(frame: QuestionFrame) -> str:
    """The question's own word for the counted thing ("décès", not the folded key "dece"); the key itself when
    it is a unit the renderer knows (it says "GPU" or "utilisateurs" in the answer's language)."""
    from assistant.figures import knows_noun
    from assistant.question import fold

    if knows_noun(frame.unit):
        return frame.unit
    for word in re.findall(r"[^\W\d_][\w-]*", frame.text):
        key = fold(word).lower()
        if key == frame.unit or key.rstrip("sx") == frame.unit or (len(frame.unit) >= 4 and key.startswith(frame.unit)):
            return word
    return frame.unit


def split_compound(question: str, language: str) -> list[str]:
    """"Combien X a-t-elle levé et à quelle valorisation ?" -> its two questions (the second borrows the
    first's entities through the follow-up rules); "..., et un an plus tôt ?" -> the first question, then
    the same question for the other time; a plain question -> itself."""
    data = langdata.get(language)
    mark = " ?" if language == "fr" else "?"
    timed = re.split(data.COMPOUND_TIME, question, maxsplit=1, flags=re.I)
    if len(timed) == 2 and len(timed[0].split()) >= 3:
        first = timed[0].strip().rstrip(",;") + mark
        # The time of the first question is replaced by the second's: no year of the first remains.
        body = re.sub(r"\b(?:19|20)\d{2}\b", " ", timed[0]).strip().rstrip(",;")
        return [first, re.sub(r"\s+", " ", f"{body} {timed[1].strip().rstrip('?').strip()}") + mark]
    parts = re.split(data.COMPOUND_JOIN, question, maxsplit=1, flags=re.I)
    if len(parts) != 2 or len(parts[0].split()) < 2 or len(parts[1].split()) < 2:
        return [question]
    first, second = parts[0].strip().rstrip(",;"), parts[1].strip()
    if not first.endswith("?"):
        first += mark
    return [first, second[0].upper() + second[1:]]


def chosen_names(view: SourceView, c: NameCandidate, max_words: int = 45) -> Chosen:
    """The composer's candidate for ranked names: the sentence when short, else the clauses from the first
    name's to the last name's (the quote always holds every name it answers with)."""
    s, e = view.sentences[c.sent_idx]
    if len(view.text[s:e].split()) > max_words:
        first = _clause_of(view, c.sent_idx, c.spans[0].start)
        last = _clause_of(view, c.sent_idx, c.spans[-1].start)
        s, e = min(first[0], c.spans[0].start), max(last[1], c.spans[-1].end)
    return Chosen(view, c.probability, s, e, names=c.names)
