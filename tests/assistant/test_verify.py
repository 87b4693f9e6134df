from assistant.types import Citation
from assistant.verify import own_words, verify

TEXT = "xAI serait évalué à environ 18 milliards de dollars. Il perd 1 milliard par mois."


def src(_: str) -> str:
    return TEXT


def cite(start: int, end: int, quote: str | None = None) -> Citation:
    return Citation("a.txt", "A", TEXT[start:end] if quote is None else quote, start, end)


def test_accepts_a_grounded_answer() -> None:
    c = cite(0, 52)
    assert verify(f"About $18 billion [1]: “{c.quote}”", [c], src).ok


def test_rejects_a_figure_in_no_cited_span() -> None:
    c = cite(0, 52)
    verdict = verify(f"About $19 billion [1]: “{c.quote}”", [c], src)
    assert not verdict.ok and "19" in verdict.reason


def test_rejects_a_figure_cited_from_the_wrong_span() -> None:
    c = cite(53, len(TEXT))  # the loss sentence, not the valuation
    assert not verify("About $18 billion [1]", [c], src).ok


def test_rejects_a_quote_that_is_not_the_source_text() -> None:
    c = cite(0, 52, quote="xAI serait évalué à environ 20 milliards de dollars.")
    assert not verify("About $18 billion [1]", [c], src).ok


def test_figures_inside_quotes_are_not_own_words() -> None:
    assert "18" not in own_words("Voici [1] : « environ 18 milliards »")


def test_language_check() -> None:
    c = cite(0, 52)
    detect = lambda t: "fr" if "environ" in t.lower() else "en"  # noqa: E731
    assert not verify("Environ 18 milliards de dollars, d'après l'article [1]", [c], src, "en", detect).ok
