"""Scale: flat and HNSW over a large synthetic corpus, served, with HNSW's recall."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import faiss
import numpy as np

from indexer import dense, store
from indexer.lexical import LexicalIndex, tokenize
from indexer.milvus_store import MilvusTarget
from service.retrieval import CANDIDATES

from ..loadgen import percentiles
from .context import Context
from .machine import MIB, folder_mb, rss_mb
from .queries import report_sentences
from .server import Server, load_run
from .stores import serve_stores, timed_build
from .synthetic import (
    DenseIndex,
    lexical_from_sentences,
    mean_vectors,
    remove_index,
    synthetic_passages,
    write_scale_index,
)


def _search_times(
    index: faiss.Index, queries: np.ndarray, k: int
) -> tuple[list[float], np.ndarray]:
    """Per-query search latency (ms) with batch size 1, and the top-k rows of each query."""
    times, rows = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - t) * 1000)
        rows.append(ids[0])
    return times, np.stack(rows)


def recall_at_10(exact: np.ndarray, approx: np.ndarray) -> float:
    """Mean recall@10 of the approximate top 10 against the exact top 10 (ranx)."""
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({f"q{i}": {str(r): 1 for r in row[:10] if r >= 0} for i, row in enumerate(exact)})
    run = Run(
        {
            f"q{i}": {str(r): float(10 - j) for j, r in enumerate(row[:10]) if r >= 0}
            for i, row in enumerate(approx)
        }
    )
    return float(evaluate(qrels, run, "recall@10"))


def _stores(
    ctx: Context,
    texts: list[str],
    vectors: np.ndarray,
    ml_vectors: np.ndarray | None,
    lexical: LexicalIndex,
    queries: list[str],
) -> dict[str, Any]:
    """The synthetic corpus written as a flat index and into Milvus, served from either."""
    s = ctx.settings
    folder = ctx.work / "scale-milvus"
    target = MilvusTarget(str(ctx.work / "milvus-scale.db"), alias="bench_scale")
    main = DenseIndex(ctx.embedder, dense.build_index(vectors, "flat", s.hnsw_m))
    ml = None
    if ctx.ml_encoder is not None and ml_vectors is not None:
        ml = DenseIndex(ctx.ml_encoder, dense.build_index(ml_vectors, "flat", s.hnsw_m))
    ctx.log(f"scale: writing {len(texts)} passages into Milvus Lite")
    write = partial(
        write_scale_index, folder, texts, main, lexical, "flat", s.chunk_size, ml, ctx.report_meta
    )
    built = {"faiss": timed_build(write)[1]}
    remove_index(folder)
    built["milvus"] = timed_build(partial(write, milvus=target), target)[1]
    ctx.log(f"scale written with either store: {built}")
    del main, ml, write
    try:
        stores = serve_stores(ctx, folder, target, queries, "scale")
    finally:
        remove_index(folder)
    return {"write": built, "stores": stores}


def measure_scale(
    ctx: Context, n: int, query_vecs: np.ndarray, slices: Iterator[list[str]]
) -> dict[str, Any]:
    """Flat and HNSW over `n` synthetic passages: build, size, memory, latency, recall."""
    s = ctx.settings
    sentences = report_sentences(ctx.report_text)
    t = time.perf_counter()
    sentence_vecs = ctx.embedder.encode_passages(sentences)
    embed_s = time.perf_counter() - t
    combos = synthetic_passages(len(sentences), n)
    vectors = mean_vectors(sentence_vecs, combos)
    ml_vectors = None
    if ctx.ml_encoder is not None:
        ml_vectors = mean_vectors(ctx.ml_encoder.encode_passages(sentences), combos)
    texts = ["".join(sentences[i] for i in combo) for combo in combos]
    t = time.perf_counter()
    lexical = lexical_from_sentences([tokenize(x) for x in sentences], combos)
    bm25_s = time.perf_counter() - t
    result: dict[str, Any] = {
        "passages": n,
        "distinct_sentences": len(sentences),
        "vectors": "normalised mean of the embedded vectors of each passage's 2-4 sentences",
        "multilingual": ctx.ml_encoder.name if ctx.ml_encoder is not None else None,
        # The synthetic document's region and year: the report's (see write_scale_index).
        "region": ctx.report_meta.region if ctx.report_meta is not None else None,
        "year": ctx.report_meta.year if ctx.report_meta is not None else None,
        "sentence_embed_s": round(embed_s, 3),
        "bm25_build_s": round(bm25_s, 3),
    }
    ctx.log(f"scale: {n} passages from {len(sentences)} sentences (embedded in {embed_s:.1f} s)")
    top: dict[str, np.ndarray] = {}
    for kind in ("flat", "hnsw"):
        before = rss_mb()
        t = time.perf_counter()
        index = dense.build_index(vectors, kind, s.hnsw_m, s.hnsw_ef_search)
        build_s = time.perf_counter() - t
        grown = rss_mb() - before
        times, top[kind] = _search_times(index, query_vecs, CANDIDATES)
        folder = ctx.work / f"scale-{kind}"
        ml = None
        if ctx.ml_encoder is not None and ml_vectors is not None:
            ml_index = dense.build_index(ml_vectors, kind, s.hnsw_m, s.hnsw_ef_search)
            ml = DenseIndex(ctx.ml_encoder, ml_index)
        main = DenseIndex(ctx.embedder, index)
        write_scale_index(folder, texts, main, lexical, kind, s.chunk_size, ml, ctx.report_meta)
        del index, main, ml
        entry: dict[str, Any] = {
            "build_s": round(build_s, 3),
            "rss_mb": round(grown, 1),
            "size_mb": round((folder / store.FAISS_FILE).stat().st_size / MIB, 1),
            "index_folder_mb": round(folder_mb(folder), 1),
            "faiss_p50_ms": round(percentiles(times)[0], 3),
        }
        if kind == "hnsw":
            entry.update(m=s.hnsw_m, ef_search=s.hnsw_ef_search)
        ctx.log(f"scale {kind}: built in {build_s:.1f} s; starting the service over it")
        with Server(folder, ctx.out / f"server-scale-{kind}.log") as server:
            run = load_run(server, "/search", next(slices), 1, ctx.args.duration)
        summary = run.summary()
        entry["search_p50_ms"] = summary["p50_ms"]
        entry["search_p99_ms"] = summary["p99_ms"]
        entry["search_errors"] = summary["errors"]
        entry["cold_start_s"] = round(server.cold_start_s, 3)
        entry["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
        remove_index(folder)
        result[kind] = entry
        ctx.log(f"scale {kind}: {entry}")
    result.update(_stores(ctx, texts, vectors, ml_vectors, lexical, next(slices)))
    result["hnsw"]["recall@10_vs_flat"] = round(recall_at_10(top["flat"], top["hnsw"]), 4)
    ctx.log(f"scale: HNSW recall@10 against flat {result['hnsw']['recall@10_vs_flat']}")
    return result
