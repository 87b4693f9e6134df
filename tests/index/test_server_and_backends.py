"""Client/server Chroma (a real `chroma run` on 127.0.0.1) and the sentence-transformers backend."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.ingest import Ingestor
from index.settings import IndexSettings
from index.store import IndexStore, StoreError
from tests.conftest import free_port


def test_client_server_mode_ingests_and_retrieves(sources_copy: Path, tmp_path: Path, chroma_server, e5) -> None:
    _, port = chroma_server
    settings = IndexSettings.from_env(sources_copy, tmp_path / "index", chroma_host="127.0.0.1",
                                      chroma_port=port, embedder="e5")
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.chunks > 20
    again = Ingestor(settings, embedder=e5, progress=False).build()
    assert again.embedded == 0
    from assistant.retrieval import HybridRetriever

    store = IndexStore(settings)
    store.load_manifest()
    store.load_bm25()
    assert store.chunks().count() == report.chunks
    hits = HybridRetriever(store, e5).retrieve_passages("Combien de GPU Meta a-t-elle en service ?", top_k=3)
    assert any("500 000 GPU" in h.text for h in hits)


def test_server_down_fails_fast_with_the_setting_named(tmp_path: Path) -> None:
    settings = IndexSettings.from_env(tmp_path / "s", tmp_path / "i", chroma_host="127.0.0.1", chroma_port=free_port())
    started = time.time()
    with pytest.raises(StoreError, match="ASSISTANT_CHROMA_HOST"):
        IndexStore(settings).client  # noqa: B018
    assert time.time() - started < 15


def test_sentence_transformers_backend_with_packaged_minilm() -> None:
    from index.embeddings import get_embedder

    st = get_embedder("st", "minilm")
    assert st.identity.startswith("st:") and st.dim == 384
    q = np.asarray(st.get_query_embedding("How many GPUs does Meta operate?"))
    docs = st.encode_passages(["Meta operates about 500,000 GPUs.", "The weather in Paris is mild today."])
    assert docs.shape == (2, 384)
    scores = docs @ q
    assert scores[0] > scores[1]
    assert get_embedder("st", "minilm") is st  # loaded once per process


def test_unknown_model_path_is_a_clear_error(tmp_path: Path) -> None:
    from index.embeddings import EmbedderError, get_embedder

    with pytest.raises(EmbedderError, match="ASSISTANT_EMBEDDER_PATH"):
        get_embedder("st", str(tmp_path / "no-model"))
