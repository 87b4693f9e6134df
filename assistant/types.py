"""The public contract of the assistant: frozen dataclasses crossing module boundaries."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Language = Literal["fr", "en"]


@dataclass(frozen=True)
class Figure:
    """A figure found in text: `text[start:end]` is the surface form.

    value is the full magnitude (6 milliards -> 6e9); unit is normalised:
    'USD', 'EUR', '%', 'GPU', 'month', 'year', 'day', 'week', '' (bare count), or a
    lower-case singular noun for other counted things ('user', 'employee').
    qualifier: '' | 'about' | 'more_than' | 'less_than' | 'at_least' | 'nearly' | 'up_to'.
    kind: 'money' | 'percent' | 'count' | 'duration' | 'year'.
    """

    value: float
    unit: str
    kind: str
    qualifier: str = ""
    start: int = 0
    end: int = 0
    text: str = ""
    per: str = ""  # rate: 'month' for "1 milliard de dollars par mois", else ''


@dataclass(frozen=True)
class Citation:
    """An exact span of a source: quote == source text[start:end]."""

    source_id: str
    title: str
    quote: str
    start: int
    end: int
    score: float = 0.0
    publisher: str = ""
    number: int = 1  # the [n] marker used in the answer text


@dataclass(frozen=True)
class Answer:
    text: str
    language: Language
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)  # figures stated in the answer's own words
    names: list[str] = field(default_factory=list)  # the names a names answer states
    engine: str = "extractive"  # 'extractive' | 'llm'
    fallback_reason: str = ""  # why an LLM answer was replaced by the extractive one
    question: str = ""  # the question as asked
    standalone_question: str = ""  # after follow-up condensation
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # True only when the answer passed the grounding check AND the ranker's calibrated threshold: the
    # "Verified in the articles" badge. A refusal that offers a passage has answered=False, verified=False.
    verified: bool = False
    confidence: float = 0.0  # the ranker's calibrated probability that the answer is right (0 for refusals)

    @property
    def own_words(self) -> str:
        """The answer text with quoted material removed (what the assistant itself claims)."""
        from assistant.quotes import strip_quotes

        return strip_quotes(self.text)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: text == source text[start:end]."""

    source_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float = 0.0
