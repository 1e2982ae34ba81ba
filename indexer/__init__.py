"""Index government reports: read, parse headings, chunk passages, embed, and store on disk.

Build time only: nothing here knows of HTTP, answers or the service's settings.
"""

from .build import BuildReport, build
from .encoders import Embedder, SentenceTransformerEmbedder, load_embedder, load_multilingual
from .errors import IndexLoadError, ModelError, ReportQAError, SourceError
from .settings import IndexSettings
from .sources import SourceDoc, read_sources
from .store import LoadedIndex, load_index, write_index
from .types import DocumentMeta, Heading, Hit, Passage, Section

__all__ = [
    "BuildReport",
    "DocumentMeta",
    "Embedder",
    "Heading",
    "Hit",
    "IndexLoadError",
    "IndexSettings",
    "LoadedIndex",
    "ModelError",
    "Passage",
    "ReportQAError",
    "Section",
    "SentenceTransformerEmbedder",
    "SourceDoc",
    "SourceError",
    "build",
    "load_embedder",
    "load_index",
    "load_multilingual",
    "read_sources",
    "write_index",
]
