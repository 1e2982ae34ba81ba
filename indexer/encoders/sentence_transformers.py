"""Any sentence-transformers model as an Embedder (PyTorch)."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .base import DEFAULT_MODEL, choose_prompts, resolve_model


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
