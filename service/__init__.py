"""Answering questions (query time): understand, retrieve, compose or generate, respond.

The retrieval core and the answers know nothing of HTTP; service.api is the FastAPI adapter
over them, and service.runtime builds the whole of it from settings. Importing this package
does not import FastAPI: `from service.api import create_app` does.
"""

from .answers import Answer, Asker, Citation, CitationsEvent, DeltaEvent, DoneEvent, Event
from .lang import detect_lang
from .query import MODES, Query, understand
from .retrieval import FusionConfig, Retriever, SearchResult

__all__ = [
    "MODES",
    "Answer",
    "Asker",
    "Citation",
    "CitationsEvent",
    "DeltaEvent",
    "DoneEvent",
    "Event",
    "FusionConfig",
    "Query",
    "Retriever",
    "SearchResult",
    "detect_lang",
    "understand",
]
