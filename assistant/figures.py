"""Figures in FR/EN text: value, unit, qualifier and exact span; formatted back per locale.

"près de 6 milliards de dollars" -> Figure(6e9, 'USD', 'money', 'nearly'), rendered "nearly $6 billion"
(en) or "près de 6 milliards de dollars" (fr). Digits are read by regex; spelled-out numbers by
text2num's `find_numbers` over the number-word tokens of the original text, so offsets point into it.
Formatting goes through babel's locale data (group separators, decimal marks, percent spacing).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_decimal, format_percent
from text_to_num import find_numbers, text2num

from assistant.types import Figure

_SP = "[ \u00a0\u202f]"  # French typography uses NBSP and narrow NBSP (babel emits both)
_NOT_LETTER_AFTER = r"(?![^\W\d_])"
_APOS = "['’]"
_DE = rf"(?:de{_SP}+|d{_APOS}{_SP}*)"  # "de dollars", "d'euros", "d’utilisateurs"

# A numeral not glued to letters (H100), to a hyphenated name (GPT-4), a citation bracket ([1]) or n°1.
# Groups of three after a space/NBSP (FR) or a comma (EN); a 3-digit comma group is read as thousands.
_NUMERAL = re.compile(
    rf"(?<![\w.,\[°#])(?<![^\W\d]-)"
    rf"(?:(?P<sp>[1-9]\d{{0,2}}(?:{_SP}\d{{3}})+(?:,\d+)?)"
    rf"|(?P<dt>[1-9]\d{{0,2}}(?:\.\d{{3}})+)(?![.,]\d)"  # "15.000": French thousands with dots
    rf"|(?P<cm>[1-9]\d{{0,2}}(?:,\d{{3}})+(?:\.\d+)?)"
    rf"|(?P<pl>\d+(?:[.,]\d+)?))"
    rf"(?![\d\]]|[.,]\d)"
)

# Scale words are grammar, not number words: kept here because "bn"/"Md" are not in text2num and
# "billion" is the English (1e9) one in news French too (translations keep it).
_SCALES = {"milliard": 1e9, "billion": 1e9, "bn": 1e9, "md": 1e9, "mrd": 1e9, "b": 1e9,
           "million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "mille": 1e3, "k": 1e3, "trillion": 1e12}
_BIG_SCALE_WORDS = re.compile(r"(?:milliard|billion|million|trillion|thousand|hundred)s?", re.I)
_INNER_SCALE = re.compile(r"(milliard|billion|million|trillion|thousand|mille)s?$", re.I)

_CURRENCY = (rf"(?:{_DE}?(?P<curw>dollars?(?:{_SP}+(?:américains|US))?|euros?|livres{_SP}+sterling)"
             r"|(?P<curc>USD|EUR|GBP)|(?P<curs>US\$|\$|€|£))")
_UNIT = (rf"(?P<pts>points?{_SP}+de{_SP}+pourcentage|percentage{_SP}+points?|pp|points?(?!{_SP}+(?:de{_SP}+)?(?:vente|suture|contact|presse|passage)))"
         rf"|(?P<pct>%|pour{_SP}?cents?|pourcents?|percent|per{_SP}cent)"
         rf"|{_DE}?(?P<noun>GPUs?|puces|chips|utilisateurs?|users?|abonnés|subscribers?|employés|salariés|employees)"
         r"|(?P<dur>mois|months?|ans?|années?|years?|semaines?|weeks?|jours?|days?)"
         # Measures: symbols and their spelled-out names, the same in both languages' news copy.
         rf"|(?P<meas>°{_SP}?C|°{_SP}?F|degrés{_SP}+Celsius|degrees{_SP}+Celsius|degrés|degrees|km/h|mm|cm|km|kWh|MWh|GWh|TWh"
         r"|kW|MW|GW|kg|tonnes?|tons?|litres?|liters?|millimètres?|millimetres?|millimeters?|kilomètres?"
         r"|kilometres?|kilometers?|mégawattheures?|megawatt-hours?|térawattheures?|terawatt-hours?|mètres?|metres?|meters?|m(?![\w/.,]))")
_HALF = rf"{_SP}+(?:et{_SP}+demie?|and{_SP}+a{_SP}+half)"
# Everything that may follow the number: a scale ("milliards", "bn"; a glued "B"/"M"/"k"/"mn" only with
# a currency, since "7B", "4K" and "6 mn" are a model size, a resolution and minutes), "et demi",
# then a currency or a unit, then "et demi" again for durations ("deux ans et demi").
_TAIL = re.compile(
    rf"(?:{_SP}*(?P<scale>milliards?|billions?|millions?|trillions?|thousand|mille|mds?|mrds?|bn)"
    rf"{_NOT_LETTER_AFTER}|(?:{_SP}(?=(?:mn|[bmk])[$€£]))?(?P<letter>mn|[bmk]){_NOT_LETTER_AFTER})?"
    rf"(?P<half1>{_HALF})?"
    rf"(?:{_SP}*(?P<cu>{_CURRENCY}|(?:{_UNIT}){_NOT_LETTER_AFTER}))?"
    rf"(?P<half2>{_HALF})?",
    re.I,
)
_GLUED_LETTER = re.compile(r"[^\W\d_]")
_CENTS = re.compile(rf"{_SP}+(?:cents?|centimes?)(?![^\W\d_])", re.I)
# A noun a scaled number counts ("10 millions d'utilisateurs", "2 million passengers").
_COUNTED_AFTER = re.compile(rf"{_SP}*(?:{_DE})?(?!(?:un|une|a|an|the|le|la|les|de|du|des|en|in|et|and|or|ou|contre|"
                            rf"versus|vs|soit|year|years|an|ans|plus|earlier|before|ago|auparavant|avant|sur|pour|par|dans|avec|sans|selon|"
                            rf"cette|ce|cet|this|that|for|over|from|with|per|each|chaque|fin|at|by|on|to|au|aux)(?![^\W\d_]))"
                            r"[a-zàâçéèêëîïôûùüÿœ]{3,}")
# A plural noun right after a spelled-out number (lower case, ending in s or x, not a function word).
_PLURAL_NOUN = re.compile(rf"{_SP}+(?!(?:les|des|ses|ces|mes|tes|nos|vos|leurs|plus|moins|fois|times|dans|sous|sans|"
                          rf"vers|chez|apres|après|depuis|years|ans|mois|days|jours|weeks|semaines|months|hours|heures)"
                          rf"(?![^\W\d_]))[a-zàâçéèêëîïôûùüÿœ][a-zàâçéèêëîïôûùüÿœ-]*[sx](?![^\W\d_])")
_PREFIX_CURRENCY = re.compile(rf"(?P<cur>US\$|\$|€|£|USD|EUR|GBP){_SP}?$")
_QDE = rf"{_SP}+(?:de|d{_APOS})"  # "près de", "près d'un"
_QUALIFIERS = {
    "about": rf"d{_APOS}environ|environ|approximativement|autour{_QDE}|quelque|about|around|approximately"
             r"|roughly|some|circa",
    "nearly": rf"près{_QDE}|presque|quasiment|pratiquement|nearly|almost|close{_SP}+to",
    # "en plus de 5 milliards" is "in addition to", not "more than".
    "more_than": rf"(?<!en{_SP})plus{_QDE}|au-delà{_QDE}|more{_SP}+than|over|above|upwards{_SP}+of",
    "less_than": rf"moins{_QDE}|less{_SP}+than|fewer{_SP}+than|under|below",
    "at_least": rf"au{_SP}+moins|au{_SP}+minimum|at{_SP}+least",
    "up_to": rf"jusqu{_APOS}{_SP}*à|up{_SP}+to|as{_SP}+(?:many|much){_SP}+as",
}
# Anchored at the end of the text before the number: the qualifier, then its separator.
_QUALIFIER = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(f"(?P<{k}>(?:{rx}))" for k, rx in _QUALIFIERS.items())
    + rf")(?:(?<={_APOS}){_SP}*|{_SP}+)$",
    re.I,
)
_PER = re.compile(
    rf"{_SP}*(?:(?:par|per|chaque|each|every|a|/){_SP}*"
    rf"(?P<unit>mois|month|an|année|annum|year|semaine|week|jour|day){_NOT_LETTER_AFTER}"
    # "a year earlier", "un an plus tôt": a date, not a rate.
    rf"(?!{_SP}+(?:ago|earlier|before|previously|later|plus{_SP}+tôt|auparavant|avant|plus{_SP}+tard))"
    # "$1bn monthly." is a rate; "550 million monthly users" is not.
    rf"|(?P<adv>monthly|mensuellement|annually|annuellement|yearly|weekly|daily){_NOT_LETTER_AFTER}"
    rf"(?!{_SP}+[^\W\d_]))",
    re.I,
)
_ARTICLE_BEFORE = re.compile(rf"(?<![^\W\d_])(?P<half>half{_SP}+)?an?{_SP}+$", re.I)
# "le chatbot Grok 2", "Llama 3": a bare number right after a capitalised word is a version, not a
# figure (this also drops "Selon 3 sources": a bare small count is worth less than a false figure).
_AFTER_NAME = re.compile(rf"(?<![^\W\d_])[A-Z][\w-]*{_SP}$")
_TOKEN = re.compile(r"\w+(?:-\w+)*|[^\w\s]")

_UNIT_OF = {  # surface word (lower case, "de"/"d'" stripped) -> normalised unit
    "gpu": "GPU", "gpus": "GPU", "puces": "GPU", "chips": "GPU",
    "utilisateur": "user", "utilisateurs": "user", "user": "user", "users": "user", "abonnés": "user",
    "subscriber": "user", "subscribers": "user", "employés": "employee", "salariés": "employee",
    "employees": "employee",
    "mois": "month", "month": "month", "months": "month", "an": "year", "ans": "year", "année": "year",
    "années": "year", "annum": "year", "year": "year", "years": "year", "semaine": "week", "semaines": "week",
    "week": "week", "weeks": "week", "jour": "day", "jours": "day", "day": "day", "days": "day",
    "monthly": "month", "mensuellement": "month", "annually": "year", "annuellement": "year",
    "yearly": "year", "weekly": "week", "daily": "day",
}
_DURATIONS = ("month", "year", "week", "day")
_MEASURES = {"°c": "°C", "°f": "°F", "degrés celsius": "°C", "degrees celsius": "°C", "degrés": "°C", "degrees": "°C",
             "km/h": "km/h", "mm": "mm", "cm": "cm", "km": "km", "kwh": "kWh", "mwh": "MWh", "gwh": "GWh",
             "twh": "TWh", "kw": "kW", "mw": "MW", "gw": "GW", "kg": "kg", "tonne": "t", "tonnes": "t", "ton": "t",
             "tons": "t", "litre": "L", "litres": "L", "liter": "L", "liters": "L", "millimètre": "mm",
             "millimètres": "mm", "millimetre": "mm", "millimetres": "mm", "millimeter": "mm", "millimeters": "mm",
             "kilomètre": "km", "kilomètres": "km", "kilometre": "km", "kilometres": "km", "kilometer": "km",
             "kilometers": "km", "mégawattheure": "MWh", "mégawattheures": "MWh", "megawatt-hour": "MWh",
             "megawatt-hours": "MWh", "térawattheure": "TWh", "térawattheures": "TWh", "terawatt-hour": "TWh",
             "terawatt-hours": "TWh", "m": "m", "mètre": "m", "mètres": "m", "metre": "m", "metres": "m", "meter": "m",
             "meters": "m"}
# Unit spellings a caller may hand to same_value (Figure built by hand or from YAML).
_UNIT_ALIASES = {"$": "USD", "usd": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR",
                 "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "percent": "%",
                 "pct": "%", **_UNIT_OF}


class _Token:
    """The token protocol text2num's find_numbers reads."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: object) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


_SEPARATOR = _Token(".")


def _numeral_value(m: re.Match[str]) -> float:
    if m.group("sp"):
        return float(re.sub(_SP, "", m.group("sp")).replace(",", "."))
    if m.group("cm"):
        return float(m.group("cm").replace(",", ""))
    if m.group("dt"):
        return float(m.group("dt").replace(".", ""))
    return float(m.group("pl").replace(",", "."))


@lru_cache(maxsize=8192)
def _number_part(word: str) -> bool:
    """Whether text2num reads `word` as (part of) a number in FR or EN; connectors too ("vingt et un")."""
    w = word.lower()
    if w in ("et", "and"):
        return True
    for lang in ("fr", "en"):
        try:
            text2num(w, lang)
            return True
        except ValueError:
            pass
    return False


def _word_numbers(text: str) -> list[tuple[int, int, float, bool]]:
    """(start, end, value, scale_only) for spelled-out numbers, FR and EN, ordinals left out."""
    # find_numbers is fed the number words only, each run of other tokens collapsed to one separator:
    # the same readings at a tenth of the cost of crossing into it once per token.
    tokens: list[_Token] = []
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text):
        if _number_part(m.group()):
            tokens.append(_Token(m.group()))
            spans.append(m.span())
        elif not tokens or tokens[-1] is not _SEPARATOR:
            tokens.append(_SEPARATOR)
            spans.append(m.span())
    found: dict[tuple[int, int], tuple[int, int, float, bool]] = {}
    for lang in ("fr", "en"):
        for occ in find_numbers(tokens, lang, 0):
            if occ.is_ordinal:
                continue
            start, end = spans[occ.start][0], spans[occ.end - 1][1]
            scale_only = occ.end - occ.start == 1 and bool(_BIG_SCALE_WORDS.fullmatch(text[start:end]))
            found.setdefault((start, end), (start, end, float(occ.value), scale_only))
    return list(found.values())


def _currency(m: re.Match[str], prefix: str) -> str:
    raw = (prefix or m.group("curw") or m.group("curc") or m.group("curs") or "").lower()
    if not raw:
        return ""
    if "€" in raw or "eur" in raw:
        return "EUR"
    if "£" in raw or "gbp" in raw or "livre" in raw:
        return "GBP"
    return "USD"


def _build(text: str, start: int, end: int, value: float, is_word: bool, scale_only: bool) -> Figure | None:
    """The figure whose number is text[start:end], or None when it is no figure (a lone 'un', H100...)."""
    head = text[max(0, start - 40):start]
    if is_word and scale_only:
        # "des milliards", "plusieurs milliards": no number. "a billion", "a million users": one.
        art = _ARTICLE_BEFORE.search(head)
        if not art or art.group("half"):
            return None
        start -= len(art.group())
        head = text[max(0, start - 40):start]
    tail = _TAIL.match(text, end)
    assert tail is not None  # every part of _TAIL is optional
    glued = tail.start("scale") == end or tail.start("letter") == end
    if not is_word and not glued and _GLUED_LETTER.match(text, end):
        return None  # "100qui", "4o": a numeral glued to letters
    prefix = _PREFIX_CURRENCY.search(head[-5:])
    unit = _currency(tail, prefix.group("cur") if prefix else "")
    if tail.group("letter") and not unit:
        return None
    scale_word = (tail.group("scale") or tail.group("letter") or "").lower()
    scale = _SCALES[scale_word.rstrip("s")] if scale_word else 1.0
    value *= scale
    if is_word and not scale_word:
        # "un milliard et demi": the scale is inside the spelled-out number.
        inner = _INNER_SCALE.search(text, start, end)
        scale = _SCALES[inner.group(1).lower()] if inner else 1.0
    if scale_word == "bn" and not unit:
        unit = "USD"  # "6bn" is the news idiom for money
    stop = tail.end("scale") if tail.group("scale") else tail.end("letter") if scale_word else end
    if tail.group("half1"):
        value += 0.5 * scale
        stop = tail.end("half1")
    noun = (tail.group("noun") or tail.group("dur") or "").lower()
    if unit:
        kind = "money"
    elif tail.group("pct"):
        unit, kind = "%", "percent"
    elif tail.group("pts"):
        unit, kind = "pt", "percent"
    elif noun:
        unit = _UNIT_OF[noun]
        kind = "duration" if unit in _DURATIONS else "count"
    elif tail.group("meas"):
        unit, kind = _MEASURES[re.sub(_SP + "+", " ", tail.group("meas").lower()).replace("° ", "°")], "measure"
    else:
        kind = "count"
    if tail.group("cu"):
        stop = tail.end("cu")
        cents = _CENTS.match(text, stop) if kind == "money" and tail.group("curw") else None
        if cents:  # "19.8 euro cents": a hundredth of the currency named
            value /= 100
            stop = cents.end()
        if kind == "duration" and tail.group("half2"):
            value += 0.5
            stop = tail.end("half2")
    if is_word and not (scale_word or scale_only or value >= 1e6 or kind in ("money", "percent", "duration", "measure")
                        or (unit and value > 1)):
        # "vingt-huit sièges", "eight seats", "quatorze écoles": a spelled-out number of two or more before a
        # plural noun counts that noun; "un grand", "un GPU" stay no figure.
        noun_after = _PLURAL_NOUN.match(text, end)
        if not (value >= 2 and noun_after):
            return None
        unit = ""

    if (not is_word and kind == "count" and not unit and not scale_word
            and re.fullmatch(r"\d{4}", text[start:end]) and 1900 <= value <= 2100):
        # A year takes no qualifier ("around 2025" dates, it does not round).
        return Figure(value, "year", "year", "", start, end, text[start:end], "")
    if prefix:
        start -= len(prefix.group())
        head = text[max(0, start - 40):start]
    qualifier = ""
    q = _QUALIFIER.search(head)
    if q:
        qualifier = next(k for k, v in q.groupdict().items() if v)
        start -= len(q.group())
    elif kind == "count" and not unit and not scale_word and _AFTER_NAME.search(head):
        return None  # "Grok 2"
    per = ""
    p = _PER.match(text, stop)
    if p and kind != "duration":
        per = _UNIT_OF[(p.group("unit") or p.group("adv")).lower()]
    return Figure(value, unit, kind, qualifier, start, stop, text[start:stop], per)


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[Figure, ...]:
    candidates = [(m.start(), m.end(), _numeral_value(m), False, False) for m in _NUMERAL.finditer(text)]
    candidates += [(s, e, v, True, so) for s, e, v, so in _word_numbers(text)]
    figures = [f for c in candidates if (f := _build(text, *c)) is not None]
    # Overlaps: "6 milliards" also yields the word "milliards"; the earliest, longest reading wins.
    figures.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Figure] = []
    for f in figures:
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return tuple(_ranges(text, _elided_currency(text, kept)))


_RANGE_JOIN = re.compile(rf"{_SP}*(?:-|–|—|to|à|and|et){_SP}*(?:£|\$|€)?{_SP}*$", re.I)
_RANGE_OPEN = re.compile(rf"(?:between|entre|from|de){_SP}+(?:£|\$|€)?{_SP}*$", re.I)


def _ranges(text: str, figures: list[Figure]) -> list[Figure]:
    """"£310-340 million", "between 5 and 7 %", "de 310 à 340 millions d'euros": the range's first bound
    carries the scale and unit written once, after the second. ("and"/"et" only after "between"/"entre").
    A first bound with a scale or unit of its own keeps its reading."""
    out = list(figures)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        gap = text[a.end:b.start]
        if not _RANGE_JOIN.fullmatch(gap) or a.kind not in ("count", "money") or _BIG_SCALE_WORDS.search(a.text):
            continue
        if re.fullmatch(rf"{_SP}*(?:and|et){_SP}*", gap, re.I) and not _RANGE_OPEN.search(text[max(0, a.start - 12):a.start]):
            continue
        if a.kind == "money" and b.kind == "count" and not b.unit and _BIG_SCALE_WORDS.search(b.text):
            b = out[i + 1] = Figure(b.value, a.unit, "money", b.qualifier, b.start, b.end, b.text, b.per)  # "£280-310 million range"
        if a.unit and a.unit != b.unit or a.kind == "money" and b.kind != "money" or a.unit == b.unit and a.kind == b.kind and not _BIG_SCALE_WORDS.search(b.text):
            continue  # two figures of their own ("2-1", "$5 to $7")
        m = _NUMERAL.search(b.text)
        mantissa = _numeral_value(m) if m else 0.0
        if not mantissa:
            continue
        factor = b.value / mantissa if _BIG_SCALE_WORDS.search(b.text) else 1.0
        value = a.value * factor
        if value > b.value or b.kind == "count" and not b.unit and factor == 1.0:
            continue  # ranges ascend; two bare numbers are two counts
        out[i] = Figure(value, b.unit, b.kind, a.qualifier, a.start, a.end, a.text, b.per)
    return out


def _elided_currency(text: str, figures: list[Figure]) -> list[Figure]:
    """"12 millions d'euros, contre 1,80 milliard un an plus tôt": a scaled amount with no unit of its own
    next to a money figure is money in that currency (press copy drops the repeated currency). A scaled
    number that counts a noun ("10 millions d'utilisateurs") keeps its own unit."""
    money = [f for f in figures if f.kind == "money"]
    if not money:
        return figures
    out = []
    for f in figures:
        if (f.kind == "count" and not f.unit and _BIG_SCALE_WORDS.search(f.text)
                and not _COUNTED_AFTER.match(text, f.end)):
            near = min(money, key=lambda m: abs(m.start - f.start))
            f = Figure(f.value, near.unit, "money", f.qualifier, f.start, f.end, f.text, f.per)
        out.append(f)
    return out


def parse_figures(text: str) -> list[Figure]:
    """Every figure in `text` (FR or EN), in order, with text[f.start:f.end] == f.text."""
    return list(_parse(text))


# ---------------------------------------------------------------- formatting

_NOUNS = {  # unit -> (singular, plural) per language
    "en": {"GPU": ("GPU", "GPUs"), "user": ("user", "users"), "employee": ("employee", "employees"),
           "month": ("month", "months"), "year": ("year", "years"), "week": ("week", "weeks"),
           "day": ("day", "days")},
    "fr": {"GPU": ("GPU", "GPU"), "user": ("utilisateur", "utilisateurs"), "employee": ("employé", "employés"),
           "month": ("mois", "mois"), "year": ("an", "ans"), "week": ("semaine", "semaines"),
           "day": ("jour", "jours")},
}
_CURRENCY_NAMES = {"en": {"USD": "$", "EUR": "€", "GBP": "£"},
                   "fr": {"USD": "dollars", "EUR": "euros", "GBP": "livres sterling"}}
_QUALIFIER_WORDS = {
    "en": {"about": "about", "nearly": "nearly", "more_than": "more than", "less_than": "less than",
           "at_least": "at least", "up_to": "up to"},
    "fr": {"about": "environ", "nearly": "près de", "more_than": "plus de", "less_than": "moins de",
           "at_least": "au moins", "up_to": "jusqu'à"},
}
_PER_WORDS = {"en": {"month": "per month", "year": "per year", "week": "per week", "day": "per day"},
              "fr": {"month": "par mois", "year": "par an", "week": "par semaine", "day": "par jour"}}
_LOCALES = {"en": "en_US", "fr": "fr_FR"}
_SCALE_NAMES = ((1e9, "billion", "milliard"), (1e6, "million", "million"))


def _decimal(value: float) -> Decimal:
    # Through str() so 9.3 stays 9.3 and not 9.300000000000000710...
    return Decimal(str(round(value, 2))).normalize() if value != int(value) else Decimal(int(value))


def _number(value: float, lang: str) -> str:
    return format_decimal(_decimal(value), locale=_LOCALES[lang], decimal_quantization=False)


def _scaled(value: float) -> tuple[float, str, str]:
    """(mantissa, en scale, fr scale) when the value reads exactly as 'n million/billion', else (value, '', '')."""
    for size, en, fr in _SCALE_NAMES:
        n = value / size
        if n >= 1 and abs(n - round(n, 2)) < 1e-9 * n:
            return round(n, 2), en, fr
    return value, "", ""


def knows_noun(unit: str) -> bool:
    """Whether `unit` is a counted thing the renderer names in each language itself."""
    return all(unit in nouns for nouns in _NOUNS.values())


def _noun(unit: str, n: float, lang: str) -> str:
    # A word of the question ("deaths", "voyageurs") is said as asked; English adds the plural "s" it lacks.
    singular, plural = _NOUNS[lang].get(unit, (unit, unit + "s" if lang == "en" and not unit.endswith("s") else unit))
    # English: singular for exactly 1 ("1.5 months"); French: singular below 2 ("1,5 million").
    one = n == 1 if lang == "en" else n < 2
    return singular if one else plural


def _de(word: str) -> str:
    return f"d'{word}" if word[:1].lower() in "aeiouéèêh" else f"de {word}"


def format_figure(fig: Figure, language: str) -> str:
    """The figure with its qualifier and rate, in `language` ('en' or 'fr'), locale-formatted."""
    lang = "fr" if language == "fr" else "en"
    if fig.kind == "year":
        return str(int(fig.value))
    if fig.kind == "measure":
        body = f"{_number(fig.value, lang)}\u00a0{fig.unit}" if lang == "fr" else f"{_number(fig.value, lang)} {fig.unit}"
    elif fig.kind == "percent" and fig.unit == "pt":
        body = f"{_number(fig.value, lang)} " + ("points de pourcentage" if lang == "fr" else "percentage points")
    elif fig.kind == "percent":
        body = format_percent(_decimal(fig.value) / 100, locale=_LOCALES[lang], decimal_quantization=False)
    elif fig.kind == "money":
        n, en_scale, fr_scale = _scaled(fig.value) if fig.value >= 1e6 else (fig.value, "", "")
        num = _number(n, lang)
        if lang == "en":
            symbol = _CURRENCY_NAMES["en"].get(fig.unit)
            body = f"{symbol}{num}" if symbol else f"{num} {fig.unit}"
            body += f" {en_scale}" if en_scale else ""
        else:
            currency = _CURRENCY_NAMES["fr"].get(fig.unit, fig.unit)
            if fr_scale:
                body = f"{num} {fr_scale}{'s' if n >= 2 else ''} {_de(currency)}"
            else:
                body = f"{num} {currency}"
    else:
        n, en_scale, fr_scale = _scaled(fig.value) if fig.value >= 1e6 else (fig.value, "", "")
        num = _number(n, lang)
        noun = _noun(fig.unit, 2 if en_scale else n, lang) if fig.unit else ""
        if lang == "en":
            body = " ".join(x for x in (num, en_scale, noun) if x)
        else:
            scale = f"{fr_scale}{'s' if n >= 2 else ''}" if fr_scale else ""
            body = " ".join(x for x in (num, scale, _de(noun) if scale and noun else noun) if x)
    if fig.per:
        body += " " + _PER_WORDS[lang].get(fig.per, fig.per)
    qualifier = _QUALIFIER_WORDS[lang].get(fig.qualifier, "")
    return f"{qualifier} {body}" if qualifier else body


# ---------------------------------------------------------------- comparison


def _canonical_unit(unit: str) -> str:
    return _UNIT_ALIASES.get(unit.strip().lower(), unit.strip())


def same_value(a: Figure, b: Figure) -> bool:
    """Same quantity after normalisation: kind, unit ('$' == 'USD', 'GPUs' == 'GPU'; a bare count matches
    a counted one), value within 0.5 % relative, and the rate when both state one. Qualifiers are ignored."""
    if a.kind != b.kind:
        return False
    ua, ub = _canonical_unit(a.unit), _canonical_unit(b.unit)
    if ua != ub and not (a.kind == "count" and "" in (ua, ub)):
        return False
    if a.per and b.per and a.per != b.per:
        return False
    return abs(a.value - b.value) <= 0.005 * max(abs(a.value), abs(b.value))


def figure_in(fig: Figure, text: str) -> bool:
    """Some figure parsed from `text` is the same quantity as `fig`."""
    return any(same_value(fig, other) for other in _parse(text))
