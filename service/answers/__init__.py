"""Answers: composed from the passages' sentences, or generated and checked, with citations."""

from .asker import Asker, CitationsEvent, DeltaEvent, DoneEvent, Event
from .compose import Answer, Citation, compose
from .verify import DEFAULT_MIN_SCORE, DEFAULT_MIN_SCORE_EN, unsupported_terms

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DEFAULT_MIN_SCORE_EN",
    "Answer",
    "Asker",
    "Citation",
    "CitationsEvent",
    "DeltaEvent",
    "DoneEvent",
    "Event",
    "compose",
    "unsupported_terms",
]
