"""FAISS inner-product indexes over normalised vectors (cosine similarity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np

# faiss ships stubs that lack the HNSW and ID-selector APIs used here.
faiss: Any = _faiss


def build_index(
    vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32, ef_search: int = 128
) -> Any:
    """A flat (exact) or HNSW (approximate) inner-product index holding `vectors`."""
    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = max(40, 2 * hnsw_m)
        index.hnsw.efSearch = ef_search
    else:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use 'flat' or 'hnsw'")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest passages for each query row; rows are -1 past the end."""
    k = max(1, min(k, index.ntotal))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def save(index: Any, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path, ef_search: int | None = None, mmap: bool = False) -> Any:
    """Read a FAISS index; `mmap`: map the file read-only instead of reading it into memory
    (pages are read only when searched: for a store that searches elsewhere)."""
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
    index = faiss.read_index(str(path), flags)
    if ef_search is not None and hasattr(index, "hnsw"):
        index.hnsw.efSearch = ef_search
    return index
