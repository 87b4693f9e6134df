"""The language of a question: French or English (lingua, restricted to the two)."""
from __future__ import annotations

import re
from functools import lru_cache

from assistant import lang as langdata
from assistant.types import Language

# Words that settle a short question on their own (lingua is unsure on 2-3 words like "Et Google ?").
_FR_MARKERS = frozenset(
    "combien quel quelle quels quelles qui quoi pourquoi comment est-ce et le la les des du une un de "
    "sa son ses leur elle il ils a-t-il a-t-elle où quand selon d'après par pour avec".split()
)
_EN_MARKERS = frozenset(
    "how what which who whom whose why when where and the of is are does did do was were its it "
    "their much many according to by for with".split()
)
_WORD = re.compile(r"[a-zà-ÿ'’-]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language as L
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(L.FRENCH, L.ENGLISH).with_preloaded_language_models().build()


def detect_language(text: str, default: Language | None = None) -> tuple[Language, float]:
    """(language, confidence in [0, 1]). Short or ambiguous text falls back to `default` when given."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    if not words:
        return (default or "en"), 0.0
    opener = _opening_language(words[0])
    if opener is not None:  # names and glosses of the other language later in the question do not outvote it
        return opener, 1.0
    fr_hits = sum(w in _FR_MARKERS for w in words)
    en_hits = sum(w in _EN_MARKERS for w in words)
    from lingua import Language as L

    values = _detector().compute_language_confidence_values(text)
    conf = {("fr" if v.language == L.FRENCH else "en"): v.value for v in values}
    fr = conf.get("fr", 0.0) + 0.15 * (fr_hits - en_hits)
    en = conf.get("en", 0.0) + 0.15 * (en_hits - fr_hits)
    lang: Language = "fr" if fr >= en else "en"
    confidence = min(1.0, abs(fr - en))
    if default is not None and len(words) <= 3 and confidence < 0.6:
        return default, confidence
    return lang, confidence


def _opening_language(word: str) -> Language | None:
    """The one supported language whose interrogatives include the question's first word, if exactly one."""
    owners = [lang for lang in langdata.SUPPORTED if word in langdata.get(lang).INTERROGATIVES]
    return owners[0] if len(owners) == 1 else None


def is_supported_language(text: str) -> bool:
    """False when the text is clearly in a third language (lingua over a wider set)."""
    return other_language(text) is None


@lru_cache(maxsize=1)
def _wide_detector():
    from lingua import Language as L
    from lingua import LanguageDetectorBuilder

    langs = [L.FRENCH, L.ENGLISH, L.GERMAN, L.SPANISH, L.ITALIAN, L.PORTUGUESE, L.DUTCH, L.RUSSIAN,
             L.CHINESE, L.JAPANESE, L.ARABIC, L.KOREAN, L.POLISH, L.TURKISH]
    # Low-accuracy mode: small models, loaded in a fraction of the time; the question is only whether
    # a third language clearly dominates.
    return LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()


def other_language(text: str) -> str | None:
    """The name of a third language the question is clearly written in, else None."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    if any(w in _FR_MARKERS or w in _EN_MARKERS for w in words):
        return None  # a French or English question word settles it (and skips the slower detector)
    if len(words) < 3 and not re.search(r"[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", text):
        return None
    from lingua import Language as L

    values = _wide_detector().compute_language_confidence_values(text)
    if not values:
        return None
    top = values[0]
    if top.language in (L.FRENCH, L.ENGLISH) or top.value < 0.7:
        return None
    return top.language.name.capitalize()
