"""The real e5 embedder's query cache: a question asked again costs a lookup, and gets the same vector."""
import numpy as np
import pytest

from index import embeddings


@pytest.fixture
def e5():
    return embeddings.get_embedder("e5")  # the real one (tests' shared `e5` wraps it in a memo of its own)


def test_query_vectors_are_cached_and_identical(e5) -> None:
    e5.clear_query_cache()
    texts = ["Combien xAI perd-elle par mois ?", "How much is xAI losing each month?"]
    first = e5.encode_queries(texts)
    assert np.allclose(first, e5._encode(texts, True), atol=1e-6)
    calls = []
    real = e5._encode
    try:
        object.__setattr__(e5, "_encode", lambda t, q: calls.append(list(t)) or real(t, q))
        again = e5.encode_queries([texts[1], texts[0], texts[1], "And OpenAI?"])
    finally:
        object.__delattr__(e5, "_encode")
    assert calls == [["And OpenAI?"]]  # only the new text went to the model
    assert np.allclose(again[:3], first[[1, 0, 1]]) and again.shape == (4, first.shape[1])
    assert e5.encode_queries([]).shape[0] == 0


def test_the_cache_is_bounded(e5, monkeypatch) -> None:
    e5.clear_query_cache()
    monkeypatch.setattr(embeddings, "QUERY_CACHE_SIZE", 3)
    for n in range(6):
        e5.encode_queries([f"question {n}"])
    assert list(e5._query_cache) == ["question 3", "question 4", "question 5"]
