"""Per-language data, as spaCy keeps it (spacy/lang/*): each language is a folder holding only data — the
spaCy pipeline to load, the cue lemmas of modality and time, the words of questions. The engine's logic
is language-agnostic and reads these through `get(lang)`; a third language is one more folder."""
from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType

SUPPORTED = ("fr", "en")


@lru_cache(maxsize=None)
def get(lang: str) -> ModuleType:
    return importlib.import_module(f"assistant.lang.{lang if lang in SUPPORTED else 'en'}")
