"""Figures in FR/EN text: parse value, unit, qualifier and exact span; format them per locale.

"près de 6 milliards de dollars" -> Figure(6e9, 'USD', 'money', 'nearly'); formatted back as
"nearly $6 billion" (en) or "près de 6 milliards de dollars" (fr). Number words go through text2num,
group separators and decimal marks through babel's locale data.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from babel.numbers import format_decimal

from assistant.types import Figure

_SP = r"[ \u00a0\u202f]"
# A numeral: 350 000 / 30,000 / 9,3 / 9.3 / 2024. Not glued to letters (H100, GPT-4).
_NUMERAL = (r"(?<![\w.,\-\[])(?:\d{1,3}(?:(?:" + _SP + r"|,)\d{3})+(?![\d])(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\w\]])"
            r"|(?<![\w.,\-\[])\d+(?:[.,]\d+)?(?=(?:bn|b|m|k)\b)")
_NUMBER_WORDS_FR = ("un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|"
                    "cinquante|soixante|cent|cents|mille")
_NUMBER_WORDS_EN = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                    "fifty|sixty|hundred|thousand|a")
_WORDNUM = rf"(?<![\w])(?:{_NUMBER_WORDS_FR}|{_NUMBER_WORDS_EN})(?:[ -](?:{_NUMBER_WORDS_FR}|{_NUMBER_WORDS_EN}|et))*(?![\w])"

_SCALES = {
    "milliard": 1e9, "milliards": 1e9, "billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "millions": 1e6, "m": 1e6, "mn": 1e6, "mille": 1e3, "thousand": 1e3, "k": 1e3,
    "trillion": 1e12, "trillions": 1e12, "billiard": 1e15,
}
_SCALE = r"(?:milliards?|millions?|billions?|trillions?|thousand|mille|bn|mn|b|m|k)(?![\w])"
_CURRENCY_WORDS = r"(?:de |d['’])?(?:dollars?(?: américains| US)?|euros?|USD|EUR|US\$)(?![\w])"
_UNIT_WORDS = {
    "%": "%", "pour cent": "%", "pourcents": "%", "percent": "%", "per cent": "%",
    "gpu": "GPU", "gpus": "GPU", "puces": "GPU",
    "mois": "month", "month": "month", "months": "month", "ans": "year", "années": "year", "years": "year",
    "an": "year", "year": "year", "semaines": "week", "weeks": "week", "semaine": "week", "week": "week",
    "jours": "day", "days": "day", "jour": "day", "day": "day",
    "utilisateurs": "user", "users": "user", "employés": "employee", "employees": "employee",
    "salariés": "employee", "abonnés": "user", "subscribers": "user",
}
_UNIT = (r"(?:%|pour ?cents?|per ?cent|percent|(?:de |d['’])?(?:GPU|GPUs|puces)|mois|months?|ans|années|years?|an|"
         r"semaines?|weeks?|jours?|days?|(?:d['’])?utilisateurs|users|(?:d['’])?employés|employees|salariés|"
         r"(?:d['’])?abonnés|subscribers)(?![\w])")
_QUALIFIERS = [
    (r"d['’]environ|environ|approximativement|approximately|approx\.|about|around|roughly|some", "about"),
    (r"près de|presque|pratiquement|nearly|almost|close to|quasiment", "nearly"),
    (r"plus de|au-delà de|more than|over|above|upwards of", "more_than"),
    (r"moins de|less than|under|below|fewer than", "less_than"),
    (r"au moins|at least|minimum", "at_least"),
    (r"jusqu['’]à|up to", "up_to"),
]
_QUALIFIER = "|".join(f"(?P<q{i}>{rx})" for i, (rx, _) in enumerate(_QUALIFIERS))

_FIGURE = re.compile(
    rf"(?:(?:{_QUALIFIER}){_SP}+)?"
    rf"(?:(?P<cur>\$|€|US\$){_SP}?)?"
    rf"(?P<num>{_NUMERAL}|{_WORDNUM})"
    rf"(?:{_SP}*(?P<scale>{_SCALE}))?"
    rf"(?:{_SP}*(?P<cur2>{_CURRENCY_WORDS}|\$|€))?"
    rf"(?:{_SP}*(?P<unit>{_UNIT}))?",
    re.IGNORECASE,
)
_PER = re.compile(rf"^{_SP}*(?:par mois|chaque mois|per month|a month|each month|/mois|/month|monthly)"
                  rf"|^{_SP}*(?:par an|chaque année|per year|a year|each year|/an|/year|annually)", re.I)


@lru_cache(maxsize=2048)
def _word_value(words: str) -> float | None:
    from text_to_num import text2num

    w = words.lower().replace("-", " ").strip()
    if w in ("un", "une", "one", "a"):
        return 1.0
    for lang in ("fr", "en"):
        try:
            return float(text2num(w, lang))
        except ValueError:
            continue
    return None


def _numeral_value(raw: str) -> float:
    s = re.sub(_SP, "", raw)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", s):  # 30,000 / 1,234.5
        return float(s.replace(",", ""))
    return float(s.replace(",", "."))


def parse_figures(text: str) -> list[Figure]:
    """Every figure in `text`, with text[f.start:f.end] == f.text."""
    out: list[Figure] = []
    for m in _FIGURE.finditer(text):
        num = m.group("num")
        is_word = not any(ch.isdigit() for ch in num)
        scale_word = (m.group("scale") or "").lower()
        cur = m.group("cur") or m.group("cur2") or ""
        unit_word = (m.group("unit") or "").lower()
        if is_word:
            # "un grand peut-être" is no figure; "un milliard", "trois mois", "deux atouts"? only with a scale or unit.
            if not (scale_word or unit_word or cur) or scale_word in ("b", "m", "k", "bn", "mn"):
                continue
            value = _word_value(num)
            if value is None:
                continue
        else:
            value = _numeral_value(num)
        if scale_word in ("b", "m", "k", "bn", "mn") and not (cur or re.search(r"\d(bn|b|m|k)\b", m.group(), re.I)):
            scale_word = ""  # "6 m" without currency is a distance, not millions
        if scale_word in ("bn", "b") and not cur and re.search(r"\d(bn|b)\b", m.group(), re.I):
            cur = "$"  # "6bn" is the news idiom for money
        if scale_word:
            value *= _SCALES[scale_word]
        qualifier = next((_QUALIFIERS[i][1] for i in range(len(_QUALIFIERS)) if m.group(f"q{i}")), "")
        unit, kind = _unit_kind(cur, unit_word, num, bool(scale_word), value)
        if kind == "":
            continue
        end = m.end()
        if not (m.group("scale") or cur or unit_word):
            end = m.end("num")
        # Drop a trailing space the optional groups may have swallowed.
        while end > m.start() and text[end - 1] in " \u00a0\u202f":
            end -= 1
        start = m.start()
        if kind == "year" and qualifier:
            start = m.start("num") - (1 if m.group("cur") else 0)
            qualifier = ""
        per = ""
        pm = _PER.match(text[end:])
        if pm:
            per = "month" if re.search(r"mois|month", pm.group(), re.I) else "year"
        out.append(Figure(value, unit, kind, qualifier, start, end, text[start:end], per))
    return out


def _unit_kind(cur: str, unit_word: str, num: str, scaled: bool, value: float) -> tuple[str, str]:
    if cur:
        return ("EUR" if ("€" in cur or "euro" in cur.lower() or "eur" == cur.lower()) else "USD"), "money"
    if unit_word:
        key = re.sub(r"^(?:de |d['’])", "", unit_word)
        key = re.sub(r"\s+", " ", key)
        unit = _UNIT_WORDS.get(key, _UNIT_WORDS.get(key.replace(" ", ""), key))
        if unit == "%":
            return "%", "percent"
        if unit in ("month", "year", "week", "day"):
            return unit, "duration"
        return unit, "count"
    digits = re.sub(r"\D", "", num)
    if not scaled and re.fullmatch(r"(19|20)\d{2}", num):
        return "year", "year"
    if digits and len(digits) == 1 and not scaled:
        return "", "count"
    return "", "count"


# ---------------------------------------------------------------- formatting

_UNIT_NAMES = {
    "en": {"GPU": ("GPU", "GPUs"), "month": ("month", "months"), "year": ("year", "years"), "week": ("week", "weeks"),
           "day": ("day", "days"), "user": ("user", "users"), "employee": ("employee", "employees")},
    "fr": {"GPU": ("GPU", "GPU"), "month": ("mois", "mois"), "year": ("an", "ans"), "week": ("semaine", "semaines"),
           "day": ("jour", "jours"), "user": ("utilisateur", "utilisateurs"), "employee": ("employé", "employés")},
}
_QUALIFIER_WORDS = {
    "en": {"about": "about", "nearly": "nearly", "more_than": "more than", "less_than": "less than",
           "at_least": "at least", "up_to": "up to"},
    "fr": {"about": "environ", "nearly": "près de", "more_than": "plus de", "less_than": "moins de",
           "at_least": "au moins", "up_to": "jusqu'à"},
}


def _number(value: float, language: str) -> str:
    locale = "fr_FR" if language == "fr" else "en_US"
    return format_decimal(round(value, 2), locale=locale, format="#,##0.##")


def _scaled(value: float, language: str) -> tuple[str, str]:
    """(number, scale word) for large values: 6e9 -> ('6', 'billion'/'milliards')."""
    for size, en, fr_one, fr_many in ((1e9, "billion", "milliard", "milliards"), (1e6, "million", "million", "millions")):
        if value >= size and (value / size) == round(value / size, 2):
            n = value / size
            if language == "en":
                return _number(n, language), en
            return _number(n, language), fr_one if n < 2 else fr_many
    return _number(value, language), ""


def format_figure(fig: Figure, language: str) -> str:
    lang = "fr" if language == "fr" else "en"
    q = _QUALIFIER_WORDS[lang].get(fig.qualifier, "")
    if fig.kind == "year":
        body = str(int(fig.value))
    elif fig.kind == "percent":
        body = f"{_number(fig.value, lang)} %" if lang == "fr" else f"{_number(fig.value, lang)}%"
    elif fig.kind == "money":
        n, scale = _scaled(fig.value, lang)
        if lang == "en":
            symbol = "$" if fig.unit == "USD" else "€"
            body = f"{symbol}{n}" + (f" {scale}" if scale else "")
        else:
            currency = "dollars" if fig.unit == "USD" else "euros"
            body = f"{n} {scale} de {currency}" if scale else f"{n} {currency}"
    else:
        n, scale = _scaled(fig.value, lang) if fig.value >= 1e6 else (_number(fig.value, lang), "")
        names = _UNIT_NAMES[lang].get(fig.unit)
        noun = ""
        if names:
            noun = names[0] if fig.value < 2 and not scale else names[1]
        elif fig.unit:
            noun = fig.unit
        if scale and noun:
            body = f"{n} {scale} {'de ' if lang == 'fr' else ''}{noun}"
        else:
            body = " ".join(x for x in (n, scale, noun) if x)
    if fig.per:
        body += {"en": {"month": " per month", "year": " per year"},
                 "fr": {"month": " par mois", "year": " par an"}}[lang][fig.per]
    return f"{q} {body}" if q else body


def same_value(a: Figure, b: Figure) -> bool:
    """Same quantity after normalisation: kind, unit (a bare count matches a counted one), value within
    0.5 %, and the rate when both state one. Qualifiers are ignored."""
    if a.kind != b.kind:
        return False
    if a.unit != b.unit and not (a.kind == "count" and "" in (a.unit, b.unit)):
        return False
    if a.per and b.per and a.per != b.per:
        return False
    if a.value == b.value:
        return True
    return abs(a.value - b.value) <= 0.005 * max(abs(a.value), abs(b.value))


def figure_in(fig: Figure, text: str) -> bool:
    return any(same_value(fig, other) for other in parse_figures(text))


def shift(fig: Figure, offset: int) -> Figure:
    return replace(fig, start=fig.start + offset, end=fig.end + offset)
