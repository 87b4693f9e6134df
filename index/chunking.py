"""Sentences, clauses and chunk windows over a text, every one with exact character offsets.

Citations quote sentences or clauses, never whole chunks, so the chunker records both:
`text[s.start:s.end] == s.text` holds for every Span it returns.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A window of whole sentences of one source; the unit stored in Chroma and BM25."""

    chunk_id: str
    source_id: str
    start: int
    end: int
    text: str
    sent_lo: int  # index of its first sentence in the source
    sent_hi: int  # index of its last sentence (inclusive)


# Abbreviations whose final period does not end a sentence (FR and EN, lower-cased, without the dot).
_ABBREVIATIONS = frozenset(
    """m mm mme mmes mlle dr pr st ste me etc cf ex p pp vol no nº env fig art av apr jc
    mr mrs ms prof sr jr inc ltd co corp vs approx dept est jan feb mar apr jun jul aug sep sept oct nov dec
    janv févr avr juil déc""".split()
)
# A sentence may end at . ! ? … possibly followed by closing quotes/brackets.
_END = re.compile(r"[.!?…]+(?:[\u00a0\u202f ]?[»”\"')\]])*")
_CLOSERS = "»”\"')]"


def _next_starts_sentence(text: str, pos: int) -> bool:
    """After an end mark at `pos`, does a new sentence start (whitespace, then an opener)?"""
    n = len(text)
    if pos < n and not text[pos].isspace():
        return False  # "9.3", "www.mac4ever.com", "U.S."
    j = pos
    while j < n and text[j].isspace():
        j += 1
    if j >= n:
        return True
    c = text[j]
    return c.isupper() or c.isdigit() or c in "«“\"'(*-–—➡" or not c.isalnum()


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of `text`, whitespace-trimmed; a line break always ends a sentence."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        line_start = line.start()
        segment = line.group()
        begin = 0
        for m in _END.finditer(segment):
            end = m.end()
            if not _next_starts_sentence(segment, end):
                continue
            word = re.search(r"(\w+)\W*$", segment[begin : m.start()] or "")
            if m.group().startswith(".") and word and len(m.group().rstrip(_CLOSERS)) == 1:
                token = word.group(1).lower()
                # "M. Musk", "etc. ": an abbreviation; a single capital ("J. Smith") is an initial.
                if token in _ABBREVIATIONS or (len(token) == 1 and word.group(1).isupper()):
                    continue
            spans.append(_trimmed(text, line_start + begin, line_start + end))
            begin = end
        if begin < len(segment):
            spans.append(_trimmed(text, line_start + begin, line_start + len(segment)))
    return [s for s in spans if s.text and any(ch.isalnum() for ch in s.text)]


def _trimmed(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end, text[start:end])


# Clause boundaries: punctuation, and conjunctions that introduce a new fact with its own figure
# ("5 milliards ..., en plus des 35 milliards ...", "..., tandis qu'OpenAI ...", "..., while ...").
_CLAUSE_BREAK = re.compile(
    r"\s*[;:]\s+|,\s+(?=(?:en plus d|tandis qu|alors qu|bien qu|mais |qui |ce qui|dont |"
    r"while |whereas |but |which |although |in addition to ))|\s+(?=(?:tandis qu|bien qu|alors qu|"
    r"en plus des? |while |whereas ))|\s+[–—]\s+",
    re.IGNORECASE,
)


def split_clauses(sentence: Span) -> list[Span]:
    """Clauses of a sentence (offsets stay absolute); a sentence with no break is one clause."""
    pieces: list[Span] = []
    begin = 0
    body = sentence.text
    for m in _CLAUSE_BREAK.finditer(body):
        if m.start() - begin >= 12:  # no clause of a word or two
            pieces.append(_trimmed_rel(sentence, begin, m.start()))
            begin = m.end()
    if pieces:
        pieces.append(_trimmed_rel(sentence, begin, len(body)))
        pieces = [p for p in pieces if p.text]
    return pieces if len(pieces) > 1 else [sentence]


def _trimmed_rel(sentence: Span, start: int, end: int) -> Span:
    body = sentence.text
    while start < end and (body[start].isspace() or body[start] in ",;:"):
        start += 1
    while end > start and (body[end - 1].isspace() or body[end - 1] in ",;:"):
        end -= 1
    return Span(sentence.start + start, sentence.start + end, body[start:end])


def chunk_id(source_id: str, start: int, text: str) -> str:
    """Stable id: the same text at the same place of the same source gets the same id."""
    digest = hashlib.sha256(f"{source_id}\x00{start}\x00{text}".encode()).hexdigest()
    return digest[:24]


def chunk_sentences(
    source_id: str, text: str, sentences: list[Span], max_words: int = 90, overlap: int = 1
) -> list[Chunk]:
    """Windows of whole sentences up to ~max_words (e5 reads 512 tokens; ~90 words is well under),
    overlapping by `overlap` sentences so a figure and its subject in the sentence before stay together."""
    chunks: list[Chunk] = []
    i = 0
    n = len(sentences)
    while i < n:
        j = i
        words = len(sentences[i].text.split())
        while j + 1 < n and words + len(sentences[j + 1].text.split()) <= max_words:
            j += 1
            words += len(sentences[j].text.split())
        start, end = sentences[i].start, sentences[j].end
        body = text[start:end]
        chunks.append(Chunk(chunk_id(source_id, start, body), source_id, start, end, body, i, j))
        if j + 1 >= n:
            break
        i = max(j + 1 - overlap, i + 1)
    return chunks
