"""Quotation marks: how answers set quotes apart from their own words."""
from __future__ import annotations

import re

QUOTE_MARKS = {"fr": ("« ", " »"), "en": ("“", "”")}
# Quoted material: «...», “...”, and the citation markers [n] attached to it.
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”")


def quote(text: str, language: str) -> str:
    left, right = QUOTE_MARKS[language]
    return f"{left}{text}{right}"


def strip_quotes(text: str) -> str:
    """Remove quoted spans, leaving the answer's own words."""
    return _QUOTED.sub(" ", text)
