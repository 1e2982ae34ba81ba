"""A deterministic embedder for tests about ranking logic (no model, exact scores)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from indexer.types import DocumentMeta


class HashEmbedder:
    """Character unigrams and bigrams hashed into a fixed-size, L2-normalised vector."""

    def __init__(self, dim: int = 64, name: str = "fake-hash-64") -> None:
        self.dim = dim
        self.name = name
        self.query_prompt = ""
        self.passage_prompt = ""
        self.calls = 0  # how many texts were encoded, for cache tests

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.strip():
                h = int.from_bytes(hashlib.md5(g.encode()).digest()[:4], "little")
                v[h % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)


def fake_document(doc_id: str, region: str | None, year: int | None) -> DocumentMeta:
    """A document's metadata with only what resolving questions reads: region and year."""
    return DocumentMeta(doc_id, f"{doc_id}.txt", "0" * 64, doc_id, region=region, year=year)


def write_questions(tmp_path: Path, *rows: object) -> Path:
    """A gold-set file of these rows (dicts as JSON lines, strings as they are)."""
    path = tmp_path / "q.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
        encoding="utf-8",
    )
    return path
