"""Follow-up condensation without an LLM: rules over the previous question's frame.

"How many GPUs does Meta run?" + "And OpenAI?"  -> "How many GPUs does OpenAI run?"
"Combien xAI a-t-elle levé ?" + "Et sa valorisation ?" -> the new attribute, about xAI.
"Combien de GPU Meta fait-elle tourner ?" + "Et combien veut-elle en avoir bientôt ?" -> still GPUs, still Meta.
"""
from __future__ import annotations

import re
from dataclasses import replace

from assistant.question import QuestionFrame, analyse, fold

_PRONOUNS = frozenset(
    "elle il ils elles sa son ses leur leurs lui cette cet ce celle celui it its they their them this that "
    "he she his her y en l'entreprise la société the company the firm the startup".split()
)
_WH = re.compile(r"\b(?:combien|quel|quelle|quels|quelles|quand|qui|how|what|which|when|who|whom|whose|where)\b")
_FOLLOW_START = re.compile(r"^\s*(et|and|what about|how about|and what about|quid de|et pour|et pour ce qui est de|"
                           r"et qu'en est-il de|same for|pareil pour|idem pour|et chez|and for)\b", re.I)


def condense(turn: str, language: str, previous: QuestionFrame | None) -> tuple[QuestionFrame, str]:
    """The frame to answer, and the standalone question text to retrieve with."""
    frame = analyse(turn, language)  # type: ignore[arg-type]
    if previous is None:
        return frame, turn
    words = re.findall(r"[\w'’]+", fold(turn))  # "a-t-elle", "ont-elles": the pronoun is a word of its own
    short = len(words) <= 6
    elliptic = bool(_FOLLOW_START.search(turn)) or short
    if elliptic and not _WH.search(fold(turn)) and frame.kind in ("year", "duration"):
        # No question word: "Et l'année d'avant ?", "And a year earlier?" asks the previous question again
        # for another time, attribute or subject; a time word alone does not make it a question about a year.
        frame = replace(frame, kind="other", explicit=False)
    # "And how big is the plan management will present?" is a question of its own that borrows the subject,
    # not the previous question asked again about another one.
    own_question = not short and bool(_WH.search(fold(_FOLLOW_START.sub("", turn, count=1))))
    if frame.entities and frame.kind == "other" and elliptic and not own_question:
        # Same question, another subject: "And OpenAI?", "Et Tesla ?".
        text = previous.text
        if previous.entities:
            # Only the subject changes ("And the Greens?"): the other entities (the place, the event) stay.
            for old in (previous.subjects or previous.entities)[:1]:
                text = text.replace(old, " ".join(frame.entities), 1) if old in text else text
            if not any(e in text for e in frame.entities):
                text = f"{text} {' '.join(frame.entities)}"
        else:
            text = f"{text} {' '.join(frame.entities)}"
        kept = tuple(e for e in previous.entities if e not in (previous.subjects or previous.entities)[:1])
        inherited = replace(previous, text=text, language=frame.language, entities=frame.entities + kept,
                            subjects=frame.subjects, years=frame.years or previous.years,
                            focus=tuple(dict.fromkeys(previous.focus + frame.focus)))
        return inherited, text
    refers_back = any(w in _PRONOUNS or w.startswith(("l'", "sa", "son", "ses")) for w in words)
    if not frame.entities and previous.entities and (refers_back or elliptic):
        # A pronoun points at one antecedent: the previous question's subject.
        subject = (previous.subjects or previous.entities)[:1]
        asks_again = frame.kind == "other" and not own_question  # the previous question, about the antecedent
        if asks_again:
            base = replace(previous, text=f"{previous.text} {turn}", years=previous.years, per=previous.per)
        elif not frame.explicit and frame.kind != "other" and previous.kind in ("count", "duration"):
            # "Et combien veut-elle en avoir bientôt ?": a bare "combien" keeps counting the same thing.
            base = replace(frame, kind=previous.kind, unit=previous.unit, text=f"{turn} ({subject[0]})")
        else:
            base = replace(frame, text=f"{turn} ({subject[0]})")
        inherited = replace(base, language=frame.language, entities=subject, subjects=subject,
                            years=frame.years or base.years, per=frame.per or base.per,
                            focus=tuple(dict.fromkeys(frame.focus + previous.focus)),
                            concepts=frame.concepts | (previous.concepts if asks_again else frozenset()),
                            attributes=frame.attributes or (previous.attributes if asks_again else frozenset()))
        return inherited, inherited.text
    return frame, turn
