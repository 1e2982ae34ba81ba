"""Rank fusion of a dense and a lexical ranking."""

from __future__ import annotations

import numpy as np

RRF_K = 60


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): sum of 1 / (k + rank)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector maps to zeros."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.zeros_like(scores)
    return (scores - lo) / (hi - lo)


def weighted(
    rows: np.ndarray, dense: np.ndarray, lexical: np.ndarray, alpha: float
) -> dict[int, float]:
    """alpha * minmax(dense) + (1 - alpha) * minmax(lexical) over the candidate rows."""
    fused = alpha * minmax(dense) + (1.0 - alpha) * minmax(lexical)
    return {int(r): float(s) for r, s in zip(rows, fused, strict=True)}
