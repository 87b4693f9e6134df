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


@pytest.mark.parametrize("text, lang", [
    ("Who chairs the hospital's medical committee (commission médicale d'établissement) de Vauclair ?", "en"),
    ("What is the vaccination rate among quatrième pupils in Haute-Arvelle?", "en"),
    ("Combien a coûté le Tour of Britain selon the Financial Times ?", "fr"),
])
def test_the_opening_interrogative_outweighs_words_of_the_other_language(text: str, lang: str) -> None:
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


@pytest.mark.parametrize("q, kind, unit", [
    # the head noun after what/which/quel decides, past articles, possessives and adjectives
    ("Quelle rallonge Meta prévoit-elle pour l'IA ?", "money", ""),
    ("What GPU count is Meta aiming for?", "count", "GPU"),
    ("What is xAI's monthly loss?", "money", ""),
    ("What is the deadline for the loss?", "year", ""),
    ("Which venture capital firms backed xAI?", "names", ""),
    ("De quelle autre entreprise xAI pourrait-elle utiliser les GPU ?", "names", ""),
    ("Quel est le chiffre d'affaires d'OpenAI ?", "money", ""),
    ("How big is Meta's GPU fleet today?", "count", "GPU"),
    ("How large a loss could xAI post?", "money", ""),
    ("Combien de revenus xAI prévoit-elle ?", "money", ""),
    ("What are the two assets xAI's leaders put forward?", "other", ""),  # "assets": no kind of answer
    ("Whose startup is xAI?", "names", ""),
    ("Comment s'appelle le chatbot de xAI ?", "names", ""),
    ("How much have X's ad revenues fallen?", "percent", ""),
    ("What is xAI valued at?", "money", ""),
    ("Quelle est la capitale de l'Australie ?", "other", ""),
    # a noun no lexicon knows asks for a thing of that noun, never the amount the question mentions
    ("Quel quotidien a révélé la levée de Norvane ?", "other", ""),
    ("Which regulator fined Meta after the raise?", "other", ""),
    ("What did xAI raise?", "money", ""),
])
def test_answer_type_from_the_head_noun(q: str, kind: str, unit: str) -> None:
    frame = analyse(q, detect_language(q)[0])
    assert (frame.kind, frame.unit) == (kind, unit)


@pytest.mark.parametrize("q, subjects", [
    ("How much extra funding did xAI secure from backers such as Sequoia and Andreessen Horowitz?", ("xAI",)),
    ("How many Nvidia GPUs is xAI believed to be using?", ("xAI",)),
    ("Combien de GPU OpenAI compte-t-elle déployer avec Microsoft ?", ("OpenAI",)),
    ("How much did Sequoia Capital itself put into xAI?", ("Sequoia Capital",)),
    ("At what valuation does the latest deal put Elon Musk's xAI?", ("Elon Musk", "xAI")),
])
def test_subjects_leave_out_side_parties(q: str, subjects: tuple[str, ...]) -> None:
    assert analyse(q, detect_language(q)[0]).subjects == subjects


def test_purpose_clause_is_not_the_attribute_asked() -> None:
    frame = analyse("Combien xAI cherche-t-elle à obtenir pour survivre à ses pertes ?", "fr")
    assert frame.attributes == frozenset({"raise"}) and "loss" in frame.concepts


def test_article_reference_locates_and_is_not_asked_about() -> None:
    frame = analyse("Which competing AI models does the article on xAI's losses name?", "en")
    assert frame.article_ref == "xAI's losses"
    assert frame.entities == () and "loss" not in frame.concepts and frame.kind == "names"


def test_time_frames_and_years() -> None:
    assert analyse("Quel était le chiffre d'affaires de xAI l'an dernier ?", "fr").time_frames == {"last_year"}
    assert analyse("How much will Meta spend on AI in 2025?", "en").years == ("2025",)
