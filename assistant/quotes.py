"""Quotation marks: how answers set quotes apart from their own words."""
from __future__ import annotations

QUOTE_MARKS = {"fr": ("« ", " »"), "en": ("“", "”")}
_OPEN = {"«": "»", "“": "”"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_TRIM = " \t\n«»“”\"'‘’"


def quote(text: str, language: str) -> str:
    left, right = QUOTE_MARKS[language]
    return f"{left}{text}{right}"


def strip_quotes(text: str) -> str:
    """Remove quoted spans, leaving the answer's own words. Quotes nest (a quoted sentence may itself
    quote someone: « ... son « IA à la recherche de la vérité » ... »): depth is counted per mark pair."""
    out: list[str] = []
    stack: list[str] = []
    for ch in text:
        if ch in _OPEN:
            if not stack:
                out.append(" ")
            stack.append(ch)
        elif ch in _CLOSE and stack and stack[-1] == _CLOSE[ch]:
            stack.pop()
        elif not stack:
            out.append(ch)
    return "".join(out)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without the spaces and quotation marks around it, so that a cited sentence which is
    itself a quotation (« Les enjeux ... par an. ») is not set in marks twice."""
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and (text[end - 1] in _TRIM or text[end - 1] in ",;:"):
        end -= 1
    return start, end
