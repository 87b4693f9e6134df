"""Linguistic analysis of every source sentence by spaCy, done once per source version when it is indexed
(never on the query path) and stored beside the index.

For every figure (values from assistant.figures): its role — the words that say what it measures, from the
dependency path between the number and its clause's verb plus the words right around it ("valorisation à 12
milliards", "raised $300 million", "bénéfice net de 31,91 milliards"); the entity that owns it (the subject
of that verb, else the nearest named entity); its time (years, quarters, "a year earlier"); its modality
(forecast/target vs stated). For every named entity: its label and the words that say what it is (its
apposition, the verb it is subject of). Role phrases are embedded with the same multilingual embedder as
the questions, so a question's focus meets a figure's role across languages without any synonym list.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant import lang as langdata
from assistant.figures import parse_figures
from assistant.types import Figure

log = logging.getLogger(__name__)

# Bump when what is stored changes: stored analyses of another version are recomputed.
ANALYSIS_VERSION = 13
ROLE_WORDS = 12
_CONTENT_POS = {"NOUN", "VERB", "ADJ", "PROPN", "NUM", "ADV"}
_ENTITY_LABELS = {"PER", "PERSON", "ORG", "GPE", "LOC", "NORP", "PRODUCT", "FAC", "EVENT", "WORK_OF_ART", "MISC"}
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


@dataclass(frozen=True)
class FigureRole:
    """One figure of one sentence, with what the parse says about it (offsets absolute in the source)."""

    sent_idx: int
    figure: Figure
    role: str  # the words that say what the figure measures
    owner: str  # the entity it belongs to ('' when none is named)
    owner_is_subject: bool  # the owner is the grammatical subject of the figure's verb
    counted: str  # for a count: the counted noun as written ("sièges", "passengers")
    years: tuple[str, ...]  # years named in the figure's sentence, nearest first
    quarter: str  # 'Q1'..'Q4' named in the sentence, or ''
    prior: bool  # the figure is of an earlier period ("un an plus tôt", "up from", "last year")
    forecast: bool  # a forecast, target or conditional statement
    local: str  # the words between the previous and the next figure of the sentence


@dataclass(frozen=True)
class NameSpan:
    sent_idx: int
    start: int
    end: int
    text: str
    label: str  # 'person' | 'org' | 'place' | 'group' (NORP) | 'other'
    role: str  # apposition / governing words ("CEO", "led", "dirige")
    group: int  # names coordinated into one list share a group number


@dataclass
class SourceAnalysis:
    source_id: str
    content_hash: str
    language: str
    figures: list[FigureRole] = field(default_factory=list)
    names: list[NameSpan] = field(default_factory=list)
    role_vectors: np.ndarray | None = None  # one row per figure (role phrase), L2-normalised
    name_vectors: np.ndarray | None = None  # one row per name (its role words)
    counted_vectors: np.ndarray | None = None  # one row per figure: its counted noun (zeros when none)
    # one row per figure: its window (the words between the figures before and after it), what tells apart
    # two figures of one sentence better than the sentence or the parse's role words alone
    local_vectors: np.ndarray | None = None

    def figures_of(self, sent_idx: int) -> list[int]:
        return self._index("figures").get(sent_idx, [])

    def names_of(self, sent_idx: int) -> list[int]:
        return self._index("names").get(sent_idx, [])

    def _index(self, what: str) -> dict[int, list[int]]:
        """Positions of the figures (or names) of each sentence, built once."""
        cache = self.__dict__.setdefault("_indexes", {})
        if what not in cache:
            index: dict[int, list[int]] = {}
            for i, item in enumerate(getattr(self, what)):
                index.setdefault(item.sent_idx, []).append(i)
            cache[what] = index
        return cache[what]


_NLP_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def nlp(language: str):
    """The spaCy pipeline of a language, loaded once per process."""
    import spacy

    with _NLP_LOCK:
        return spacy.load(langdata.get(language).SPACY_MODEL)


def _label(spacy_label: str) -> str:
    if spacy_label in ("PER", "PERSON"):
        return "person"
    if spacy_label == "ORG":
        return "org"
    if spacy_label == "NORP":  # nationalities, religious and political groups: "Portuguese" is no one's name
        return "group"
    if spacy_label in ("GPE", "LOC", "FAC"):
        return "place"
    return "other"


def _role_tokens(doc, span_tokens: list, figure_tokens: set[int]) -> tuple[list, Any, Any]:
    """Tokens on the dependency path from the figure up to its clause's verb (and a little around them),
    the verb itself, and the verb's subject."""
    root = next((t for t in span_tokens if t.head.i not in figure_tokens or t.head.i == t.i), span_tokens[-1])
    chosen = []
    verb = None
    node = root
    for _ in range(4):
        head = node.head
        if head.i == node.i:
            break
        if head.i not in figure_tokens:
            chosen.append(head)
            for child in head.children:
                if child.i not in figure_tokens and child.dep_ in ("amod", "compound", "flat", "fixed", "nmod",
                                                                     "advmod", "prt", "xcomp", "obj", "dobj"):
                    if child.pos_ in _CONTENT_POS and not any(c.like_num for c in child.subtree):
                        chosen.append(child)
        if head.pos_ in ("VERB", "AUX") and verb is None:
            verb = head
            break
        node = head
    subject = None
    if verb is not None:
        subject = next((c for c in verb.children if c.dep_.startswith("nsubj")), None)
        if subject is not None and subject.pos_ == "NOUN":
            chosen.append(subject)
            chosen += [c for c in subject.children if c.dep_ in ("amod", "compound", "nmod", "fixed", "flat")
                       and c.pos_ in ("NOUN", "ADJ")]
    return chosen, verb, subject


def _entity_at(doc, token) -> Any:
    for ent in doc.ents:
        if ent.start <= token.i < ent.end:
            return ent
    return None


def analyse_source(source_id: str, content_hash: str, language: str, text: str,
                   sentences: list[tuple[int, int]]) -> SourceAnalysis:
    """Parse every sentence once; figures and names with their roles (vectors are added by the caller)."""
    data = langdata.get(language)
    prior_rx = re.compile(data.PRIOR_PERIOD, re.I)
    lead_rx = re.compile(data.PRIOR_LEAD, re.I)
    quarter_rx = [(re.compile(rx, re.I), q) for rx, q in data.QUARTERS.items()]
    out = SourceAnalysis(source_id, content_hash, language)
    pipe = nlp(language)
    docs = pipe.pipe([text[s:e] for s, e in sentences], batch_size=32)
    group_no = 0
    for sent_idx, ((s, e), doc) in enumerate(zip(sentences, docs)):
        sentence = text[s:e]
        figures = parse_figures(sentence)
        ents = [ent for ent in doc.ents if ent.label_ in _ENTITY_LABELS]
        # Entities that can own a figure: not a source it is attributed to ("selon Bloomberg").
        owners = [x for x in ents if not (x.start and doc[x.start - 1].lemma_.lower() in data.REPORTED)]
        years = [m for m in _YEAR.finditer(sentence)]
        quarter = next((q for rx, q in quarter_rx if rx.search(sentence)), "")
        for k, fig in enumerate(figures):
            toks = [t for t in doc if t.idx < fig.end and t.idx + len(t.text) > fig.start]
            if not toks:
                continue
            fig_idx = {t.i for t in toks}
            chosen, verb, subject = _role_tokens(doc, toks, fig_idx)
            lo = figures[k - 1].end if k else 0
            hi = figures[k + 1].start if k + 1 < len(figures) else len(sentence)
            window = [t for t in doc if lo <= t.idx and t.idx + len(t.text) <= hi and t.i not in fig_idx]
            near = [t for t in window if abs(t.i - toks[0].i) <= 6 or abs(t.i - toks[-1].i) <= 4]
            words = {t.i: t for t in chosen + near if t.pos_ in _CONTENT_POS and not t.like_num
                     and _entity_at(doc, t) is None}
            role = " ".join(t.text for _, t in sorted(words.items())[:ROLE_WORDS])
            owner, owner_is_subject = "", False
            if subject is not None:
                # The subject, or the named entity inside its phrase ("la start-up Nuvolia").
                inside = [x for x in owners if subject.left_edge.i <= x.start and x.end <= subject.right_edge.i + 1]
                ent = _entity_at(doc, subject) or (inside[-1] if inside else None)
                if ent is not None:
                    owner, owner_is_subject = ent.text, True
            if not owner and owners:
                # The nearest entity before the figure, not a source it is attributed to ("selon Bloomberg").
                before = [x for x in owners if x.end_char <= fig.start]
                owner = (before[-1] if before else owners[0]).text
            counted = ""
            if fig.kind == "count":
                head = toks[-1].head if toks[-1].head.i not in fig_idx else None
                nxt = doc[toks[-1].i + 1] if toks[-1].i + 1 < len(doc) else None
                for cand in (nxt, head):
                    if cand is not None and cand.pos_ == "NOUN":
                        counted = cand.text
                        break
            local = sentence[lo:hi]
            # An earlier period: named right after the figure ("120, a year earlier"), or the figure is
            # the second term of a comparison ("3 % contre 2 %", "up from $35 million").
            prior = bool(prior_rx.match(sentence[fig.end:hi].lstrip(" ,(\u00a0"))) or bool(
                prior_rx.search(sentence[lo:fig.start][-30:])) or bool(lead_rx.search(sentence[lo:fig.start]))
            lemmas = {t.lemma_.lower() for t in chosen + near}
            forecast = bool(lemmas & data.FORECAST) or (verb is not None and (
                "Cnd" in verb.morph.get("Mood") or any(c.lemma_.lower() in data.FORECAST for c in verb.children
                                                       if c.dep_.startswith("aux"))))
            near_years = sorted(years, key=lambda m: abs(m.start() - fig.start))
            absolute = Figure(**{**asdict(fig), "start": fig.start + s, "end": fig.end + s})  # a figure opening its sentence too
            out.figures.append(FigureRole(sent_idx, absolute, role, owner, owner_is_subject, counted,
                                          tuple(m.group() for m in near_years if m.group() != fig.text.strip()),
                                          quarter, prior, forecast, local))
        # Names: entities, coordinated ones grouped ("A, B et C").
        prev_end = None
        for ent in ents:
            between = sentence[prev_end:ent.start_char] if prev_end is not None else None
            if between is None or not re.fullmatch(r"\s*(?:,|et|and|ou|or|&|,\s*(?:et|and))\s*", between):
                group_no += 1
            head = ent.root.head
            role_words = [t for t in ent.root.children if t.dep_ in ("appos", "compound", "amod", "nmod")
                          and t.i not in range(ent.start, ent.end)]
            role_words += [t for t in doc[max(0, ent.start - 3):ent.start] if t.pos_ in ("NOUN", "ADJ")]
            if head.i != ent.root.i:
                role_words.append(head)
            appos_of = [t for t in doc if t.dep_ == "appos" and t.head.i in range(ent.start, ent.end)]
            role_words += appos_of
            role = " ".join(t.text for t in sorted({t.i: t for t in role_words}.values(), key=lambda t: t.i))
            out.names.append(NameSpan(sent_idx, s + ent.start_char, s + ent.end_char, ent.text, _label(ent.label_),
                                      role, group_no))
            prev_end = ent.end_char
    return out


def embed_roles(analysis: SourceAnalysis, embedder: Any) -> None:
    """Role vectors, one batch per source (passages: what a figure or a name is)."""
    dim = None
    if analysis.figures:
        texts = [f.role or f.local for f in analysis.figures]
        analysis.role_vectors = np.asarray(embedder.encode_passages(texts), dtype=np.float32)
        dim = analysis.role_vectors.shape[1]
        analysis.local_vectors = np.asarray(embedder.encode_passages([f.local or f.figure.text for f in analysis.figures]),
                                            dtype=np.float32)
    if analysis.names:
        texts = [n.role or n.text for n in analysis.names]
        analysis.name_vectors = np.asarray(embedder.encode_passages(texts), dtype=np.float32)
        dim = analysis.name_vectors.shape[1]
    if analysis.figures:
        nouns = sorted({f.counted for f in analysis.figures if f.counted})
        table = dict(zip(nouns, embedder.encode_passages(nouns))) if nouns else {}
        analysis.counted_vectors = np.asarray([table[f.counted] if f.counted else np.zeros(dim, dtype=np.float32)
                                               for f in analysis.figures], dtype=np.float32)
    if analysis.role_vectors is None:
        analysis.role_vectors = np.zeros((0, dim or 1), dtype=np.float32)
    if analysis.name_vectors is None:
        analysis.name_vectors = np.zeros((0, dim or 1), dtype=np.float32)
    if analysis.counted_vectors is None:
        analysis.counted_vectors = np.zeros((0, dim or 1), dtype=np.float32)
    if analysis.local_vectors is None:
        analysis.local_vectors = np.zeros((0, dim or 1), dtype=np.float32)


# ------------------------------------------------------------------ storage beside the index

def _path(folder: Path, source_id: str, content_hash: str, embedder_id: str) -> Path:
    safe = re.sub(r"[^\w.-]", "_", source_id)
    tag = re.sub(r"[^\w.-]", "_", embedder_id)
    return folder / f"{safe}.{content_hash[:16]}.v{ANALYSIS_VERSION}.{tag}"


def save(folder: Path, analysis: SourceAnalysis, embedder_id: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    base = _path(folder, analysis.source_id, analysis.content_hash, embedder_id)
    record = {"source_id": analysis.source_id, "content_hash": analysis.content_hash, "language": analysis.language,
              "figures": [{**asdict(f), "figure": asdict(f.figure)} for f in analysis.figures],
              "names": [asdict(n) for n in analysis.names]}
    tmp = base.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, roles=analysis.role_vectors, names=analysis.name_vectors, counted=analysis.counted_vectors,
                 local=analysis.local_vectors,
                 record=np.frombuffer(json.dumps(record, ensure_ascii=False).encode("utf-8"), dtype=np.uint8))
    tmp.replace(base.with_suffix(".npz"))


def load(folder: Path, source_id: str, content_hash: str, embedder_id: str) -> SourceAnalysis | None:
    path = _path(folder, source_id, content_hash, embedder_id).with_suffix(".npz")
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            record = json.loads(bytes(data["record"]).decode("utf-8"))
            roles, names, counted, local = data["roles"], data["names"], data["counted"], data["local"]
        figures = [FigureRole(**{**f, "figure": Figure(**f["figure"]), "years": tuple(f["years"])})
                   for f in record["figures"]]
        spans = [NameSpan(**n) for n in record["names"]]
        return SourceAnalysis(source_id, content_hash, record["language"], figures, spans, roles, names, counted, local)
    except Exception as exc:  # a damaged file is recomputed, never trusted
        log.warning("analysis %s unreadable (%s): recomputing", path.name, exc)
        return None


def collect_garbage(folder: Path, live: dict[str, str], embedder_id: str) -> None:
    """Remove stored analyses of sources or versions the manifest no longer lists."""
    if not folder.exists():
        return
    keep = {_path(folder, sid, h, embedder_id).with_suffix(".npz").name for sid, h in live.items()}
    for path in folder.glob("*.npz"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
