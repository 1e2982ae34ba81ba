"""Rank fusion of a dense and a lexical ranking (and extra weighted rankings)."""

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


def scores_at(rows: np.ndarray, ranked: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Scores of a ranking at the given rows; rows it lacks get its lowest score."""
    known = dict(zip(ranked.tolist(), scores.tolist(), strict=True))
    floor = float(scores.min()) if scores.size else 0.0
    return np.array([known.get(int(r), floor) for r in rows], dtype=np.float32)


def fuse(
    d_rows: np.ndarray,
    d_scores: np.ndarray,
    lex_of: dict[int, float],
    method: str,
    alpha: float,
    rrf_k: int = RRF_K,
    extra: list[tuple[np.ndarray, np.ndarray, float]] | None = None,
) -> list[tuple[int, float]]:
    """Fuse a dense ranking and lexical scores, plus extra (rows, scores, weight) rankings.

    RRF adds weight / (k + rank) per extra ranking; weighted fusion adds
    weight * minmax(score) over the same candidates. Returns (row, score), best first.
    """
    l_rows = list(lex_of)
    extra = extra or []
    if method == "rrf":
        fused = rrf([d_rows.tolist(), l_rows], rrf_k)
        for ranking, _, weight in extra:
            for row, score in rrf([ranking.tolist()], rrf_k).items():
                fused[row] = fused.get(row, 0.0) + weight * score
    else:
        # Weighted scores over the dense candidates (the dense list covers the filter).
        rows = np.array(
            list(dict.fromkeys([*d_rows.tolist(), *l_rows, *(r for e in extra for r in e[0])])),
            dtype=np.int64,
        )
        dv = scores_at(rows, d_rows, d_scores)
        lv = np.array([lex_of.get(int(r), 0.0) for r in rows], dtype=np.float32)
        fused = weighted(rows, dv, lv, alpha)
        for e_rows, e_scores, weight in extra:
            ev = minmax(scores_at(rows, e_rows, e_scores))
            for row, score in zip(rows.tolist(), ev.tolist(), strict=True):
                fused[row] += weight * score
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
