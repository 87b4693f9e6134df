"""The composer's pure parts: names in text, lists vs appositions, side parties, a figure's attribute,
the hard constraints on meaning, and the quote spans (no index needed)."""
from __future__ import annotations

import pytest

from assistant import compose
from assistant.compose import SourceView, _figure_attribute, _fits, _name_groups, _names_in, _side_party
from assistant.figures import parse_figures
from assistant.question import analyse
from assistant.quotes import strip_quotes, trim_span


def view_of(text: str) -> SourceView:
    """A one-sentence source (the sentence is one clause)."""
    figs = tuple(parse_figures(text))
    return SourceView("s.txt", "t", "", text, ((0, len(text)),), ((0, len(text), 0),), (figs,))


def test_names_and_lists() -> None:
    s = "rattraper les leaders du marché OpenAI, Anthropic et Google, qui ont tous publié des modèles"
    assert [[n for _, n in g] for g in _name_groups(s)] == [["OpenAI", "Anthropic", "Google"]]
    s = "selon un rapport publié par Bloomberg, xAI, la startup d’Elon Musk, se retrouverait"
    assert [n for _, n in _names_in(s)] == ["Bloomberg", "xAI", "Elon Musk"]
    assert [[n for _, n in g] for g in _name_groups(s)] == [["Bloomberg"], ["xAI"], ["Elon Musk"]]  # appositions
    assert [n for _, n in _names_in("bien que Musk and Co. cherche à utiliser les GPU H100 de Tesla")] == \
        ["Musk and Co", "Tesla"]
    assert _name_groups("La Survie d’xAI : Entre Pertes Astronomiques et Levées de Fonds") == []  # a headline


def test_side_parties_do_not_own_the_figure() -> None:
    investors = ("xAI a obtenu 6 milliards de dollars, notamment de Lightspeed Venture Partners, Sequoia Capital "
                 "et Tribe Capital.")
    assert _side_party(investors, "Sequoia Capital") and not _side_party(investors, "xAI")
    partner = "tandis qu'OpenAI, avec son partenaire Microsoft, vise environ 10 millions de GPU"
    assert _side_party(partner, "Microsoft") and not _side_party(partner, "OpenAI")
    apposition = "En effet, le PDG de Meta, Mark Zuckerberg, a indiqué que Meta dépenserait 5 milliards"
    assert not _side_party(apposition, "Meta")


def test_a_figure_is_the_attribute_named_nearest_to_it() -> None:
    text = "Le nouveau cycle de financement voit désormais xAI évalué à environ 18 milliards de dollars."
    fig = parse_figures(text)[0]
    assert _figure_attribute(text, fig, (0, len(text))) == "valuation"
    text = "xAI est en train de finaliser une levée de fonds de 9,3 milliards de dollars."
    assert _figure_attribute(text, parse_figures(text)[0], (0, len(text))) == "raise"


@pytest.mark.parametrize("question, sentence, ok", [
    ("How much did xAI raise?", "xAI est évalué à environ 18 milliards de dollars.", False),  # a valuation
    ("How much did xAI raise?", "xAI a levé 6 milliards de dollars.", True),
    ("How much will Meta spend on AI in 2025?", "Meta dépenserait 5 milliards de dollars en 2024.", False),
    ("How much will Meta spend on AI in 2024?", "Meta dépenserait 5 milliards de dollars en 2024.", True),
    ("What was xAI's revenue last year?", "Pour cette année, xAI ne prévoit que 500 millions de dollars de revenus.",
     False),
    ("In what year was xAI founded?", "xAI pourrait perdre 13 milliards de dollars d'ici 2025.", False),
])
def test_hard_constraints(question, sentence, ok) -> None:
    frame = analyse(question, "en")
    view = view_of(sentence)
    figs = [f for f in view.figures[0] if f.kind == frame.kind] or list(view.figures[0])
    assert _fits(frame, view, 0, figs[0], (0, len(sentence))) is ok


def test_quotes_nest_and_spans_lose_their_own_marks() -> None:
    text = "Selon X [1] : « « Les enjeux » et son « IA à la recherche » valent 5 milliards » et 3 %"
    assert "5 milliards" not in strip_quotes(text) and "3 %" in strip_quotes(text)
    source = "Musk l'a reconnu :\n« Les enjeux s’élèvent à plusieurs milliards de dollars par an. »\nSuite"
    start = source.index("«")
    s, e = trim_span(source, start, source.index("»") + 1)
    assert source[s:e] == "Les enjeux s’élèvent à plusieurs milliards de dollars par an."
    assert compose.is_title("Des Pertes Inquiétantes et des Levées de Fonds Illimitées")
    assert not compose.is_title("Comme le rapporte le Financial Times :")
