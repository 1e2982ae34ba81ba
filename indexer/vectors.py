"""Passage vectors for a build, embedded only where no earlier build has them.

Vectors are kept by content: the key is the sha256 of the model name, the passage prompt
and the text, so a rebuild of unchanged text embeds nothing. Vectors come from the previous
index at the same folder and, for the multilingual encoder, from an on-disk cache shared by
every build (`MULTILINGUAL_CACHE_DIR`, default var/cache/multilingual).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .encoders.base import Embedder

log = logging.getLogger(__name__)


def passage_key(encoder: Embedder, text: str) -> str:
    """Cache key of a passage vector: model, passage prompt and text."""
    prompt = getattr(encoder, "passage_prompt", "")
    return hashlib.sha256(f"{encoder.name}\0{prompt}\0{text}".encode()).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"


class VectorCache:
    """Passage vectors by key in one .npz file per model; written atomically, lossy on races."""

    def __init__(self, folder: Path, encoder: Embedder) -> None:
        self.path = Path(folder) / f"{_safe(encoder.name)}-{encoder.dim}.npz"
        self.dim = encoder.dim

    def load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, KeyError, ValueError):
            return {}
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(keys) != len(vectors):
            return {}
        return dict(zip(keys.tolist(), vectors, strict=True))

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        """Merge these vectors into the cache file (best effort: a failure is only logged)."""
        try:
            merged = {**self.load(), **vectors}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
            keys = np.array(list(merged), dtype="U64")
            array = np.stack(list(merged.values())).astype(np.float32)
            np.savez(tmp, keys=keys, vectors=array)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("multilingual vector cache %s not written: %s", self.path, exc)


@dataclass(frozen=True, slots=True)
class EmbeddedPassages:
    """Multilingual passage vectors for a build, and how they were obtained."""

    keys: list[str]
    vectors: np.ndarray
    embedded: int
    reused: int
    seconds: float


def embed_passages(
    encoder: Embedder,
    texts: list[str],
    previous: dict[str, np.ndarray] | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> EmbeddedPassages:
    """Vectors for the texts, embedding only those found in neither `previous` nor the cache."""
    t0 = time.perf_counter()
    keys = [passage_key(encoder, t) for t in texts]
    known = dict(previous or {})
    cache = VectorCache(cache_dir, encoder) if cache_dir is not None else None
    if cache is not None and any(k not in known for k in keys):
        known = {**cache.load(), **known}
    missing = [i for i, k in enumerate(keys) if k not in known]
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    if missing:
        log.info("%s: embedding %d passages", encoder.name, len(missing))
        fresh = encoder.encode_passages([texts[i] for i in missing], progress=progress)
        for i, vec in zip(missing, fresh, strict=True):
            known[keys[i]] = vec
        if cache is not None:
            cache.save({keys[i]: known[keys[i]] for i in missing})
    for i, k in enumerate(keys):
        vectors[i] = known[k]
    return EmbeddedPassages(
        keys, vectors, len(missing), len(texts) - len(missing), time.perf_counter() - t0
    )


def read_keys(path: Path) -> list[str]:
    """The cache keys stored beside an index's multilingual vectors."""
    keys = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{path} is not a list of keys")
    return keys
