"""Hard constraints of the answer type, on an article written for these tests (real Chroma, real e5, real
spaCy): a names answer is an entity of the asked type, points are answered in points, a factoid question
of no known type is refused rather than answered by a passage, an article that never names the asked
entity answers nothing, and a follow-up never gets the previous turn's answer back."""
from __future__ import annotations

import pytest

from assistant.figures import parse_figures
from assistant.verify import own_words

ARTICLE = """Norvane Robotics lève 40 millions d'euros

Paris, mardi. La start-up Norvane Robotics a levé 40 millions d'euros auprès du fonds Halden Capital, selon le
quotidien Les Échos. Fondée en 2019 par Claire Vasseur et Malik Ferhat, l'entreprise fabrique des bras robotisés
pour les entrepôts. Sa directrice générale, Claire Vasseur, indique que la société emploie 210 salariés à Lyon.
La part des clients étrangers dans son chiffre d'affaires a progressé de 6 points, à 38 %, en un an.
Le chiffre d'affaires a atteint 18 millions d'euros en 2024, contre 11 millions d'euros un an plus tôt.
"""


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant import Assistant

    base = tmp_path_factory.mktemp("answer-types")
    (base / "sources").mkdir()
    (base / "sources" / "norvane.txt").write_text(ARTICLE, encoding="utf-8")
    return Assistant(sources_dir=base / "sources", index_dir=base / "index", llm=None)


def _values(answer) -> list[float]:
    return [f.value for f in parse_figures(own_words(answer.text))]


def test_a_person_asked_is_answered_by_a_person(assistant) -> None:
    answer = assistant.ask("Qui est la directrice générale de Norvane Robotics ?")
    assert not answer.answered or answer.names == ["Claire Vasseur"], answer.text
    place = assistant.ask("Dans quelle ville Norvane Robotics emploie-t-elle ses salariés ?")
    assert not place.answered or place.names == ["Lyon"], place.text  # never a person or a fund


def test_an_answer_of_another_type_is_no_answer(assistant) -> None:
    # "who" asks for a person or an organisation: never a weekday, a city or a nationality
    answer = assistant.ask("Who runs the warehouses that Norvane Robotics supplies?")
    assert all(n not in ("Paris", "mardi", "Lyon") for n in answer.names), answer.text


def test_points_asked_are_answered_in_points(assistant) -> None:
    answer = assistant.ask("De combien de points la part des clients étrangers de Norvane a-t-elle progressé ?")
    assert 38.0 not in _values(answer), answer.text  # the level, not the change
    if answer.answered:
        assert answer.figures and all(f.unit == "pt" for f in answer.figures), answer.text


def test_a_factoid_question_of_no_known_type_is_refused_not_answered_by_a_passage(assistant) -> None:
    answer = assistant.ask("Quelle cadence de production Norvane Robotics atteint-elle ?")
    assert not answer.answered, answer.text


def test_an_entity_the_articles_never_name_gets_no_answer(assistant) -> None:
    answer = assistant.ask("How many employees does Brightfold Systems have?")
    assert not answer.answered and not _values(answer), answer.text


def test_names_asked_about_an_act_come_from_a_sentence_that_tells_it(assistant) -> None:
    # the fund is named where the raise is told: it did not found the company
    answer = assistant.ask("Qui a fondé Norvane Robotics ?")
    assert set(answer.names) <= {"Claire Vasseur", "Malik Ferhat"}, answer.text


def test_a_role_asked_is_answered_from_a_sentence_that_gives_it(assistant) -> None:
    answer = assistant.ask("Qui dirige Norvane Robotics ?")
    assert not answer.answered or answer.names == ["Claire Vasseur"], answer.text  # never the fund or the paper


def test_a_thing_asked_by_its_noun_is_not_answered_by_a_figure(assistant) -> None:
    # "quotidien" is in no lexicon: the question asks for a newspaper, not for the raise it mentions
    answer = assistant.ask("Quel quotidien a révélé la levée de Norvane Robotics ?")
    assert not answer.figures and not _values(answer), answer.text


def test_a_follow_up_never_gets_the_previous_answer_back(assistant) -> None:
    chat = assistant.chat()
    first = chat.ask("Auprès de quel fonds Norvane Robotics a-t-elle levé 40 millions d'euros ?")
    assert first.answered and first.names == ["Halden Capital"], first.text
    second = chat.ask("Et quel autre fonds ?")
    assert "Halden Capital" not in second.names, second.text


def test_a_question_that_stands_on_its_own_may_get_the_same_answer_again(assistant) -> None:
    chat = assistant.chat()
    question = "Auprès de quel fonds Norvane Robotics a-t-elle levé 40 millions d'euros ?"
    first = chat.ask(question)
    again = chat.ask(question)  # nothing borrowed from the previous turn: not a follow-up
    assert first.answered and again.answered and again.names == first.names, again.text
