"""The floor: the service's retrieval in-process, without HTTP, timed part by part."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoders import Embedder
from service import runtime
from service.runtime import Runtime
from service.settings import Settings

from ..loadgen import percentiles

# Parts of a search, as Retriever.search times them: the query's encoder, its FAISS search,
# BM25 (with English-to-Chinese term translation), and for Chinese hybrid queries over an
# index with multilingual vectors, the second encoder and its search.
FLOOR_PARTS = {"encode": "encode_ms", "faiss": "faiss_ms", "bm25": "bm25_ms", "ml": "ml_ms"}


def _ms(values: Sequence[float]) -> dict[str, float]:
    p50, p95, p99 = percentiles(values)
    return {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "p99_ms": round(p99, 3)}


def load_floor(settings: Settings, index_dir: Path, embedder: Embedder) -> Runtime:
    """The runtime the service builds over `index_dir` (MULTILINGUAL and all), cache off.

    The query cache is off so that every query of the floor is encoded.
    """
    floor_settings = settings.model_copy(update={"index_dir": index_dir, "query_cache_size": 0})
    return runtime.load(floor_settings, embedder=embedder)


def measure_floor(rt: Runtime, queries: Sequence[str], k: int) -> tuple[dict[str, Any], np.ndarray]:
    """p50/p95/p99 of each part of a hybrid search and of the whole, and the query vectors.

    The runtime's retriever must have its query cache off (load_floor), so every query is
    encoded. Lazy initialisation (the first English query builds the translator) is done
    before timing. The whole is understanding the query and searching, as the service does.
    """
    retriever = rt.retriever
    english = [q for q in queries if retriever.english(rt.understand(q, k, "hybrid"))]
    for q in [queries[0], *english[:1]]:
        retriever.search(rt.understand(q, k, "hybrid"))
    parts: dict[str, list[float]] = {name: [] for name in FLOOR_PARTS}
    total: list[float] = []
    for q in queries:
        t = time.perf_counter()
        result = retriever.search(rt.understand(q, k, "hybrid"))
        total.append((time.perf_counter() - t) * 1000)
        for name, key in FLOOR_PARTS.items():
            if key in result.timings:
                parts[name].append(result.timings[key])
    floor: dict[str, Any] = {"queries": len(queries), "english_queries": len(english)}
    for name, values in [*parts.items(), ("total", total)]:
        if values:
            for key, value in _ms(values).items():
                floor[f"{name}_{key}"] = value
    # Query vectors of the main encoder, for the scale test (one batch: not timed).
    vectors = retriever.embedder.encode_queries(list(queries))
    return floor, np.ascontiguousarray(vectors, dtype=np.float32)
