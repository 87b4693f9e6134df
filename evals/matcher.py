"""The judge's own figure matcher: reads figures in French or English answer text and compares them with a
case's expectation. Deliberately independent of the engine (nothing from assistant/ but its dataclasses'
module is needed, and not even that): a bug in the engine's figure parser must not be mirrored here.

What it reads (`parse(text, language)` -> list[Quantity], in order, `text[q.start:q.end] == q.text`):
  numerals   "15 000", "15.000" (FR thousands), "15,000" (EN thousands), "3,5" / "3.5", "-4 °C"; a single
             group "1.500" / "1,500" follows the text's language (FR: 1500 / 1.5; EN: 1.5 / 1500), guessed from
             its stop words when not given. Not figures: numbers glued to letters ("H100", "Q3", "3e", "1st"),
             to a hyphenated word ("GPT-4"), citation markers "[1]", "n°2", clock times and scores ("1:02:33").
  words      "trois", "vingt-deux", "two hundred", "un milliard", "a million", "half a million" (text2num).
             A number word on its own is a figure from two up ("trois", "two"), or with a scale or unit
             ("un milliard", "un an", "one per cent"); "un"/"une"/"one" alone are articles, "neuf" an adjective.
  scales     milliard(s) / billion(s) / bn / Md / Mds / Mrd (1e9), million(s) / M / m / mn / mln / mio (1e6,
             the short ones only next to a currency: "€45m", "45 M€"), mille / thousand / k (1e3), trillion;
             "et demi" / "and a half" ("1 milliard et demi", "deux ans et demi").
  money      symbols ($, US$, C$, A$, €, £, ¥, CHF…), ISO codes before or after, words ("de dollars",
             "d'euros", "livres sterling", "Canadian dollars", "francs suisses"…), glued "M€", "Md€", "k$".
             "6bn" with no currency is dollars (the news idiom), as the engine reads it.
  percent    "%", "pour cent", "per cent", "percent"; percentage points ("points de pourcentage",
             "percentage points", "pp", "pt") are unit 'pt'; a bare "points" is a count of points, accepted
             where points of percentage are expected.
  durations  second, minute, hour, day, week, month, quarter, year, decade (FR and EN words, "h", "min").
  measures   °C (°, degrés, degrees), °F, mm, cm, m, km, km/h, mph, mi, g, kg, t, kW, MW, GW, kWh, MWh, GWh,
             TWh, L, ha, m², km² (symbols case-sensitive; words in both languages).
  years      a bare four-digit 1900-2100 numeral with no unit ("en 2024").
  ranges     "$3-4 billion", "entre 10 et 12 %", "40 à 60 mm": the first number takes the second's scale
             and unit (two figures, 3e9 and 4e9 dollars).
  rates      "par mois", "per month", "a month" (not "a month earlier"), "chaque mois", "/mois", "monthly"
             (not "monthly users"), for month, year, week, day and hour.
  qualifiers before the number: about ("environ", "about", "some", "an estimated"…), nearly ("près de",
             "nearly", "almost"…), more_than ("plus de", "more than", "over"; not "en plus de"), less_than
             ("moins de", "under"…), at_least ("au moins", "at least", "pas moins de"), up_to ("jusqu'à",
             "up to", "as many as", "pas plus de", "at most"); after it: "ou plus" / "or more" (at_least),
             "environ" / "or so" (about).

Comparison (`matches(stated, want)`): the same kind; money in the same currency, percent in the same unit ('%'
is not 'pt'), a measure in the same dimension (converted: "1,2 GW" is "1 200 MW", but MW is not MWh), a
duration in the same chain (months/quarters/years, seconds…weeks), a count by value only (its noun is not
compared), a year exactly (a count of the same value is accepted, "1950"); the value within 0.5 % (signs
are compared for measures only: "-4 °C" is not "4 °C", "-3 %" and "3 %" say the same change); the SAME rate
(a figure without "par mois" is not a monthly figure, and vice versa); the SAME bound: more_than/at_least
are a lower bound, less_than/up_to an upper one, about/nearly/none no bound, and the answer must keep the
article's bound and invent none. `gives()` also accepts a rate said apart from the number ("a monthly loss
of $1 billion").

Text functions: `own_words` (the answer minus its « … » / “ … ” quotes, nested, and its [n] markers),
`fold` and `has_name` (names compared case-, accent-, hyphen- and space-insensitively, as whole words).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Iterable

from text_to_num import text2num

SP = "[ \u00a0\u202f]"  # space, NBSP, narrow NBSP (French typography)
_AP = "['’]"
_DE = rf"(?:(?:de|of){SP}+|d{_AP}{SP}*)"
_NOLETTER = r"(?![^\W\d_])"


@dataclass(frozen=True)
class Quantity:
    """A figure read from text. value: full magnitude (6 milliards -> 6e9; 3,5 % -> 3.5).
    kind: money | percent | count | duration | year | measure. unit: ISO currency, '%' / 'pt', a duration
    unit, a measure symbol, 'point' for a count of points, '' otherwise."""

    value: float
    unit: str
    kind: str
    qualifier: str = ""
    per: str = ""
    start: int = 0
    end: int = 0
    text: str = ""
    scale: float = 1.0  # the scale word it was written with (1e9 for "6 milliards"), for ranges


# ------------------------------------------------------------------ vocabulary

_CURRENCY_CODES = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "CNY", "HKD", "SEK", "NOK", "DKK", "INR",
                   "BRL", "MXN", "KRW", "SGD", "NZD", "ZAR", "PLN", "TRY", "RUB", "XOF", "XAF", "MAD", "TND")
_SYMBOLS = {"US$": "USD", "U.S.$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "HK$": "HKD",
            "NZ$": "NZD", "S$": "SGD", "R$": "BRL", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
            "₩": "KRW"}
_SYMBOL_RX = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_CODE_RX = "|".join(_CURRENCY_CODES)
# Currency words after the number (after "de"/"d'"/"of"), longest first; group name -> ISO code.
_CURRENCY_WORDS = [
    (rf"dollars?{SP}+(?:canadiens?|CAD)|(?:canadian){SP}+dollars?", "CAD"),
    (rf"dollars?{SP}+australiens?|australian{SP}+dollars?", "AUD"),
    (rf"dollars?{SP}+(?:de{SP}+)?hong{SP}?kong|hong{SP}?kong{SP}+dollars?", "HKD"),
    (rf"dollars?{SP}+néo-zélandais|new{SP}+zealand{SP}+dollars?", "NZD"),
    (rf"dollars?{SP}+de{SP}+singapour|singapore{SP}+dollars?", "SGD"),
    (rf"dollars?(?:{SP}+(?:américains?|US|des{SP}+États-Unis))?|(?:US|U\.S\.|american){SP}+dollars?|bucks", "USD"),
    (r"euros?", "EUR"),
    (rf"livres?{SP}+sterling|livres?|pounds?(?:{SP}+sterling)?|sterling", "GBP"),
    (rf"francs?{SP}+suisses?|swiss{SP}+francs?|francs?", "CHF"),
    (r"yens?", "JPY"),
    (r"yuans?|renminbi", "CNY"),
    (r"roupies?|rupees?", "INR"),
    (rf"couronnes?{SP}+suédoises?|swedish{SP}+kronor|kronor", "SEK"),
    (rf"couronnes?{SP}+norvégiennes?|norwegian{SP}+kroner", "NOK"),
    (rf"couronnes?{SP}+danoises?|danish{SP}+kroner", "DKK"),
    (r"réals?|reais", "BRL"),
]
_CUR_WORD_RX = "|".join(f"(?P<cw{i}>{rx})" for i, (rx, _) in enumerate(_CURRENCY_WORDS))

# Measures: canonical symbol -> (dimension, factor to the dimension's base unit).
MEASURES = {
    "°C": ("temperature_c", 1.0), "°F": ("temperature_f", 1.0),
    "mm": ("length", 1e-3), "cm": ("length", 1e-2), "m": ("length", 1.0), "km": ("length", 1e3),
    "mi": ("miles", 1.0), "km/h": ("speed", 1.0), "mph": ("speed_mph", 1.0),
    "g": ("mass", 1e-3), "kg": ("mass", 1.0), "t": ("mass", 1e3),
    "kW": ("power", 1e-3), "MW": ("power", 1.0), "GW": ("power", 1e3),
    "kWh": ("energy", 1e-3), "MWh": ("energy", 1.0), "GWh": ("energy", 1e3), "TWh": ("energy", 1e6),
    "L": ("volume", 1.0), "ha": ("area_ha", 1.0), "m²": ("area", 1.0), "km²": ("area", 1e6),
}
# Measure spellings, longest/most specific first: (regex, canonical, case-sensitive).
_MEASURE_FORMS: list[tuple[str, str, bool]] = [
    (rf"km{SP}?/{SP}?h|km/heure|kilom[èe]tres?(?:-|{SP}+par{SP}+)heure|kilomet(?:re|er)s?{SP}+(?:per|an){SP}+hour"
     r"|kph|kmh", "km/h", False),
    (rf"mph|miles{SP}+(?:per|an){SP}+hour", "mph", False),
    (rf"km²|km2|kilom[èe]tres?{SP}+carrés|square{SP}+kilomet(?:re|er)s?", "km²", False),
    (rf"m²|m2|m[èe]tres?{SP}+carrés|square{SP}+met(?:re|er)s?", "m²", False),
    (rf"°{SP}?C|ºC|°{SP}?Celsius|degrés?(?:{SP}+Celsius)?|degrees?(?:{SP}+(?:Celsius|C(?![^\W\d_])))?", "°C", False),
    (rf"°{SP}?F|degrés?{SP}+Fahrenheit|degrees?{SP}+Fahrenheit", "°F", False),
    (r"°", "°C", False),
    (r"TWh|térawattheures?|terawatt[- ]?heures?|terawatt[- ]hours?", "TWh", False),
    (r"GWh|gigawattheures?|gigawatt[- ]?heures?|gigawatt[- ]hours?", "GWh", False),
    (r"MWh|mégawattheures?|megawatt[- ]?heures?|megawatt[- ]hours?", "MWh", False),
    (r"kWh|kilowattheures?|kilowatt[- ]?heures?|kilowatt[- ]hours?", "kWh", False),
    (r"GW|gigawatts?", "GW", False),
    (r"MW|mégawatts?|megawatts?", "MW", False),
    (r"kW|kilowatts?", "kW", False),
    (r"millim[èe]tres?|millimet(?:re|er)s?", "mm", False),
    (r"mm", "mm", True),
    (r"centim[èe]tres?|centimet(?:re|er)s?", "cm", False),
    (r"cm", "cm", True),
    (r"kilom[èe]tres?|kilomet(?:re|er)s?", "km", False),
    (r"km", "km", True),
    (r"miles?", "mi", False),
    (r"kilogrammes?|kilograms?|kilos?", "kg", False),
    (r"kg", "kg", True),
    (r"tonnes?|tons?", "t", False),
    (r"t", "t", True),
    (r"grammes?|grams?", "g", False),
    (r"g", "g", True),
    (r"hectares?|ha", "ha", False),
    (r"litres?|liters?", "L", False),
    (r"L|l(?!['’])", "L", True),
    (r"m[èe]tres?|met(?:re|er)s?", "m", False),
    (r"m", "m", True),
]
_DURATION_FORMS = [
    (r"secondes?|seconds?|secs?", "second"),
    (r"minutes?|mins?|mn", "minute"),
    (r"heures?|hours?|hrs?|h", "hour"),
    (r"journées?|jours?|days?", "day"),
    (r"semaines?|weeks?", "week"),
    (r"mois|months?", "month"),
    (r"trimestres?|quarters?", "quarter"),
    (r"décennies?|decades?", "decade"),
    (r"années?|ans?|years?|yrs?", "year"),
]
# Durations: unit -> (chain, size in the chain's base). Months and years do not convert to days.
DURATIONS = {"second": ("time", 1.0), "minute": ("time", 60.0), "hour": ("time", 3600.0),
             "day": ("time", 86400.0), "week": ("time", 604800.0),
             "month": ("calendar", 1.0), "quarter": ("calendar", 3.0), "year": ("calendar", 12.0),
             "decade": ("calendar", 120.0)}
_PER_UNITS = {"mois": "month", "month": "month", "an": "year", "année": "year", "annum": "year", "year": "year",
              "semaine": "week", "week": "week", "jour": "day", "day": "day", "heure": "hour", "hour": "hour",
              "h": "hour", "monthly": "month", "mensuellement": "month", "annually": "year",
              "annuellement": "year", "yearly": "year", "weekly": "week", "hebdomadairement": "week",
              "daily": "day", "quotidiennement": "day", "hourly": "hour"}

_SCALE_WORDS = {"milliard": 1e9, "milliards": 1e9, "billion": 1e9, "billions": 1e9, "bn": 1e9, "bln": 1e9,
                "md": 1e9, "mds": 1e9, "mrd": 1e9, "mrds": 1e9, "million": 1e6, "millions": 1e6, "trillion": 1e12,
                "trillions": 1e12, "tn": 1e12, "thousand": 1e3, "thousands": 1e3, "mille": 1e3}
# Short scales that are only scales next to a currency ("€45m", "45 M€"), else "m" is metres, "mn" minutes.
_SHORT_SCALES = {"m": 1e6, "mn": 1e6, "mln": 1e6, "mio": 1e6, "b": 1e9, "k": 1e3}

_UNITS_FR = ("zéro un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
             "vingt vingts trente quarante cinquante soixante cent cents mille").split()
_UNITS_EN = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
             "thousand").split()
_BIG = ("million", "millions", "milliard", "milliards", "billion", "billions", "trillion", "trillions")
_NUMBER_WORDS = set(_UNITS_FR) | set(_UNITS_EN) | set(_BIG)
_CONNECTORS = {"et", "and"}

_QUALIFIERS = {
    # leftmost match wins: "pas moins de" before "moins de", "d'environ" before "environ"
    "at_least": rf"au{SP}+moins|au{SP}+minimum|at{SP}+least|a{SP}+minimum{SP}+of|no{SP}+(?:fewer|less){SP}+than"
                rf"|not{SP}+(?:fewer|less){SP}+than|pas{SP}+moins{SP}+(?:de|d{_AP})|minimum",
    "up_to": rf"jusqu{_AP}{SP}*(?:à|a)|up{SP}+to|as{SP}+(?:many|much|high){SP}+as|au{SP}+plus|at{SP}+most"
             rf"|au{SP}+maximum|a{SP}+maximum{SP}+of|no{SP}+more{SP}+than|not{SP}+more{SP}+than"
             rf"|pas{SP}+plus{SP}+(?:de|d{_AP})",
    "about": rf"d{_AP}environ|environ|approximativement|autour{SP}+(?:de|d{_AP})|aux{SP}+alentours{SP}+(?:de|d{_AP})"
             rf"|de{SP}+l{_AP}ordre{SP}+(?:de|d{_AP})|quelque|quelques|about|around|approximately|roughly|some"
             rf"|circa|an{SP}+estimated|estimated{SP}+at|estimé(?:e|s|es)?{SP}+à|~",
    "nearly": rf"près{SP}+(?:de|d{_AP})|presque|quasiment|pratiquement|nearly|almost|close{SP}+to|just{SP}+shy{SP}+of",
    "more_than": rf"(?<!en{SP})plus{SP}+(?:de|d{_AP})|au-delà{SP}+(?:de|d{_AP})|more{SP}+than|over|above"
                 rf"|upwards{SP}+of|in{SP}+excess{SP}+of|exceed(?:s|ed|ing)?|surpass(?:es|ed|ing)?|pass(?:es|ed|ing)?"
                 rf"|supérieure?s?{SP}+à|dépass(?:ant|er|e|ent|é|ée|és|ées|ait|aient)",
    "less_than": rf"moins{SP}+(?:de|d{_AP})|less{SP}+than|fewer{SP}+than|under|below|inférieure?s?{SP}+à",
}
_QUALIFIER = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(f"(?P<{k}>{rx})" for k, rx in _QUALIFIERS.items()) + rf")(?:(?<={_AP}){SP}*|{SP}+|(?<=~){SP}*)$",
    re.I)
_TRAILING_QUALIFIER = re.compile(rf"(?:{SP}+[^\W\d_]+)?{SP}+(?:(?P<at_least>ou{SP}+plus|or{SP}+more)"
                                 rf"|(?P<about>environ|or{SP}+so))(?![^\W\d_])", re.I)
_RELATIVE_AFTER = re.compile(rf"{SP}+(?:plus{SP}+tôt|plus{SP}+tard|auparavant|avant|après|ago|earlier|later|before|"
                             rf"after|on{SP}+year|prior)(?![^\W\d_])", re.I)
_RELATIVE_BEFORE = re.compile(rf"(?:\bsur|\bil{SP}+y{SP}+a|\bover|\bin{SP}+the{SP}+past){SP}+$", re.I)
_UPPER = {"less_than", "up_to"}
_LOWER = {"more_than", "at_least"}

# ------------------------------------------------------------------ regexes

_NUMERAL = re.compile(
    rf"(?<![\w.,\[#°@])(?<!\d[:/])(?<!\d{SP}h{SP})(?<!\dh)"
    rf"(?:(?P<sp>\d{{1,3}}(?:{SP}\d{{3}})+(?:[.,]\d+)?)"              # 15 000 / 1 234,5
    r"|(?P<fr>\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,})"       # 1.234.567 / 15.000,50 (FR)
    r"|(?P<en>\d{1,3}(?:,\d{3})+\.\d+|\d{1,3}(?:,\d{3}){2,})"        # 1,234,567 / 15,000.50 (EN)
    r"|(?P<one>\d{1,3}[.,]\d{3})"                                     # 15.000 / 15,000 / 1.500: by language
    r"|(?P<pl>\d+(?:[.,]\d+)?))"
    r"(?![\d\]]|[.,]\d|[:/]\d)"
)
_WORD_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_PREFIX_CURRENCY = re.compile(rf"(?:(?P<sym>{_SYMBOL_RX})|(?<![A-Za-z])(?P<code>{_CODE_RX})){SP}?$")
_NEGATIVE = re.compile(r"(?:^|(?<=[\s(]))[-−–]$")

_SCALE_RX = (rf"(?P<scale>milliards?|billions?|millions?|trillions?|thousands?|mille|bn|bln|mds?|mrds?|tn)"
             rf"{_NOLETTER}")
_CUR_AHEAD = rf"(?={SP}?(?:{_DE})?(?:{_SYMBOL_RX}|(?-i:{_CODE_RX})|euros?|dollars?))"
_HALF_RX = rf"{SP}+(?:et{SP}+demie?|and{SP}+a{SP}+half)"
_PERCENT_RX = rf"%|pour{SP}?cents?|pourcents?|percent|per{SP}cent"
_PP_RX = rf"points?{SP}+de{SP}+pourcentage|percentage{SP}+points?|p\.{SP}?p\.|pp(?![^\W\d_])|pts?(?![^\W\d_])"
_MEASURE_RX = "|".join(f"(?P<ms{i}>{rx if cs else '(?i:' + rx + ')'})" for i, (rx, _, cs) in enumerate(_MEASURE_FORMS))
_DURATION_RX = "|".join(f"(?P<du{i}>{rx})" for i, (rx, _) in enumerate(_DURATION_FORMS))


def _tail(prefixed: bool) -> re.Pattern[str]:
    """What may follow a number: a scale, "et demi", a currency or unit, "et demi" again (durations). The
    short scales ("m", "M", "mn", "bn"-less "b", "k") are scales only next to a currency: after it ("45 M€")
    or, for a number with a currency before it (`prefixed`: "€45m", "$2B"), on their own."""
    ahead = _NOLETTER if prefixed else _CUR_AHEAD
    short = rf"(?P<short>mln|mio|mn|[mMbB]|(?-i:k)){ahead}"
    return re.compile(
        rf"(?:{SP}*{_SCALE_RX}|{SP}?{short}|(?P<kilo>(?-i:k))(?![^\W\d_]))?"
        rf"(?P<half1>{_HALF_RX})?"
        rf"(?:{SP}*(?:"
        rf"(?P<sym>{_SYMBOL_RX})|(?<![^\W\d_])(?-i:(?P<code>{_CODE_RX}))(?![A-Za-z])"
        rf"|(?:{_DE})?(?:{_CUR_WORD_RX}){_NOLETTER}"
        rf"|(?:{_DE})?(?P<pp>{_PP_RX}){_NOLETTER}"
        rf"|(?P<pct>{_PERCENT_RX})(?![^\W\d_])"
        rf"|(?:{_DE})?(?P<points>points?){_NOLETTER}"
        rf"|(?:{_DE})?(?:{_DURATION_RX}){_NOLETTER}"
        rf"|(?:{_DE})?(?-i:{_MEASURE_RX})(?![^\W\d_²])"
        rf"))?"
        rf"(?P<half2>{_HALF_RX})?",
        re.I,
    )


_TAIL = _tail(False)
_TAIL_PREFIXED = _tail(True)

_PER = re.compile(
    rf"{SP}*(?:(?:par|per|chaque|each|every|an?|/){SP}*(?P<unit>mois|month|an|année|annum|year|semaine|week|jour|"
    rf"day|heure|hour|h){_NOLETTER}"
    rf"(?!{SP}+(?:ago|earlier|later|before|after|prior|previously|plus{SP}+tôt|plus{SP}+tard|auparavant|avant|après|"
    rf"on|from|to|old))"
    rf"|(?P<adv>monthly|mensuellement|annually|annuellement|yearly|weekly|hebdomadairement|daily|quotidiennement|"
    rf"hourly){_NOLETTER}(?!{SP}+[^\W\d_]))",
    re.I,
)
_RANGE_JOIN = re.compile(rf"^{SP}*(?:-|–|—|à|to|et|and|ou|or){SP}*$", re.I)
_RANGE_DASH = re.compile(rf"^{SP}*(?:-|–|—|à|to){SP}*$", re.I)

# Rates said apart from the number ("xAI's monthly loss", "des pertes mensuelles").
RATE_WORDS = {
    "month": re.compile(rf"\bmonthly\b|\b(?:a|per|each|every){SP}month\b(?!{SP}(?:ago|earlier|later))"
                        rf"|\bmensuel(?:le)?s?\b|\bpar{SP}mois\b|\bchaque{SP}mois\b|/{SP}?(?:mois|month)\b", re.I),
    "year": re.compile(rf"\bannual(?:ly)?\b|\byearly\b|\b(?:a|per|each|every){SP}year\b(?!{SP}(?:ago|earlier|later))"
                       rf"|\bannuel(?:le)?s?\b|\bpar{SP}an\b|\bchaque{SP}année\b|/{SP}?(?:an|year)\b", re.I),
    "week": re.compile(rf"\bweekly\b|\b(?:a|per|each|every){SP}week\b|\bhebdomadaires?\b|\bpar{SP}semaine\b", re.I),
    "day": re.compile(rf"\bdaily\b|\b(?:a|per|each|every){SP}day\b|\bquotidien(?:ne)?s?\b|\bpar{SP}jour\b", re.I),
    "hour": re.compile(rf"\bhourly\b|\b(?:an|per|each|every){SP}hour\b|\bpar{SP}heure\b|/{SP}?h\b", re.I),
}

_STOP = {
    "fr": set("le la les des du de et est une un dans pour que qui sur pas par au aux avec ce cette sont été "
              "selon plus ses son sa mais ont a été d l".split()),
    "en": set("the and of to in is was for that with on by as at from are has have its it this were be an "
              "which said".split()),
}


def guess_language(text: str) -> str:
    """'fr' | 'en' by stop words, '' on a tie (it only decides what "1.500" / "1,500" mean)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    fr = sum(w in _STOP["fr"] for w in words)
    en = sum(w in _STOP["en"] for w in words)
    return "en" if en > fr else "fr" if fr > en else ""


# ------------------------------------------------------------------ numbers

def _numeral_value(m: re.Match[str], language: str) -> float:
    if m.group("sp"):
        return float(re.sub(SP, "", m.group("sp")).replace(",", "."))
    if m.group("fr"):
        return float(m.group("fr").replace(".", "").replace(",", "."))
    if m.group("en"):
        return float(m.group("en").replace(",", ""))
    if m.group("one"):
        raw = m.group("one")
        sep = raw[-4]
        # FR: "15.000" is 15000, "1,500" 1.5; EN the reverse; unknown: thousands (the commoner reading)
        thousands = language not in ("fr", "en") or (sep == ".") == (language == "fr")
        return float(raw.replace(sep, "")) if thousands else float(raw.replace(sep, "."))
    return float(m.group("pl").replace(",", "."))


def _is_number_word(token: str) -> bool:
    parts = token.lower().split("-")
    return all(p in _NUMBER_WORDS or p in _CONNECTORS for p in parts) and not all(p in _CONNECTORS for p in parts)


def _t2n(words: list[str]) -> float | None:
    phrase = " ".join(words)
    for lang in ("fr", "en"):
        try:
            return float(text2num(phrase, lang))
        except (ValueError, IndexError, KeyError, TypeError):
            continue
    return None


def _word_numbers(text: str) -> list[tuple[int, int, float, float]]:
    """(start, end, value, scale: the largest scale word in it, 0 when none) for spelled-out numbers: runs of number words read by text2num
    (split where a run does not read as one number: "trois et quatre")."""
    tokens = [(m.start(), m.end(), m.group()) for m in _WORD_TOKEN.finditer(text)]
    out = []
    i = 0
    while i < len(tokens):
        s, e, w = tokens[i]
        if not _is_number_word(w) or w.lower() in _CONNECTORS or w.lower().split("-")[0] in _BIG:
            i += 1  # a scale word alone is no number ("des milliards"; "a million" is read elsewhere)
            continue
        if w.lower() in ("cent", "cents") and re.search(rf"(?:pour|per|\d){SP}*$", text[max(0, s - 6):s], re.I):
            i += 1  # "pour cent", "50 cents"
            continue
        run = [i]
        j = i + 1
        while (j < len(tokens) and (_is_number_word(tokens[j][2]) or tokens[j][2].lower() in _CONNECTORS)
               and re.fullmatch(rf"{SP}+|-", text[tokens[j - 1][1]:tokens[j][0]])):
            run.append(j)
            j += 1
        while run and tokens[run[-1]][2].lower() in _CONNECTORS:
            run.pop()
        # the longest prefix of the run that reads as one number, then the rest
        k = len(run)
        while k > 0:
            value = _t2n([tokens[t][2].lower() for t in run[:k]])
            if value is not None and tokens[run[k - 1]][2].lower() not in _CONNECTORS:
                break
            k -= 1
        if k == 0:
            i = run[0] + 1
            continue
        words = [tokens[t][2].lower() for t in run[:k]]
        scale = max((_SCALE_WORDS[p] for w in words for p in w.split("-") if p in _BIG), default=0.0)
        out.append((tokens[run[0]][0], tokens[run[k - 1]][1], value, scale))
        i = run[k - 1] + 1
    return out


def _article_scales(text: str) -> list[tuple[int, int, float, float]]:
    """'a million', 'a billion', 'half a million': one (or half) of a scale said with an article."""
    out = []
    for m in re.finditer(rf"(?<![^\W\d_])(?P<half>half{SP}+)?an?{SP}+(?P<scale>million|billion|thousand|trillion)(?![^\W\d_])",
                         text, re.I):
        scale = _SCALE_WORDS[m.group("scale").lower()]
        out.append((m.start(), m.end(), (0.5 if m.group("half") else 1.0) * scale, scale))
    return out


def _currency_of_tail(tail: re.Match[str]) -> str:
    if tail.group("sym"):
        return _SYMBOLS[tail.group("sym")] if tail.group("sym") in _SYMBOLS else _SYMBOLS.get(tail.group("sym").upper(), "")
    if tail.group("code"):
        return tail.group("code").upper()
    for i, (_, code) in enumerate(_CURRENCY_WORDS):
        if tail.group(f"cw{i}"):
            return code
    return ""


def _measure_of_tail(tail: re.Match[str]) -> str:
    for i, (_, canon, _) in enumerate(_MEASURE_FORMS):
        if tail.group(f"ms{i}"):
            return canon
    return ""


def _duration_of_tail(tail: re.Match[str]) -> str:
    for i, (_, unit) in enumerate(_DURATION_FORMS):
        if tail.group(f"du{i}"):
            return unit
    return ""


def _build(text: str, start: int, end: int, value: float, is_word: bool, word_scale: float) -> Quantity | None:
    """The figure whose number is text[start:end] (value already read), or None when it is no figure."""
    head = text[max(0, start - 60):start]
    prefix = _PREFIX_CURRENCY.search(head[-6:])
    tail = (_TAIL_PREFIXED if prefix else _TAIL).match(text, end)
    assert tail is not None  # every part is optional
    currency = _currency_of_tail(tail)
    if prefix and not currency:
        currency = _SYMBOLS[prefix.group("sym")] if prefix.group("sym") else prefix.group("code")
    scale_word = tail.group("scale") or tail.group("short") or tail.group("kilo") or ""
    scale = 1.0
    if scale_word:
        scale = _SCALE_WORDS.get(scale_word.lower()) or _SHORT_SCALES[scale_word.lower()]
        value *= scale
        stop = tail.end("scale") if tail.group("scale") else tail.end("short") if tail.group("short") else tail.end("kilo")
    else:
        stop = end
        scale = word_scale or 1.0
    if tail.group("half1"):
        value += 0.5 * scale
        stop = tail.end("half1")
    unit_end = tail.end("half2") if tail.group("half2") else tail.end()
    has_unit = unit_end > stop
    if prefix and has_unit and not _currency_of_tail(tail):
        unit_end, has_unit = stop, False  # "$5 an hour": after a currency sign, "an" is no unit
    if not is_word and not scale_word and not has_unit and re.match(r"[^\W\d_]", text[end:end + 1]):
        return None  # a numeral glued to letters: "3e", "1st", "4o"
    kind, unit = "count", ""
    if currency:
        kind, unit = "money", currency
    elif tail.group("pct"):
        kind, unit = "percent", "%"
    elif tail.group("pp"):
        kind, unit = "percent", "pt"
    elif tail.group("points"):
        unit = "point"
    elif (duration := _duration_of_tail(tail)):
        kind, unit = "duration", duration
    elif (measure := _measure_of_tail(tail)):
        kind, unit = "measure", measure
    if has_unit:
        stop = unit_end
        if tail.group("half2"):
            if kind == "duration":
                value += 0.5
            else:
                stop = tail.start("half2")
    if kind == "duration" and unit == "hour" and re.match(rf"{SP}*\d", text[stop:stop + 3]):
        return None  # "20 h 30", "16h00": a time of day
    if (is_word and value == 1 and kind == "duration"
            and (_RELATIVE_AFTER.match(text, stop) or _RELATIVE_BEFORE.search(text[max(0, start - 12):start]))):
        return None  # "un an plus tôt", "sur un an", "il y a un an", "one year earlier": a date, not a figure
    if is_word and not word_scale and not scale_word and kind == "count" and unit != "point":
        if value < 2 or text[start:end].lower() == "neuf":
            return None  # "un rapport", "one of them", "un bâtiment neuf"
    raw = text[start:end]
    if (not is_word and kind == "count" and not unit and not scale_word and re.fullmatch(r"\d{4}", raw)
            and 1900 <= value <= 2100):
        return Quantity(value, "", "year", "", "", start, end, raw)  # a year takes no qualifier or rate
    if not is_word and re.search(r"[^\W\d_]-$", head):
        return None  # "GPT-4", "COVID-19" ("mid-2024" is read above as a year)
    if prefix:
        start -= len(prefix.group())
        head = text[max(0, start - 60):start]
    if not is_word and _NEGATIVE.search(head):
        value, start = -value, start - 1
        head = text[max(0, start - 60):start]
    qualifier = ""
    q = _QUALIFIER.search(head)
    if q:
        qualifier = next(k for k, v in q.groupdict().items() if v)
        start -= len(q.group())
    per = ""
    p = _PER.match(text, stop)
    if p:
        rate = _PER_UNITS[(p.group("unit") or p.group("adv")).lower()]
        if not (kind == "duration" and rate == unit):
            per, stop = rate, p.end()
    if not qualifier:
        tq = _TRAILING_QUALIFIER.match(text, stop)
        if tq:
            qualifier = next(k for k, v in tq.groupdict().items() if v)
            stop = tq.end()
    if scale_word.lower() == "bn" and kind == "count":
        kind, unit = "money", "USD"  # "6bn": the news idiom for money
    return Quantity(value, unit, kind, qualifier, per, start, stop, text[start:stop], scale)


def _distribute_ranges(text: str, figures: list[Quantity]) -> list[Quantity]:
    """"$3-4 billion", "entre 10 et 12 %", "40 à 60 mm": the first number takes the second's scale and unit."""
    out = list(figures)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        gap = text[a.end:b.start]
        if not _RANGE_JOIN.match(gap) or "year" in (a.kind, b.kind) or a.scale > 1:
            continue
        scale = b.scale if b.value / b.scale >= a.value else 1.0  # "3-4 billion", not "300 to 4 million"
        if a.kind == "count" and not a.unit and (b.kind != "count" or b.unit == "point"):
            out[i] = replace(a, value=a.value * scale, unit=b.unit, kind=b.kind, per=a.per or b.per, scale=scale)
        elif a.kind == b.kind == "count" and b.scale > 1 and not a.unit and not b.unit:
            out[i] = replace(a, value=a.value * scale, scale=scale)
        elif a.kind == "money" and b.kind == "count" and not b.unit and (_RANGE_DASH.match(gap) or b.scale > 1):
            out[i] = replace(a, value=a.value * scale, scale=scale)
            out[i + 1] = replace(b, unit=a.unit, kind="money")
        elif a.kind == b.kind == "money" and a.unit == b.unit:
            out[i] = replace(a, value=a.value * scale, scale=scale)
    return out


@lru_cache(maxsize=4096)
def _parse(text: str, language: str) -> tuple[Quantity, ...]:
    candidates = [(m.start(), m.end(), _numeral_value(m, language), False, 0.0) for m in _NUMERAL.finditer(text)]
    candidates += [(s, e, v, True, sc) for s, e, v, sc in _word_numbers(text)]
    candidates += [(s, e, v, True, sc) for s, e, v, sc in _article_scales(text)]
    figures = [f for c in candidates if (f := _build(text, *c)) is not None]
    figures.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Quantity] = []
    for f in figures:
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return tuple(_distribute_ranges(text, kept))


def parse(text: str, language: str | None = None) -> list[Quantity]:
    """Every figure in `text`, in order. `language` ('fr' | 'en') decides "1.500"; guessed when None."""
    return list(_parse(text, language if language is not None else guess_language(text)))


# ------------------------------------------------------------------ comparison

_CURRENCY_ALIASES = {"$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR", "euro": "EUR",
                     "euros": "EUR", "£": "GBP"}
_UNIT_ALIASES = {"percent": "%", "pct": "%", "pp": "pt", "points": "pt", "°": "°C", "c": "°C", "l": "L",
                 "liter": "L", "litre": "L", "tonne": "t", "ton": "t", "mwh": "MWh", "twh": "TWh", "gwh": "GWh",
                 "kwh": "kWh", "mw": "MW", "gw": "GW", "kw": "kW", "kmh": "km/h", "days": "day", "weeks": "week",
                 "months": "month", "years": "year", "hours": "hour", "minutes": "minute", "seconds": "second"}


def expected_quantity(expected: dict[str, Any]) -> Quantity:
    """A case's `expected` ({value, unit, kind[, per][, qualifier]}) as a Quantity."""
    kind = str(expected["kind"])
    unit = str(expected.get("unit", "") or "")
    if kind == "money":
        unit = _CURRENCY_ALIASES.get(unit.lower(), unit.upper())
    else:
        unit = _UNIT_ALIASES.get(unit, _UNIT_ALIASES.get(unit.lower(), unit))
    if kind == "year":
        unit = ""
    elif kind == "count":
        unit = {"points": "point", "days": "day"}.get(unit, unit)  # the counted thing; compared only with durations
    return Quantity(float(expected["value"]), unit, kind, str(expected.get("qualifier", "") or ""),
                    str(expected.get("per", "") or ""))


def bound(qualifier: str) -> str:
    return "upper" if qualifier in _UPPER else "lower" if qualifier in _LOWER else ""


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 * max(abs(a), abs(b)) if (a or b) else True


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """The same amount of the same thing (rate and bound not compared). Symmetric."""
    ka, kb = a.kind, b.kind
    if {ka, kb} == {"count", "year"}:
        return a.value == b.value and a.unit != "point" and b.unit != "point"
    if {ka, kb} == {"count", "duration"}:
        # "47 hot days" asked as a count or as a duration, "four strike days": the same when the count counts
        # that unit (or nothing said)
        count, duration = (a, b) if ka == "count" else (b, a)
        return count.unit in ("", duration.unit) and _close(abs(a.value), abs(b.value))
    if {(ka, a.unit), (kb, b.unit)} == {("percent", "pt"), ("count", "point")}:
        return _close(abs(a.value), abs(b.value))
    if ka != kb:
        return False
    if ka == "year":
        return a.value == b.value
    if ka == "count":
        return _close(abs(a.value), abs(b.value))  # a count's noun is not compared
    if ka in ("money", "percent"):
        return a.unit == b.unit and _close(abs(a.value), abs(b.value))
    if ka == "duration":
        (ca, sa), (cb, sb) = DURATIONS.get(a.unit, (a.unit, 1.0)), DURATIONS.get(b.unit, (b.unit, 1.0))
        return ca == cb and _close(abs(a.value) * sa, abs(b.value) * sb)
    if ka == "measure":
        (da, fa), (db, fb) = MEASURES.get(a.unit, (a.unit, 1.0)), MEASURES.get(b.unit, (b.unit, 1.0))
        return da == db and _close(a.value * fa, b.value * fb)
    return False


def matches(stated: Quantity, want: Quantity, bounds: Iterable[str] = ()) -> bool:
    """`stated` gives `want`: the same quantity, the same rate, the same bound (see the module doc). `bounds`:
    further bounds accepted (the bound the article's own words put on the figure, "jusqu'à 312 mm", when the
    case did not record it)."""
    return (same_quantity(stated, want) and stated.per == want.per
            and bound(stated.qualifier) in {bound(want.qualifier), *bounds})


def gives(stated: Quantity, want: Quantity, words: str = "", bounds: Iterable[str] = ()) -> bool:
    """matches(), or the expected rate is said apart from the number in `words` ("a monthly loss of $1bn")."""
    if matches(stated, want, bounds):
        return True
    if want.per and not stated.per and want.per in RATE_WORDS and RATE_WORDS[want.per].search(words):
        return matches(replace(stated, per=want.per), want, bounds)
    return False


def stated_bounds(want: Quantity, gold: str, language: str | None = None) -> set[str]:
    """The bounds the gold span itself puts on the expected figure ("jusqu'à 312 mm" -> {'upper'})."""
    return {bound(q.qualifier) for q in parse(gold, language) if in_context(q, want)} - {""}


def _bare(q: Quantity) -> bool:
    """A number the text gives no unit to ("contre 57,3 millions", "612 millions"): its unit is in the context."""
    return q.kind == "count" and not q.unit


def in_context(q: Quantity, want: Quantity) -> bool:
    """A quoted figure that states `want`: the same quantity, or the same value with its unit left to the context
    (a bare number; a year is never a bare number of something else)."""
    return same_quantity(q, want) or (_bare(q) and want.kind != "year" and _close(abs(q.value), abs(want.value)))


def grounded(stated: Quantity, quoted: Iterable[Quantity]) -> bool:
    """`stated` is a figure of the quotes (in_context: the unit may be the context's), and a stated rate is a
    quoted rate."""
    return any(in_context(q, stated) and (not stated.per or stated.per == q.per) for q in quoted)


def contains(want: Quantity, text: str, language: str | None = None) -> bool:
    """Some figure of `text` states `want` (in_context; a rate, when both state one, the same)."""
    return any(in_context(q, want) and (not want.per or not q.per or want.per == q.per)
               for q in parse(text, language))


def describe(q: Quantity) -> str:
    b = {"upper": "at most ", "lower": "at least "}.get(bound(q.qualifier), "")
    rate = f" per {q.per}" if q.per else ""
    return f"{b}{q.value:g} {q.unit}{rate}".strip()


# ------------------------------------------------------------------ text

_OPEN = {"«": "»", "“": "”"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_MARKER = re.compile(r"\[\d+\]")


def strip_quotes(text: str) -> str:
    """The text without its quoted spans (« … », “ … ”; nested quotes counted per mark pair)."""
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


def own_words(text: str) -> str:
    """What the answer itself claims: its text minus quotes and [n] markers."""
    return _MARKER.sub(" ", strip_quotes(text))


def fold(text: str) -> str:
    """Case, accents, apostrophes, hyphens and spacing folded: "NVIDIA" == "Nvidia", "Société" == "societe"."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("’", "'").replace("‘", "'")
    t = re.sub(r"[-‐‑‒–—]", " ", t)
    return re.sub(r"\s+", " ", t).strip().casefold()


def has_name(name: str, text: str) -> bool:
    """`name` is in `text` as whole words, folded (see fold)."""
    n = fold(name)
    return bool(n) and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", fold(text)) is not None
