"""The judge must fail wrong answers: otherwise `pytest evals` proves nothing."""
from __future__ import annotations

from assistant.types import Answer, Citation
from evals.judge import judge

SOURCE = "Le nouveau cycle de financement voit désormais xAI évalué à environ 18 milliards de dollars."
Q = SOURCE  # the whole sentence is the gold span
FIG = {"value": 1.8e10, "unit": "USD", "kind": "money"}


def src(_: str) -> str:
    return SOURCE


def cite(start: int = 0, end: int = len(SOURCE), quote: str | None = None) -> Citation:
    return Citation("a.txt", "A", SOURCE[start:end] if quote is None else quote, start, end)


def ans(text: str, language: str = "en", answered: bool = True, citations=None) -> Answer:
    return Answer(text, language, answered, [cite()] if citations is None else citations)


def checks(failures: list[str]) -> set[str]:
    return {f.split(":", 1)[0] for f in failures}


def test_passes_correct_answers_in_both_languages() -> None:
    assert judge(ans(f"About $18 billion, according to the article [1]: “{Q}”"), FIG, "en", src) == []
    assert judge(ans(f"Environ 18 milliards de dollars, d'après l'article [1] : « {Q} »", "fr"), FIG, "fr", src) == []


def test_fails_a_wrong_figure() -> None:
    assert "figure" in checks(judge(ans(f"About $16 billion, according to the article [1]: “{Q}”"), FIG, "en", src))


def test_fails_a_wrong_scale() -> None:
    assert "figure" in checks(judge(ans(f"About $18 million, according to the article [1]: “{Q}”"), FIG, "en", src))


def test_fails_a_figure_only_inside_the_quote() -> None:
    assert "figure" in checks(judge(ans(f"According to the article [1]: “{Q}”"), FIG, "en", src))


def test_fails_a_quote_not_in_the_source() -> None:
    bad = cite(quote="xAI évalué à environ 18 milliards de dollars selon Bloomberg.")
    failures = judge(ans(f"About $18 billion, according to the article [1]: “{bad.quote}”", citations=[bad]), FIG, "en", src)
    assert "citation" in checks(failures)


def test_fails_wrong_offsets() -> None:
    shifted = Citation("a.txt", "A", SOURCE, 1, len(SOURCE) + 1)
    assert "citation" in checks(judge(ans("About $18 billion, according to the article [1]", citations=[shifted]), FIG, "en", src))


def test_fails_the_wrong_language() -> None:
    english_words = ans(f"About $18 billion, according to the article [1] : « {Q} »", "fr")
    assert "language" in checks(judge(english_words, FIG, "fr", src))
    assert "language" in checks(judge(ans(f"About $18 billion, according to the article [1]: “{Q}”", "en"), FIG, "fr", src))


def test_fails_answered_on_an_unanswerable() -> None:
    failures = judge(ans(f"About $18 billion, according to the article [1]: “{Q}”"), "unanswerable", "en", src)
    assert "answered" in checks(failures)


def test_fails_a_refusal_that_states_a_figure() -> None:
    refusal = ans("The articles do not answer this question, but about $18 billion maybe.", answered=False)
    assert "answered" in checks(judge(refusal, "unanswerable", "en", src))


def test_fails_an_extra_invented_figure() -> None:
    text = f"About $18 billion, after raising $7 billion, according to the article [1]: “{Q}”"
    assert "grounding" in checks(judge(ans(text), FIG, "en", src))


def test_fails_missing_names() -> None:
    assert "names" in checks(judge(ans(f"According to the article, these are Bloomberg [1]: “{Q}”"),
                                   {"names": ["Financial Times"]}, "en", src))
