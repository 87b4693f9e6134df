"""Candidate answers and their features, as classic answer ranking does it: every figure of the expected
type in the retrieved sentences is a candidate, described by general features (type fit, how close the
question's focus is to the figure's role, entity, time and modality agreement, whether the question itself
states the figure, retrieval rank). No word of any article: the features read the ingest-time analysis
(assistant.analysis) and the question frame. The ranker (assistant.ranker) turns them into a probability.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from assistant import lang as langdata
from assistant.analysis import FigureRole, SourceAnalysis
from assistant.figures import parse_figures, same_value
from assistant.question import QuestionFrame, fold, mentions
from assistant.types import Figure

MAX_SENTENCES = 24  # sentences whose figures become candidates (re-ranked segments, best first)

FEATURES = (
    "sent_sim", "clause_sim", "sent_rank", "role_sim", "role_sim_q", "role_margin", "role_gap_best",
    "unit_exact", "ent_none", "ent_clause", "ent_sentence", "ent_near", "ent_title", "ent_absent",
    "owner_match", "owner_other", "year_match", "year_mismatch", "prior_match", "prior_mismatch",
    "forecast_match", "forecast_mismatch", "quarter_match", "quarter_mismatch", "in_question", "per_match",
    "per_mismatch", "n_figures", "legacy_pass", "legacy_best", "legacy_score", "title_sim", "bias_kind_count", "kind_exact",
    "counted_sim", "counted_gap_best", "role_rank", "sent_gap_best", "local_overlap",
    "window_sim", "window_gap_best", "window_sim_q", "window_gap_q", "qualifier_missing", "side_absent",
)


@dataclass(frozen=True)
class QuestionCues:
    """What the ranker needs from the question beyond its frame: its focus vector and its time/modality."""

    focus_vec: np.ndarray
    query_vec: np.ndarray
    prior: bool
    forecast: bool
    quarter: str
    stated: tuple[Figure, ...]  # figures the question itself states
    counted_vec: np.ndarray | None = None  # the counted thing a count question names ("sièges", "seats")
    focus_stems: frozenset[str] = frozenset()


@dataclass
class Candidate:
    """One possible answer: a figure of one sentence, with its features."""

    source_id: str
    sent_idx: int
    role: FigureRole
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0

    @property
    def figure(self) -> Figure:
        return self.role.figure


def question_cues(frame: QuestionFrame, focus_vec: np.ndarray, query_vec: np.ndarray,
                  counted_vec: np.ndarray | None = None) -> QuestionCues:
    data = langdata.get(frame.language)
    text = frame.text
    quarter = next((q for rx, q in data.QUARTERS.items() if re.search(rx, text, re.I)), "")
    if not quarter:  # a question may name the quarter in the other language's style ("Q3", "T3")
        other = langdata.get("en" if frame.language == "fr" else "fr")
        quarter = next((q for rx, q in other.QUARTERS.items() if re.search(rx, text, re.I)), "")
    return QuestionCues(focus_vec, query_vec, bool(re.search(data.PRIOR_ASK, text, re.I)),
                        bool(re.search(data.FORECAST_ASK, text, re.I)), quarter,
                        tuple(f for f in parse_figures(text) if f.kind != "year"), counted_vec,
                        _stems(focus_text(frame)))


def _stems(text: str) -> frozenset[str]:
    from index.store import bm25_tokens

    return frozenset(bm25_tokens(text, ("fr", "en")))


def _generic_stems() -> frozenset[str]:
    """Stems of the words that frame a question rather than qualify its figure (wh-words, the head nouns of
    an answer kind, "combien", "much", "total")."""
    from assistant.question import HEAD_NOUNS

    words = [w for heads in HEAD_NOUNS.values() for w in heads]
    words += """combien quel quelle quels quelles much many what which how total totale montant amount
    chiffre affaires figure number nombre""".split()
    return _stems(" ".join(words))


_GENERIC_STEMS = _generic_stems()


def counted_text(frame: QuestionFrame) -> str:
    """The counted thing a count question names, as written ("sièges" in "combien de sièges"), or ''."""
    if frame.kind != "count":
        return ""
    m = re.search(r"\b(?:how many|combien (?:de |d['’])|nombre (?:de |d['’])|number of)\s*([\w-]+)", frame.text, re.I)
    return m.group(1) if m else frame.unit


def focus_text(frame: QuestionFrame) -> str:
    """The question minus its entities: what is asked about them (embedded as a query)."""
    text = frame.text
    for entity in frame.entities:
        text = text.replace(entity, " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text or frame.text


def type_fits(frame: QuestionFrame, fig: Figure) -> bool:
    """The figure is of the kind the question asks (a count question takes any count; the role decides
    whether it counts the right thing)."""
    if frame.kind == "count":
        if frame.unit.startswith("point"):  # "combien de points", "how many points": percentage points too
            return fig.kind == "count" or fig.unit == "pt"
        return fig.kind == "count" or (fig.kind == "measure")
    if frame.kind == "duration":
        return fig.kind == "duration" and (not frame.unit or fig.unit == frame.unit)
    if frame.kind == "money":
        # A bare "how much"/"combien" names no kind: any quantity may answer; the role decides.
        return fig.kind in ("money",) if frame.explicit else fig.kind in ("money", "measure", "count", "percent")
    if frame.kind == "percent":
        return fig.kind == "percent"
    if frame.kind == "year":
        return fig.kind == "year"
    if frame.kind == "measure":
        return fig.kind == "measure"
    return False


_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"


def _named_in(window: str, entity: str, article: str, memo: dict) -> bool:
    """Whether the entity is named in the window, by its words or by a part of the fuller name the article
    gives it ("Musk" asked, "Elon Musk" in the article, "Elon" in the sentence)."""
    if mentions(window, entity):
        return True
    key = ("aliases", id(article), entity)
    if key not in memo:
        fuller = re.finditer(rf"(?:{_CAPITALISED}\s+){{0,3}}{re.escape(entity)}(?:\s+{_CAPITALISED}){{0,3}}", article)
        memo[key] = {w for m in fuller for w in m.group().split() if len(w) >= 3 and w[0].isupper()}
    return any(mentions(window, w) for w in memo[key])


def _sentence_flags(subjects: tuple[str, ...], view, sent_idx: int, local_memo: dict) -> dict[str, float]:
    """Where the question's subjects are named around one sentence (computed once per sentence)."""
    key = (view.source_id, sent_idx)
    if key in local_memo:
        return local_memo[key]
    s, e = view.sentences[sent_idx]
    sentence = view.text[s:e]
    ps = view.sentences[max(0, sent_idx - 2)][0]
    prev = view.text[ps:s]
    src_key = (view.source_id, -1)
    if src_key not in local_memo:
        local_memo[src_key] = {"ent_absent": float(not any(mentions(view.text, x) for x in subjects)),
                               # the question's first-named subject (its possessor: "Brightwell's vaccine")
                               "lead_absent": float(not mentions(view.text, subjects[0])),
                               "ent_title": float(any(mentions(view.title, x) for x in subjects))}
    flags = {"ent_sentence": float(any(mentions(sentence, x) for x in subjects)),
             "ent_near": float(any(mentions(prev, x) for x in subjects)),
             # a second entity of the question ("revenue in Germany", "Nvidia's stake in xAI") qualifies the
             # figure asked: a sentence that names it neither itself nor just before is about another figure
             "side_absent": float(any(not _named_in(sentence + " " + prev, x, view.text, local_memo)
                                      for x in subjects[1:])),
             **local_memo[src_key]}
    local_memo[key] = flags
    return flags


def _entity_flags(frame: QuestionFrame, view, role: FigureRole, memo: dict) -> dict[str, float]:
    subjects = frame.subjects or frame.entities
    if not subjects:
        return {"ent_none": 1.0}
    flags = dict(_sentence_flags(subjects, view, role.sent_idx, memo))
    owner = fold(role.owner)
    owner_match = bool(owner) and any(fold(x) in owner or owner in fold(x) for x in subjects)
    flags.update({"ent_clause": float(any(mentions(role.local, x) for x in subjects)),
                  "owner_match": float(owner_match),
                  "owner_other": float(bool(owner) and role.owner_is_subject and not owner_match)})
    return flags


def figure_candidates(frame: QuestionFrame, cues: QuestionCues, segments: list, views: dict,
                      analyses: dict[str, SourceAnalysis], legacy: list | None = None) -> list[Candidate]:
    """Every figure of the expected type in the best sentences, with its features."""
    legacy_scores = {(t[4], t[5]): t[0] for t in (legacy or []) if len(t) >= 6}
    legacy_top = max(legacy_scores.values(), default=None)
    sentences = [g for g in segments if g.is_sentence][:MAX_SENTENCES]
    out: list[Candidate] = []
    memo: dict = {}
    clause_list = [(g.source_id, g.start, g.end, g.similarity) for g in segments if not g.is_sentence]
    for rank, seg in enumerate(sentences):
        analysis = analyses.get(seg.source_id)
        view = views.get(seg.source_id)
        if analysis is None or view is None:
            continue
        idx = [i for i in analysis.figures_of(seg.sent_idx) if type_fits(frame, analysis.figures[i].figure)]
        if not idx:
            continue
        sims = analysis.role_vectors[idx] @ cues.focus_vec
        sims_q = analysis.role_vectors[idx] @ cues.query_vec
        window = analysis.local_vectors[idx] @ cues.focus_vec
        window_q = analysis.local_vectors[idx] @ cues.query_vec
        counted = (analysis.counted_vectors[idx] @ cues.counted_vec
                   if cues.counted_vec is not None and len(analysis.counted_vectors) else np.zeros(len(idx)))
        title_sim = 0.0
        for j, i in enumerate(idx):
            role = analysis.figures[i]
            fig = role.figure
            clause_sim = max((sim for sid, cs, ce, sim in clause_list
                              if sid == seg.source_id and cs <= fig.start < ce), default=seg.similarity)
            others = [float(x) for k, x in enumerate(sims) if k != j]
            f = {
                "sent_sim": seg.similarity, "clause_sim": clause_sim, "sent_rank": 1.0 / (1 + rank),
                "role_sim": float(sims[j]), "role_sim_q": float(sims_q[j]),
                "window_sim": float(window[j]), "window_sim_q": float(window_q[j]),
                "role_margin": float(sims[j]) - max(others) if others else 0.0,
                "unit_exact": float(frame.kind == "count" and bool(frame.unit) and fig.unit == frame.unit),
                "n_figures": math.log1p(len(idx)), "title_sim": title_sim,
                "bias_kind_count": float(frame.kind == "count"), "kind_exact": float(fig.kind == frame.kind),
                "counted_sim": float(counted[j]),
                "local_overlap": len(cues.focus_stems & _stems(role.local)) / max(1, len(cues.focus_stems)),
            }
            f.update(_entity_flags(frame, view, role, memo))
            years = set(frame.years)
            if years and frame.kind != "year":
                f["year_match"] = float(bool(years & set(role.years)))
                f["year_mismatch"] = float(bool(role.years) and not years & set(role.years))
            f["prior_match"] = float(cues.prior and role.prior)
            f["prior_mismatch"] = float(cues.prior != role.prior)
            f["forecast_match"] = float(cues.forecast and role.forecast)
            f["forecast_mismatch"] = float(cues.forecast != role.forecast)
            if cues.quarter:
                f["quarter_match"] = float(role.quarter == cues.quarter)
                f["quarter_mismatch"] = float(bool(role.quarter) and role.quarter != cues.quarter)
            f["in_question"] = float(any(same_value(fig, q) for q in cues.stated))
            if frame.per:
                f["per_match"] = float(fig.per == frame.per)
            f["per_mismatch"] = float(bool(fig.per) != bool(frame.per))
            key = (seg.source_id, fig.start)
            if key in legacy_scores:
                f["legacy_pass"] = 1.0
                f["legacy_score"] = legacy_scores[key]
                f["legacy_best"] = float(legacy_scores[key] == legacy_top)
            out.append(Candidate(seg.source_id, seg.sent_idx, role, f))
    if out:
        # Rivals are figures of articles that name the question's subject: a figure of an article that never
        # does (a hard reject) must not make the right one look weaker (more articles, lower ranks and gaps).
        rivals = [c for c in out if not c.features.get("lead_absent")] or out
        best = max(c.features["role_sim"] for c in rivals)
        best_counted = max(c.features["counted_sim"] for c in rivals)
        best_sent = max(c.features["sent_sim"] for c in rivals)
        best_window = max(c.features["window_sim"] for c in rivals)
        best_window_q = max(c.features["window_sim_q"] for c in rivals)
        order = sorted(range(len(out)), key=lambda i: (bool(out[i].features.get("lead_absent")) and rivals is not out,
                                                       -out[i].features["role_sim"]))
        for rank, i in enumerate(order):
            out[i].features["role_rank"] = 1.0 / (1 + rank)
        for c in out:
            c.features["role_gap_best"] = c.features["role_sim"] - best
            c.features["counted_gap_best"] = c.features["counted_sim"] - best_counted
            c.features["sent_gap_best"] = c.features["sent_sim"] - best_sent
            c.features["window_gap_best"] = c.features["window_sim"] - best_window
            c.features["window_gap_q"] = c.features["window_sim_q"] - best_window_q
        _mark_unstated_qualifiers(frame, out, views)
    return out


def figure_fits(frame: QuestionFrame, c: Candidate) -> bool:
    """Hard constraints, before any score: the figure's article names the entity the question is about;
    a question that asks for points ("de combien de points…", "by how many percentage points…") is
    answered in points."""
    if c.features.get("lead_absent"):
        return False  # the question names who or what it is about first, and this article never does
    if re.search(langdata.get(frame.language).POINTS_ASK, frame.text, re.IGNORECASE):
        return c.figure.unit == "pt"
    return True


def _mark_unstated_qualifiers(frame: QuestionFrame, candidates: list[Candidate], views: dict) -> None:
    """qualifier_missing: the share of the question's words stated by some candidate's sentence that this
    candidate's sentence does not state. "How much does the camera cost?": when one sentence with a figure
    names the camera, the mission's total in a sentence that does not is likely about something else.
    Words are compared by their stems in both languages, so only cognates meet across languages (most
    cross-lingual questions keep 0); question words, the kinds' head nouns, a purpose adjunct and years do
    not count."""
    from assistant.question import asked_part

    qualifiers = {w for w in _stems(asked_part(focus_text(frame))) if len(w) >= 4 and not w.isdigit()} - _GENERIC_STEMS
    if not qualifiers:
        return
    said: dict[tuple[str, int], frozenset[str]] = {}
    for c in candidates:
        key = (c.source_id, c.sent_idx)
        if key not in said:
            s, e = views[c.source_id].sentences[c.sent_idx]
            said[key] = _stems(views[c.source_id].text[s:e]) & qualifiers
    stated = frozenset().union(*said.values())
    for c in candidates:
        c.features["qualifier_missing"] = len(stated - said[(c.source_id, c.sent_idx)]) / max(1, len(stated))


def vector(c: Candidate) -> list[float]:
    return [float(c.features.get(name, 0.0)) for name in FEATURES]


# ---------------------------------------------------------------- names

NAME_FEATURES = (
    "sent_sim", "sent_rank", "sent_gap_best", "label_fit", "label_mismatch", "role_sim", "role_gap_best",
    "n_names", "plural_multi", "singular_single", "subject_in_sentence", "legacy_overlap", "legacy_same",
    "reported_cue", "position", "echo_question", "ner_agrees",
)
MAX_NAME_SENTENCES = 12


@dataclass
class NameCandidate:
    """One possible names answer: a name or a coordinated list of names of one sentence."""

    source_id: str
    sent_idx: int
    spans: list  # NameSpan
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0

    @property
    def names(self) -> list[str]:
        return [n.text for n in self.spans]


def _wh_phrase(frame: QuestionFrame) -> set[str]:
    """The words of the interrogative phrase: from the first wh-word to the first preposition after it
    (the whole question when it has no wh-word)."""
    data = langdata.get(frame.language)
    words = re.findall(r"[\w-]+", frame.text.lower())
    start = next((i for i, w in enumerate(words) if w in data.WH_WORDS), None)
    if start is not None:
        end = next((j for j in range(start + 1, len(words)) if words[j] in data.PREPOSITIONS), len(words))
        words = words[start:end]
    # plural heads as their singular ("firms", "villes"): the head lists hold either form
    return set(words) | {w[:-1] for w in words if len(w) > 3 and w[-1] in "sx"}


def asked_name_type(frame: QuestionFrame) -> str:
    """'person' | 'org' | 'place' | '' (any), from the general nouns of the question's interrogative phrase
    (assistant/lang/*)."""
    data = langdata.get(frame.language)
    words = _wh_phrase(frame)
    if words & data.ORG_HEADS:
        return "org"
    if words & data.PLACE_HEADS:
        return "place"
    if words & (data.PERSON_HEADS - data.WHO_WORDS):
        return "person"
    return ""


def allowed_name_labels(frame: QuestionFrame) -> frozenset[str] | None:
    """The NER labels an answer to this names question may have; None when the question gives no type
    ("What is the name of its chatbot?": a product, which NER often misses). A person asked is answered
    by a person, a place by a place; "who" alone, or an agent ("the leaders"), by a person or an
    organisation (or MISC). An answer of
    another type, or one NER did not find at all (a capitalised "Monday"), is not an answer."""
    asked = asked_name_type(frame)
    if asked == "person":
        return frozenset({"person"})
    if asked == "place":
        return frozenset({"place"})
    if asked == "org":  # investors and partners may be people; French NER tags many titles MISC
        return frozenset({"org", "person", "other"})
    data = langdata.get(frame.language)
    if _wh_phrase(frame) & (data.WHO_WORDS | data.AGENT_HEADS):  # (French NER tags many organisations MISC: "other")
        return frozenset({"person", "org", "other"})
    return None


def name_type_fits(allowed: frozenset[str] | None, c: "NameCandidate") -> bool:
    if allowed is None:
        return True
    return bool(c.features.get("ner_agrees")) and all(sp.label in allowed for sp in c.spans)


def names_state_the_event(frame: QuestionFrame, c: "NameCandidate", views: dict) -> bool:
    """A question about an act or a role ("Who founded it?", "Qui dirige…") is answered only by names from
    a sentence that tells that act or role: a fund named where a raise is told did not found the company,
    a spokesperson is not the chief executive. (Other attributes are often
    told by another word than the question's: "who invested" is answered where "investors" are listed.)"""
    from assistant.question import EVENTS, ROLES, concepts

    view = views[c.source_id]
    if not _whole_and_not_the_source(frame, c, view):
        return False
    asked = (frame.attributes & EVENTS) | (frame.concepts & ROLES)
    if not asked:
        return True
    s, e = view.sentences[c.sent_idx]
    return bool(concepts(view.text[s:e]) & asked)


def _whole_and_not_the_source(frame: QuestionFrame, c: "NameCandidate", view) -> bool:
    """A names answer is a whole name (not a word cut out of a longer one: "Santé" of "Rhône Santé Capital"
    or of "Santé Tech Hebdo")
    and not the outlet the sentence is attributed to ("…, a indiqué l'AFP"), unless the question asks who
    reported."""
    from assistant.compose import _WHO_REPORTED

    if not c.spans:
        return True
    text = view.text
    # The article's language is not on the view; each language's cue only matches text of its own language.
    cues = [langdata.get(lang).SOURCE_CUE for lang in langdata.SUPPORTED]
    for sp in c.spans:
        before, after = text[max(0, sp.start - 40):sp.start], text[sp.end:sp.end + 40]
        right = re.match(r" ([\w'’-]+)", after)
        # Cut from a longer name when a capitalised word follows it ("Santé" of "Santé Tech Hebdo"); one
        # before it may be a title ("le PDG Arthur Mensch").
        if right and re.fullmatch(_CAPITALISED, right.group(1)):
            return False
        if (sp.label != "person" and any(re.search(cue, before, re.I) for cue in cues)
                and not frame.concepts & _WHO_REPORTED):
            return False
    return True


def _is_plural_question(frame: QuestionFrame) -> bool:
    from assistant.compose import _PLURAL_ASK

    return bool(_PLURAL_ASK.search(fold(frame.text)))


def name_candidates(frame: QuestionFrame, focus_vec: np.ndarray, segments: list, views: dict,
                    analyses: dict[str, SourceAnalysis], legacy_pick=None) -> list[NameCandidate]:
    """Every name or list of names (spaCy NER, coordinated names grouped) in the best sentences, and the
    capitalisation-based composer's pick as one more candidate when NER did not find it (ner_agrees=0)."""
    legacy_names = list(legacy_pick.names) if legacy_pick is not None else []
    asked = asked_name_type(frame)
    plural = _is_plural_question(frame)
    subjects = frame.subjects or frame.entities
    question = fold(frame.text)
    legacy = {fold(n) for n in legacy_names}
    legacy_at = ((legacy_pick.view.source_id, legacy_pick.view.sentence_of(legacy_pick.quote_start))
                 if legacy_pick is not None else None)
    out: list[NameCandidate] = []
    sentences = [g for g in segments if g.is_sentence][:MAX_NAME_SENTENCES]
    best_sent = max((g.similarity for g in sentences), default=0.0)
    for rank, seg in enumerate(sentences):
        analysis, view = analyses.get(seg.source_id), views.get(seg.source_id)
        if analysis is None or view is None:
            continue
        idx = analysis.names_of(seg.sent_idx)
        s, e = view.sentences[seg.sent_idx]
        sentence = view.text[s:e]
        subject_here = float(any(mentions(sentence, x) for x in subjects)) if subjects else 0.0
        groups: dict[int, list[int]] = {}
        for i in idx:
            span = analysis.names[i]
            if fold(span.text) in question:  # a name the question itself says is not its answer
                continue
            groups.setdefault(span.group, []).append(i)
        options = []
        for members in groups.values():
            options.append(members)
            if len(members) > 1:
                options += [[m] for m in members]
        for members in options:
            spans = [analysis.names[i] for i in members]
            vecs = analysis.name_vectors[members] @ focus_vec
            labels = [sp.label for sp in spans]
            names = {fold(sp.text) for sp in spans}
            before = view.text[max(0, spans[0].start - 25):spans[0].start]
            f = {"sent_sim": seg.similarity, "sent_rank": 1.0 / (1 + rank), "sent_gap_best": seg.similarity - best_sent,
                 "label_fit": (sum(lab == asked for lab in labels) / len(labels)) if asked else 0.5,
                 "label_mismatch": float(bool(asked) and all(lab not in (asked, "other") for lab in labels)),
                 "role_sim": float(vecs.max()), "n_names": math.log1p(len(spans)),
                 "plural_multi": float(plural and len(spans) > 1), "singular_single": float(not plural and len(spans) == 1),
                 "subject_in_sentence": subject_here,
                 "legacy_overlap": _overlap(names, legacy) if legacy else 0.0,
                 # the composer's names, as NER found them: the same names anywhere, or in its own
                 # sentence the same with a title or first name more or less ("Sir Alan Redfern")
                 "legacy_same": float(bool(legacy) and (names == legacy or (seg.source_id, seg.sent_idx) == legacy_at
                                                        and _same_names(names, legacy))),
                 "reported_cue": float(bool(re.search(langdata.get(analysis.language).REPORTED_CUE, before, re.I))),
                 "position": (spans[0].start - s) / max(1, e - s),
                 "echo_question": float(any(w in question for sp in spans for w in fold(sp.text).split() if len(w) > 3))}
            out.append(NameCandidate(seg.source_id, seg.sent_idx, spans, f))
    for c in out:
        c.features["ner_agrees"] = 1.0
    if legacy_names and not any(c.features["legacy_same"] for c in out):
        extra = _legacy_candidate(legacy_pick, segments, best_sent)
        if extra is not None:
            out.append(extra)
    if out:
        best = max(c.features["role_sim"] for c in out)
        for c in out:
            c.features["role_gap_best"] = c.features["role_sim"] - best
    return out


def _one_name(a: str, b: str) -> bool:
    """The same name, one perhaps with a title or a first name more ("Sir Alan Redfern", "Alan Redfern")."""
    return a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} "


def _overlap(names: set[str], legacy: set[str]) -> float:
    return sum(any(_one_name(n, m) for m in legacy) for n in names) / len(names)


def _same_names(names: set[str], legacy: set[str]) -> bool:
    return (len(names) == len(legacy) and all(any(_one_name(n, m) for m in legacy) for n in names)
            and all(any(_one_name(m, n) for n in names) for m in legacy))


def _legacy_candidate(pick, segments: list, best_sent: float) -> NameCandidate | None:
    """The composer's names as a candidate of their own (its sentence's similarity; no NER label)."""
    from assistant.analysis import NameSpan

    view = pick.view
    sent_idx = view.sentence_of(pick.quote_start)
    if sent_idx < 0:
        return None
    spans = []
    for name in pick.names:
        at = view.text.find(name, pick.quote_start, max(pick.quote_end, pick.quote_start + 1))
        if at < 0:
            at = view.text.find(name, view.sentences[sent_idx][0])
        if at < 0:
            return None
        spans.append(NameSpan(sent_idx, at, at + len(name), name, "other", "", -1))
    sims = [g for g in segments if g.is_sentence]
    rank = next((i for i, g in enumerate(sims) if g.source_id == view.source_id and g.sent_idx == sent_idx), len(sims))
    sim = sims[rank].similarity if rank < len(sims) else 0.0
    s, e = view.sentences[sent_idx]
    f = {"sent_sim": sim, "sent_rank": 1.0 / (1 + rank), "sent_gap_best": sim - best_sent, "label_fit": 0.5,
         "role_sim": 0.0,
         "n_names": math.log1p(len(spans)), "legacy_overlap": 1.0, "legacy_same": 1.0, "ner_agrees": 0.0,
         "position": (spans[0].start - s) / max(1, e - s)}
    return NameCandidate(view.source_id, sent_idx, sorted(spans, key=lambda sp: sp.start), f)


def name_vector(c: NameCandidate) -> list[float]:
    return [float(c.features.get(name, 0.0)) for name in NAME_FEATURES]
