import pytest

from assistant.figures import figure_in, format_figure, parse_figures, same_value
from assistant.types import Figure


def one(text: str) -> Figure:
    figs = parse_figures(text)
    assert len(figs) == 1, figs
    f = figs[0]
    assert text[f.start:f.end] == f.text
    return f


@pytest.mark.parametrize(
    "text, value, unit, kind, qualifier, per",
    [
        ("6 milliards de dollars", 6e9, "USD", "money", "", ""),
        ("près de 6 milliards de dollars", 6e9, "USD", "money", "nearly", ""),
        ("environ 18 milliards de dollars", 18e9, "USD", "money", "about", ""),
        ("9,3 milliards de dollars", 9.3e9, "USD", "money", "", ""),
        ("1 milliard de dollars par mois", 1e9, "USD", "money", "", "month"),
        ("un milliard de dollars", 1e9, "USD", "money", "", ""),
        ("d’un milliard de dollars chaque mois", 1e9, "USD", "money", "", "month"),
        ("350 000", 350000, "", "count", "", ""),
        ("350\u202f000", 350000, "", "count", "", ""),
        ("30,000 GPUs", 30000, "GPU", "count", "", ""),
        ("environ 500 000 GPU", 500000, "GPU", "count", "about", ""),
        ("un million", 1e6, "", "count", "", ""),
        ("environ 10 millions de GPU", 1e7, "GPU", "count", "about", ""),
        ("plus de 350 000", 350000, "", "count", "more_than", ""),
        ("$1B", 1e9, "USD", "money", "", ""),
        ("$6 billion", 6e9, "USD", "money", "", ""),
        ("6bn", 6e9, "USD", "money", "", ""),
        ("500 millions de dollars", 5e8, "USD", "money", "", ""),
        ("1 %", 1, "%", "percent", "", ""),
        ("1%", 1, "%", "percent", "", ""),
        ("moins de 1 %", 1, "%", "percent", "less_than", ""),
        ("less than 1%", 1, "%", "percent", "less_than", ""),
        ("d'environ 50 %", 50, "%", "percent", "about", ""),
        ("trois mois", 3, "month", "duration", "", ""),
        ("three months", 3, "month", "duration", "", ""),
        ("en 2024", 2024, "year", "year", "", ""),
    ],
)
def test_parse_forms(text, value, unit, kind, qualifier, per) -> None:
    f = one(text)
    assert (f.value, f.unit, f.kind, f.qualifier, f.per) == (pytest.approx(value), unit, kind, qualifier, per)


@pytest.mark.parametrize("text", ["GPU Nvidia H100", "GPT-4", "[1] [2]", "des milliards", "au moins plusieurs milliards",
                                  "un grand peut-être", "la moitié"])
def test_not_figures(text: str) -> None:
    assert parse_figures(text) == []


def test_two_figures_of_one_sentence() -> None:
    text = "5 milliards de dollars supplémentaires en 2024, en plus des 35 milliards de dollars déjà réservés"
    values = [(f.value, f.kind) for f in parse_figures(text)]
    assert values == [(5e9, "money"), (2024, "year"), (35e9, "money")]


FORMATS = [
    (Figure(6e9, "USD", "money", "nearly"), "nearly $6 billion", "près de 6 milliards de dollars"),
    (Figure(18e9, "USD", "money", "about"), "about $18 billion", "environ 18 milliards de dollars"),
    (Figure(9.3e9, "USD", "money"), "$9.3 billion", "9,3 milliards de dollars"),
    (Figure(1e9, "USD", "money", per="month"), "$1 billion per month", "1 milliard de dollars par mois"),
    (Figure(5e8, "USD", "money"), "$500 million", "500 millions de dollars"),
    (Figure(30000, "GPU", "count", "about"), "about 30,000 GPUs", "environ 30\u202f000 GPU"),
    (Figure(1, "%", "percent", "less_than"), "less than 1%", "moins de 1 %"),
    (Figure(3, "month", "duration"), "3 months", "3 mois"),
    (Figure(1e7, "GPU", "count", "about"), "about 10 million GPUs", "environ 10 millions de GPU"),
    (Figure(2025, "year", "year"), "2025", "2025"),
]


@pytest.mark.parametrize("fig, en, fr", FORMATS)
def test_format_per_locale(fig: Figure, en: str, fr: str) -> None:
    assert format_figure(fig, "en") == en
    assert format_figure(fig, "fr") == fr


@pytest.mark.parametrize("fig", [f for f, _, _ in FORMATS])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_round_trip(fig: Figure, lang: str) -> None:
    back = one(format_figure(fig, lang))
    assert same_value(back, fig) and back.qualifier == fig.qualifier


def test_same_value_normalises_and_rejects_wrong_scale() -> None:
    assert same_value(one("$6 billion"), one("6 milliards de dollars"))
    assert same_value(one("6bn"), one("près de 6 milliards de dollars"))
    assert not same_value(one("6 millions de dollars"), one("6 milliards de dollars"))
    assert not same_value(one("6 %"), one("6 milliards de dollars"))
    assert figure_in(one("about 30,000 GPUs"), "xAI exploite actuellement environ 30 000 GPU H100")
    assert not figure_in(one("about 300,000 GPUs"), "xAI exploite actuellement environ 30 000 GPU H100")
