"""Index government reports: parse headings, chunk passages, embed, and store on disk."""

from .build import BuildReport, build, read_sources
from .embed import Embedder, SentenceTransformerEmbedder, load_embedder
from .errors import (
    IndexLoadError,
    InvalidQueryError,
    ModelError,
    NotFoundError,
    ReportQAError,
    SourceError,
)
from .settings import Settings, get_settings
from .store import LoadedIndex, load_index
from .types import DocumentMeta, Heading, Hit, Passage, Section

__all__ = [
    "BuildReport",
    "DocumentMeta",
    "Embedder",
    "Heading",
    "Hit",
    "IndexLoadError",
    "InvalidQueryError",
    "LoadedIndex",
    "ModelError",
    "NotFoundError",
    "Passage",
    "ReportQAError",
    "Section",
    "SentenceTransformerEmbedder",
    "Settings",
    "SourceError",
    "build",
    "get_settings",
    "load_embedder",
    "load_index",
    "read_sources",
]
