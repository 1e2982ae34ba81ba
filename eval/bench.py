"""python -m eval.bench [--duration 20] [--scale 100000] [--out bench-results]

Latency, throughput, memory and scale of the service, measured against the floor (the
same retrieval in-process, without HTTP) in the same run. Prints a table and writes
results.json to --out. Every loop is bounded in count and time; load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import httpx
import numpy as np

from indexer import dense, multilingual, store
from indexer.build import build
from indexer.embed import Embedder, encoder_options, load_embedder
from indexer.lexical import LexicalIndex, tokenize
from indexer.settings import Settings, get_settings
from indexer.store import LoadedIndex, load_index
from indexer.threads import configure_threads, thread_count
from indexer.types import DocumentMeta, Passage
from service.lang import detect_lang
from service.search import CANDIDATES, Retriever

from .loadgen import LoadResult, percentiles, run_load

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "questions.jsonl"
HOST = "127.0.0.1"
CONCURRENCY = (1, 8)
SEED = 20180123
# Variations that make every query of a run distinct, so no cache answers for the encoder.
PREFIXES = ("", "请问", "我想知道", "麻烦问一下，", "想了解：", "问：", "请告诉我", "Q: ")
SUFFIXES = ("", "？", "呢", "。", " 谢谢", "（2018年）")
READY_TIMEOUT_S = 180.0
WARMUP_REQUESTS = 3
MIB = 1024 * 1024

# The targets on a 2-core machine.
MAX_SEARCH_TO_FLOOR = 1.5
MAX_P99_TO_P50 = 3.0
MIN_C8_TO_C1_RPS = 1.5
MAX_RSS_MB = 1200.0
MAX_COLD_START_S = 15.0
MAX_SCALE_TO_REPORT = 2.0
MIN_RECALL = 0.95


# ---- small helpers ---------------------------------------------------------------------


def _ms(values: Sequence[float]) -> dict[str, float]:
    p50, p95, p99 = percentiles(values)
    return {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "p99_ms": round(p99, 3)}


def _proc_status_mb(pid: int | str, field_name: str) -> float:
    """VmRSS or VmHWM of a process, in MiB (0.0 when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    return _proc_status_mb("self", "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MiB."""
    total = _proc_status_mb(pid, "VmHWM")
    with contextlib.suppress(OSError, ValueError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total += sum(_proc_status_mb(int(c), "VmHWM") for c in children)
    return total


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MIB


def machine_info(settings: Settings) -> dict[str, Any]:
    import onnxruntime
    import torch

    cpu_model = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count() or 0,
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "encoder_backend": settings.encoder_backend,
        "threads_per_search": thread_count(settings.torch_threads),
        "faiss": getattr(faiss, "__version__", "?"),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
    }


# ---- queries ---------------------------------------------------------------------------


def report_sentences(text: str, min_chars: int = 6) -> list[str]:
    """The distinct sentences of a report, in order (split at 。！？； and line ends)."""
    pieces = (s.strip() for s in re.split(r"(?<=[。！？；!?;])|\n", text))
    return list(dict.fromkeys(s for s in pieces if len(s) >= min_chars))


def load_questions(path: Path, fallback_text: str) -> list[str]:
    """The eval set's questions, or the report's sentences when there is no eval set."""
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        questions = [str(r["question"]) for r in rows if r.get("question")]
        if questions:
            return list(dict.fromkeys(questions))
    return report_sentences(fallback_text)


def query_pool(questions: Sequence[str], seed: int = SEED) -> list[str]:
    """Every question with every prefix and suffix, no repeats, shuffled with a fixed seed.

    Shuffled so that the floor and every load run draw from the same mix of short, long,
    Chinese and English questions: consecutive slices are comparable samples.
    """
    pool = (p + q + s for p, s in itertools.product(PREFIXES, SUFFIXES) for q in questions)
    distinct = list(dict.fromkeys(pool))
    random.Random(seed).shuffle(distinct)
    return distinct


# ---- the floor: the same work in-process, without HTTP ----------------------------------


# Parts of a search, as Retriever.search times them: the query's encoder, its FAISS search,
# BM25 (with English-to-Chinese term translation), and for Chinese hybrid queries over an
# index with multilingual vectors, the second encoder and its search.
FLOOR_PARTS = {"encode": "encode_ms", "faiss": "faiss_ms", "bm25": "bm25_ms", "ml": "ml_ms"}


def measure_floor(
    retriever: Retriever, queries: Sequence[str], k: int
) -> tuple[dict[str, Any], np.ndarray]:
    """p50/p95/p99 of each part of a hybrid search and of the whole, and the query vectors.

    The retriever must have its query cache off, so every query is encoded. Lazy
    initialisation (the first English query builds the translator) is done before timing.
    """
    english = [q for q in queries if retriever.is_english(q)]
    for q in [queries[0], *english[:1]]:
        retriever.search(q, k, "hybrid")
    parts: dict[str, list[float]] = {name: [] for name in FLOOR_PARTS}
    total: list[float] = []
    for q in queries:
        t = time.perf_counter()
        result = retriever.search(q, k, "hybrid")
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


# ---- the service in a subprocess --------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`python -m service` on a free loopback port; always stopped by the context manager."""

    index: Path
    log_path: Path
    port: int = 0
    cold_start_s: float = 0.0
    peak_rss_mb: float = 0.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the server is not started")
        return self.proc.pid

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""

    def start(self) -> None:
        """Start the server and wait (bounded) until /readyz answers 200."""
        self.port = free_port()
        cmd = [sys.executable, "-m", "service", "--index", str(self.index)]
        cmd += ["--host", HOST, "--port", str(self.port)]
        log = self.log_path.open("wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = t0 + READY_TIMEOUT_S
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with status {self.proc.returncode} before it was "
                        f"ready; its log ({self.log_path}) ends with:\n{self._log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/readyz").status_code == 200:
                        self.cold_start_s = time.perf_counter() - t0
                        return
                time.sleep(0.05)
        raise RuntimeError(
            f"the server was not ready after {READY_TIMEOUT_S:.0f} s; its log ends with:\n"
            f"{self._log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.peak_rss_mb = peak_rss_mb(self.proc.pid)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bodies(route: str, queries: Sequence[str]) -> list[dict[str, Any]]:
    key = "question" if route == "/ask" else "query"
    return [{key: q} for q in queries]


def _warm_up(server: Server, route: str, queries: Sequence[str]) -> None:
    """A few requests before measuring: first-request imports are not steady state."""
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        for body in _bodies(route, queries[:WARMUP_REQUESTS]):
            client.post(route, json=body)


def load_run(
    server: Server, route: str, queries: Sequence[str], concurrency: int, duration: float
) -> LoadResult:
    """One bounded load run; the queries are cycled (more than the server's cache holds)."""
    _warm_up(server, route, queries[-WARMUP_REQUESTS:])
    return run_load(server.url, route, _bodies(route, queries), concurrency, duration)


def by_language(run: LoadResult, queries: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50/p95/p99 and the share of requests for Chinese and for English questions.

    The two take different encoders (m3e-small; the 12-layer multilingual encoder, 3-4 times
    slower), so the mixed percentiles are easier to read beside these.
    """
    out: dict[str, dict[str, float]] = {}
    langs = [detect_lang(queries[i]) for i in run.body_index]
    for lang in ("zh", "en"):
        values = [ms for ms, q in zip(run.latencies_ms, langs, strict=True) if q == lang]
        if values:
            p50, p95, p99 = percentiles(values)
            share = len(values) / max(len(run.latencies_ms), 1)
            out[lang] = {
                "p50_ms": round(p50, 3),
                "p95_ms": round(p95, 3),
                "p99_ms": round(p99, 3),
                "share": round(share, 3),
            }
    return out


# ---- scale: a synthetic corpus from the report's own sentences ---------------------------


def synthetic_passages(n_sentences: int, n: int, seed: int = SEED) -> list[tuple[int, ...]]:
    """`n` distinct sets of 2-4 sentence numbers: the sentences shuffled, then cut in runs.

    Each shuffle of the sentence list is cut into consecutive runs of 2-4 sentences; a run
    whose set of sentences was already used is skipped (equal sets would give equal vectors,
    and ties make recall against the exact index meaningless).
    """
    if n_sentences < 4:
        raise ValueError(f"need at least 4 sentences to recombine, got {n_sentences}")
    rng = random.Random(seed)
    order = list(range(n_sentences))
    seen: set[frozenset[int]] = set()
    out: list[tuple[int, ...]] = []
    cursor = len(order)
    for _ in range(50 * n + 100):
        if len(out) >= n:
            break
        size = rng.randint(2, 4)
        if cursor + size > len(order):
            rng.shuffle(order)
            cursor = 0
        run = tuple(order[cursor : cursor + size])
        cursor += size
        key = frozenset(run)
        if key not in seen:
            seen.add(key)
            out.append(run)
    if len(out) < n:
        raise ValueError(f"only {len(out)} distinct passages can be made from these sentences")
    return out


def mean_vectors(sentence_vecs: np.ndarray, combos: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Each passage's vector: the L2-normalised mean of its sentences' vectors."""
    out = np.empty((len(combos), sentence_vecs.shape[1]), dtype=np.float32)
    for start in range(0, len(combos), 8192):
        for size in (2, 3, 4):
            rows = [
                i for i in range(start, min(start + 8192, len(combos))) if len(combos[i]) == size
            ]
            if rows:
                idx = np.array([combos[i] for i in rows], dtype=np.int64)
                out[rows] = sentence_vecs[idx].mean(axis=1)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def lexical_from_sentences(
    sentence_tokens: Sequence[list[str]], combos: Sequence[tuple[int, ...]]
) -> LexicalIndex:
    """BM25 over the passages, each tokenised as the concatenation of its sentences' tokens."""
    import bm25s

    retriever = bm25s.BM25()
    corpus = [[t for i in combo for t in sentence_tokens[i]] for combo in combos]
    retriever.index(corpus, show_progress=False)
    return LexicalIndex(retriever, len(combos))


@dataclass(frozen=True, slots=True)
class DenseIndex:
    """A FAISS index with the encoder its vectors stand for."""

    encoder: Embedder
    index: faiss.Index


def write_scale_index(
    folder: Path,
    texts: Sequence[str],
    main: DenseIndex,
    lexical: LexicalIndex,
    kind: str,
    chunk_size: int,
    ml: DenseIndex | None = None,
) -> None:
    """An index folder in the on-disk format the service loads (one synthetic document).

    The layout follows indexer.build.build: passages, sections, FAISS, BM25, and the
    multilingual vectors when given, with a manifest that checksums every file.
    """
    folder.mkdir(parents=True)
    doc_id = "synthetic"
    passages = []
    offset = 0
    for i, text in enumerate(texts, start=1):
        passages.append(
            Passage(f"{doc_id}-{i:06d}", doc_id, (), None, i, offset, offset + len(text), text)
        )
        offset += len(text) + 2  # the synthetic source joins passages with a blank line
    source = "\n\n".join(texts)
    store.write_jsonl(folder / store.PASSAGES, [p.to_dict() for p in passages])
    (folder / store.SECTIONS).write_text("[]", encoding="utf-8")
    dense.save(main.index, folder / store.FAISS_FILE)
    lexical.save(folder / store.BM25_DIR)
    if ml is not None:
        dense.save(ml.index, folder / store.ML_FAISS)
        keys = [multilingual.passage_key(ml.encoder, t) for t in texts]
        (folder / store.ML_KEYS).write_text(json.dumps(keys), encoding="utf-8")
    meta = DocumentMeta(
        doc_id=doc_id,
        source=f"{doc_id}.txt",
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        title="Synthetic corpus recombined from the report's sentences",
        chars=len(source),
        extra={"passages": len(passages), "parts": 0, "sections": 0},
    )
    manifest: dict[str, Any] = {
        "format_version": store.FORMAT_VERSION,
        "created_at": store.now_iso(),
        "model": main.encoder.name,
        "dim": main.encoder.dim,
        "query_prompt": getattr(main.encoder, "query_prompt", ""),
        "passage_prompt": getattr(main.encoder, "passage_prompt", ""),
        "passage_count": len(passages),
        "chunk_size": chunk_size,
        "faiss_index": kind,
        "documents": [meta.to_dict()],
        "files": store.file_checksums(folder),
    }
    if ml is not None:
        manifest["multilingual"] = {
            "model": ml.encoder.name,
            "dim": ml.encoder.dim,
            "query_prompt": getattr(ml.encoder, "query_prompt", ""),
            "passage_prompt": getattr(ml.encoder, "passage_prompt", ""),
            "files": [store.ML_FAISS, store.ML_KEYS],
        }
    (folder / store.MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
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


# ---- the run ---------------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    settings: Settings
    out: Path
    work: Path
    embedder: Embedder
    ml_encoder: Embedder | None
    queries: list[str]
    report_text: str
    log: Callable[[str], None]


def first_requests(server: Server, queries: Sequence[str]) -> dict[str, float]:
    """Latency of the first requests after /readyz, Chinese then English: lazy loading shows."""
    zh = next((q for q in queries if detect_lang(q) == "zh"), None)
    en = next((q for q in queries if detect_lang(q) == "en"), None)
    out: dict[str, float] = {}
    with httpx.Client(base_url=server.url, timeout=120.0) as client:
        for route in ("/search", "/ask"):
            for lang, query in (("zh", zh), ("en", en)):
                if query is None:
                    continue
                body = _bodies(route, [query])[0]
                t = time.perf_counter()
                client.post(route, json=body)
                out[f"{route.strip('/')}_{lang}_ms"] = round((time.perf_counter() - t) * 1000, 1)
    return out


def measure_service(ctx: Context, index: Path, slices: Iterator[list[str]]) -> dict[str, Any]:
    """Cold start, /search and /ask at each concurrency, peak memory of the server."""
    result: dict[str, Any] = {"search": {}, "ask": {}}
    with Server(index, ctx.out / "server.log") as server:
        result["cold_start_s"] = round(server.cold_start_s, 3)
        ctx.log(f"server ready in {server.cold_start_s:.2f} s on {server.url}")
        rss: dict[str, float] = {"ready": _proc_status_mb(server.pid, "VmRSS")}
        result["first_request_ms"] = first_requests(server, ctx.queries)
        ctx.log(f"first requests after ready: {result['first_request_ms']}")
        rss["after_first_requests"] = _proc_status_mb(server.pid, "VmRSS")
        for route in ("/search", "/ask"):
            for c in CONCURRENCY:
                queries = next(slices)
                run = load_run(server, route, queries, c, ctx.args.duration)
                summary = run.summary()
                summary["distinct_queries"] = len(queries)
                summary["by_lang"] = by_language(run, queries)
                if run.error_samples:
                    summary["error_samples"] = run.error_samples
                result[route.strip("/")][f"c{c}"] = summary
                ctx.log(f"{route} c{c}: {summary}")
            rss[f"after_{route.strip('/')}"] = _proc_status_mb(server.pid, "VmRSS")
    result["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
    result["server_rss_mb"] = {k: round(v, 1) for k, v in rss.items()}
    return result


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
        write_scale_index(folder, texts, main, lexical, kind, s.chunk_size, ml)
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
        shutil.rmtree(folder, ignore_errors=True)
        result[kind] = entry
        ctx.log(f"scale {kind}: {entry}")
    result["hnsw"]["recall@10_vs_flat"] = round(recall_at_10(top["flat"], top["hnsw"]), 4)
    ctx.log(f"scale: HNSW recall@10 against flat {result['hnsw']['recall@10_vs_flat']}")
    return result


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured value and whether it is met."""
    s1, s8 = r["search"]["c1"], r["search"]["c8"]
    a1, a8 = r["ask"]["c1"], r["ask"]["c8"]
    rows = [
        (
            "/search c1 p50 / floor p50",
            r["ratio_search_c1_p50_to_floor"],
            "<=",
            MAX_SEARCH_TO_FLOOR,
        ),
        ("/search c1 p99 / p50", s1["p99_ms"] / max(s1["p50_ms"], 1e-9), "<=", MAX_P99_TO_P50),
        ("/search c8 errors", s8["errors"], "<=", 0),
        ("/ask c8 errors", a8["errors"], "<=", 0),
        ("/search c8 rps / c1 rps", s8["rps"] / max(s1["rps"], 1e-9), ">=", MIN_C8_TO_C1_RPS),
        ("/ask c8 rps / c1 rps", a8["rps"] / max(a1["rps"], 1e-9), ">=", MIN_C8_TO_C1_RPS),
        ("server peak RSS MB", r["server_peak_rss_mb"], "<=", MAX_RSS_MB),
        ("cold start s", r["cold_start_s"], "<=", MAX_COLD_START_S),
        (
            f"{r['scale']['passages']} passages HNSW /search p50 / report /search p50",
            r["scale"]["hnsw"]["search_p50_ms"] / max(s1["p50_ms"], 1e-9),
            "<=",
            MAX_SCALE_TO_REPORT,
        ),
        ("HNSW recall@10 vs flat", r["scale"]["hnsw"]["recall@10_vs_flat"], ">=", MIN_RECALL),
    ]
    return [
        {
            "target": name,
            "value": round(float(value), 3),
            "limit": f"{op} {limit}",
            "met": bool(value <= limit if op == "<=" else value >= limit),
        }
        for name, value, op, limit in rows
    ]


def render(r: dict[str, Any]) -> str:
    """The results as a readable table."""
    m = r["machine"]
    f = r["floor"]
    lines = [
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, "
        f"torch {m['torch']}, onnxruntime {m['onnxruntime']}, faiss {m['faiss']}; "
        f"encoder {m['encoder_backend']}, {m['threads_per_search']} thread(s) per search; "
        f"load average at start {m['load_average'][0]:.2f}",
        "",
        f"{'':24}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'rps':>10}{'errors':>8}"
        f"{'server p50':>12}",
    ]
    for name in [*FLOOR_PARTS, "total"]:
        if f"{name}_p50_ms" not in f:
            continue
        p = [f[f"{name}_{q}_ms"] for q in ("p50", "p95", "p99")]
        lines.append(f"{'floor ' + name:24}{p[0]:>10.2f}{p[1]:>10.2f}{p[2]:>10.2f}")
    for route in ("search", "ask"):
        for c in CONCURRENCY:
            x = r[route][f"c{c}"]
            lines.append(
                f"{'/' + route + f' c{c}':24}{x['p50_ms']:>10.2f}{x['p95_ms']:>10.2f}"
                f"{x['p99_ms']:>10.2f}{x['rps']:>10.1f}{x['errors']:>8d}"
                f"{x['server_p50_ms']:>12.2f}"
            )
            for lang, y in x.get("by_lang", {}).items():
                label = f"  {lang} ({y['share']:.0%})"
                lines.append(
                    f"{label:24}{y['p50_ms']:>10.2f}{y['p95_ms']:>10.2f}{y['p99_ms']:>10.2f}"
                )
    sc = r["scale"]
    lines += [
        "(server p50: the server's own time, from Server-Timing; the rest is HTTP and the client;"
        " zh/en: the run's Chinese and English questions)",
        "",
        f"/search c1 p50 / floor total p50: {r['ratio_search_c1_p50_to_floor']:.2f}",
        f"cold start {r['cold_start_s']:.2f} s; server peak RSS {r['server_peak_rss_mb']:.0f} MB; "
        f"index build of seeds/ {r['build_s']:.2f} s (model load {r['model_load_s']:.2f} s)",
        "server RSS MB: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in r["server_rss_mb"].items()),
        "first requests after /readyz (ms): "
        + ", ".join(
            f"{k[:-3].replace('_', ' ')} {v:.0f}" for k, v in r["first_request_ms"].items()
        ),
        "",
        f"scale: {sc['passages']} synthetic passages from the report's "
        f"{sc['distinct_sentences']} sentences; vectors are the {sc['vectors']}",
        f"{'':8}{'build s':>10}{'size MB':>10}{'RSS MB':>10}{'faiss p50':>11}"
        f"{'/search p50':>13}{'server MB':>11}{'recall@10':>11}",
    ]
    for kind in ("flat", "hnsw"):
        x = sc[kind]
        recall = f"{x['recall@10_vs_flat']:.4f}" if kind == "hnsw" else "1 (exact)"
        lines.append(
            f"{kind:8}{x['build_s']:>10.2f}{x['size_mb']:>10.1f}{x['rss_mb']:>10.1f}"
            f"{x['faiss_p50_ms']:>11.3f}{x['search_p50_ms']:>13.2f}"
            f"{x['server_peak_rss_mb']:>11.0f}{recall:>11}"
        )
    busy = max(m["load_average"][0], m["load_average_end"][0])
    if busy > 0.5 * m["cpus"]:
        lines += [
            "",
            f"NOTE: the load average reached {busy:.2f} on {m['cpus']} CPUs: other processes "
            "shared the CPUs, so these numbers are noisy; rerun on an idle machine.",
        ]
    lines += ["", "targets:"]
    for t in r["targets"]:
        mark = "met    " if t["met"] else "NOT MET"
        lines.append(f"  [{mark}] {t['target']}: {t['value']} ({t['limit']})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = get_settings()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()

    def log(message: str) -> None:
        print(
            f"[bench {time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True
        )

    # The service's threads per search for every engine, before any model loads: the floor
    # must do the work the server does, the way it does it.
    configure_threads(thread_count(settings.torch_threads))
    results: dict[str, Any] = {"machine": machine_info(settings)}
    report_path = sorted(Path(args.source).rglob("*.txt"))
    if not report_path:
        raise SystemExit(f"error: no .txt report in {args.source}: pass --source")
    report_text = "\n".join(p.read_text(encoding="utf-8") for p in report_path)

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        embedder = load_embedder(
            settings.embedding_model,
            settings.query_prompt,
            settings.passage_prompt,
            **encoder_options(settings),  # the service's threads, for a fair floor
        )
        ml_encoder = multilingual.from_settings()
        results["model_load_s"] = round(time.perf_counter() - t, 3)
        log(f"models loaded in {results['model_load_s']:.2f} s; building {args.source}")
        built = work / "seeds-index"
        # An empty vector cache: the build embeds every passage, as a first build does.
        report = build(
            Path(args.source),
            built,
            embedder,
            chunk_size=settings.chunk_size,
            index_kind=settings.faiss_index,
            hnsw_m=settings.hnsw_m,
            ef_search=settings.hnsw_ef_search,
            progress=False,
            multilingual_encoder=ml_encoder or False,
            ml_cache_dir=work / "ml-cache",
        )
        results["build_s"] = round(report.total_s, 3)
        results["build_passages"] = report.passages
        results["multilingual"] = ml_encoder.name if ml_encoder is not None else None
        index_dir = Path(args.index) if args.index else settings.index_dir
        if not (index_dir / store.MANIFEST).is_file():
            log(f"no index at {index_dir}: using the one just built from {args.source}")
            index_dir = built
        results["index"] = str(index_dir)

        pool = query_pool(load_questions(QUESTIONS, report_text))
        floor_queries = pool[: args.floor_queries]
        rest = pool[args.floor_queries :]
        runs = 2 * len(CONCURRENCY) + 2
        per_run = max(len(rest) // runs, 1)
        slices = iter([rest[i * per_run : (i + 1) * per_run] for i in range(runs)])
        ctx = Context(
            args, settings, out, work, embedder, ml_encoder, floor_queries, report_text, log
        )

        loaded: LoadedIndex = load_index(index_dir, ef_search=settings.hnsw_ef_search)
        retriever = Retriever(loaded, embedder, cache_size=0)  # as the service builds it
        results["floor"], query_vecs = measure_floor(retriever, floor_queries, settings.default_k)
        results["floor"]["passages"] = len(loaded.passages)
        log(f"floor over {len(floor_queries)} queries: {results['floor']}")
        del retriever, loaded

        service = measure_service(ctx, index_dir, slices)
        results.update(service)
        results["ratio_search_c1_p50_to_floor"] = round(
            results["search"]["c1"]["p50_ms"] / max(results["floor"]["total_p50_ms"], 1e-9), 3
        )
        results["scale"] = measure_scale(ctx, args.scale, query_vecs, slices)
    results["targets"] = targets(results)
    results["bench_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load run")
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic passages")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--index", type=Path, default=None, help="default: INDEX_DIR")
    parser.add_argument("--source", type=Path, default=None, help="default: SOURCE_DIR")
    parser.add_argument("--floor-queries", type=int, default=300)
    args = parser.parse_args(argv)
    if args.source is None:
        args.source = get_settings().source_dir
    if args.duration <= 0 or args.scale < 10 or args.floor_queries < 10:
        parser.error("--duration must be positive, --scale and --floor-queries at least 10")
    results = run(args)
    out = Path(args.out) / "results.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(render(results))
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
