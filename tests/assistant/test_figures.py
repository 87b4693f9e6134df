import pytest

from assistant.figures import figure_in, format_figure, parse_figures, same_value
from assistant.types import Figure

NBSP, NNBSP = "\u00a0", "\u202f"


def one(text: str) -> Figure:
    figs = parse_figures(text)
    assert len(figs) == 1, figs
    return figs[0]


# text, value, unit, kind, qualifier, per, span (the figure's text; None = the whole input)
PARSE_ROWS = [
    ("6 milliards de dollars", 6e9, "USD", "money", "", "", None),
    ("près de 6 milliards de dollars", 6e9, "USD", "money", "nearly", "", None),
    ("environ 18 milliards de dollars", 18e9, "USD", "money", "about", "", None),
    ("9,3 milliards de dollars", 9.3e9, "USD", "money", "", "", None),
    ("1 milliard de dollars par mois", 1e9, "USD", "money", "", "month", "1 milliard de dollars"),
    ("un milliard de dollars", 1e9, "USD", "money", "", "", None),
    ("d’un milliard de dollars chaque mois", 1e9, "USD", "money", "", "month", "un milliard de dollars"),
    ("d'un milliard de dollars chaque mois", 1e9, "USD", "money", "", "month", "un milliard de dollars"),
    ("350 000", 350000, "", "count", "", "", None),
    (f"350{NBSP}000", 350000, "", "count", "", "", None),
    (f"350{NNBSP}000", 350000, "", "count", "", "", None),
    ("30,000 GPUs", 30000, "GPU", "count", "", "", None),
    ("environ 500 000 GPU", 500000, "GPU", "count", "about", "", None),
    ("un million", 1e6, "", "count", "", "", None),
    ("environ 10 millions de GPU", 1e7, "GPU", "count", "about", "", None),
    ("plus de 350 000", 350000, "", "count", "more_than", "", None),
    ("$1B", 1e9, "USD", "money", "", "", None),
    ("$6 billion", 6e9, "USD", "money", "", "", None),
    ("6bn", 6e9, "USD", "money", "", "", None),
    ("$6bn", 6e9, "USD", "money", "", "", None),
    ("6 billion dollars", 6e9, "USD", "money", "", "", None),
    ("500 millions de dollars", 5e8, "USD", "money", "", "", None),
    ("1 %", 1, "%", "percent", "", "", None),
    ("1%", 1, "%", "percent", "", "", None),
    (f"1{NBSP}%", 1, "%", "percent", "", "", None),
    ("moins de 1 %", 1, "%", "percent", "less_than", "", None),
    ("less than 1%", 1, "%", "percent", "less_than", "", None),
    ("d'environ 50 %", 50, "%", "percent", "about", "", None),
    ("d’environ 50 %", 50, "%", "percent", "about", "", None),
    ("trois mois", 3, "month", "duration", "", "", None),
    ("three months", 3, "month", "duration", "", "", None),
    ("2024", 2024, "year", "year", "", "", None),
    ("en 2024", 2024, "year", "year", "", "", "2024"),
    ("d’ici 2025", 2025, "year", "year", "", "", "2025"),
    # qualifiers, FR
    ("presque 6 milliards de dollars", 6e9, "USD", "money", "nearly", "", None),
    ("au moins 5 ans", 5, "year", "duration", "at_least", "", None),
    ("jusqu'à 30 %", 30, "%", "percent", "up_to", "", None),
    ("jusqu’à 30 %", 30, "%", "percent", "up_to", "", None),
    ("près d’un milliard de dollars", 1e9, "USD", "money", "nearly", "", None),
    ("plus d'un million d'utilisateurs", 1e6, "user", "count", "more_than", "", None),
    # qualifiers, EN
    ("about $18 billion", 18e9, "USD", "money", "about", "", None),
    ("around 30,000 GPUs", 30000, "GPU", "count", "about", "", None),
    ("approximately 30,000 GPUs", 30000, "GPU", "count", "about", "", None),
    ("roughly $6 billion", 6e9, "USD", "money", "about", "", None),
    ("nearly $6 billion", 6e9, "USD", "money", "nearly", "", None),
    ("almost $6 billion", 6e9, "USD", "money", "nearly", "", None),
    ("more than 350,000", 350000, "", "count", "more_than", "", None),
    ("over 2,000 employees", 2000, "employee", "count", "more_than", "", None),
    ("under 5%", 5, "%", "percent", "less_than", "", None),
    ("at least 5 years", 5, "year", "duration", "at_least", "", None),
    ("up to 30%", 30, "%", "percent", "up_to", "", None),
    # other spellings
    ("$1 billion a month", 1e9, "USD", "money", "", "month", "$1 billion"),
    ("$1 billion per month", 1e9, "USD", "money", "", "month", "$1 billion"),
    ("5 % par an", 5, "%", "percent", "", "year", "5 %"),
    ("$5 per year", 5, "USD", "money", "", "year", "$5"),
    ("a billion dollars", 1e9, "USD", "money", "", "", None),
    ("a million users", 1e6, "user", "count", "", "", None),
    ("un milliard et demi de dollars", 1.5e9, "USD", "money", "", "", None),
    ("deux ans et demi", 2.5, "year", "duration", "", "", None),
    ("1,5 milliard d'euros", 1.5e9, "EUR", "money", "", "", None),
    ("500 M€", 5e8, "EUR", "money", "", "", None),
    ("$50k", 5e4, "USD", "money", "", "", None),
    ("£6bn", 6e9, "GBP", "money", "", "", None),
    ("19.8 euro cents", 0.198, "EUR", "money", "", "", None),  # a hundredth of the currency named
    ("45 centimes d'euro", 45, "", "count", "", "", "45"),  # no currency before the cents: no amount
    ("USD 6 billion", 6e9, "USD", "money", "", "", None),
    ("1 234,5 millions", 1.2345e9, "", "count", "", "", None),
    ("1,500 users", 1500, "user", "count", "", "", None),
    ("3.5%", 3.5, "%", "percent", "", "", None),
    ("vingt-deux mois", 22, "month", "duration", "", "", None),
    ("dix-sept pour cent", 17, "%", "percent", "", "", None),
    ("deux cent mille utilisateurs", 2e5, "user", "count", "", "", None),
    ("three hundred thousand GPUs", 3e5, "GPU", "count", "", "", None),
    ("une semaine", 1, "week", "duration", "", "", None),
]


@pytest.mark.parametrize("text, value, unit, kind, qualifier, per, span", PARSE_ROWS)
def test_parse_forms(text, value, unit, kind, qualifier, per, span) -> None:
    f = one(text)
    assert (f.value, f.unit, f.kind, f.qualifier, f.per) == (pytest.approx(value), unit, kind, qualifier, per)
    assert text[f.start:f.end] == f.text == (text if span is None else span)


@pytest.mark.parametrize(
    "text",
    [
        "GPU Nvidia H100",
        "H100qui sont devenus",
        "GPT-4",
        "GPT-4o",
        "X Premium",
        "[1] [2]",
        "selon l'article [1].",
        "le chatbot Grok 2 est sorti",
        "Grok 2",
        "Llama 3 8B",
        "7B parameters",
        "un écran 4K",
        "des milliards",
        "au moins plusieurs milliards",
        "des milliers de puces",
        "un grand peut-être",
        "la moitié",
        "plus de la moitié de ce montant",
        "l'un des deux",
        "one of them",
        "En second lieu",
        "the first two",
        "half a billion",  # not "a billion"; not supported either
        "a year ago",
    ],
)
def test_not_figures(text: str) -> None:
    assert parse_figures(text) == []


def test_offsets_point_into_the_original_text() -> None:
    text = "Selon Bloomberg, xAI perdrait d’un milliard de dollars chaque mois ; environ 30\u202f000 GPU H100."
    figs = parse_figures(text)
    assert [f.text for f in figs] == ["un milliard de dollars", "environ 30\u202f000 GPU"]
    assert all(text[f.start:f.end] == f.text for f in figs)


def test_money_and_year_in_one_phrase() -> None:
    figs = parse_figures("une perte de 13 milliards de dollars d’ici 2025.")
    assert [(f.value, f.unit, f.kind) for f in figs] == [(13e9, "USD", "money"), (2025, "year", "year")]


def test_two_amounts_of_one_sentence() -> None:
    text = ("dépenserait 5 milliards de dollars supplémentaires pour le développement de l'IA en 2024, "
            "en plus des 35 milliards de dollars déjà réservés")
    figs = parse_figures(text)
    assert [(f.value, f.kind, f.qualifier) for f in figs] == [(5e9, "money", ""), (2024, "year", ""), (35e9, "money", "")]


def test_year_only_four_digits_in_range_and_without_unit() -> None:
    assert one("1850").kind == "count"
    assert one("2024 GPU").kind == "count"
    assert one("2 024").kind == "count"
    assert (one("around 2025").kind, one("around 2025").text) == ("year", "2025")
    assert [f.text for f in parse_figures("2023-2024")] == ["2023", "2024"]


def test_sources_have_the_expected_figures() -> None:
    from pathlib import Path

    sources = Path(__file__).resolve().parents[2] / "sources"
    figures = [f for path in sources.glob("xai-*.txt") for f in parse_figures(path.read_text(encoding="utf-8"))]
    # Spelled-out counts of a noun ("deux atouts") are counts now; bare small numerals are still none.
    found = {(f.value, f.unit, f.kind, f.qualifier, f.per) for f in figures if not f.text.isalpha()}
    for expected in [(6e9, "USD", "money", "nearly", ""), (18e9, "USD", "money", "about", ""),
                     (1e9, "USD", "money", "", "month"), (13e9, "USD", "money", "", ""),
                     (9.3e9, "USD", "money", "", ""), (5e8, "USD", "money", "", ""),
                     (3, "month", "duration", "", ""), (3e4, "GPU", "count", "about", ""),
                     (1e7, "GPU", "count", "about", ""), (1, "%", "percent", "less_than", ""),
                     (2025, "year", "year", "", "")]:
        assert expected in found
    assert not any(unit == "" and kind == "count" and value < 1000 for value, unit, kind, _, _ in found)


FORMATS = [
    (Figure(6e9, "USD", "money", "nearly"), "nearly $6 billion", "près de 6 milliards de dollars"),
    (Figure(18e9, "USD", "money", "about"), "about $18 billion", "environ 18 milliards de dollars"),
    (Figure(9.3e9, "USD", "money"), "$9.3 billion", "9,3 milliards de dollars"),
    (Figure(1e9, "USD", "money", per="month"), "$1 billion per month", "1 milliard de dollars par mois"),
    (Figure(5e8, "USD", "money"), "$500 million", "500 millions de dollars"),
    (Figure(30000, "GPU", "count", "about"), "about 30,000 GPUs", f"environ 30{NNBSP}000 GPU"),
    (Figure(1, "%", "percent", "less_than"), "less than 1%", f"moins de 1{NBSP}%"),
    (Figure(3, "month", "duration"), "3 months", "3 mois"),
    (Figure(1e6, "", "count"), "1 million", "1 million"),
    (Figure(1e7, "GPU", "count", "about"), "about 10 million GPUs", "environ 10 millions de GPU"),
    (Figure(2025, "year", "year"), "2025", "2025"),
    (Figure(1.5e9, "EUR", "money", "more_than"), "more than €1.5 billion", "plus de 1,5 milliard d'euros"),
    (Figure(350000, "USD", "money"), "$350,000", f"350{NNBSP}000 dollars"),
    (Figure(1e6, "user", "count", "at_least"), "at least 1 million users", "au moins 1 million d'utilisateurs"),
    (Figure(1, "year", "duration", "up_to"), "up to 1 year", "jusqu'à 1 an"),
    (Figure(9.5, "%", "percent", per="year"), "9.5% per year", f"9,5{NBSP}% par an"),
]


@pytest.mark.parametrize("fig, en, fr", FORMATS)
def test_format_per_locale(fig: Figure, en: str, fr: str) -> None:
    assert format_figure(fig, "en") == en
    assert format_figure(fig, "fr") == fr


@pytest.mark.parametrize("fig", [f for f, _, _ in FORMATS])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_round_trip(fig: Figure, lang: str) -> None:
    back = one(format_figure(fig, lang))
    assert same_value(back, fig) and back.qualifier == fig.qualifier and back.per == fig.per


def test_same_value_normalises_units_and_ignores_qualifiers() -> None:
    assert same_value(one("$6 billion"), one("6 milliards de dollars"))
    assert same_value(one("6bn"), one("près de 6 milliards de dollars"))
    assert same_value(Figure(6e9, "$", "money"), Figure(6e9, "dollars", "money"))
    assert same_value(Figure(6e9, "USD", "money"), Figure(6.02e9, "USD", "money"))  # within 0.5 %
    assert not same_value(Figure(6e9, "USD", "money"), Figure(6.1e9, "USD", "money"))
    assert same_value(Figure(3e4, "GPUs", "count"), one("30 000 GPU"))
    assert same_value(one("un million"), Figure(1e6, "GPU", "count"))  # a bare count counts anything
    assert not same_value(Figure(1e6, "user", "count"), Figure(1e6, "GPU", "count"))
    assert not same_value(Figure(6e9, "EUR", "money"), Figure(6e9, "USD", "money"))
    assert not same_value(one("6 millions de dollars"), one("6 milliards de dollars"))
    assert not same_value(one("6 %"), one("6 milliards de dollars"))


def test_same_value_rate_must_agree_when_both_state_one() -> None:
    monthly = one("1 milliard de dollars par mois")
    assert same_value(monthly, one("$1 billion"))
    assert not same_value(monthly, one("$1 billion per year"))


def test_figure_in() -> None:
    source = "On pense que xAI exploite actuellement environ 30 000 GPU H100, et perd 1 milliard de dollars par mois."
    assert figure_in(one("about 30,000 GPUs"), source)
    assert figure_in(one("$1 billion per month"), source)
    assert not figure_in(one("about 300,000 GPUs"), source)
    assert not figure_in(Figure(100, "", "count"), source)  # H100 is a model name


def test_spelled_out_number_before_a_plural_noun_counts_it() -> None:
    assert [(f.value, f.kind) for f in parse_figures("deux atouts")] == [(2.0, "count")]
    assert parse_figures("un atout") == []  # one: an article, not a figure


@pytest.mark.parametrize("text, wanted", [
    ("expects pre-tax profit of £310-340 million", [(310e6, "GBP"), (340e6, "GBP")]),
    ("up from the £280-310 million range", [(280e6, "GBP"), (310e6, "GBP")]),
    ("between 310 and 340 million euros", [(310e6, "EUR"), (340e6, "EUR")]),
    ("de 310 à 340 millions d'euros", [(310e6, "EUR"), (340e6, "EUR")]),
    ("entre 2 et 3 milliards de dollars", [(2e9, "USD"), (3e9, "USD")]),
    ("between 5 and 7%", [(5.0, "%"), (7.0, "%")]),
    ("from 12 to 15 employees", [(12.0, "employee"), (15.0, "employee")]),
    # not ranges: two figures of their own
    ("Valmont won 2-1 on Saturday", [(2.0, ""), (1.0, "")]),
    ("in 2024 and 2025", [(2024.0, "year"), (2025.0, "year")]),
    ("it had 3 and now 40 million users", [(3.0, ""), (40e6, "user")]),
])
def test_a_range_bound_carries_the_scale_and_unit_written_once(text, wanted) -> None:
    assert [(f.value, f.unit) for f in parse_figures(text)] == wanted
