"""The extractive answer: choose the clause and the figure (or names) the question is about among the
re-ranked segments, then write the answer in the question's language with the exact quote."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from assistant.figures import format_figure, parse_figures
from assistant.question import QuestionFrame, concepts, extract_entities, fold, mentions
from assistant.quotes import quote
from assistant.retrieval import Segment
from assistant.types import Citation, Figure

# Calibrated on the eval set as a whole (see evals/), never per question.
MIN_FIGURE_SCORE = 0.80
MIN_NAMES_SCORE = 0.80
MIN_OTHER_SCORE = 0.86
MAX_QUOTE_WORDS = 45


@dataclass(frozen=True)
class SourceView:
    """One source version as the composer needs it: text, sentence spans, figures by sentence."""

    source_id: str
    title: str
    publisher: str
    text: str
    sentences: tuple[tuple[int, int], ...]
    clauses: tuple[tuple[int, int, int], ...]  # (start, end, sentence index)
    figures: tuple[tuple[Figure, ...], ...]  # per sentence, absolute offsets

    def sentence_of(self, pos: int) -> int:
        for i, (s, e) in enumerate(self.sentences):
            if s <= pos < e:
                return i
        return -1


@dataclass
class Candidate:
    view: SourceView
    score: float
    quote_start: int
    quote_end: int
    figure: Figure | None = None
    names: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


_UNIT_CONCEPTS = frozenset({"gpu", "users"})  # already enforced by the unit check
_MONEY_ATTRIBUTES = frozenset({"raise", "valuation", "loss", "revenue", "spend", "reserve"})


def _attribute_fit(frame: QuestionFrame, clause_text: str) -> float:
    """A clause about another money attribute than the question's (a loss when asked the valuation)
    is about something else: penalised, across languages, through the shared concepts."""
    asked = frame.concepts & _MONEY_ATTRIBUTES
    stated = _concepts(clause_text) & _MONEY_ATTRIBUTES
    if asked and stated and not (asked & stated):
        return -0.05
    return 0.0


def _other_subject(frame: QuestionFrame, clause_text: str) -> bool:
    """The clause names other entities and none of the question's: its figure is someone else's."""
    if not frame.entities:
        return False
    named = extract_entities(clause_text)
    if any(mentions(clause_text, e) for e in frame.entities):
        return False
    return bool(named)


def _unit_ok(frame: QuestionFrame, fig: Figure, sentence_text: str) -> bool:
    if frame.kind == "count":
        if fig.kind != "count":
            return False
        if fig.unit == frame.unit:
            return True
        # A bare number counts what its sentence counts ("porter ce chiffre à un million" of GPUs).
        from assistant.question import UNIT_SYNONYMS

        if fig.unit == "":
            nouns = {UNIT_SYNONYMS.get(w, w) for w in re.findall(r"\w+", fold(sentence_text))}
            return frame.unit in nouns
        return False
    if frame.kind == "duration":
        return fig.kind == "duration" and (not frame.unit or fig.unit == frame.unit)
    return fig.kind == frame.kind


def _entity_scope(frame: QuestionFrame, view: SourceView, sent_idx: int, clause: tuple[int, int]) -> float | None:
    """How well the question's entities are the subject here: a bonus, or None when none of them is.

    An entity counts when named in the clause (best), in the sentence, or — for a sentence that names
    nobody ("l'entreprise ne prévoit que...") — when it is the last entity named just before. One entity
    in scope is enough (a question may name a side party: "Meta ... Nvidia H100"); each adds to the bonus.
    """
    if not frame.entities:
        return 0.0
    s, e = view.sentences[sent_idx]
    sentence = view.text[s:e]
    clause_text = view.text[clause[0]:clause[1]]
    bonus = 0.0
    found = 0
    for entity in frame.entities:
        if mentions(clause_text, entity):
            bonus += 0.04
            found += 1
        elif mentions(sentence, entity):
            bonus += 0.02
            found += 1
        elif _antecedent(view, sent_idx) == fold(entity):
            found += 1
    if not found:
        return None
    return bonus / len(frame.entities)


def _antecedent(view: SourceView, sent_idx: int) -> str:
    """The last entity named before a sentence that names none itself (salience by recency)."""
    s, e = view.sentences[sent_idx]
    if extract_entities(view.text[s:e]):
        return ""
    for back in range(sent_idx - 1, max(-1, sent_idx - 3), -1):
        ps, pe = view.sentences[back]
        prev = view.text[ps:pe]
        found = [(m, ent) for ent in extract_entities(prev) for m in mentions(prev, ent)]
        if found:
            return fold(max(found)[1])
    return ""


@lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    from index.store import bm25_tokens

    return frozenset(bm25_tokens(text, ("fr", "en")))


def _lexical(frame: QuestionFrame, text: str) -> float:
    """Shared stems (same language) and shared concepts (either language) with the question."""
    overlap = len(_stems(" ".join(frame.focus)) & _stems(text))
    shared = len(frame.concepts & _concepts(text))
    return min(0.06, 0.02 * overlap) + min(0.09, 0.03 * shared)


@lru_cache(maxsize=8192)
def _concepts(text: str) -> frozenset[str]:
    return concepts(text)


def choose_figure(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView]) -> Candidate | None:
    sims = {(g.source_id, g.start, g.end): g for g in segments}
    best: Candidate | None = None
    for seg in segments:
        if not seg.is_sentence:
            continue
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        sentence = view.text[s:e]
        figures = view.figures[seg.sent_idx]
        for k, fig in enumerate(figures):
            if not _unit_ok(frame, fig, sentence):
                continue
            clause = _clause_of(view, seg.sent_idx, fig.start)
            clause_seg = sims.get((seg.source_id, clause[0], clause[1]))
            clause_sim = clause_seg.similarity if clause_seg else seg.similarity
            scope = _entity_scope(frame, view, seg.sent_idx, clause)
            clause_text = view.text[clause[0]:clause[1]]
            if scope is None or _other_subject(frame, clause_text):
                continue
            # The words that lead up to this figure from the previous one ("... et viserait à porter
            # ce chiffre à un million"): concepts there belong to this figure, not its neighbour.
            lead_from = max(clause[0], figures[k - 1].end if k else clause[0])
            tail = re.match(r"(?:\W*\w+){0,3}", view.text[fig.end:min(clause[1], figures[k + 1].start if k + 1 < len(figures) else clause[1])])
            local = len((frame.concepts - _UNIT_CONCEPTS) & _concepts(view.text[lead_from:fig.end + (tail.end() if tail else 0)]))
            score = (0.5 * seg.similarity + 0.5 * clause_sim + scope + _lexical(frame, clause_text)
                     + _attribute_fit(frame, clause_text) + min(0.06, 0.03 * local))
            if frame.per:
                score += 0.05 if fig.per == frame.per else -0.05
            if frame.years:
                score += 0.04 if any(y in sentence for y in frame.years) else -0.04
            if frame.kind == "year" and fig.text.strip() in frame.years:
                continue  # the year the question names is not its answer
            if best is None or score > best.score:
                qs, qe = _quote_span(view, seg.sent_idx, clause, frame)
                if frame.kind == "count" and not fig.unit:
                    fig = replace(fig, unit=frame.unit)  # the sentence's counted thing, checked by _unit_ok
                best = Candidate(view, score, qs, qe, figure=fig)
    if best is None or best.score < MIN_FIGURE_SCORE:
        return None
    return best


def _clause_of(view: SourceView, sent_idx: int, pos: int) -> tuple[int, int]:
    for cs, ce, si in view.clauses:
        if si == sent_idx and cs <= pos < ce:
            return cs, ce
    return view.sentences[sent_idx]


def _quote_span(view: SourceView, sent_idx: int, clause: tuple[int, int], frame: QuestionFrame) -> tuple[int, int]:
    """The sentence, or for a long one the clauses from the entity's mention through the figure's."""
    s, e = view.sentences[sent_idx]
    if len(view.text[s:e].split()) <= MAX_QUOTE_WORDS:
        return s, e
    start, end = clause
    for entity in frame.entities:
        for pos in mentions(view.text[s:e], entity):
            c = _clause_of(view, sent_idx, s + pos)
            start, end = min(start, c[0]), max(end, c[1])
    return start, end


# ---------------------------------------------------------------- names

# Cues in the text that a name answers a kind of "who" question (bilingual, by concept).
_ROLE_CUES = {
    "report": ("rapport", "rapporte", "selon", "reported", "according", "report", "revele", "revealed"),
    "invest": ("investisseur", "investi", "financement", "provenant", "notamment", "investor", "funding", "including"),
    "lead": ("pdg", "ceo", "dirigeant", "directeur", "fondateur", "founder", "chief", "patron"),
    "partner": ("partenaire", "partner", "partenariat"),
}
_QUESTION_ROLES = {
    "report": ("rapport", "report", "selon", "according", "source", "media", "journal", "newspaper", "outlet", "publi", "revel", "reveal"),
    "invest": ("invest", "financ", "fund", "back", "bailleur", "apport"),
    "lead": ("pdg", "ceo", "dirig", "direct", "lead", "head", "patron", "boss", "run", "fond", "found", "chief"),
    "partner": ("partenaire", "partner"),
}


_NAME_RUN = re.compile(r"[A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&.-]*|and\s+Co\.?))*|[a-z]+[A-Z]\w*")


def _names_in(text: str) -> list[tuple[int, str]]:
    """Runs of capitalised words (and camel-case names like xAI) with their offsets."""
    return [(m.start(), m.group().rstrip(".’'")) for m in _NAME_RUN.finditer(text)]


def choose_names(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView]) -> Candidate | None:
    q = fold(frame.text)
    # The asked role is the one named first ("Quel journal a rapporté l'accord de financement ?": report,
    # not invest): the role word follows the question word.
    first_at = {r: min((q.find(c) for c in cues if c in q), default=-1) for r, cues in _QUESTION_ROLES.items()}
    roles = sorted((r for r, pos in first_at.items() if pos >= 0), key=lambda r: first_at[r])[:1]
    exclude = {fold(e) for e in frame.entities}
    best: Candidate | None = None
    for seg in segments:
        if not seg.is_sentence:
            continue
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        sentence = view.text[s:e]
        scope = _entity_scope(frame, view, seg.sent_idx, (s, e))
        if scope is None:
            continue
        names = []
        for pos, name in _names_in(sentence):
            if pos == 0 or fold(name) in exclude or any(fold(name) in x or x in fold(name) for x in exclude):
                continue  # sentence-initial capital is not a name signal; the question's own entities are not answers
            if fold(name).split()[0] in _COMMON_CAPS:
                continue
            names.append((pos, name))
        if not names:
            continue
        # Names the question's role points at: the list right after a cue word of that role; with
        # several cues, the one nearest the question's own entity ("OpenAI, avec son partenaire Microsoft").
        folded = fold(sentence)
        cue_positions = [m.end() for r in roles for c in _ROLE_CUES[r] for m in re.finditer(re.escape(c), folded)]
        anchors = [p for ent in frame.entities for p in mentions(sentence, ent)]
        # A cue counts only when a name follows it closely ("publié par Bloomberg", "PDG de Meta, Mark").
        cue_positions = [c for c in cue_positions if any(0 <= p - c <= 40 for p, _ in names)]
        if cue_positions:
            cue = min(cue_positions, key=lambda c: min((abs(c - a) for a in anchors), default=c))
            chosen = _group_after(sentence, names, cue)
        else:
            chosen = _group_after(sentence, names, 0)
        # A sentence without a cue of the asked role ("who reported") is a weaker witness.
        role_bonus = (0.05 if cue_positions else -0.05) if roles else 0.0
        score = seg.similarity + scope + role_bonus + _lexical(frame, sentence)
        if chosen and (best is None or score > best.score):
            best = Candidate(view, score, s, e, names=chosen)
    if best is None or best.score < MIN_NAMES_SCORE:
        return None
    return best


_COMMON_CAPS = frozenset(fold(w) for w in """Le La Les Un Une Des Ce Cette Ces Et Mais Ou En Au Aux Pour Par Selon Comme Il Elle Ils
Je On Nous Vous Quoi Alors Peut Cela Ensuite Premièrement Face The A An And But In On For As It This That IA AI LLM GPU GPUs
PDG CEO Source""".split())


def _group_after(sentence: str, names: list[tuple[int, str]], cue: int) -> list[str]:
    """The first list of names after the cue: names joined only by ',', 'et', 'and', '&'."""
    after = [(p, n) for p, n in names if p >= cue] or names
    group = [after[0]]
    for pos, name in after[1:]:
        prev_pos, prev = group[-1]
        between = sentence[prev_pos + len(prev):pos]
        if re.fullmatch(r"\s*(,|et|and|&|,\s*et|,\s*and)\s*", between):
            group.append((pos, name))
        else:
            break
    return [n for _, n in group]


def choose_passage(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView]) -> Candidate | None:
    """For questions that are neither figures nor names: the best sentence, if close enough."""
    for seg in segments:
        if not seg.is_sentence:
            continue
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        scope = _entity_scope(frame, view, seg.sent_idx, (s, e))
        if scope is None:
            continue
        score = seg.similarity + scope + _lexical(frame, view.text[s:e])
        if score >= MIN_OTHER_SCORE:
            return Candidate(view, score, s, e)
        return None
    return None


# ---------------------------------------------------------------- writing

_T = {
    "en": {
        "according": "according to the article",
        "according_pub": "according to {publisher}",
        "names": "According to the article, these are {names}",
        "passage": "The article says",
        "refuse": "The articles do not answer this question.",
        "closest": "The closest passage",
        "and": "and",
        "empty": "Please ask a question about the articles.",
    },
    "fr": {
        "according": "d'après l'article",
        "according_pub": "d'après {publisher}",
        "names": "D'après l'article, il s'agit de {names}",
        "passage": "L'article indique",
        "refuse": "Les articles ne répondent pas à cette question.",
        "closest": "Le passage le plus proche",
        "and": "et",
        "empty": "Posez une question sur les articles.",
    },
}


def phrase(key: str, language: str) -> str:
    return _T[language][key]


def _join_names(names: list[str], language: str) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {_T[language]['and']} " + names[-1]


def _colon(language: str) -> str:
    return " :" if language == "fr" else ":"


def citation_for(c: Candidate, number: int = 1) -> Citation:
    return Citation(c.view.source_id, c.view.title, c.view.text[c.quote_start:c.quote_end], c.quote_start,
                    c.quote_end, round(c.score, 4), c.view.publisher, number)


def render(frame: QuestionFrame, c: Candidate) -> tuple[str, list[Citation], list[Figure]]:
    lang = frame.language
    cit = citation_for(c)
    quoted = quote(cit.quote, lang)
    if c.figure is not None:
        stated = format_figure(c.figure, lang)
        stated = stated[0].upper() + stated[1:]
        text = f"{stated}, {_T[lang]['according']} [1]{_colon(lang)} {quoted}"
        return text, [cit], [c.figure]
    if c.names:
        text = _T[lang]["names"].format(names=_join_names(c.names, lang)) + f" [1]{_colon(lang)} {quoted}"
        return text, [cit], []
    return f"{_T[lang]['passage']} [1]{_colon(lang)} {quoted}", [cit], []


def render_refusal(frame: QuestionFrame, closest: Candidate | None) -> tuple[str, list[Citation]]:
    lang = frame.language
    text = _T[lang]["refuse"]
    if closest is None:
        return text, []
    cit = citation_for(closest)
    return f"{text} {_T[lang]['closest']} [1]{_colon(lang)} {quote(cit.quote, lang)}", [cit]
