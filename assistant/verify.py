"""The grounding check every answer passes through before it leaves, extractive or LLM-written."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from assistant.figures import figure_in, parse_figures
from assistant.quotes import strip_quotes
from assistant.types import Citation, Figure

_MARKER = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    figures: tuple[Figure, ...] = ()  # the figures stated in the answer's own words


_NAME_WORD = re.compile(r"(?<=[\w,;] )[A-Z][\w&'’.-]*")


def without_names(text: str) -> str:
    """Own words minus capitalised words inside sentences: names are in no language."""
    return _NAME_WORD.sub(" ", text)


def own_words(text: str) -> str:
    """The answer minus its quotes and [n] markers: what the assistant itself claims."""
    return _MARKER.sub(" ", strip_quotes(text))


def verify(text: str, citations: list[Citation], source_text: Callable[[str], str],
           language: str | None = None, detect: Callable[[str], str] | None = None) -> Verdict:
    """ok only if every quote is its source's exact text at its offsets, every figure in the own
    words equals a figure inside a cited quote, and (when asked) the own words are in `language`."""
    for c in citations:
        try:
            original = source_text(c.source_id)
        except KeyError:
            return Verdict(False, f"citation [{c.number}] names an unknown source {c.source_id!r}")
        if not (0 <= c.start <= c.end <= len(original)) or original[c.start:c.end] != c.quote:
            return Verdict(False, f"citation [{c.number}] is not the exact text of {c.source_id} at {c.start}:{c.end}")
    words = own_words(text)
    stated = parse_figures(words)
    quotes = "\n".join(c.quote for c in citations)
    for fig in stated:
        if not figure_in(fig, quotes):
            return Verdict(False, f"the figure {fig.text!r} is in no cited span", tuple(stated))
    plain = without_names(words)
    if language and detect is not None and len(re.findall(r"[^\W\d_]{2,}", plain)) >= 3:
        found = detect(plain)
        if found != language:
            return Verdict(False, f"the answer's own words are in {found!r}, the question in {language!r}", tuple(stated))
    return Verdict(True, "", tuple(stated))
