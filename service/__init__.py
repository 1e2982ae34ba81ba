"""The retrieval core (search, composed answers) and, in service.api, its HTTP adapter.

Importing this package does not import FastAPI: `from service.api import create_app` does.
"""

from .answer import Answer, Citation
from .ask import Asker, CitationsEvent, DeltaEvent, DoneEvent, Event
from .lang import detect_lang
from .search import MODES, FusionConfig, Retriever, SearchResult

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
    "Retriever",
    "SearchResult",
    "detect_lang",
]
