"""The benchmark: its pure pieces exactly, the load client against a local server, and one
tiny end-to-end run of `python -m eval.bench` whose results.json must hold every field."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval.bench.queries import PREFIXES, QUESTIONS, SUFFIXES, query_pool, report_sentences
from eval.bench.scale import recall_at_10
from eval.bench.server import by_language
from eval.bench.synthetic import (
    DenseIndex,
    lexical_from_sentences,
    mean_vectors,
    remove_index,
    synthetic_passages,
    write_scale_index,
)
from eval.loadgen import LoadResult, percentiles, require_loopback, run_load, server_total_ms
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


def test_the_questions_are_the_eval_sets() -> None:
    assert QUESTIONS == ROOT / "eval" / "questions.jsonl"


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
    write_scale_index(folder, texts, main, lexical, "flat", 160, ml)
    loaded = store.load_index(folder, expected_model="main-model", expected_dim=8)
    assert [p.text for p in loaded.passages] == texts
    assert loaded.manifest["query_prompt"] == "q: " and loaded.manifest["faiss_index"] == "flat"
    assert [d.doc_id for d in loaded.documents] == ["synthetic"] and loaded.sections == []
    assert loaded.multilingual is not None and loaded.multilingual.model == "ml-model"
    assert not (folder / store.EMBED_KEYS).exists()
    assert len(json.loads((folder / store.ML_KEYS).read_text(encoding="utf-8"))) == len(texts)
    remove_index(folder)
    assert list((tmp_path / "work").iterdir()) == []


def test_percentiles() -> None:
    assert percentiles(list(range(1, 101))) == pytest.approx((50.5, 95.05, 99.01))
    assert percentiles([]) == (0.0, 0.0, 0.0)


# ---- the load client ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Answers 200 to bodies holding "ok" and 500 otherwise."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 200 if b'"ok"' in body else 500
        self.send_response(status)
        self.send_header("Server-Timing", "app;dur=1.5, total;dur=2.5")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_run_load_stops_at_the_request_cap_and_counts_errors(local_server: str) -> None:
    bodies = [{"q": "ok"}, {"q": "ok"}, {"q": "bad"}]
    result = run_load(local_server, "/x", bodies, concurrency=3, duration_s=30, max_requests=9)
    assert (result.requests, len(result.latencies_ms), result.errors) == (9, 6, 3)
    assert result.error_samples == ["HTTP 500: {}"]
    assert result.server_ms == [2.5] * 6
    assert sorted(result.body_index) == [0, 0, 0, 1, 1, 1]  # body 2 ("bad") always failed
    assert (result.summary()["errors"], result.summary()["server_p50_ms"]) == (3, 2.5)


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ("encode;dur=12.5, faiss;dur=0.2, total;dur=14.25", 14.25),
        ("total;desc=x;dur=3", 3.0),
        ("encode;dur=1", None),
        ("total;dur=abc", None),
        (None, None),
    ],
)
def test_server_total_ms_reads_the_total_of_server_timing(header: str | None, want: float) -> None:
    assert server_total_ms(header) == want


def test_run_load_stops_at_the_deadline(local_server: str) -> None:
    result = run_load(local_server, "/x", [{"q": "ok"}], 2, duration_s=0.3, max_requests=10**9)
    assert result.errors == 0
    assert 0 < result.requests < 10**9
    assert result.elapsed_s < 30


@pytest.mark.parametrize("url", ["http://10.0.0.1:80", "http://example.com", "http://0.0.0.0:1"])
def test_load_goes_to_loopback_only(url: str) -> None:
    with pytest.raises(ValueError, match="only sent to loopback"):
        require_loopback(url)
    with pytest.raises(ValueError, match="only sent to loopback"):
        run_load(url, "/search", [{"query": "x"}], 1, 1.0)


# ---- one tiny run of the whole benchmark --------------------------------------------------

LATENCY = {"p50_ms": float, "p95_ms": float, "p99_ms": float, "rps": float, "errors": int}
CONTRACT: dict[str, Any] = {
    "machine": {"cpus": int, "python": str, "torch": str, "faiss": str, "platform": str},
    "floor": {
        f"{part}_{q}_ms": float
        for part in ("encode", "faiss", "bm25", "total")
        for q in ("p50", "p95", "p99")
    },
    "search": {"c1": LATENCY, "c8": LATENCY},
    "ask": {"c1": LATENCY, "c8": LATENCY},
    "ratio_search_c1_p50_to_floor": float,
    "cold_start_s": float,
    "server_peak_rss_mb": float,
    "build_s": float,
    "model_load_s": float,
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
    # No index there: the bench measures the index it builds from --source.
    cmd += ["--index", str(tmp_path / "no-index")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    _check(CONTRACT, results)
    assert results["scale"]["passages"] == 2000
    assert results["floor"]["queries"] == 20
    for route in ("search", "ask"):
        for c in ("c1", "c8"):
            assert results[route][c]["errors"] == 0, results[route][c]
            assert results[route][c]["requests"] >= 1
    assert results["scale"]["flat"]["search_errors"] == 0
    assert results["scale"]["hnsw"]["search_errors"] == 0
    assert 0.0 <= results["scale"]["hnsw"]["recall@10_vs_flat"] <= 1.0
    assert results["index"].endswith("seeds-index")
    assert {t["target"].split(" ")[0] for t in results["targets"]} >= {"/search", "/ask"}
    assert "targets:" in proc.stdout and "results written to" in proc.stdout


def test_by_language_splits_latencies_by_the_question_sent() -> None:
    queries = ["上海的增长目标是多少", "What is the growth target?"]
    run = LoadResult(1, [10.0, 30.0, 12.0, 14.0], 0, 1.0, body_index=[0, 1, 0, 0])
    split = by_language(run, queries)
    assert split["zh"] == {"p50_ms": 12.0, "p95_ms": 13.8, "p99_ms": 13.96, "share": 0.75}
    assert split["en"] == {"p50_ms": 30.0, "p95_ms": 30.0, "p99_ms": 30.0, "share": 0.25}
