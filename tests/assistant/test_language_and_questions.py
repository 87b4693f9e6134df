import pytest

from assistant.language import detect_language, other_language
from assistant.question import analyse, extract_entities


@pytest.mark.parametrize("text, lang", [
    ("How much did xAI raise?", "en"), ("Combien xAI a-t-elle levé ?", "fr"), ("Et Google ?", "fr"),
    ("And OpenAI?", "en"), ("Qui a investi ?", "fr"), ("Who invested?", "en"),
    ("Quelle est la valorisation de xAI ?", "fr"), ("What is xAI valued at?", "en"),
    ("GPU de Meta ?", "fr"), ("Meta's GPUs?", "en"),
])
def test_short_questions(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_short_ambiguous_turn_keeps_the_conversation_language() -> None:
    assert detect_language("xAI ?", default="fr")[0] == "fr"
    assert detect_language("xAI ?", default="en")[0] == "en"


def test_third_language_is_named() -> None:
    assert other_language("Wie viel Geld hat xAI gesammelt und wer hat investiert?") == "German"
    assert other_language("How much did xAI raise?") is None


@pytest.mark.parametrize("q, kind, unit", [
    ("How much did xAI raise?", "money", ""), ("Combien de GPU xAI exploite-t-elle ?", "count", "GPU"),
    ("How many Nvidia GPUs does Meta run?", "count", "GPU"), ("What share of X users pay?", "percent", ""),
    ("How long will the money last?", "duration", ""), ("When could xAI lose 13 billion?", "year", ""),
    ("Qui a investi dans xAI ?", "names", ""), ("Which newspaper reported it?", "names", ""),
    ("How many employees does xAI have?", "count", "employee"), ("Quelle est la valorisation de xAI ?", "money", ""),
])
def test_question_kinds(q: str, kind: str, unit: str) -> None:
    frame = analyse(q, detect_language(q)[0])
    assert (frame.kind, frame.unit) == (kind, unit)


def test_entities() -> None:
    assert extract_entities("How many GPUs does Meta's partner Mark Zuckerberg run?") == ["Meta", "Mark Zuckerberg"]
    assert extract_entities("Combien de GPU xAI exploite-t-elle ?") == ["xAI"]
    assert extract_entities("Et qu'en est-il d'OpenAI ?") == ["OpenAI"]
