"""The ingest-time analysis (real spaCy pipelines), candidates, the shipped ranker and compound splitting."""
from __future__ import annotations

import json

import pytest

from assistant import analysis
from assistant.engine import split_compound
from assistant.figures import format_figure, parse_figures
from assistant.ranker import MODEL_DIR, load


def _analyse(text: str, language: str):
    from index.chunking import split_sentences

    sentences = [(s.start, s.end) for s in split_sentences(text)]
    return analysis.analyse_source("t.txt", "h", language, text, sentences)


def test_french_figure_roles_owner_and_prior_period():
    text = ("Selon Les Échos, la start-up Nuvolia a levé 45 millions d'euros. "
            "Son chiffre d'affaires atteint 12 millions d'euros, contre 8 millions d'euros un an plus tôt.")
    a = _analyse(text, "fr")
    by_value = {f.figure.value: f for f in a.figures}
    assert by_value[4.5e7].owner == "Nuvolia"
    assert "levé" in by_value[4.5e7].role
    assert not by_value[1.2e7].prior and by_value[8e6].prior  # "contre ... un an plus tôt": the earlier figure
    assert all(text[f.figure.start:f.figure.end] == f.figure.text for f in a.figures)  # absolute offsets


def test_a_figure_opening_a_later_sentence_has_absolute_offsets():
    text = "La société a levé 10 millions d'euros. 48,2 % des élèves sont vaccinés."
    a = _analyse(text, "fr")
    opening = next(f for f in a.figures if f.figure.kind == "percent")
    assert opening.sent_idx == 1 and text[opening.figure.start:opening.figure.end] == opening.figure.text


def test_english_forecast_and_names():
    text = ("Helixor raised $250 million, CEO Priya Raman said. "
            "The company expects revenue of $40 million next year.")
    a = _analyse(text, "en")
    fig = {f.figure.value: f for f in a.figures}
    assert fig[4e7].forecast and not fig[2.5e8].forecast
    names = {n.text: n for n in a.names}
    assert "Priya Raman" in names and names["Priya Raman"].label == "person"


def test_analysis_round_trip(tmp_path):
    class Embedder:
        def encode_passages(self, texts):
            return [[1.0, 0.0] for _ in texts]

    a = _analyse("Nuvolia a levé 45 millions d'euros auprès de Kestrel Capital.", "fr")
    analysis.embed_roles(a, Embedder())
    analysis.save(tmp_path, a, "e5")
    back = analysis.load(tmp_path, "t.txt", "h", "e5")
    assert back is not None and back.figures == a.figures and back.names == a.names
    assert analysis.load(tmp_path, "t.txt", "other-hash", "e5") is None  # another version is recomputed
    (next(tmp_path.glob("*.npz"))).write_bytes(b"garbage")
    assert analysis.load(tmp_path, "t.txt", "h", "e5") is None  # a damaged file is never trusted


@pytest.mark.parametrize("question,language,parts", [
    ("Combien Nuvolia a-t-elle levé et à quelle valorisation ?", "fr", 2),
    ("How much did Helixor raise and at what valuation?", "en", 2),
    ("How much did Helixor and Kestrel raise?", "en", 1),  # two entities, one question
    ("Quel est le chiffre d'affaires ?", "fr", 1),
])
def test_split_compound(question, language, parts):
    got = split_compound(question, language)
    assert len(got) == parts and all(p.strip() for p in got)


def test_figures_measures_points_and_dotted_thousands():
    assert [(f.value, f.unit, f.kind) for f in parse_figures("il a fait 38,5 °C, 120 mm de pluie")] == [
        (38.5, "°C", "measure"), (120.0, "mm", "measure")]
    assert [(f.value, f.unit) for f in parse_figures("un recul de 1,3 point de pourcentage")] == [(1.3, "pt")]
    assert parse_figures("15.000 spectateurs")[0].value == 15000
    assert format_figure(parse_figures("up 2.5 percentage points")[0], "fr") == "2,5 points de pourcentage"


def test_shipped_ranker_is_reproducible_data():
    data = json.loads((MODEL_DIR / "figures.json").read_text(encoding="utf-8"))
    model = load("figures")
    assert model is not None and len(model.coef) == len(data["features"])
    assert 0 < model.threshold <= 1.01 and 0 < model.legacy_threshold <= 1.01
    assert data["cross_validation"]["by"] == "article"
    assert data["trained_on"]["unseen_dev_cases"] > 0


def test_follow_up_with_a_question_of_its_own_is_not_the_previous_one_again():
    from assistant.conversation import condense
    from assistant.question import analyse

    first = analyse("How many employees does Dorsalis have?", "en")
    frame, text = condense("And how big is the multi-year plan the management will present?", "en", first)
    assert frame.kind != "count" and "Dorsalis" in text and "employees" not in text
    frame, text = condense("And OpenAI?", "en", first)  # a bare subject still asks the previous question
    assert frame.kind == "count" and "OpenAI" in text


def test_follow_up_that_changes_only_the_time_keeps_the_question():
    from assistant.conversation import condense
    from assistant.question import analyse

    first = analyse("Quel chiffre d'affaires Dorsalis a-t-elle réalisé en 2024 ?", "fr")
    frame, text = condense("Et l'année d'avant ?", "fr", first)
    assert frame.kind == "money" and "Dorsalis" in text


def test_inverted_pronoun_refers_back():
    from assistant.conversation import condense
    from assistant.question import analyse

    first = analyse("Quelles ventes Maison Brune a-t-elle réalisées au quatrième trimestre 2024 ?", "fr")
    frame, _ = condense("De combien ont-elles baissé sur un an ?", "fr", first)
    assert frame.entities == ("Maison Brune",)


def test_new_subject_keeps_the_other_entities():
    from assistant.conversation import condense
    from assistant.question import analyse

    first = analyse("What share of the vote did the Progressive Alliance get in Calder's 2021 election?", "en")
    frame, text = condense("And the Greens?", "en", first)
    assert "Calder" in text and "Greens" in text and "Progressive Alliance" not in text


def test_elided_currency_and_spelled_out_counts():
    got = [(f.value, f.unit, f.kind) for f in parse_figures("12 millions d'euros, contre 1,80 milliard un an plus tôt")]
    assert got == [(1.2e7, "EUR", "money"), (1.8e9, "EUR", "money")]
    assert [(f.value, f.unit) for f in parse_figures("10 millions de GPU et 300 millions de dollars")] == [
        (1e7, "GPU"), (3e8, "USD")]  # a scaled number that counts a noun keeps its unit
    assert [f.value for f in parse_figures("vingt-huit sièges, eight seats")] == [28, 8]
    assert parse_figures("un grand pas") == []
    assert [(f.value, f.per) for f in parse_figures("up from $35 million a year earlier")] == [(3.5e7, "")]
