"""Judge one Answer against one turn of a case: a list of failure reasons ("check: reason"); empty = pass.
Then one outcome per turn (`outcome()`), what the suites count.

Pure functions: an Answer, the turn (see evals/cases.py) and a `source_text(source_id) -> str`; no engine.
Figures and names are read by the judge's own matcher (evals/matcher.py), never by the engine's parser, so a
parser bug in the engine cannot be mirrored here.

Checks
  figure     the expected figure is stated in the answer's OWN WORDS (matcher.own_words: « … » / “ … ” quotes
             and [n] markers removed), compared by matcher.gives: "$6 billion", "6 milliards de dollars" and
             "6bn" are equal, a wrong scale, currency or unit is not; the rate must be the same ("1 milliard
             par mois" is not "$1 billion"); when the article bounds the figure ("moins de 1 %", "plus de
             350 000 dollars": `qualifier` in the case) the answer must keep that bound, and must not invent a
             bound the article does not state ("more than $6 billion" for "près de 6 milliards"); "about" and
             "nearly" are interchangeable with no qualifier. A bound the gold span itself states ("jusqu'à
             312 mm") is accepted too, when the case did not record it. A rate may be said apart from the
             number ("xAI's monthly loss is $1 billion"). With `expected_any`, any one alternative.
  compound   (`expected_all`) every expected figure is stated in the own words as above.
  names      every expected name appears in the own words (case, accents, hyphens and spacing folded,
             whole words: "NVIDIA" == "Nvidia").
  grounding  every figure in the own words is the same quantity as a figure inside a cited quote (a stated
             rate must be a quoted rate).
  citation   every citation is its source's exact text at its offsets (0 <= start < end <= len); citation
             numbers are unique; every [n] marker has a citation and every citation a marker; every quoted span
             shown in the text is part of a citation; and some exact citation from the expected source contains
             the expected figure (for a compound: each expected figure) or all the expected names.
  language   answer.language is the case's language, and so is the language of the own words (lingua
             restricted to FR/EN, names removed). Own words with fewer than 3 words of 2+ letters once names
             are removed are too short for lingua; they are judged by marker words instead: they fail when they
             hold a word only the other language uses ("nearly", "billion", "per" / "milliards", "environ",
             "mois"...) and none only the case's language uses ("Nearly $6 billion [1]" is English; "$6bn" too).
             Own words with no marker word ("Mark Zuckerberg [1]", "18 000 000 000 $") are not judged.
  answered   answered=False for an unanswerable, and its own words state no figure except one the question
             itself holds ("The articles don't say what Meta will spend in 2025" echoes 2025, claims nothing);
             answered=True otherwise.

Outcomes (one per turn)
  correct        answered an answerable turn, and every applicable check passed.
  wrong_stated   answered=True with a figure or names that are not the gold: the expected figure (or every
                 compound figure, or every name) is not in the own words — another figure, a wrong scale,
                 unit, rate or bound, names missing, or only a quoted passage; or answered=True on an
                 unanswerable turn.
  false_refusal  answered=False on an answerable turn.
  refused        answered=False on an unanswerable turn (right).
  flawed         the right figure or names in the own words, but a citation, grounding or language check failed.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from assistant.types import Answer
from evals.matcher import (Quantity, contains, describe, expected_quantity, gives, grounded, guess_language,
                           has_name, matches, own_words, parse, same_quantity, stated_bounds)

CHECKS = ("figure", "compound", "names", "grounding", "citation", "language", "answered")
OUTCOMES = ("correct", "wrong_stated", "false_refusal", "refused", "flawed")
CONTENT_CHECKS = ("figure", "compound", "names")  # failing one of these while answering = wrong_stated
MIN_WORDS = 3  # below this many words (names removed) lingua is not asked

__all__ = ["CHECKS", "OUTCOMES", "judge", "outcome", "assess", "applicable", "failed_checks", "expected_figure",
           "matches", "words_language"]

_MARKER = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"«([^»]*)»|“([^”]*)”")
# A capitalised word inside a sentence is a name ("Sequoia Capital", "Financial Times"): in no language.
_NAME_WORD = re.compile(r"(?<=[\w,;] )[A-Z][\w&'’.-]*")
# Words only one of the two languages uses, for own words too short for lingua.
_ONLY = {
    "en": {"nearly", "about", "around", "roughly", "approximately", "billion", "billions", "bn", "trillion", "more",
           "than", "less", "fewer", "under", "over", "per", "month", "months", "year", "years", "according", "the",
           "and", "of", "gpus", "some", "almost"},
    "fr": {"environ", "près", "presque", "milliard", "milliards", "moins", "mois", "ans", "année", "années", "selon",
           "après", "et", "de", "des", "du", "le", "la", "les", "d", "l", "quelque", "pratiquement"},
}

SourceText = Callable[[str], str]


# ------------------------------------------------------------------ internals

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


def expected_figure(expected: dict[str, Any]) -> Quantity:
    """A case's expected figure ({value, unit, kind[, per][, qualifier]}) as the matcher's Quantity."""
    return expected_quantity(expected)


_LANG_CACHE: dict[tuple[str, int], str] = {}


def _source_language(source_id: str, source_text: SourceText) -> str:
    """The language of a cited article (decides what "1.500" means in its quotes), from its whole text."""
    try:
        text = source_text(source_id)
    except Exception:  # noqa: BLE001  (an unknown source: whatever the reader raises)
        return ""
    key = (source_id, len(text))
    if key not in _LANG_CACHE:
        _LANG_CACHE[key] = guess_language(text)
    return _LANG_CACHE[key]


def _exact(answer: Answer, source_text: SourceText) -> list:
    good = []
    for c in answer.citations:
        try:
            text = source_text(c.source_id)
        except Exception:  # noqa: BLE001  (an unknown source is no exact citation, whatever the reader raises)
            continue
        if 0 <= c.start < c.end <= len(text) and text[c.start:c.end] == c.quote:
            good.append(c)
    return good


def _quoted_figures(answer: Answer, source_text: SourceText) -> list[Quantity]:
    return [f for c in answer.citations for f in parse(c.quote, _source_language(c.source_id, source_text))]


def _bounds(item: dict[str, Any], want: Quantity, source_text: SourceText) -> set[str]:
    """Bounds accepted beyond the case's qualifier: those the gold span itself states."""
    gold, source = item.get("gold"), item.get("source")
    return stated_bounds(want, gold, _source_language(source, source_text) if source else None) if gold else set()


def _cites(c, want: Quantity, source: str | None, source_text: SourceText) -> bool:
    return (not source or c.source_id == source) and contains(want, c.quote, _source_language(c.source_id, source_text))


# ------------------------------------------------------------------ checks

def check_citations(answer: Answer, source_text: SourceText) -> list[str]:
    out = []
    exact = _exact(answer, source_text)
    for c in answer.citations:
        if c not in exact:
            out.append(f"citation: [{c.number}] is not the source's text at {c.source_id}:{c.start}:{c.end}")
    numbers = [c.number for c in answer.citations]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        out.append(f"citation: numbers {repeated} are used by more than one citation")
    markers = {int(m) for m in _MARKER.findall(answer.text)}
    if markers - set(numbers):
        out.append(f"citation: markers {sorted(markers - set(numbers))} have no citation")
    if set(numbers) - markers:
        out.append(f"citation: citations {sorted(set(numbers) - markers)} are never referred to in the text")
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
            return ["answered: answered=True on a question the articles do not answer"]
        asked = parse(turn.get("question", ""), turn["language"])
        stated = [f for f in parse(own_words(answer.text), turn["language"])
                  if not any(same_quantity(f, q) for q in asked)]
        if stated:
            out.append(f"answered: the refusal states figures of its own {[f.text for f in stated]}")
        return out
    return [] if answer.answered else ["answered: answered=False on a question the articles answer"]


def check_grounding(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    quoted = _quoted_figures(answer, source_text)
    return [f"grounding: {f.text!r} in the own words is in no cited quote"
            for f in parse(own_words(answer.text), turn["language"]) if not grounded(f, quoted)]


def check_figure(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    from evals.cases import alternatives

    words = own_words(answer.text)
    stated = parse(words, turn["language"])
    exact = _exact(answer, source_text)
    out = []
    wanted = [(alt, expected_figure(alt)) for alt in alternatives(turn)]
    said = [(alt, want) for alt, want in wanted
            if any(gives(f, want, words, _bounds(alt, want, source_text)) for f in stated)]
    if not said:
        options = " or ".join(describe(w) for _, w in wanted)
        out.append(f"figure: {options} not stated in the own words {words.strip()[:140]!r} "
                   f"(stated: {[f.text for f in stated]})")
        said = wanted  # still judge whether the right span was cited
    if not any(_cites(c, want, alt.get("source"), source_text) for alt, want in said for c in exact):
        out.append("citation: no exact citation from the expected source contains the expected figure")
    return out


def check_compound(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    from evals.cases import required

    words = own_words(answer.text)
    stated = parse(words, turn["language"])
    exact = _exact(answer, source_text)
    out = []
    for item in required(turn):
        want = expected_figure(item)
        if not any(gives(f, want, words, _bounds(item, want, source_text)) for f in stated):
            out.append(f"compound: {describe(want)} not stated in the own words {words.strip()[:140]!r} "
                       f"(stated: {[f.text for f in stated]})")
        if not any(_cites(c, want, item.get("source"), source_text) for c in exact):
            out.append(f"citation: no exact citation from the expected source contains {describe(want)}")
    return out


def check_names(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> list[str]:
    names = turn["expected"]["names"]
    words = own_words(answer.text)
    out = []
    missing = [n for n in names if not has_name(n, words)]
    if missing:
        out.append(f"names: {missing} not in the own words {words.strip()[:140]!r}")
    if not any(all(has_name(n, c.quote) for n in names) for c in _exact(answer, source_text)):
        out.append("citation: no exact citation contains all the expected names")
    return out


# ------------------------------------------------------------------ the public interface

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
    failures += check_grounding(answer, turn, source_text)
    if kind == "names":
        failures += check_names(answer, turn, source_text)
    elif kind == "compound":
        failures += check_compound(answer, turn, source_text)
    else:
        failures += check_figure(answer, turn, source_text)
    return failures


def failed_checks(failures: list[str]) -> set[str]:
    return {f.split(":", 1)[0] for f in failures}


def outcome(answer: Answer, turn: dict[str, Any], failures: list[str]) -> str:
    """correct | wrong_stated | false_refusal | refused | flawed (see the module doc)."""
    if turn.get("unanswerable"):
        return "wrong_stated" if answer.answered else "refused"
    if not answer.answered:
        return "false_refusal"
    failed = failed_checks(failures)
    if failed & set(CONTENT_CHECKS):
        return "wrong_stated"
    return "flawed" if failed else "correct"


def assess(answer: Answer, turn: dict[str, Any], source_text: SourceText) -> tuple[list[str], str]:
    """(failures, outcome) of one answer."""
    failures = judge(answer, turn, source_text)
    return failures, outcome(answer, turn, failures)
