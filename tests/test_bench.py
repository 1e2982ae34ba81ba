"""The benchmark: its pure pieces exactly (questions, the corpus run's mix, the table and
targets), the load client against a local server, and one tiny end-to-end run of
`python -m eval.bench` whose results.json must hold every field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import fake_document

from eval.bench.queries import (
    PREFIXES,
    SUFFIXES,
    query_pool,
    report_sentences,
)
from eval.bench.scale import recall_at_10
from eval.bench.synthetic import (
    DenseIndex,
    lexical_from_sentences,
    mean_vectors,
    remove_index,
    synthetic_passages,
    write_scale_index,
)
from indexer import dense, store
from indexer.lexical import tokenize

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"


# ---- pure pieces -------------------------------------------------------------------------


def test_report_sentences_split_at_sentence_ends_and_drop_repeats_and_scraps() -> None:
    text = "一、总体要求\n今年经济增长7%。城市更新加快；短。\n今年经济增长7%。Growth is fine! Ok?"
    assert report_sentences(text) == [
        "一、总体要求",
        "今年经济增长7%。",
        "城市更新加快；",
        "Growth is fine!",
    ]


def test_query_pool_has_every_variant_once_in_a_reproducible_shuffle() -> None:
    pool = query_pool(["甲", "甲？"])
    # 8 prefixes x 6 suffixes x 2 questions, less one repeat for each prefix
    # ("甲" + "？" is "甲？").
    assert len(pool) == len(set(pool)) == 8 * 6 * 2 - 8
    assert {"甲", "甲？", "甲？？", "Q: 甲？（2018年）"} <= set(pool)
    assert pool == query_pool(["甲", "甲？"])
    assert pool != query_pool(["甲", "甲？"], seed=1)
    questions = ["甲", "甲？"]
    variants = (p + q + s for p in PREFIXES for s in SUFFIXES for q in questions)
    in_order = list(dict.fromkeys(variants))
    assert pool != in_order and sorted(pool) == sorted(in_order)


def test_synthetic_passages_are_distinct_sets_of_two_to_four_and_reproducible() -> None:
    combos = synthetic_passages(12, 300, seed=7)
    assert len(combos) == 300
    assert {len(c) for c in combos} == {2, 3, 4}
    assert all(len(set(c)) == len(c) and all(0 <= i < 12 for i in c) for c in combos)
    assert len({frozenset(c) for c in combos}) == 300
    assert combos == synthetic_passages(12, 300, seed=7)
    assert combos != synthetic_passages(12, 300, seed=8)


def test_synthetic_passages_refuse_what_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="at least 4 sentences"):
        synthetic_passages(3, 10)
    # 4 sentences give only C(4,2) + C(4,3) + C(4,4) = 11 distinct sets.
    with pytest.raises(ValueError, match="only 11 distinct passages"):
        synthetic_passages(4, 12)


def test_mean_vectors_match_a_brute_force_mean() -> None:
    rng = np.random.default_rng(0)
    sentences = rng.normal(size=(9, 5)).astype(np.float32)
    combos = [(0, 1), (2, 3, 4), (5, 6, 7, 8), (8, 0)]
    got = mean_vectors(sentences, combos)
    for row, combo in zip(got, combos, strict=True):
        want = sentences[list(combo)].mean(axis=0)
        np.testing.assert_allclose(row, want / np.linalg.norm(want), rtol=1e-5, atol=1e-6)


def test_recall_at_10_counts_the_exact_top_10_found() -> None:
    exact = np.array([list(range(12)), list(range(100, 112))])
    approx = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 50, 51, 8, 9], [*range(100, 110), 1, 2]])
    # query 0 finds 8 of its 10 in the top 10, query 1 all 10: mean 0.9.
    assert recall_at_10(exact, approx) == pytest.approx(0.9)


class _FakeEncoder:
    """Only what an index's manifest records of an encoder."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim
        self.query_prompt, self.passage_prompt = "q: ", "p: "

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        raise NotImplementedError


def test_scale_index_loads_as_the_service_loads_it_and_is_removed(tmp_path: Path) -> None:
    sentences = [
        "今年经济增长百分之七。",
        "城市更新加快推进。",
        "生态环境持续改善。",
        "民生保障更加有力。",
    ]
    combos = synthetic_passages(len(sentences), 6, seed=3)
    texts = ["".join(sentences[i] for i in combo) for combo in combos]
    rng = np.random.default_rng(0)
    main_vecs = mean_vectors(rng.normal(size=(4, 8)).astype(np.float32), combos)
    ml_vecs = mean_vectors(rng.normal(size=(4, 6)).astype(np.float32), combos)
    main = DenseIndex(_FakeEncoder("main-model", 8), dense.build_index(main_vecs, "flat", 32, 64))
    ml = DenseIndex(_FakeEncoder("ml-model", 6), dense.build_index(ml_vecs, "flat", 32, 64))
    lexical = lexical_from_sentences([tokenize(x) for x in sentences], combos)
    folder = tmp_path / "work" / "scale-flat"
    like = fake_document("shanghai-2018", "上海市", 2018)
    write_scale_index(folder, texts, main, lexical, "flat", 160, ml, like)
    loaded = store.load_index(folder, expected_model="main-model", expected_dim=8)
    assert [p.text for p in loaded.passages] == texts
    assert loaded.manifest["query_prompt"] == "q: " and loaded.manifest["faiss_index"] == "flat"
    assert [d.doc_id for d in loaded.documents] == ["synthetic"] and loaded.sections == []
    assert (loaded.documents[0].region, loaded.documents[0].year) == ("上海市", 2018)
    assert loaded.multilingual is not None and loaded.multilingual.model == "ml-model"
    assert not (folder / store.EMBED_KEYS).exists()
    assert len(json.loads((folder / store.ML_KEYS).read_text(encoding="utf-8"))) == len(texts)
    remove_index(folder)
    assert list((tmp_path / "work").iterdir()) == []


def test_the_service_searches_the_scale_index_for_questions_naming_the_report(
    tmp_path: Path,
) -> None:
    """The synthetic document is the report's region and year, so the report's questions
    that name them are searched, not answered at once with "the corpus has no such report"."""
    from fakes import HashEmbedder
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.retrieval import Retriever
    from service.settings import Settings

    sentences = [
        "上海城市更新加快推进。",
        "新增养老床位七千张。",
        "生态环境持续改善。",
        "民生保障更加有力。",
        "全市生产总值增长百分之七。",
    ]
    combos = synthetic_passages(len(sentences), 12, seed=3)
    texts = ["".join(sentences[i] for i in combo) for combo in combos]
    embedder = HashEmbedder()
    vectors = mean_vectors(embedder.encode_passages(sentences), combos)
    main = DenseIndex(embedder, dense.build_index(vectors, "flat", 32, 64))
    lexical = lexical_from_sentences([tokenize(x) for x in sentences], combos)
    folder = tmp_path / "scale-flat"
    write_scale_index(
        folder, texts, main, lexical, "flat", 160, like=fake_document("sh", "上海市", 2018)
    )
    retriever = Retriever(store.load_index(folder), embedder)
    with TestClient(create_app(Settings(multilingual=False), retriever)) as client:
        for query in ("上海市政府工作报告里养老床位新增多少", "2018年养老床位新增多少"):
            got = client.post("/search", json={"query": query})
            assert got.status_code == 200, got.text
            assert got.json()["resolved"]["doc_ids"] == ["synthetic"], got.json()["resolved"]
            assert len(got.json()["results"]) == 5


LATENCY = {"p50_ms": float, "p95_ms": float, "p99_ms": float, "rps": float, "errors": int}
STORES = ("faiss", "milvus")
SERVED = {"c1": LATENCY, "c8": LATENCY, "cold_start_s": float, "server_peak_rss_mb": float}
CONTRACT: dict[str, Any] = {
    "machine": {"cpus": int, "python": str, "torch": str, "faiss": str, "platform": str},
    "floor": {
        f"{part}_{q}_ms": float
        for part in ("encode", "faiss", "bm25", "total")
        for q in ("p50", "p95", "p99")
    },
    "search": {"c1": LATENCY, "c8": LATENCY},
    "ask": {"c1": LATENCY, "c8": LATENCY},
    "burst": {**LATENCY, "shed": int, "shed_share": float},
    "reindex": {
        "concurrency": int,
        "added": str,
        "add": {"status": int, "response_s": float, "upload_to_searchable_s": float},
        "replace": {"status": int, "response_s": float},
        "requests": int,
        "failed": int,
        "p99_before_ms": float,
        "p99_during_ms": float,
        "rss_peak_during_mb": float,
    },
    "ratio_search_c1_p50_to_floor": float,
    "cold_start_s": float,
    "server_peak_rss_mb": float,
    "build_s": float,
    "build_passages": int,
    "build_source": str,
    "model_load_s": float,
    "ratio_corpus_search_c1_p50_to_report": float,
    "corpus": {
        "source": str,
        "model": str,
        "documents": int,
        "passages": int,
        "build_s": float,
        "parse_s": float,
        "embed_s": float,
        "embedded": int,
        "reused": int,
        "ml_embedded": int,
        "ml_reused": int,
        "first_build_s_estimate": float,
        "scoped_questions": int,
        "cold_start_s": float,
        "server_peak_rss_mb": float,
        "search": {"c1": LATENCY},
        "ask": {"c1": LATENCY},
        "floor": {"total_p50_ms": float, "encode_p50_ms": float},
        "report_search": {"c1": LATENCY},
        "rebuild": {kind: {"build_s": float, "embedded": int, "reused": int} for kind in STORES},
        "stores": {kind: SERVED for kind in STORES},
    },
    "scale": {
        "passages": int,
        "flat": {"build_s": float, "search_p50_ms": float, "rss_mb": float, "size_mb": float},
        "hnsw": {
            "build_s": float,
            "search_p50_ms": float,
            "rss_mb": float,
            "size_mb": float,
            "recall@10_vs_flat": float,
        },
        "write": {
            "faiss": {"build_s": float},
            "milvus": {"build_s": float, "milvus_folder_mb": float},
        },
        "stores": {kind: SERVED for kind in STORES},
    },
}


def _check(shape: dict[str, Any], data: dict[str, Any], where: str = "") -> None:
    for key, kind in shape.items():
        assert key in data, f"results.json lacks {where}{key}"
        value = data[key]
        if isinstance(kind, dict):
            _check(kind, value, f"{where}{key}.")
        elif kind is float:  # JSON writes 3.0 as 3.0, but a number may be a whole one
            assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
            assert value >= 0, f"{where}{key} = {value}"
        else:
            assert type(value) is kind, f"{where}{key} = {value!r} is not {kind.__name__}"


@pytest.mark.slow
def test_bench_end_to_end_writes_every_field(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "eval.bench", "--duration", "1", "--scale", "2000"]
    cmd += ["--floor-queries", "20", "--out", str(out), "--source", str(FIXTURE_CORPUS)]
    # No index there: the bench measures the index it builds from --report alone.
    cmd += ["--report", "demo-2020.txt", "--index", str(tmp_path / "no-index")]
    # The whole corpus takes multilingual vectors from this (empty) cache, not the checkout's.
    env = {**os.environ, "MULTILINGUAL_CACHE_DIR": str(tmp_path / "ml-cache")}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    _check(CONTRACT, results)
    assert results["scale"]["passages"] == 2000
    assert results["floor"]["queries"] == 20
    for route in ("search", "ask"):
        for c in ("c1", "c8"):
            assert results[route][c]["errors"] == 0, results[route][c]
            assert results[route][c]["requests"] >= 1
    assert results["burst"]["errors"] == 0 and results["burst"]["requests"] >= 1
    live = results["reindex"]
    assert live["add"]["status"] == 201 and live["replace"]["status"] == 200, live
    assert live["failed"] == 0 and live["requests"] >= 1, live
    assert live["add"]["embedded"] == live["add"]["passages_added"] > 0
    assert live["replace"]["embedded"] == live["replace"]["passages_added"] >= 1
    assert "reindex while serving" in proc.stdout
    assert results["scale"]["flat"]["search_errors"] == 0
    assert results["scale"]["hnsw"]["search_errors"] == 0
    assert 0.0 <= results["scale"]["hnsw"]["recall@10_vs_flat"] <= 1.0
    assert results["index"].endswith("report-index")
    assert results["build_source"] == "demo-2020.txt"
    assert results["build_passages"] < results["corpus"]["passages"]
    corpus = results["corpus"]
    assert corpus["documents"] == 3 and corpus["source"] == str(FIXTURE_CORPUS)
    assert corpus["embedded"] == corpus["passages"] and corpus["reused"] == 0
    # An empty cache: every multilingual vector embedded, and written there for the next build.
    assert corpus["ml_embedded"] == corpus["passages"] and corpus["ml_reused"] == 0
    assert corpus["ml_cache"] == str(tmp_path / "ml-cache")
    assert list((tmp_path / "ml-cache").glob("*.npz"))
    assert corpus["search"]["c1"]["errors"] == 0 and corpus["report_search"]["c1"]["errors"] == 0
    assert results["ratio_corpus_search_c1_p50_to_report"] == round(
        corpus["search"]["c1"]["p50_ms"] / corpus["report_search"]["c1"]["p50_ms"], 3
    )
    assert set(corpus["search"]["c1"]["by_kind"]) == {"report", "region/year"}
    # Either store serves the corpus and the synthetic corpus; a rebuild embeds nothing again.
    for served in (corpus["stores"], results["scale"]["stores"]):
        for kind in STORES:
            assert served[kind]["c1"]["errors"] == served[kind]["c8"]["errors"] == 0, served
            assert served[kind]["c1"]["requests"] >= 1 and served[kind]["c8"]["requests"] >= 1
    for kind in STORES:
        assert corpus["rebuild"][kind]["embedded"] == 0
        assert corpus["rebuild"][kind]["reused"] == corpus["passages"]
    assert results["scale"]["write"]["milvus"]["milvus_folder_mb"] > 0
    assert corpus["ask"]["c1"]["errors"] == 0 and corpus["floor"]["queries"] == 20
    assert "issue 18: corpus floor p50 ms" in {t["target"] for t in results["targets"]}
    assert "corpus milvus" in proc.stdout and "2000 milvus" in proc.stdout
    assert {t["target"].split(" ")[0] for t in results["targets"]} >= {"/search", "/ask", "whole"}
    assert "targets:" in proc.stdout and "results written to" in proc.stdout
    assert "/search c1 corpus" in proc.stdout and "whole corpus: 3 reports" in proc.stdout
