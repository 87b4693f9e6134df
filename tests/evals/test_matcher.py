"""The judge's own matcher (evals/matcher.py): it reads FR/EN figures the way a careful reader does, and it FAILS a
wrong scale, a wrong unit or currency, a wrong or lost rate, a lost or invented bound. No engine involved."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evals.matcher import (Quantity, contains, expected_quantity, fold, gives, grounded, has_name, matches, own_words,
                           parse, same_quantity, stated_bounds)


def one(text: str, language: str | None = None) -> Quantity:
    found = parse(text, language)
    assert len(found) == 1, (text, found)
    return found[0]


def read(text: str, language: str | None = None) -> tuple:
    q = one(text, language)
    return (q.value, q.unit, q.kind, q.qualifier, q.per)


def want(value, unit, kind, **more) -> Quantity:
    return expected_quantity({"value": value, "unit": unit, "kind": kind, **more})


# ------------------------------------------------------------------ independence

def test_imports_nothing_of_the_engine() -> None:
    for module in ("matcher.py", "judge.py"):
        tree = ast.parse((Path(__file__).resolve().parents[2] / "evals" / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("index"), (module, name)
                assert not name.startswith("assistant") or name == "assistant.types", (module, name)


# ------------------------------------------------------------------ money

@pytest.mark.parametrize("text", ["$6 billion", "6 milliards de dollars", "6bn", "$6bn", "USD 6 billion",
                                  "6 billion USD", "6 billion dollars", "6 000 000 000 $", "6,0 milliards de dollars",
                                  "6 Md$", "six milliards de dollars", "six billion dollars", "US$6 billion",
                                  "6 billion US dollars", "6 milliards de dollars américains", "$6.0 billion"])
def test_six_billion_dollars_in_every_spelling(text: str) -> None:
    assert matches(one(text), want(6e9, "USD", "money")), parse(text)


@pytest.mark.parametrize("text", ["€45m", "45 M€", "45 millions d'euros", "45 millions €", "EUR 45 million",
                                  "€45 million", "45M€", "45 millions d’euros", "quarante-cinq millions d'euros",
                                  "45 000 000 €", "45.000.000 €"])
def test_forty_five_million_euros(text: str) -> None:
    assert matches(one(text), want(4.5e7, "EUR", "money")), parse(text)


@pytest.mark.parametrize("text,value,unit", [
    ("1,5 million d'euros", 1.5e6, "EUR"), ("un milliard de dollars", 1e9, "USD"), ("a billion dollars", 1e9, "USD"),
    ("£3.2m", 3.2e6, "GBP"), ("3,2 millions de livres sterling", 3.2e6, "GBP"), ("CHF 12 millions", 1.2e7, "CHF"),
    ("12 millions de francs suisses", 1.2e7, "CHF"), ("¥800 billion", 8e11, "JPY"), ("C$40 million", 4e7, "CAD"),
    ("40 millions de dollars canadiens", 4e7, "CAD"), ("2,3 Md€", 2.3e9, "EUR"), ("2,3 Mds €", 2.3e9, "EUR"),
    ("$50k", 5e4, "USD"), ("un milliard et demi d'euros", 1.5e9, "EUR"), ("1 milliard et demi de dollars", 1.5e9, "USD"),
    ("€2.5bn", 2.5e9, "EUR"), ("350 000 dollars", 3.5e5, "USD"), ("12,50 €", 12.5, "EUR"), ("$1,200", 1200, "USD"),
    ("15.000,50 €", 15000.5, "EUR"), ("$1,234,567.89", 1234567.89, "USD"),
])
def test_money(text: str, value: float, unit: str) -> None:
    assert matches(one(text), want(value, unit, "money")), parse(text)


def test_money_fails_a_wrong_scale() -> None:
    six = want(6e9, "USD", "money")
    for wrong in ("$6 million", "6 millions de dollars", "$6m", "$600 million", "$60 billion", "6 000 dollars"):
        assert not matches(one(wrong), six), wrong
    assert not matches(one("45 milliards d'euros"), want(4.5e7, "EUR", "money"))


def test_money_fails_a_wrong_currency_or_kind() -> None:
    six = want(6e9, "USD", "money")
    for wrong in ("€6 billion", "6 milliards d'euros", "£6bn", "6 billion GPUs", "6 milliards", "6 %"):
        assert not matches(one(wrong), six), wrong
    assert not matches(one("40 millions de dollars canadiens"), want(4e7, "USD", "money"))


# ------------------------------------------------------------------ percent and points

@pytest.mark.parametrize("text,value", [("3,5 %", 3.5), ("3.5%", 3.5), ("3,5\u00a0%", 3.5), ("3,5\u202f%", 3.5),
                                        ("3,5 pour cent", 3.5), ("3.5 per cent", 3.5), ("3.5 percent", 3.5),
                                        ("+3,5 %", 3.5), ("trois pour cent", 3.0), ("12 %", 12)])
def test_percent(text: str, value: float) -> None:
    assert matches(one(text), want(value, "%", "percent")), parse(text)


@pytest.mark.parametrize("text", ["1,2 point de pourcentage", "1.2 percentage points", "1,2 pt", "1.2 pp",
                                  "1,2 points de pourcentage"])
def test_percentage_points(text: str) -> None:
    assert matches(one(text), want(1.2, "pt", "percent")), parse(text)


def test_points_and_percent_are_different_units() -> None:
    assert not matches(one("1,2 %"), want(1.2, "pt", "percent"))
    assert not matches(one("1.2 percentage points"), want(1.2, "%", "percent"))
    # a bare "points" is a count of points, accepted where points of percentage are expected
    assert matches(one("1,2 points"), want(1.2, "pt", "percent"))
    assert not matches(one("1,2 points"), want(1.2, "%", "percent"))


def test_a_sign_is_a_direction_for_percent() -> None:
    assert matches(one("-3,5 %"), want(3.5, "%", "percent"))
    assert matches(one("−3,5 %"), want(-3.5, "%", "percent"))


# ------------------------------------------------------------------ counts

@pytest.mark.parametrize("text,value", [
    ("15.000 spectateurs", 15000), ("15 000 spectateurs", 15000), ("15\u202f000 spectateurs", 15000),
    ("15,000 fans", 15000), ("1,2 million d'habitants", 1.2e6), ("1.2 million residents", 1.2e6),
    ("trois usines", 3), ("two million subscribers", 2e6), ("un million de passagers", 1e6),
    ("a million passengers", 1e6), ("half a million tickets", 5e5), ("vingt-deux médailles", 22),
    ("deux cent mille visiteurs", 2e5), ("twenty-one goals", 21), ("1 234 567 votes", 1234567),
    ("one hundred and five seats", 105), ("dix-sept buts", 17), ("10k runners", 1e4),
])
def test_counts(text: str, value: float) -> None:
    assert matches(one(text), want(value, "", "count")), parse(text)


def test_a_count_is_compared_by_value_only() -> None:
    assert matches(one("1 250 salariés"), want(1250, "employee", "count"))
    assert not matches(one("1 250 salariés"), want(12500, "employee", "count"))
    assert not matches(one("1,2 million"), want(1.2e9, "", "count"))


def test_thousands_and_decimals_follow_the_language() -> None:
    assert one("1.500 places", "fr").value == 1500
    assert one("1.500 km", "en").value == 1.5
    assert one("1,500 seats", "en").value == 1500
    assert one("1,500 km", "fr").value == 1.5
    assert one("42,195 km", "fr").value == 42.195
    # the language is guessed from the text when not given
    assert one("Le stade compte 1.500 places de plus.").value == 1500
    assert one("The stadium has 1,500 more seats than the old one.").value == 1500


def test_numbers_that_are_no_figures() -> None:
    for text in ("GPT-4", "COVID-19", "H100", "Q3", "le 3e trimestre", "the 1st round", "[1]", "n°2", "1:02:33",
                 "un rapport", "one of them", "un bâtiment neuf", "des milliards de dollars", "billions of dollars",
                 "plusieurs millions", "la moitié", "une centaine", "10K race", "5G", "20 h 30", "A320"):
        assert parse(text) == [], (text, parse(text))


def test_years() -> None:
    assert read("en 2024") == (2024, "", "year", "", "")
    assert read("mid-2025") == (2025, "", "year", "", "")
    assert matches(one("in 2024"), want(2024, "", "year"))
    assert matches(one("in 2024"), want(2024, "year", "year"))  # the seeds write unit: year
    assert not matches(one("in 2023"), want(2024, "", "year"))
    assert [q.kind for q in parse("T3 2024 et 2 024 salariés")] == ["year", "count"]


# ------------------------------------------------------------------ durations and measures

@pytest.mark.parametrize("text,value,unit", [
    ("trois mois", 3, "month"), ("3 months", 3, "month"), ("deux ans et demi", 2.5, "year"),
    ("two and a half years", 2.5, "year"), ("18 mois", 18, "month"), ("six semaines", 6, "week"),
    ("48 heures", 48, "hour"), ("48 h", 48, "hour"), ("90 minutes", 90, "minute"), ("un an", 1, "year"),
    ("10 jours", 10, "day"), ("four days", 4, "day"),
])
def test_durations(text: str, value: float, unit: str) -> None:
    assert matches(one(text), want(value, unit, "duration")), parse(text)


def test_durations_convert_within_their_chain_only() -> None:
    assert matches(one("18 mois"), want(1.5, "year", "duration"))
    assert matches(one("2 weeks"), want(14, "day", "duration"))
    assert not matches(one("3 weeks"), want(3, "month", "duration"))
    assert not matches(one("3 years"), want(3, "month", "duration"))
    assert not matches(one("30 days"), want(1, "month", "duration"))  # a month is no fixed number of days


def test_a_count_of_days_and_a_duration_in_days_agree() -> None:
    assert matches(one("47 jours de canicule"), want(47, "day", "count"))
    assert matches(one("four strike days"), want(4, "day", "duration"))  # "four" and its noun, no unit read
    assert not matches(one("47 semaines"), want(47, "day", "count"))


@pytest.mark.parametrize("text,value,unit", [
    ("24 °C", 24, "°C"), ("24°C", 24, "°C"), ("24 degrés", 24, "°C"), ("24 degrees Celsius", 24, "°C"),
    ("-4 °C", -4, "°C"), ("−4 °C", -4, "°C"), ("85 mm", 85, "mm"), ("85 millimètres", 85, "mm"),
    ("12 cm", 12, "cm"), ("3,5 km", 3.5, "km"), ("3.5 kilometres", 3.5, "km"), ("130 km/h", 130, "km/h"),
    ("130 kilomètres par heure", 130, "km/h"), ("7,4 m", 7.4, "m"), ("7.4 metres", 7.4, "m"), ("80 kg", 80, "kg"),
    ("1,2 million de tonnes", 1.2e6, "t"), ("300 t", 300, "t"), ("450 MW", 450, "MW"), ("450 mégawatts", 450, "MW"),
    ("1,2 GW", 1.2, "GW"), ("3,4 TWh", 3.4, "TWh"), ("3.4 terawatt-hours", 3.4, "TWh"), ("820 MWh", 820, "MWh"),
    ("2 millions de litres", 2e6, "L"), ("12 L", 12, "L"),
])
def test_measures(text: str, value: float, unit: str) -> None:
    assert matches(one(text), want(value, unit, "measure")), parse(text)


def test_measures_fail_a_wrong_unit_and_convert_within_a_dimension() -> None:
    assert not matches(one("85 cm"), want(85, "mm", "measure"))
    assert not matches(one("450 MWh"), want(450, "MW", "measure"))  # energy is not power
    assert not matches(one("450 GW"), want(450, "MW", "measure"))
    assert not matches(one("4 °C"), want(-4, "°C", "measure"))  # a temperature's sign matters
    assert matches(one("1 200 MW"), want(1.2, "GW", "measure"))
    assert matches(one("1,2 GW"), want(1200, "MW", "measure"))
    assert not matches(one("130 km"), want(130, "km/h", "measure"))


def test_metres_and_millions() -> None:
    assert one("45 m").kind == "measure"  # no currency: metres
    assert one("€45m").kind == "money"


# ------------------------------------------------------------------ rates

@pytest.mark.parametrize("text,per", [
    ("1 milliard de dollars par mois", "month"), ("$1 billion a month", "month"), ("$1bn per month", "month"),
    ("un milliard de dollars chaque mois", "month"), ("12 €/mois", "month"), ("$1 billion monthly.", "month"),
    ("3 % par an", "year"), ("3% a year", "year"), ("€400 million per year", "year"), ("200 € par jour", "day"),
    ("$5 an hour", "hour"), ("trois jours par semaine", "week"),
])
def test_rates(text: str, per: str) -> None:
    assert one(text).per == per, parse(text)


def test_not_rates() -> None:
    assert one("$11 million a year earlier").per == ""
    assert one("550 million monthly users").per == ""
    assert one("3 % sur un an").per == ""
    assert one("57,3 millions un an plus tôt").value == 5.73e7
    assert one("$4 million a year earlier").per == ""


def test_a_rate_must_be_kept_and_not_invented() -> None:
    monthly = want(1e9, "USD", "money", per="month")
    assert matches(one("$1 billion a month"), monthly)
    assert not matches(one("$1 billion"), monthly)
    assert not matches(one("$1 billion a year"), monthly)
    assert not matches(one("$1 billion a month"), want(1e9, "USD", "money"))


def test_a_rate_said_apart_from_the_number() -> None:
    monthly = want(1e9, "USD", "money", per="month")
    words = "The monthly loss is $1 billion"
    assert gives(one(words), monthly, words)
    words = "Des pertes mensuelles de 1 milliard de dollars"
    assert gives(one(words), monthly, words)
    assert not gives(one("It loses $1 billion"), monthly, "It loses $1 billion")


# ------------------------------------------------------------------ qualifiers

@pytest.mark.parametrize("text,qualifier", [
    ("environ 18 milliards de dollars", "about"), ("about $18 billion", "about"), ("some 18,000 fans", "about"),
    ("près de 6 milliards", "nearly"), ("nearly $6 billion", "nearly"), ("près d'un milliard", "nearly"),
    ("plus de 350 000 dollars", "more_than"), ("more than 350,000 dollars", "more_than"), ("over 20%", "more_than"),
    ("plus d'un million", "more_than"), ("moins de 1 %", "less_than"), ("less than 1%", "less_than"),
    ("under 1%", "less_than"), ("fewer than 500 people", "less_than"), ("au moins trois jours", "at_least"),
    ("at least 3 days", "at_least"), ("pas moins de 12 %", "at_least"), ("no fewer than 12 boats", "at_least"),
    ("jusqu'à 85 mm", "up_to"), ("up to 85 mm", "up_to"), ("as many as 300 jobs", "up_to"),
    ("pas plus de 5 %", "up_to"), ("no more than 5%", "up_to"), ("300 emplois ou plus", "at_least"),
    ("300 or more", "at_least"), ("300 emplois environ", "about"),
    ("à moins d'un mètre", "less_than"), ("exceeding 40 °C", "more_than"),
])
def test_qualifiers(text: str, qualifier: str) -> None:
    assert one(text).qualifier == qualifier, parse(text)


def test_in_addition_to_is_no_bound() -> None:
    assert one("en plus de 5 milliards de dollars").qualifier == ""


def test_a_bound_must_be_kept_and_not_invented() -> None:
    under = want(1, "%", "percent", qualifier="less_than")
    assert matches(one("moins de 1 %"), under)
    assert matches(one("under 1%"), under)
    assert matches(one("up to 1%"), under)  # both upper bounds
    assert not matches(one("1 %"), under)
    assert not matches(one("about 1%"), under)
    assert not matches(one("more than 1%"), under)
    plain = want(1.8e10, "USD", "money")
    assert matches(one("about $18 billion"), plain)  # an approximation is no bound
    assert matches(one("nearly $18 billion"), plain)
    assert not matches(one("more than $18 billion"), plain)
    assert not matches(one("at least $18 billion"), plain)


def test_a_bound_the_gold_states_is_accepted() -> None:
    peak = want(85, "mm", "measure")
    extra = stated_bounds(peak, "jusqu'à 85 mm de pluie")
    assert extra == {"upper"}
    assert matches(one("up to 85 mm"), peak, extra)
    assert matches(one("85 mm"), peak, extra)
    assert not matches(one("more than 85 mm"), peak, extra)


# ------------------------------------------------------------------ ranges and lists

def test_ranges_share_their_scale_and_unit() -> None:
    assert [(q.value, q.unit, q.kind) for q in parse("$3-4 billion")] == [(3e9, "USD", "money"), (4e9, "USD", "money")]
    assert [(q.value, q.unit) for q in parse("entre 10 et 12 %")] == [(10, "%"), (12, "%")]
    assert [(q.value, q.unit) for q in parse("de 40 à 60 mm")] == [(40, "mm"), (60, "mm")]
    assert [(q.value, q.unit) for q in parse("2 à 3 milliards d'euros")] == [(2e9, "EUR"), (3e9, "EUR")]
    assert [(q.value, q.kind) for q in parse("between 2019 and 2024")] == [(2019, "year"), (2024, "year")]
    assert [q.value for q in parse("a 3-1 win")] == [3, 1]


def test_several_figures_in_one_sentence() -> None:
    text = ("La société a levé 45 millions d'euros, soit bien plus qu'en 2022, pour une valorisation de "
            "300 millions d'euros et 1 200 salariés d'ici 2026.")
    got = [(q.value, q.unit, q.kind) for q in parse(text)]
    assert got == [(4.5e7, "EUR", "money"), (2022, "", "year"), (3e8, "EUR", "money"), (1200, "", "count"),
                   (2026, "", "year")], got


def test_offsets_point_into_the_text() -> None:
    text = "Le chiffre d'affaires atteint 1,2 milliard d'euros (+3,5 %) au premier semestre 2025."
    for q in parse(text):
        assert text[q.start:q.end] == q.text
    assert [q.text for q in parse(text)] == ["1,2 milliard d'euros", "+3,5 %"[1:], "2025"]


# ------------------------------------------------------------------ grounding and citation functions

def test_grounded_and_contains() -> None:
    quote = parse("un chiffre d'affaires de 1,9 milliard d'euros, contre 1,80 milliard un an plus tôt")
    assert grounded(one("1,8 milliard d'euros"), quote)  # the unit of "contre 1,80 milliard" is the sentence's
    assert not grounded(one("18 milliards d'euros"), quote)
    assert not grounded(one("1,8 milliard d'euros par mois"), quote)  # a stated rate must be quoted
    assert contains(want(1.9e9, "EUR", "money"), "un chiffre d'affaires de 1,9 milliard d'euros")
    assert not contains(want(1.9e9, "USD", "money"), "un chiffre d'affaires de 1,9 milliard d'euros")
    assert not contains(want(1.9e6, "EUR", "money"), "un chiffre d'affaires de 1,9 milliard d'euros")
    assert not contains(want(2024, "", "year"), "2024 salariés et 1 990 emplois"[5:])


def test_same_quantity_is_symmetric() -> None:
    pairs = [("6 milliards de dollars", "$6bn"), ("1,2 GW", "1 200 MW"), ("18 mois", "1,5 an"), ("47 jours", "47")]
    for a, b in pairs:
        assert same_quantity(one(a), one(b)) == same_quantity(one(b), one(a)), (a, b)


# ------------------------------------------------------------------ own words and names

def test_own_words_drop_quotes_and_markers() -> None:
    text = "About $18 billion, according to the article [1]: “xAI is valued at $18 billion” and [2] « 6 milliards »"
    assert "18" in own_words(text).split("[")[0]
    assert own_words(text).count("18") == 1
    assert "6 milliards" not in own_words(text)
    assert "[1]" not in own_words(text) and "[2]" not in own_words(text)
    nested = "Réponse [1] : « il parle d'une « IA à 5 milliards » ce jour-là »"
    assert "5" not in own_words(nested)
    # straight quotes are the answer's own words
    assert "7" in own_words('He said "7 billion" [1]')


def test_names_are_folded() -> None:
    assert fold("Société  Générale") == fold("societe generale")
    assert has_name("Nvidia", "They are NVIDIA and AMD")
    assert has_name("Jean-Marc Dubois", "d'après Jean Marc Dubois")
    assert has_name("Musk", "Musk’s company")
    assert has_name("Tribe Capital", "Tribe\u00a0Capital")
    assert not has_name("Tesla", "Teslas are cars")
    assert not has_name("Anna", "Annabel")
