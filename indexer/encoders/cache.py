"""One caching wrapper for every encoder: repeated texts skip the model.

Queries repeat (the same question asked again, the warm-up), and the sentences of composed
answers repeat far more: the report has a few hundred sentences, and encoding the cited ones
on every request was most of /ask's time and memory. Both are kept in a thread-safe LRU by
text, one for queries and one for passages (their prompts differ).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from .base import Embedder


class _Lru:
    """Vectors by text, at most `size` of them, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            vec = self._data.get(key)
            if vec is not None:
                self._data.move_to_end(key)
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = vec
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class CachedEmbedder:
    """An Embedder that remembers the vectors it made.

    Args:
        embedder: the encoder to wrap.
        queries: query vectors kept (0: none).
        passages: passage vectors kept (0: none).
    """

    def __init__(self, embedder: Embedder, queries: int = 1024, passages: int = 0) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.query_prompt = getattr(embedder, "query_prompt", "")
        self.passage_prompt = getattr(embedder, "passage_prompt", "")
        self._queries = _Lru(queries)
        self._passages = _Lru(passages)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._queries, self.embedder.encode_queries)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._passages, self.embedder.encode_passages)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector."""
        return self.encode_queries([text])[0]

    def _encode(
        self, texts: list[str], cache: _Lru, encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        if cache.size <= 0:
            return encode(texts)
        found = {t: v for t in dict.fromkeys(texts) if (v := cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for text, vec in zip(missing, encode(missing), strict=True):
                cache.put(text, vec)
                found[text] = vec
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)
