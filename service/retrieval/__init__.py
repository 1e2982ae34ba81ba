"""Retrieval: rankings on arrays, their fusion, English terms, and the Retriever facade."""

from .fusion import fuse, minmax, rrf, weighted
from .lookup import Corpus
from .rank import Ranking, dense_ranking, lexical_ranking
from .retriever import CANDIDATES, FusionConfig, Retriever, SearchResult
from .translate import Translator

__all__ = [
    "CANDIDATES",
    "Corpus",
    "FusionConfig",
    "Ranking",
    "Retriever",
    "SearchResult",
    "Translator",
    "dense_ranking",
    "fuse",
    "lexical_ranking",
    "minmax",
    "rrf",
    "weighted",
]
