"""Judge one Answer against one turn of a case: a list of failure reasons ("check: reason"); empty = pass.

Pure functions: an Answer, the turn (see evals/cases.py) and a `source_text(source_id) -> str`; no engine.

Checks
  figure     the expected figure is stated in the answer's OWN WORDS (assistant.verify.own_words: quotes and
             [n] markers removed), compared with same_value after parse_figures, so "$6 billion",
             "6 milliards de dollars" and "6bn" are equal and a wrong scale is not. Stricter than same_value:
             the rate must be the same ("1 milliard par mois" is not "$1 billion"), and when the article
             bounds the figure ("moins de 1 %", "plus de 350 000 dollars": `qualifier` in the case) the answer
             must keep that bound; an answer must not invent a bound the article does not state ("more than
             $6 billion" for "près de 6 milliards"). "about"/"nearly" are interchangeable.
             A rate may also be said apart from the number ("xAI's monthly loss is $1 billion", "des pertes
             mensuelles de 1 milliard"): when the case expects a rate, a rate-less figure counts if the own words
             name that rate.
  names      every expected name appears in the own words (case and spacing folded: "NVIDIA" == "Nvidia").
  grounding  every figure in the own words equals a figure inside a cited quote (a stated rate must be a
             quoted rate).
  citation   every citation is its source's exact text at its offsets; every [n] marker has a citation and
             every citation a marker; every quoted span shown in the text is part of a citation; and at least
             one exact citation contains the expected figure (figure_in, from the case's source) or all the
             expected names.
  language   answer.language is the case's language, and so is the language of the own words (lingua
             restricted to FR/EN, names removed). Own words with fewer than 3 words of 2+ letters once names
             are removed are too short for lingua; they are judged by marker words instead: they fail when they
             hold a word only the other language uses ("nearly", "billion", "per" / "milliards", "environ",
             "mois"...) and none only the case's language uses ("Nearly $6 billion [1]" is English; "$6bn" too).
             Own words with no marker word ("Mark Zuckerberg [1]", "18 000 000 000 $") are not judged.
  answered   answered=False for an unanswerable, and its own words state no figure except one the question
             itself holds ("The articles don't say what Meta will spend in 2025" echoes 2025, claims nothing);
             answered=True otherwise.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from assistant.figures import figure_in, parse_figures, same_value
from assistant.types import Answer, Figure
from assistant.verify import own_words

CHECKS = ("figure", "names", "grounding", "citation", "language", "answered")
MIN_WORDS = 3  # below this many words (names removed) lingua is not asked

_MARKER = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"«([^»]*)»|“([^”]*)”")
# A capitalised word inside a sentence is a name ("Sequoia Capital", "Financial Times"): in no language.
_NAME_WORD = re.compile(r"(?<=[\w,;] )[A-Z][\w&'’.-]*")
# Bounds: the article's "plus de"/"moins de" must survive; "environ"/"près de" are plain approximations.
_UPPER = {"less_than", "up_to"}
_LOWER = {"more_than", "at_least"}
# Rates said apart from the number.
_RATE_WORDS = {
    "month": re.compile(r"\bmonthly\b|\b(?:a|per|each|every) month\b|\bmensuel(?:le)?s?\b|\bpar mois\b|"
                        r"\bchaque mois\b|/\s?(?:mois|month)\b", re.I),
    "year": re.compile(r"\bannual(?:ly)?\b|\byearly\b|\b(?:a|per|each|every) year\b|\bannuel(?:le)?s?\b|"
                       r"\bpar an\b|\bchaque année\b|/\s?(?:an|year)\b", re.I),
}
# Words only one of the two languages uses, for own words too short for lingua.
_ONLY = {
    "en": {"nearly", "about", "around", "roughly", "approximately", "billion", "billions", "bn", "trillion", "more",
           "than", "less", "fewer", "under", "over", "per", "month", "months", "year", "years", "according", "the",
           "and", "of", "gpus", "some", "almost"},
    "fr": {"environ", "près", "presque", "milliard", "milliards", "moins", "mois", "ans", "année", "années", "selon",
           "après", "et", "de", "des", "du", "le", "la", "les", "d", "l", "quelque", "pratiquement"},
}

SourceText = Callable[[str], str]


# ------------------------------------------------------------------ helpers

@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def words_language(text: str) -> str | None:
    """'fr' | 'en' for `text` with names removed; None when fewer than MIN_WORDS words remain."""
    from lingua import Language

    plain = _NAME_WORD.sub(" ", text)
    if len(re.findall(r"[^\W\d_]{2,}", plain)) < MIN_WORDS:
        return None
    found = _detector().detect_language_of(plain)
    return {Language.FRENCH: "fr", Language.ENGLISH: "en"}.get(found)


def _short_words_language(text: str) -> str | None:
    """For own words too short for lingua: the language whose exclusive marker words alone appear, else None."""
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", _NAME_WORD.sub(" ", text))}
    hits = {lang: bool(words & only) for lang, only in _ONLY.items()}
    return next((lang for lang, hit in hits.items() if hit and not any(h for o, h in hits.items() if o != lang)), None)


def _fold(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).casefold()


def expected_figure(expected: dict[str, Any]) -> Figure:
    return Figure(float(expected["value"]), str(expected.get("unit", "")), str(expected["kind"]),
                  qualifier=str(expected.get("qualifier", "")), per=str(expected.get("per", "")))


def _bound(qualifier: str) -> str:
    return "upper" if qualifier in _UPPER else "lower" if qualifier in _LOWER else ""


def matches(stated: Figure, want: Figure) -> bool:
    """`stated` gives the figure `want`: same_value, the same rate, the same bound (see module doc)."""
    return same_value(stated, want) and stated.per == want.per and _bound(stated.qualifier) == _bound(want.qualifier)


def _gives(stated: Figure, want: Figure, words: str) -> bool:
    """matches(), or the rate is said elsewhere in the own words (see module doc)."""
    if matches(stated, want):
        return True
    if want.per and not stated.per and _RATE_WORDS[want.per].search(words):
        from dataclasses import replace

        return matches(replace(stated, per=want.per), want)
    return False


def _grounded(fig: Figure, quoted: list[Figure]) -> bool:
    return any(same_value(fig, q) and (not fig.per or fig.per == q.per) for q in quoted)


def _exact(answer: Answer, source_text: SourceText) -> list:
    good = []
    for c in answer.citations:
        try:
            if source_text(c.source_id)[c.start:c.end] == c.quote and c.start < c.end:
                good.append(c)
        except (KeyError, FileNotFoundError):
            pass
    return good


def _describe(f: Figure) -> str:
    bound = {"upper": "at most ", "lower": "at least "}.get(_bound(f.qualifier), "")
    rate = f" per {f.per}" if f.per else ""
    return f"{bound}{f.value:g} {f.unit}{rate}".strip()


# ------------------------------------------------------------------ checks

def check_citations(answer: Answer, source_text: SourceText) -> list[str]:
    out = []
    exact = _exact(answer, source_text)
    for c in answer.citations:
        if c not in exact:
            out.append(f"citation: [{c.number}] is not the source's text at {c.source_id}:{c.start}:{c.end}")
    numbers = {c.number for c in answer.citations}
    markers = {int(m) for m in _MARKER.findall(answer.text)}
    if markers - numbers:
        out.append(f"citation: markers {sorted(markers - numbers)} have no citation")
    if numbers - markers:
        out.append(f"citation: citations {sorted(numbers - markers)} are never referred to in the text")
    for m in _QUOTED.finditer(answer.text):
        shown = (m.group(1) if m.group(1) is not None else m.group(2)).strip().strip("…").strip()
        if shown and not any(shown in c.quote for c in answer.citations):
            out.append(f"citation: the quoted text {shown[:60]!r} is in no citation")
    return out


def check_language(answer: Answer, language: str) -> list[str]:
    out = []
    if answer.language != language:
        out.append(f"language: answer.language is {answer.language!r}, the case is {language!r}")
    words = own_words(answer.text)
    found = words_language(words)
    if found is not None and found != language:
        out.append(f"language: the answer's own words are in {found!r}, the case is {language!r}")
    if found is None:
        short = _short_words_language(words)
        if short is not None and short != language:
            out.append(f"language: the answer's (short) own words {words.strip()[:60]!r} are {short!r} words, "
                       f"the case is {language!r}")
    return out


def check_answered(answer: Answer, turn: dict[str, Any]) -> list[str]:
    if turn.get("unanswerable"):
        out = []
        if answer.answered:
            out.append("answered: answered=True on a question the articles do not answer")
        asked = parse_figures(turn.get("question", ""))
        stated = [f for f in parse_figures(own_words(answer.text)) if not any(same_value(f, q) for q in asked)]
        if stated:
            out.append(f"answered: the refusal states figures of its own {[f.text for f in stated]}")
        return out
    return [] if answer.answered else ["answered: answered=False on a question the articles answer"]


def check_grounding(answer: Answer) -> list[str]:
    quoted = [f for c in answer.citations for f in parse_figures(c.quote)]
    return [f"grounding: {f.text!r} in the own words is in no cited quote"
            for f in parse_figures(own_words(answer.text)) if not _grounded(f, quoted)]


def check_figure(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    from evals.cases import alternatives

    words = own_words(answer.text)
    stated = parse_figures(words)
    exact = _exact(answer, source_text)
    out = []
    wanted = [(alt, expected_figure(alt)) for alt in alternatives(turn)]
    said = [(alt, want) for alt, want in wanted if any(_gives(f, want, words) for f in stated)]
    if not said:
        options = " or ".join(_describe(w) for _, w in wanted)
        out.append(f"figure: {options} not stated in the own words {words.strip()[:140]!r} "
                   f"(stated: {[f.text for f in stated]})")
        said = wanted  # still judge whether the right span was cited
    if not any(figure_in(want, c.quote) and (not alt.get("source") or c.source_id == alt["source"])
               for alt, want in said for c in exact):
        out.append("citation: no exact citation from the expected source contains the expected figure")
    return out


def check_names(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    names = turn["expected"]["names"]
    words = own_words(answer.text)
    out = []
    missing = [n for n in names if _fold(n) not in _fold(words)]
    if missing:
        out.append(f"names: {missing} not in the own words {words.strip()[:140]!r}")
    if not any(all(_fold(n) in _fold(c.quote) for n in names) for c in _exact(answer, source_text)):
        out.append("citation: no exact citation contains all the expected names")
    return out


def applicable(turn: dict[str, Any]) -> tuple[str, ...]:
    from evals.cases import kind_of

    kind = kind_of(turn)
    if kind == "unanswerable":
        return ("citation", "language", "answered")
    return (kind, "grounding", "citation", "language", "answered")


def judge(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    """All failure reasons of `answer` for `turn` (a case or one turn of a conversation, with its language)."""
    from evals.cases import kind_of

    failures = check_citations(answer, source_text)
    failures += check_language(answer, turn["language"])
    failures += check_answered(answer, turn)
    kind = kind_of(turn)
    if kind == "unanswerable":
        return failures
    failures += check_grounding(answer)
    if kind == "names":
        failures += check_names(answer, turn, source_text)
    else:
        failures += check_figure(answer, turn, source_text)
    return failures


def failed_checks(failures: list[str]) -> set[str]:
    return {f.split(":", 1)[0] for f in failures}
