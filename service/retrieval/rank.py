"""Rankings on arrays: the best rows of a FAISS index or of a BM25 score vector. No model here.

A ranking is (rows, scores), best first; `rows` restricts it to those passage rows.
"""

from __future__ import annotations

from typing import Any

import faiss as _faiss
import numpy as np

# faiss ships stubs that lack the HNSW and ID-selector APIs used here.
faiss: Any = _faiss

Ranking = tuple[np.ndarray, np.ndarray]


def dense_ranking(index: Any, qvec: np.ndarray, n: int, rows: np.ndarray | None) -> Ranking:
    """(rows, cosine scores) of the n nearest passages of a FAISS index, best first."""
    n = min(n, index.ntotal if rows is None else len(rows))
    params = None
    if rows is not None:
        selector = faiss.IDSelectorBatch(rows.astype(np.int64))
        params = (
            faiss.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, n))
            if hasattr(index, "hnsw")
            else faiss.SearchParameters(sel=selector)
        )
    scores, ids = index.search(qvec.reshape(1, -1).astype(np.float32), n, params=params)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]


def lexical_ranking(scores: np.ndarray, n: int, rows: np.ndarray | None) -> Ranking:
    """(rows, BM25 scores) of the n best passages with a positive score, best first."""
    if rows is not None:
        masked = np.full_like(scores, -1.0)
        masked[rows] = scores[rows]
        scores = masked
    n = min(n, scores.size)
    top = np.argpartition(-scores, n - 1)[:n] if n < scores.size else np.arange(scores.size)
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[scores[top] > 0]
    return top.astype(np.int64), scores[top]
