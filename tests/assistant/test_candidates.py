"""Candidate features that read the question against the article (no model): who a sentence names, and the
question's words that another figure's sentence states."""
from __future__ import annotations

from assistant.analysis import NameSpan
from assistant.candidates import Candidate, NameCandidate, _mark_unstated_qualifiers, _named_in, names_state_the_event
from assistant.compose import SourceView
from assistant.figures import parse_figures
from assistant.question import analyse
from assistant.analysis import FigureRole

ARTICLE = ("The Solenne mission was approved at a total cost of $1.4 billion. "
           "The probe's thermal camera alone costs $38 million, built by Elon Musk's old partner. "
           "Elon said the launch would follow in 2026.")


def _view() -> SourceView:
    ends = [i + 1 for i, ch in enumerate(ARTICLE) if ch == "." and (i + 1 == len(ARTICLE) or ARTICLE[i + 1] == " ")]
    starts = [0] + [e + 1 for e in ends[:-1]]
    sentences = tuple(zip(starts, ends))
    figures = tuple(tuple(parse_figures(ARTICLE[s:e])) for s, e in sentences)
    return SourceView("solenne", "Solenne", "", ARTICLE, sentences, (), figures)


def _candidates(view: SourceView) -> list[Candidate]:
    out = []
    for i, (s, _) in enumerate(view.sentences):
        for fig in view.figures[i]:
            if fig.kind == "money":
                role = FigureRole(i, fig, "", "", False, "", (), "", False, False, "")
                out.append(Candidate(view.source_id, i, role, {}))
    return out


def test_a_person_is_named_by_a_part_of_the_fuller_name_the_article_gives() -> None:
    view = _view()
    last = ARTICLE[view.sentences[2][0]:view.sentences[2][1]]
    assert _named_in(last, "Musk", ARTICLE, {})  # "Elon" there, "Elon Musk" earlier
    assert not _named_in(last, "Tesla", ARTICLE, {})


def test_a_figure_whose_sentence_lacks_what_another_states_is_marked() -> None:
    view = _view()
    candidates = _candidates(view)
    frame = analyse("How much does the thermal camera on the Solenne probe cost?", "en")
    _mark_unstated_qualifiers(frame, candidates, {view.source_id: view})
    by_value = {c.figure.value: c.features["qualifier_missing"] for c in candidates}
    assert by_value[38e6] == 0.0 and by_value[1.4e9] > 0.5


def test_words_no_sentence_states_mark_nothing() -> None:
    view = _view()
    candidates = _candidates(view)
    frame = analyse("How much does the Solenne radar cost?", "en")  # no sentence names a radar
    _mark_unstated_qualifiers(frame, candidates, {view.source_id: view})
    assert all(c.features.get("qualifier_missing", 0.0) == 0.0 for c in candidates)


NEWS = ("Le CHU de Vauclair a déclenché son plan blanc, a indiqué l'AFP. "
        "Le tour de table a été mené par Rhône Santé Capital, selon Jeanne Morel, directrice financière.")


def _names(text: str, *picked: tuple[str, str]) -> tuple[NameCandidate, dict]:
    cut = text.index(". ") + 1
    sentences = ((0, cut), (cut + 1, len(text)))
    view = SourceView("vauclair", "Vauclair", "", text, sentences, (), ((), ()))
    spans = []
    for name, label in picked:
        at = text.index(name)
        spans.append(NameSpan(0 if at < cut else 1, at, at + len(name), name, label, "", 1))
    return NameCandidate(view.source_id, spans[0].sent_idx, spans, {}), {view.source_id: view}


def test_names_are_whole_and_not_the_outlet_the_news_is_attributed_to() -> None:
    who = analyse("Qui a mené le tour de table ?", "fr")
    assert not names_state_the_event(who, *_names(NEWS, ("AFP", "org")))  # the source of the sentence
    assert not names_state_the_event(who, *_names(NEWS, ("Santé", "other")))  # a word of a longer name
    assert names_state_the_event(who, *_names(NEWS, ("Rhône Santé Capital", "org")))  # "mené par": an actor
    assert names_state_the_event(who, *_names(NEWS, ("Jeanne Morel", "person")))  # a speaker may be the one asked


def test_a_name_is_not_the_first_word_of_a_longer_one() -> None:
    who = analyse("Qui a mené le tour de table ?", "fr")
    text = ("Le tour de table a été mené par Helvetic Health Ventures. "
            "L'information a été publiée par le site spécialisé Santé Tech Hebdo mardi.")
    assert not names_state_the_event(who, *_names(text, ("Santé", "other")))  # "Santé" of "Santé Tech Hebdo"
    assert names_state_the_event(who, *_names(text, ("Helvetic Health Ventures", "org")))
