from pathlib import Path

import pytest

from index.chunking import chunk_sentences, split_clauses, split_sentences

SOURCES = sorted((Path(__file__).resolve().parents[2] / "sources").glob("*.txt"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_offsets_round_trip_for_every_sentence_clause_and_chunk(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    assert len(sentences) > 20
    for s in sentences:
        assert text[s.start:s.end] == s.text
        for c in split_clauses(s):
            assert text[c.start:c.end] == c.text
            assert s.start <= c.start < c.end <= s.end
    chunks = chunk_sentences(path.name, text, sentences, max_words=60)
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert len(c.text.split()) <= 60 or c.sent_lo == c.sent_hi
    # every sentence is in some chunk; a chunk of several sentences shares its last with the next
    covered = {i for c in chunks for i in range(c.sent_lo, c.sent_hi + 1)}
    assert covered == set(range(len(sentences)))
    for a, b in zip(chunks, chunks[1:]):
        assert b.sent_lo == (a.sent_hi if a.sent_hi > a.sent_lo else a.sent_hi + 1)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("xAI lève 9,3 milliards. Elle perd 1 milliard par mois.", ["xAI lève 9,3 milliards.", "Elle perd 1 milliard par mois."]),
        ("M. Musk parle. Il sourit.", ["M. Musk parle.", "Il sourit."]),
        ("Mr. Smith raised $9.3 billion. It is a lot.", ["Mr. Smith raised $9.3 billion.", "It is a lot."]),
        ("Source : www.mac4ever.com", ["Source : www.mac4ever.com"]),
        ("Il a dit : « C'est fini. » Puis il est parti.", ["Il a dit : « C'est fini. »", "Puis il est parti."]),
        ("Musk and Co. cherche à rivaliser.", ["Musk and Co. cherche à rivaliser."]),
        ("Titre sans point\nPremière phrase. Deuxième ?", ["Titre sans point", "Première phrase.", "Deuxième ?"]),
        ("Is it real? Yes! It is.", ["Is it real?", "Yes!", "It is."]),
        ("Le U.S. Army recrute. Fin.", ["Le U.S. Army recrute.", "Fin."]),
    ],
)
def test_sentence_splitting_fr_en(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


def test_clauses_separate_two_figures_of_one_sentence() -> None:
    text = ("Meta dépenserait 5 milliards de dollars supplémentaires en 2024, en plus des 35 milliards "
            "de dollars qu'elle a déjà réservés.")
    (sentence,) = split_sentences(text)
    clauses = [c.text for c in split_clauses(sentence)]
    assert len(clauses) == 2
    assert "5 milliards" in clauses[0] and "35" not in clauses[0]
    assert clauses[1].startswith("en plus des 35 milliards")


def test_chunk_ids_are_stable_and_content_addressed() -> None:
    text = "Une phrase. Une autre phrase. Encore une."
    a = chunk_sentences("s.txt", text, split_sentences(text), max_words=4)
    b = chunk_sentences("s.txt", text, split_sentences(text), max_words=4)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    other = chunk_sentences("t.txt", text, split_sentences(text), max_words=4)
    assert {c.chunk_id for c in a}.isdisjoint({c.chunk_id for c in other})
