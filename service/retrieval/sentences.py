"""Sentence vectors for composed answers from the index (computed at build time,
indexer.sentences), with the encoder for sentences the index does not hold."""

from __future__ import annotations

import numpy as np

from indexer.encoders.cache import CachedEmbedder


class KnownSentences:
    """An encoder whose passage vectors come from the index's sentence vectors where it has
    them (indexer.sentences: computed at build time), and from the encoder otherwise."""

    def __init__(self, encoder: CachedEmbedder, rows: dict[str, int], matrix: np.ndarray) -> None:
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.query_prompt, self.passage_prompt = encoder.query_prompt, encoder.passage_prompt
        self._rows = rows
        self._matrix = matrix

    def encode_query(self, text: str) -> np.ndarray:
        return self.encoder.encode_query(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode_queries(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        known = [(i, r) for i, t in enumerate(texts) if (r := self._rows.get(t)) is not None]
        if known:
            at, rows = zip(*known, strict=True)
            out[list(at)] = self._matrix[list(rows)]
        missing = [i for i, t in enumerate(texts) if t not in self._rows]
        if missing:
            out[missing] = self.encoder.encode_passages([texts[i] for i in missing])
        return out
