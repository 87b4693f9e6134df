"""Judge one Answer against one case: a list of failure reasons, each tagged with its check.

Checks: figure | names | grounding | citation | language | answered. An empty list is a pass.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from assistant.figures import figure_in, parse_figures, same_value
from assistant.types import Answer, Figure
from assistant.verify import own_words

CHECKS = ("figure", "names", "grounding", "citation", "language", "answered")


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def words_language(text: str) -> str | None:
    """FR/EN of the answer's own words, names left out (capitalised words inside a sentence: "Sequoia
    Capital" is in no language); None when fewer than 3 words remain (too short to judge: then
    answer.language alone is checked)."""
    import re

    from lingua import Language

    text = re.sub(r"(?<=[\w,;] )[A-Z][\w&'’.-]*", " ", text)
    if len(re.findall(r"[^\W\d_]{2,}", text)) < 3:
        return None
    found = _detector().detect_language_of(text)
    return {Language.FRENCH: "fr", Language.ENGLISH: "en"}.get(found)


def expected_figure(expected: dict[str, Any]) -> Figure:
    return Figure(float(expected["value"]), str(expected.get("unit", "")), str(expected["kind"]),
                  per=str(expected.get("per", "")))


def judge(answer: Answer, expected: Any, language: str, source_text: Callable[[str], str]) -> list[str]:
    """expected: {value, unit, kind[, per]} | {names: [...]} | 'unanswerable'."""
    failures: list[str] = []
    words = own_words(answer.text)
    stated = parse_figures(words)
    quotes = "\n".join(c.quote for c in answer.citations)

    exact = True
    for c in answer.citations:
        try:
            ok = source_text(c.source_id)[c.start:c.end] == c.quote
        except KeyError:
            ok = False
        if not ok:
            exact = False
            failures.append(f"citation: [{c.number}] is not the source's text at {c.source_id}:{c.start}:{c.end}")

    if answer.language != language:
        failures.append(f"language: answer.language is {answer.language!r}, the question is {language!r}")
    found = words_language(words)
    if found is not None and found != language:
        failures.append(f"language: the answer's own words are in {found!r}")

    if expected == "unanswerable":
        if answer.answered:
            failures.append("answered: answered=True on a question the articles do not answer")
        if stated:
            failures.append(f"answered: a refusal states figures {[f.text for f in stated]}")
        return failures

    if not answer.answered:
        failures.append("answered: answered=False on an answerable question")

    for fig in stated:
        if not figure_in(fig, quotes):
            failures.append(f"grounding: {fig.text!r} is in no cited span")

    if "names" in expected:
        missing = [n for n in expected["names"] if n not in words]
        if missing:
            failures.append(f"names: missing {missing}")
        if not any(all(n in c.quote for n in expected["names"]) for c in answer.citations):
            failures.append("citation: no cited span contains the names")
        return failures

    want = expected_figure(expected)
    if not any(same_value(f, want) for f in stated):
        failures.append(f"figure: {want.value:g} {want.unit} not stated in own words {words.strip()[:120]!r}")
    if exact and not any(figure_in(want, c.quote) for c in answer.citations):
        failures.append("citation: no cited span contains the expected figure")
    return failures
