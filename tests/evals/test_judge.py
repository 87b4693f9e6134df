"""The judge must fail wrong answers, or `pytest evals` proves nothing. Hand-built Answers, a fake source_text,
no engine: fast."""
from __future__ import annotations

import pytest

from assistant.types import Answer, Citation
from evals.judge import OUTCOMES, applicable, assess, failed_checks, judge, outcome, words_language

VAL = "Le nouveau cycle de financement voit désormais xAI évalué à environ 18 milliards de dollars."
RAISE = ("xAI a obtenu près de 6 milliards de dollars de financement supplémentaire, notamment auprès de "
         "Sequoia Capital et Tribe Capital.")
BURN = "xAI enregistre des pertes qui atteindraient 1 milliard de dollars par mois."
SHARE = "X Premium représente moins de 1 % de la base totale d’utilisateurs de X."
A = "a.txt"
B = "b.txt"
SOURCES = {A: f"{VAL}\n{RAISE}\n{SHARE}", B: BURN}


def src(source_id: str) -> str:
    return SOURCES[source_id]


def cite(sentence: str, source_id: str = A, number: int = 1) -> Citation:
    start = SOURCES[source_id].index(sentence)
    return Citation(source_id, source_id, sentence, start, start + len(sentence), number=number)


def ans(text: str, language: str = "en", answered: bool = True, citations=None) -> Answer:
    return Answer(text, language, answered, [cite(VAL)] if citations is None else citations)


def turn(expected=None, language: str = "en", **more) -> dict:
    t = {"language": language, "source": A, "gold": VAL, **more}
    if expected is not None:
        t["expected"] = expected
    return t


VALUATION = turn({"value": 1.8e10, "unit": "USD", "kind": "money"})
VALUATION_FR = turn({"value": 1.8e10, "unit": "USD", "kind": "money"}, "fr")
UNANSWERABLE = {"language": "en", "unanswerable": True}
EN_OK = f"About $18 billion, according to the article [1]: “{VAL}”"
FR_OK = f"Environ 18 milliards de dollars, d'après l'article [1] : « {VAL} »"


def checks(answer: Answer, t: dict) -> set[str]:
    return failed_checks(judge(answer, t, src))


# ------------------------------------------------------------------ correct answers pass

def test_passes_a_correct_answer_in_english() -> None:
    assert judge(ans(EN_OK), VALUATION, src) == []


def test_passes_a_correct_answer_in_french() -> None:
    assert judge(ans(FR_OK, "fr"), VALUATION_FR, src) == []


@pytest.mark.parametrize("stated", ["$18bn", "18 billion dollars", "USD 18 billion", "$18.0 billion",
                                    "18 000 000 000 dollars"])
def test_any_spelling_of_the_same_value_passes(stated: str) -> None:
    assert judge(ans(f"xAI is valued at {stated} [1]: “{VAL}”"), VALUATION, src) == []


def test_passes_a_correct_refusal() -> None:
    refusal = ans(f"The articles do not answer this question. The closest passage [1]: “{VAL}”", answered=False)
    assert judge(refusal, UNANSWERABLE, src) == []


def test_passes_a_refusal_without_citation() -> None:
    assert judge(ans("The articles do not say how many people work at xAI.", answered=False, citations=[]),
                 UNANSWERABLE, src) == []


# ------------------------------------------------------------------ figure

def test_fails_a_wrong_figure() -> None:
    assert "figure" in checks(ans(f"About $16 billion, according to the article [1]: “{VAL}”"), VALUATION)


def test_fails_a_wrong_scale() -> None:
    six = turn({"value": 6e9, "unit": "USD", "kind": "money"}, gold=RAISE)
    wrong = ans(f"Nearly $6 million, according to the article [1]: “{RAISE}”", citations=[cite(RAISE)])
    assert "figure" in checks(wrong, six)
    right = ans(f"Nearly $6 billion, according to the article [1]: “{RAISE}”", citations=[cite(RAISE)])
    assert judge(right, six, src) == []
    assert "figure" in checks(ans(f"Environ 18 millions de dollars [1] : « {VAL} »", "fr"), VALUATION_FR)


def test_fails_a_figure_only_inside_the_quote() -> None:
    assert "figure" in checks(ans(f"According to the article [1]: “{VAL}”"), VALUATION)


def test_fails_a_figure_of_another_kind_or_unit() -> None:
    assert "figure" in checks(ans(f"About 18 billion euros [1]: “{VAL}”"), VALUATION)
    assert "figure" in checks(ans(f"About 18 billion GPUs [1]: “{VAL}”"), VALUATION)


def test_fails_a_dropped_or_invented_rate() -> None:
    monthly = {"language": "en", "expected": {"value": 1e9, "unit": "USD", "kind": "money", "per": "month"},
               "source": B, "gold": BURN}
    burn = [cite(BURN, B)]
    assert judge(ans(f"$1 billion per month, according to the article [1]: “{BURN}”", citations=burn), monthly, src) == []
    assert "figure" in checks(ans(f"$1 billion, according to the article [1]: “{BURN}”", citations=burn), monthly)
    assert "figure" in checks(ans(f"$1 billion a year, according to the article [1]: “{BURN}”", citations=burn), monthly)
    assert "figure" in checks(ans(f"About $18 billion a month [1]: “{VAL}”"), VALUATION)


def test_fails_a_dropped_or_invented_bound() -> None:
    share = turn({"value": 1, "unit": "%", "kind": "percent", "qualifier": "less_than"}, gold=SHARE)
    c = [cite(SHARE)]
    assert judge(ans(f"Less than 1% of X's users [1]: “{SHARE}”", citations=c), share, src) == []
    assert judge(ans(f"Under 1% of X's users [1]: “{SHARE}”", citations=c), share, src) == []
    assert "figure" in checks(ans(f"About 1% of X's users [1]: “{SHARE}”", citations=c), share)
    assert "figure" in checks(ans(f"More than 1% of X's users [1]: “{SHARE}”", citations=c), share)
    # "environ 18 milliards": "about" and "nearly" are approximations alike, a bound is an invention
    assert judge(ans(f"Nearly $18 billion [1]: “{VAL}”"), VALUATION, src) == []
    assert "figure" in checks(ans(f"More than $18 billion [1]: “{VAL}”"), VALUATION)


def test_expected_any_accepts_each_documented_alternative_and_nothing_else() -> None:
    either = {"language": "en", "expected_any": [
        {"value": 6e9, "unit": "USD", "kind": "money", "source": A, "gold": RAISE},
        {"value": 1e9, "unit": "USD", "kind": "money", "per": "month", "source": B, "gold": BURN}]}
    assert judge(ans(f"Nearly $6 billion [1]: “{RAISE}”", citations=[cite(RAISE)]), either, src) == []
    assert judge(ans(f"$1 billion per month [1]: “{BURN}”", citations=[cite(BURN, B)]), either, src) == []
    assert "figure" in checks(ans(f"About $18 billion [1]: “{VAL}”"), either)
    # the right value cited from the wrong article is not proof
    misplaced = {"language": "en", "expected_any": [
        {"value": 6e9, "unit": "USD", "kind": "money", "source": B, "gold": "x"}]}
    assert "citation" in checks(ans(f"Nearly $6 billion [1]: “{RAISE}”", citations=[cite(RAISE)]), misplaced)


# ------------------------------------------------------------------ grounding

def test_fails_an_extra_invented_figure() -> None:
    text = f"About $18 billion, after raising $7 billion, according to the article [1]: “{VAL}”"
    assert "grounding" in checks(ans(text), VALUATION)


def test_fails_an_invented_year() -> None:
    assert "grounding" in checks(ans(f"About $18 billion in 2023 [1]: “{VAL}”"), VALUATION)


def test_a_figure_stated_from_a_second_citation_is_grounded() -> None:
    text = f"About $18 billion [1], after nearly $6 billion was raised [2]: “{VAL}” “{RAISE}”"
    assert judge(ans(text, citations=[cite(VAL), cite(RAISE, number=2)]), VALUATION, src) == []


# ------------------------------------------------------------------ citation

def test_fails_a_quote_not_in_the_source() -> None:
    fake = "xAI évalué à environ 18 milliards de dollars selon Bloomberg."
    bad = Citation(A, A, fake, 0, len(fake))
    assert "citation" in checks(ans(f"About $18 billion, according to the article [1]: “{fake}”", citations=[bad]),
                                VALUATION)


def test_fails_wrong_offsets() -> None:
    shifted = Citation(A, A, VAL, 1, len(VAL) + 1)
    assert "citation" in checks(ans(f"About $18 billion, according to the article [1]: “{VAL}”", citations=[shifted]),
                                VALUATION)


def test_fails_an_unknown_source() -> None:
    ghost = Citation("ghost.txt", "?", VAL, 0, len(VAL))
    assert "citation" in checks(ans(EN_OK, citations=[ghost]), VALUATION)


def test_fails_a_citation_that_does_not_hold_the_figure() -> None:
    answer = ans(f"About $18 billion, according to the article [1]: “{SHARE}”", citations=[cite(SHARE)])
    assert "citation" in checks(answer, VALUATION)


def test_fails_dangling_markers_and_unreferenced_citations() -> None:
    assert "citation" in checks(ans(f"About $18 billion [2]: “{VAL}”"), VALUATION)
    assert "citation" in checks(ans(f"About $18 billion: “{VAL}”"), VALUATION)


def test_fails_shown_quoted_text_that_no_citation_holds() -> None:
    text = f"About $18 billion [1]: “{VAL}” and, as Musk said, “xAI vaut 18 milliards de dollars”"
    assert "citation" in checks(ans(text), VALUATION)


# ------------------------------------------------------------------ language

def test_fails_english_own_words_on_a_french_case() -> None:
    english_words = ans(f"About $18 billion, according to the article [1] : « {VAL} »", "fr")
    assert "language" in checks(english_words, VALUATION_FR)


def test_fails_a_wrong_answer_language_field() -> None:
    assert "language" in checks(ans(EN_OK, "en"), VALUATION_FR)
    assert "language" in checks(ans(FR_OK, "en"), VALUATION)


def test_french_own_words_on_an_english_case_fail_even_if_the_field_says_en() -> None:
    assert "language" in checks(ans(FR_OK, "en"), VALUATION)


def test_the_quote_does_not_count_toward_the_language() -> None:
    # an English answer quoting a French article is English
    assert "language" not in checks(ans(EN_OK), VALUATION)


def test_short_own_words_are_not_judged_by_lingua() -> None:
    assert words_language("$18 billion [1]:") is None
    assert words_language("D'après Sequoia Capital et Tribe Capital") is None  # 2 words once names go
    assert words_language("D'après l'article, il s'agit de Sequoia Capital") == "fr"
    assert judge(ans(f"$18 billion [1]: “{VAL}”"), VALUATION, src) == []


def test_names_do_not_decide_the_language() -> None:
    assert words_language("D'après l'article, il s'agit de Lightspeed Venture Partners, Andreessen Horowitz") == "fr"


# ------------------------------------------------------------------ answered

def test_fails_answered_true_on_an_unanswerable() -> None:
    assert "answered" in checks(ans(EN_OK), UNANSWERABLE)


def test_fails_a_refusal_that_states_a_figure() -> None:
    refusal = ans("The articles do not answer this question, but about $18 billion maybe.", answered=False,
                  citations=[])
    assert "answered" in checks(refusal, UNANSWERABLE)


def test_fails_answered_false_on_an_answerable_question() -> None:
    assert "answered" in checks(ans(EN_OK, answered=False), VALUATION)


# ------------------------------------------------------------------ names

NAMES = turn({"names": ["Sequoia Capital", "Tribe Capital"]}, gold=RAISE)


def test_passes_names_in_the_own_words() -> None:
    good = ans(f"According to the article, they are Sequoia Capital and Tribe Capital [1]: “{RAISE}”",
               citations=[cite(RAISE)])
    assert judge(good, NAMES, src) == []


def test_fails_missing_names() -> None:
    partial = ans(f"According to the article, it is Sequoia Capital [1]: “{RAISE}”", citations=[cite(RAISE)])
    assert "names" in checks(partial, NAMES)


def test_fails_names_only_inside_the_quote() -> None:
    assert "names" in checks(ans(f"The article says [1]: “{RAISE}”", citations=[cite(RAISE)]), NAMES)


def test_fails_names_no_citation_supports() -> None:
    unsupported = ans(f"According to the article, they are Sequoia Capital and Tribe Capital [1]: “{VAL}”")
    assert "citation" in checks(unsupported, NAMES)


# ------------------------------------------------------------------ refinements (see evals/judge.py docstring)

def test_short_own_words_in_the_other_language_fail() -> None:
    assert "language" in checks(ans(f"Nearly $18 billion [1] : « {VAL} »", "fr"), VALUATION_FR)
    assert "language" in checks(ans(f"$18bn [1] : « {VAL} »", "fr"), VALUATION_FR)
    assert "language" in checks(ans(f"Environ 18 milliards [1]: “{VAL}”", "en"), VALUATION)
    assert "language" not in checks(ans(f"Environ 18 milliards [1] : « {VAL} »", "fr"), VALUATION_FR)
    assert "language" not in checks(ans(f"Nearly $18 billion [1]: “{VAL}”", "en"), VALUATION)


def test_short_own_words_without_marker_words_are_not_judged() -> None:
    names = turn({"names": ["Sequoia Capital"]}, "fr", gold=RAISE)
    assert judge(ans(f"Sequoia Capital [1] : « {RAISE} »", "fr", citations=[cite(RAISE)]), names, src) == []


def test_a_refusal_may_echo_the_question_s_own_figure() -> None:
    t = {**UNANSWERABLE, "question": "How much will Meta spend on AI in 2025?"}
    echo = ans("The articles do not say what Meta will spend on AI in 2025.", answered=False, citations=[])
    assert judge(echo, t, src) == []
    leak = ans("The articles do not say what Meta will spend on AI in 2025, only $5 billion in 2024.",
               answered=False, citations=[])
    assert "answered" in checks(leak, t)


def test_a_rate_said_apart_from_the_number_counts() -> None:
    monthly = {"language": "en", "expected": {"value": 1e9, "unit": "USD", "kind": "money", "per": "month"},
               "source": B, "gold": BURN}
    burn = [cite(BURN, B)]
    assert judge(ans(f"xAI's monthly loss is $1 billion [1]: “{BURN}”", citations=burn), monthly, src) == []
    fr = {**monthly, "language": "fr"}
    assert judge(ans(f"Des pertes mensuelles de 1 milliard de dollars [1] : « {BURN} »", "fr", citations=burn),
                 fr, src) == []
    assert "figure" in checks(ans(f"xAI loses $1 billion [1]: “{BURN}”", citations=burn), monthly)


def test_names_are_compared_case_and_space_insensitively() -> None:
    good = ans(f"According to the article, they are SEQUOIA CAPITAL and Tribe\u00a0Capital [1]: “{RAISE}”",
               citations=[cite(RAISE)])
    assert judge(good, NAMES, src) == []


# ------------------------------------------------------------------ citation holes

def test_fails_negative_offsets() -> None:
    text = SOURCES[A]
    start = text.index(VAL)
    sneaky = Citation(A, A, VAL, start - len(text), start + len(VAL) - len(text))
    assert "citation" in checks(ans(EN_OK, citations=[sneaky]), VALUATION)


def test_fails_two_citations_with_one_number() -> None:
    both = [cite(VAL), cite(RAISE)]  # both numbered [1]
    assert "citation" in checks(ans(f"About $18 billion [1]: “{VAL}” “{RAISE}”", citations=both), VALUATION)


# ------------------------------------------------------------------ compound

COMPOUND = {"language": "en", "source": A, "question": "How much did xAI raise and at what valuation?",
            "expected_all": [{"value": 6e9, "unit": "USD", "kind": "money", "gold": "près de 6 milliards de dollars"},
                             {"value": 1.8e10, "unit": "USD", "kind": "money", "gold": "environ 18 milliards de dollars"}]}
BOTH = [cite(RAISE), cite(VAL, number=2)]


def test_compound_passes_both_figures_each_cited() -> None:
    good = ans(f"Nearly $6 billion [1], at a valuation of about $18 billion [2]: “{RAISE}” “{VAL}”", citations=BOTH)
    assert judge(good, COMPOUND, src) == []
    assert applicable(COMPOUND)[0] == "compound"


def test_compound_fails_a_missing_figure() -> None:
    one_only = ans(f"Nearly $6 billion [1]: “{RAISE}”", citations=[cite(RAISE)])
    failures = judge(one_only, COMPOUND, src)
    assert "compound" in failed_checks(failures)
    assert outcome(one_only, COMPOUND, failures) == "wrong_stated"


def test_compound_fails_a_figure_no_citation_holds() -> None:
    uncited = ans(f"Nearly $6 billion and about $18 billion [1]: “{RAISE}”", citations=[cite(RAISE)])
    failures = judge(uncited, COMPOUND, src)
    assert failed_checks(failures) >= {"citation", "grounding"} and "compound" not in failed_checks(failures)
    assert outcome(uncited, COMPOUND, failures) == "flawed"


def test_compound_fails_a_wrong_scale_on_either() -> None:
    wrong = ans(f"Nearly $6 million [1], at about $18 billion [2]: “{RAISE}” “{VAL}”", citations=BOTH)
    assert "compound" in checks(wrong, COMPOUND)


# ------------------------------------------------------------------ outcomes

def test_outcomes() -> None:
    def of(answer: Answer, t: dict) -> str:
        failures, result = assess(answer, t, src)
        assert result in OUTCOMES
        return result

    assert of(ans(EN_OK), VALUATION) == "correct"
    assert of(ans(f"About $16 billion [1]: “{VAL}”"), VALUATION) == "wrong_stated"
    assert of(ans(f"About $18 million [1]: “{VAL}”"), VALUATION) == "wrong_stated"
    assert of(ans(f"The article says [1]: “{VAL}”"), VALUATION) == "wrong_stated"  # the figure only quoted
    assert of(ans(EN_OK, answered=False), VALUATION) == "false_refusal"
    assert of(ans("The articles do not answer this question.", answered=False, citations=[]), UNANSWERABLE) == "refused"
    assert of(ans(EN_OK), UNANSWERABLE) == "wrong_stated"
    assert of(ans(f"About $18 billion [1]: “{SHARE}”", citations=[cite(SHARE)]), VALUATION) == "flawed"
    assert of(ans(f"About $18 billion, after $7 billion [1]: “{VAL}”"), VALUATION) == "flawed"
    assert of(ans(f"Environ 18 milliards de dollars, d'après l'article [1] : « {VAL} »"), VALUATION) == "flawed"
    assert of(ans(f"According to the article, it is Sequoia Capital [1]: “{RAISE}”", citations=[cite(RAISE)]),
              NAMES) == "wrong_stated"
