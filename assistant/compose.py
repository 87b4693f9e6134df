"""The extractive answer: choose the clause and the figure (or names) the question is about among the
re-ranked segments, then write the answer in the question's language with the exact quote."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from assistant.figures import format_figure
from assistant.question import (ATTRIBUTES, EVENTS, TIME_FRAMES, UNIT_SYNONYMS, QuestionFrame, concept_positions, concepts,
                                extract_entities, fold, mentions)
from assistant.quotes import quote, trim_span
from assistant.retrieval import Segment
from assistant.types import Citation, Figure

# Calibrated on the eval set as a whole (see evals/), never per question.
MIN_FIGURE_SCORE = 0.80
MIN_NAMES_SCORE = 0.80
MIN_OTHER_SCORE = 0.86
MAX_QUOTE_WORDS = 45
SHORT_SENTENCE_WORDS = 30  # a sentence this short is quoted whole
GROUP_FIT_WEIGHT = 0.5
NAMES_SENTENCES = 24  # sentences searched for names (a list is often in a sentence the embedder ranks low)


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


_UNIT_CONCEPTS = frozenset({"gpu", "users"})  # already enforced by the unit check
_TAIL_STOP = re.compile(r"[,;:]|\b(?:et|and|mais|but|while|tandis|whereas|alors que)\b")
_YEAR_RX = re.compile(r"\b(?:19|20)\d{2}\b")


def _figure_attribute(text: str, fig: Figure, clause: tuple[int, int]) -> str:
    """What a figure is (a raise, a valuation, a loss...): the attribute named nearest to it in its clause
    ("évalué à environ 18 milliards" is a valuation even in a sentence about a funding round). Words just
    before the figure bind tighter than words after it; beyond a few words nothing binds."""
    best, best_d = "", 60.0
    for pos, name in concept_positions(text[clause[0]:clause[1]]):
        if name not in ATTRIBUTES:
            continue
        at = clause[0] + pos
        d = (fig.start - at) if at < fig.start else 1.5 * (at - fig.end) if at >= fig.end else 0.0
        if 0 <= d < best_d:
            best, best_d = name, d
    return best


def _fits(frame: QuestionFrame, view: SourceView, sent_idx: int, fig: Figure, clause: tuple[int, int]) -> bool:
    """Hard constraints of meaning between the question and a figure:
    - the attribute: a question about a valuation is not answered by a loss, nor a founding year by a
      loss deadline (when the text says what the figure is, and it is none of the question's);
    - the time: a question about 2025 (or last year) is not answered by a statement about 2024 (or this
      year), told in the sentence or, when the sentence names no year, in the one before it.
    """
    s, e = view.sentences[sent_idx]
    sentence = view.text[s:e]
    asked = frame.attributes
    if asked:
        own = _figure_attribute(view.text, fig, clause)
        stated = _concepts(view.text[clause[0]:clause[1]]) & ATTRIBUTES
        if own and own not in asked and not (own in ("spend", "raise") and "spend" in asked and "raise" in asked):
            return False
        if not own and stated and not asked & stated:
            return False
        if not (_concepts(sentence) & asked) and asked <= EVENTS:
            return False  # an event ("founded") the sentence never names
    if frame.years and frame.kind != "year":
        years = set(_YEAR_RX.findall(sentence))
        if not years and sent_idx > 0:
            ps, pe = view.sentences[sent_idx - 1]
            years = set(_YEAR_RX.findall(view.text[ps:pe]))
        if years and not years & set(frame.years):
            return False
    frames = frame.time_frames
    stated_frames = _concepts(sentence) & TIME_FRAMES
    if frames and stated_frames and not frames & stated_frames:
        return False
    if frames - {"this_year"} and not frames & stated_frames:
        return False  # "next year" is not "d'ici 2025" nor an undated rate: the articles carry no date to tell
    return True


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
        if fig.unit == "":
            nouns = {UNIT_SYNONYMS.get(w, w) for w in re.findall(r"\w+", fold(sentence_text))}
            return frame.unit in nouns
        return False
    if frame.kind == "duration":
        return fig.kind == "duration" and (not frame.unit or fig.unit == frame.unit)
    return fig.kind == frame.kind


def _entity_scope(frame: QuestionFrame, view: SourceView, sent_idx: int, clause: tuple[int, int]) -> float | None:
    """How well the question's entities are the subject here: a bonus, or None when none of its subjects is.

    An entity counts when named in the clause (best), in the sentence, or — for a sentence that names
    nobody ("l'entreprise ne prévoit que...") — when it is the last entity named just before. One subject
    in scope is enough; side parties ("from Sequoia", "Nvidia GPUs") only add to the bonus. A subject named
    only as one member of a list ("notamment Lightspeed, Sequoia Capital et Tribe Capital") does not own
    the sentence's figure: the figure is the group's.
    """
    if not frame.entities:
        return 0.0
    s, e = view.sentences[sent_idx]
    sentence = view.text[s:e]
    clause_text = view.text[clause[0]:clause[1]]
    bonus = 0.0
    subject_found = False
    for entity in frame.entities:
        in_clause, in_sentence = bool(mentions(clause_text, entity)), bool(mentions(sentence, entity))
        found = in_clause or in_sentence or _antecedent(view, sent_idx) == fold(entity)
        if found and entity in frame.subjects and in_sentence and _side_party(sentence, entity):
            continue
        bonus += 0.03 if in_clause or in_sentence else 0.0
        subject_found |= found and entity in frame.subjects
    if not subject_found:
        return None
    return bonus / len(frame.entities)


def _side_party(sentence: str, entity: str) -> bool:
    """Every mention of `entity` in the sentence is a side party: one item of a list of names
    ("notamment Lightspeed, Sequoia Capital et Tribe Capital": the figure is the group's) or a companion
    ("OpenAI, avec son partenaire Microsoft, vise 10 millions de GPU": the figure is OpenAI's)."""
    lists = [g for g in _name_groups(sentence) if _is_list(sentence, g)]
    spots = mentions(sentence, entity)
    folded = fold(sentence)
    return bool(spots) and all(any(g[0][0] <= p <= g[-1][0] for g in lists) or _COMPANION.search(folded[max(0, p - 40):p])
                               for p in spots)


_COMPANION = re.compile(r"(?:\b(?:avec|with|aupres de|de la part de|together with|alongside|aux cotes de)"
                        r"(?:\s+(?:son|sa|ses|leur|leurs|its|their|his|her|le|la|les|l'|the))?"
                        r"(?:\s+(?:partenaires?|partners?|allies?|allie))?)\s*$")


def _is_list(sentence: str, group: list[tuple[int, str]]) -> bool:
    """Three names or more, or two joined by a conjunction: "Meta, Mark Zuckerberg" is an apposition."""
    if len(group) >= 3:
        return True
    if len(group) == 2:
        (p0, n0), (p1, _) = group
        return bool(re.search(r"\b(?:et|and|ou|or)\b|&", sentence[p0 + len(n0):p1]))
    return False


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
    """Shared stems (same language) and shared concepts (either language) with the question; a word that
    carries two of the question's concepts ("investissements": invest, spend) counts once."""
    overlap = len(_stems(" ".join(frame.focus)) & _stems(text))
    hits = [(pos, name) for pos, name in _concept_positions(text) if name in frame.concepts]
    shared = min(len({name for _, name in hits}), len({pos for pos, _ in hits}))
    return min(0.06, 0.02 * overlap) + min(0.09, 0.03 * shared)


@lru_cache(maxsize=8192)
def _concept_positions(text: str) -> tuple[tuple[int, str], ...]:
    return tuple(concept_positions(text))


@lru_cache(maxsize=8192)
def _concepts(text: str) -> frozenset[str]:
    return concepts(text)


def choose_figure(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView],
                  trace: list | None = None) -> Candidate | None:
    """The best figure of the segments that meets every hard constraint, or None. `trace`, when given,
    receives every scored candidate (score, figure, components, clause), to see why an answer won."""
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
            if frame.kind == "year" and fig.text.strip() in frame.years:
                continue  # the year the question names is not its answer
            clause = _clause_of(view, seg.sent_idx, fig.start)
            clause_seg = sims.get((seg.source_id, clause[0], clause[1]))
            clause_sim = clause_seg.similarity if clause_seg else seg.similarity
            scope = _entity_scope(frame, view, seg.sent_idx, clause)
            clause_text = view.text[clause[0]:clause[1]]
            if scope is None or _other_subject(frame, clause_text) or not _fits(frame, view, seg.sent_idx, fig, clause):
                continue
            # The words that lead up to this figure from the previous one ("... et viserait à porter
            # ce chiffre à un million"): concepts there belong to this figure, not its neighbour.
            lead_from = max(clause[0], figures[k - 1].end if k else clause[0])
            # ...and the words after it, to the end of the clause or, when another figure follows, up to
            # the conjunction that leads to it.
            nxt = figures[k + 1].start if k + 1 < len(figures) else clause[1]
            after = view.text[fig.end:min(clause[1], nxt)]
            stop = _TAIL_STOP.search(after) if nxt < clause[1] else None
            near = _concepts(view.text[lead_from:fig.end + (stop.start() if stop else len(after))])
            local = len((frame.concepts - _UNIT_CONCEPTS) & near)
            score = (0.5 * seg.similarity + 0.5 * clause_sim + scope + _lexical(frame, clause_text)
                     + min(0.09, 0.03 * local))
            if frame.per:
                score += 0.05 if fig.per == frame.per else -0.05
            if frame.years:
                score += 0.04 if any(y in sentence for y in frame.years) else -0.04
            if trace is not None:
                trace.append((round(score, 4), fig.text, f"seg={seg.similarity:.3f} clause={clause_sim:.3f} scope={scope:.3f} "
                              f"lex={_lexical(frame, clause_text):.3f} local={local}", view.text[clause[0]:clause[1]][:70],
                              view.source_id, fig.start))
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
    """The proof of a figure: a short sentence with one figure whole; otherwise the figure's clause,
    reaching back to the nearest earlier mention of the question's subject (so the quote says whose
    figure it is) and never forward past the clause."""
    s, e = view.sentences[sent_idx]
    if len(view.figures[sent_idx]) <= 1 and len(view.text[s:e].split()) <= SHORT_SENTENCE_WORDS:
        return s, e
    start, end = clause
    spots = [s + pos for entity in (frame.subjects or frame.entities) for pos in mentions(view.text[s:e], entity)]
    before = [p for p in spots if p < clause[0]]
    if before and not any(clause[0] <= p < clause[1] for p in spots):
        start = min(start, _clause_of(view, sent_idx, max(before))[0])
    if len(view.text[start:end].split()) > MAX_QUOTE_WORDS:
        return clause
    return start, end


# ---------------------------------------------------------------- names

# Words a capitalised token can be without being a name (sentence starts, titles, acronyms of the domain).
_COMMON_CAPS = frozenset(fold(w) for w in """Le La Les L Un Une Des Du De D Ce Cet Cette Ces Cela Ceci Et Mais Ou Donc Or Ni
Car En Au Aux Pour Par Selon Comme Il Elle Ils Elles Je Tu On Nous Vous Son Sa Ses Leur Leurs Quoi Qui Que Alors Peut
Peut-être Ensuite Premièrement Deuxièmement Enfin Face Pourquoi Comment Quand Où Si Même Tout Tous Toute Toutes Dans
Sur Sous Avec Sans Chez Entre Vers Depuis Après Avant Pendant Ainsi Aussi Toujours Déjà Encore Certes Voici Voilà
Des Opinions Source Découvrez Ajouter Est-ce Ces The A An And But Or In On At For As It Its This That These Those
We You He She They His Her Their If When While Why How What Which Who According IA AI LLM LLMs GPU GPUs PDG CEO VR RV
USD EUR""".split())
_NAME_TOKEN = re.compile(r"[\w&][\w&'’.-]*")
_LIST_CUE = re.compile(r"(?:notamment|including|such as|comme|tels? que|telles? que|like|dont|parmi lesquels|among them)"
                       r"\W*$")
_BY_CUE = re.compile(r"(?:\bpar|\bselon|\bby|according to|\brapporte|\breports?|\brapport de|\bsource\s*:)\W*(?:le |la |les |l'|the )?$")
_OF_CUE = re.compile(r"(?:\bde|\bd['’]|\bof|\bfrom|\bdu|\bdes)\s*$")


def _is_name_token(tok: str) -> bool:
    if not tok or not (tok[0].isupper() or (tok[0].islower() and any(c.isupper() for c in tok[1:]))):
        return False
    return fold(tok.rstrip(".,;:")) not in _COMMON_CAPS


def _names_in(text: str) -> list[tuple[int, str]]:
    """Names with their offsets: runs of capitalised tokens (and camel-case brands like xAI, kept apart),
    joined by single spaces or "and Co."; domain acronyms (IA, GPU) and common words break a run."""
    runs: list[tuple[int, str]] = []
    start, parts, end = -1, [], -1
    for m in _NAME_TOKEN.finditer(text):
        tok, at = m.group().rstrip(".,;:’'"), m.start()
        elided = re.match(r"^(?:[ldjmnstc]|qu)['’](?=\w)", tok, re.IGNORECASE)
        if elided:  # "d’Elon Musk", "qu'OpenAI": the name after the elided word
            tok, at = tok[elided.end():], at + elided.end()
        gap = text[end:at] if end >= 0 else ""
        if _is_name_token(tok) and not any(c.isdigit() for c in tok):  # H100, GPT-4: designations, not names
            brand = tok[0].islower()
            if parts and gap == " " and not brand and not (parts[-1][0].islower() and parts[-1] not in ("and", "&")):
                parts.append(tok)
            else:
                if parts:
                    runs.append((start, " ".join(parts)))
                start, parts = at, [tok]
            end = at + len(tok)
        elif parts and fold(tok) in ("and", "&") and text[m.end():m.end() + 4].startswith(" Co"):
            parts.append(tok)
            end = m.end()
        elif parts and tok == "Co" and parts[-1] in ("and", "&"):
            parts.append(tok + ".")
            end = m.end()
        else:
            if parts:
                runs.append((start, " ".join(parts)))
            parts, end = [], -1
    if parts:
        runs.append((start, " ".join(parts)))
    return runs


def is_title(text: str) -> bool:
    """A headline in title case ("Entre Pertes Astronomiques et Levées de Fonds"): its capitals name nothing."""
    if re.search(r"[.:!?…»”]\s*$", text):
        return False  # headlines carry no final punctuation
    words = [w for w in re.findall(r"[^\W\d_]{4,}", text)][1:]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) > 0.5


def _name_groups(text: str) -> list[list[tuple[int, str]]]:
    """Names coordinated into lists: "OpenAI, Anthropic et Google", "ChatGPT ou Gemini"."""
    groups: list[list[tuple[int, str]]] = []
    if is_title(text):
        return groups
    for pos, name in _names_in(text):
        if groups:
            prev_pos, prev = groups[-1][-1]
            between = text[prev_pos + len(prev):pos]
            if re.fullmatch(r"\s*(?:,|et|and|ou|or|&|,\s*et|,\s*and|,\s*ou|,\s*or)\s*", between):
                groups[-1].append((pos, name))
                continue
        groups.append([(pos, name)])
    # Two names joined by a comma only are an apposition ("Bloomberg, xAI, la startup"), not a list.
    return [g for group in groups for g in ([group] if len(group) != 2 or _is_list(text, group) else
                                             [[group[0]], [group[1]]])]


_PLURAL_ASK = re.compile(r"\b(?:quels|quelles|lesquels|lesquelles)\b|\b(?:which|what)\s+(?:\w+\s+){0,2}\w+s\b"
                         r"|\bwho (?:are|were)\b|\bqui sont\b")
_SINGULAR_ASK = re.compile(r"\b(?:quel|quelle)\s+(?!sont\b)\w+|\b(?:which|what)\s+(?:\w+\s+)?(?:company|firm|maker|"
                           r"chipmaker|newspaper|outlet|partner|person|model|chatbot|bank|fund|investor)\b"
                           r"|\bwho (?:is|was)\b|\bqui est\b|\bwhose\b|\ba qui\b|\bcomment s'appelle\b")
_WHOSE = re.compile(r"\bwhose\b|\ba qui\b|\bde qui\b|\bde quelle\b|\bde quel\b|\bbelong")
_WHO_REPORTED = frozenset({"report"})
# Words that make a name an organisation ("Sequoia Capital", "Lightspeed Venture Partners"): the answer
# type of questions about investors, funds, companies.
_ORG_DESIGNATORS = frozenset(fold(w) for w in """Capital Partners Ventures Venture Fund Funds Group Groupe Holdings
Holding Investments Investment Management Bank Banque Inc Corp Corporation Ltd LLC SA SAS AG GmbH Technologies Labs
Associates Advisors Partenaires""".split())
_ORG_ASK = frozenset({"invest"})
_ORG_HEADS = re.compile(r"\b(?:fonds|funds?|investisseurs?|investors?|backers?|societes?|companies|company|firms?|"
                        r"entreprises?|banques?|banks?|groupes?)\b")


def choose_names(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView],
                 trace: list | None = None) -> Candidate | None:
    """Classic factoid QA over the best sentences: every list of names not in the question is a candidate,
    scored by its sentence's similarity, its closeness to the words the question shares with the sentence
    (concepts in either language, stems, the question's entities), and the construction it sits in."""
    q = fold(frame.text)
    plural = bool(_PLURAL_ASK.search(q)) and not re.search(r"\bwho (?:is|was)\b|\bqui est\b", q)
    singular = not plural and bool(_SINGULAR_ASK.search(q))
    whose = bool(_WHOSE.search(q))
    org_asked = bool(frame.concepts & _ORG_ASK) or bool(_ORG_HEADS.search(q))
    exclude = {fold(e) for e in frame.entities}
    question_stems = _stems(" ".join(frame.focus))
    sims = {(g.source_id, g.start, g.end): g for g in segments}
    best: Candidate | None = None
    for seg in [g for g in segments if g.is_sentence][:NAMES_SENTENCES]:
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        sentence = view.text[s:e]
        scope = _entity_scope(frame, view, seg.sent_idx, (s, e))
        in_source = any(mentions(view.text, ent) for ent in frame.subjects)
        # A lead-in ("Comme le rapporte le Financial Times :") is about what it introduces: read it
        # together with the next sentence, and let that one's closeness to the question count.
        context, similarity = sentence, seg.similarity
        if sentence.rstrip().endswith(":") and seg.sent_idx + 1 < len(view.sentences):
            ns, ne = view.sentences[seg.sent_idx + 1]
            context = view.text[s:ne]
            following = sims.get((seg.source_id, ns, ne))
            if following is not None:
                similarity = max(similarity, following.similarity)
            then = _entity_scope(frame, view, seg.sent_idx + 1, (ns, ne))
            if then is not None:
                scope = max(scope or 0.0, then)
        if scope is None and not (in_source and frame.subjects):
            continue  # the question's subject is nowhere near (a source that never names it)
        groups = []
        for group in _name_groups(sentence):
            kept = [(p, n) for p, n in group if not any(fold(n) in x or x in fold(n) for x in exclude)
                    and not _echoes_question(n, question_stems)]
            if kept:
                groups.append(kept)
        if not groups:
            continue
        anchors = _anchors(frame, context, question_stems, [(p, n) for g in groups for p, n in g])
        ent_anchors = [(p, p + len(ent)) for ent in frame.entities for p in mentions(context, ent)]
        sentence_score = similarity + (scope if scope is not None else -0.03) + _lexical(frame, context)
        first = _names_in(sentence)[:1]
        if first and any(fold(first[0][1]) == fold(ent) for ent in frame.subjects):
            sentence_score += 0.03  # the question's subject is the sentence's first-named, most salient one
        for group in groups:
            g0, g1 = group[0][0], group[-1][0] + len(group[-1][1])
            # Each word the question names that stands close to the candidate is one more witness.
            near = sum(0.05 * math.exp(-min(_gap(g0, g1, a) for a in spans) / 30) for spans in anchors)
            ent_dist = min((_gap(g0, g1, a) for a in ent_anchors), default=300)
            before = fold(sentence[max(0, g0 - 30):g0])
            fit = min(0.1, near) + 0.06 * math.exp(-ent_dist / 40)
            if plural and len(group) >= 2 or singular and len(group) == 1:
                fit += 0.03
            if plural and _LIST_CUE.search(before):
                fit += 0.03
            if whose and _OF_CUE.search(before):
                fit += 0.04
            if org_asked and any(set(fold(n).split()) & _ORG_DESIGNATORS for _, n in group):
                fit += 0.05
            if frame.concepts & _WHO_REPORTED and _BY_CUE.search(before):
                fit += 0.04
            # The sentence must be about the question; the group's fit picks among the names in it and
            # counts for less across sentences (closeness in characters is only a proxy for syntax).
            score = sentence_score + GROUP_FIT_WEIGHT * fit
            if trace is not None:
                trace.append((round(score, 4), round(sentence_score, 4), round(fit, 3), ent_dist,
                              [n for _, n in group], sentence[:60]))
            if best is None or score > best.score:
                qs, qe = _names_span(sentence, g0, g1, ent_anchors, anchors)
                best = Candidate(view, score, s + qs, s + qe, names=[n for _, n in group])
    if best is None or best.score < MIN_NAMES_SCORE:
        return None
    return best


def _names_span(sentence: str, g0: int, g1: int, entities: list[tuple[int, int]],
                anchors: list[list[tuple[int, int]]]) -> tuple[int, int]:
    """The proof of a names answer, relative to the sentence: a short sentence whole; otherwise from the
    question's entity (or, when that is far, the nearest word the question names) before the names,
    through the names to the end of their phrase."""
    if len(sentence.split()) <= SHORT_SENTENCE_WORDS:
        return 0, len(sentence)
    stop = re.search(r"[,;:(]|\s[–—]\s", sentence[g1:])
    end = g1 + stop.start() if stop else len(sentence)
    end = len(sentence) if end >= len(sentence.rstrip()) - 1 else end
    if len(sentence[:end].split()) <= MAX_QUOTE_WORDS:
        return 0, end

    def fits(a: int) -> bool:
        return a < g0 and len(sentence[a:end].split()) <= MAX_QUOTE_WORDS

    subject = [a for a, _ in entities if fits(a)]
    if subject:
        return max(subject), end  # the nearest mention of whom the question is about
    cues = [a for spans in anchors for a, _ in spans if fits(a)]
    return min(cues, default=g0), end


def _echoes_question(name: str, question_stems: frozenset[str]) -> bool:
    """A capitalised word the question itself uses ("H100" in "GPU Nvidia H100") is not an answer."""
    return bool(_stems(name)) and _stems(name) <= question_stems


def _gap(g0: int, g1: int, span: tuple[int, int]) -> int:
    """Characters between a candidate [g0, g1) and an anchor span (0 when they touch or overlap)."""
    a0, a1 = span
    return max(0, a0 - g1, g0 - a1)


def _anchors(frame: QuestionFrame, sentence: str, question_stems: frozenset[str],
             names: list[tuple[int, str]]) -> list[list[tuple[int, int]]]:
    """Spans in the sentence of each word the question talks about (by concept, either language, or by
    stem), outside the candidate names; one entry per distinct word of the question."""
    inside = [(p, p + len(n)) for p, n in names]
    found: dict[str, set[tuple[int, int]]] = {}
    for pos, name in concept_positions(sentence):
        if name in frame.concepts:
            word = re.match(r"[\w'’-]+", sentence[pos:])
            found.setdefault(name, set()).add((pos, pos + (word.end() if word else 1)))
    for m in re.finditer(r"\w+", sentence):
        if len(m.group()) > 3:
            for stem in _stems(m.group()) & question_stems:
                found.setdefault("stem:" + stem, set()).add((m.start(), m.end()))
    # A word that carries two concepts ("investissements": invest and spend) is still one witness.
    by_spans: dict[frozenset, list[tuple[int, int]]] = {}
    for spans in found.values():
        kept = sorted(sp for sp in spans if not any(a <= sp[0] < b for a, b in inside))
        if kept:
            by_spans.setdefault(frozenset(kept), kept)
    return list(by_spans.values())


def choose_passage(frame: QuestionFrame, segments: list[Segment], views: dict[str, SourceView]) -> Candidate | None:
    """For questions that are neither figures nor names: the best sentence, if close enough."""
    for seg in segments:
        if not seg.is_sentence:
            continue
        view = views[seg.source_id]
        s, e = view.sentences[seg.sent_idx]
        if view.text[s:e].rstrip().endswith("?") or is_title(view.text[s:e]):
            continue  # a heading or a question of the article's own answers nothing
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
        "passage": "The article says",
        "refuse": "The articles do not answer this question.",
        "closest": "The closest passage",
        "and": "and",
        "rival": "But another passage gives",
    },
    "fr": {
        "according": "d'après l'article",
        "passage": "L'article indique",
        "refuse": "Les articles ne répondent pas à cette question.",
        "closest": "Le passage le plus proche",
        "and": "et",
        "rival": "Mais un autre passage donne",
    },
}


def _join_names(names: list[str], language: str) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {_T[language]['and']} " + names[-1]


def _colon(language: str) -> str:
    return " :" if language == "fr" else ":"


def citation_for(c: Candidate, number: int = 1) -> Citation:
    start, end = trim_span(c.view.text, c.quote_start, c.quote_end)
    if end <= start:
        start, end = c.quote_start, c.quote_end
    return Citation(c.view.source_id, c.view.title, c.view.text[start:end], start, end, round(c.score, 4),
                    c.view.publisher, number)


def render(frame: QuestionFrame, c: Candidate, rivals: list[Candidate] | None = None
           ) -> tuple[str, list[Citation], list[Figure]]:
    """The answer text with its citations. `rivals`: figures of another value that fit the question as
    well (two articles or two dates disagree): stated and cited too, never silently dropped."""
    lang = frame.language
    cit = citation_for(c)
    quoted = quote(cit.quote, lang)
    if c.figure is not None:
        stated = format_figure(c.figure, lang)
        stated = stated[0].upper() + stated[1:]
        text = f"{stated}, {_T[lang]['according']} [1]{_colon(lang)} {quoted}"
        citations, figures = [cit], [c.figure]
        for n, rival in enumerate(rivals or [], 2):
            other = citation_for(rival, n)
            if other.source_id == cit.source_id and other.start < cit.end and cit.start < other.end:
                continue  # the same span says both: one citation is enough
            text += f" {_T[lang]['rival']} {format_figure(rival.figure, lang)} [{n}]{_colon(lang)} {quote(other.quote, lang)}"
            citations.append(other)
            figures.append(rival.figure)
        return text, citations, figures
    if c.names:
        text = f"{_join_names(c.names, lang)}, {_T[lang]['according']} [1]{_colon(lang)} {quoted}"
        return text, [cit], []
    return f"{_T[lang]['passage']} [1]{_colon(lang)} {quoted}", [cit], []


def render_refusal(frame: QuestionFrame, closest: Candidate | None) -> tuple[str, list[Citation]]:
    lang = frame.language
    text = _T[lang]["refuse"]
    if closest is None:
        return text, []
    cit = citation_for(closest)
    return f"{text} {_T[lang]['closest']} [1]{_colon(lang)} {quote(cit.quote, lang)}", [cit]
