"""Grounded FR/EN answers from news articles: `from assistant import Assistant`."""
from index import settings as _settings  # noqa: F401  (offline environment first)

from assistant.types import Answer, Citation, Figure, Passage

__all__ = ["Assistant", "Chat", "Answer", "Citation", "Figure", "Passage"]


def __getattr__(name: str):
    # Lazy: importing the types must not load models.
    if name in ("Assistant", "Chat"):
        from assistant import core

        return getattr(core, name)
    raise AttributeError(name)
