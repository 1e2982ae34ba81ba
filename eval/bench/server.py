"""The service in a subprocess on a loopback port, and the load runs against it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from service.lang import detect_lang

from ..loadgen import LoadResult, percentiles, run_load
from .context import Context
from .machine import peak_rss_mb, proc_status_mb

HOST = "127.0.0.1"
CONCURRENCY = (1, 8)
READY_TIMEOUT_S = 180.0
WARMUP_REQUESTS = 3
# The burst: /search from this many clients that honour Retry-After (whole seconds).
BURST = 64
RETRY_CAP_S = 1.0


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
    # Environment variables set for the server beside this process's (SOURCE_DIR, ...).
    env: dict[str, str] = field(default_factory=dict)

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
        if self.env:  # set beside the inherited environment, by env(1)
            cmd = ["env", *(f"{k}={v}" for k, v in self.env.items()), *cmd]
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


def by_label(run: LoadResult, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50/p95/p99 and the share of requests for each label of the bodies sent (`labels[i]`
    is body i's), in the order the labels first appear."""
    out: dict[str, dict[str, float]] = {}
    sent = [labels[i] for i in run.body_index]
    for label in dict.fromkeys(labels):
        values = [ms for ms, x in zip(run.latencies_ms, sent, strict=True) if x == label]
        if values:
            p50, p95, p99 = percentiles(values)
            share = len(values) / max(len(run.latencies_ms), 1)
            out[label] = {
                "p50_ms": round(p50, 3),
                "p95_ms": round(p95, 3),
                "p99_ms": round(p99, 3),
                "share": round(share, 3),
            }
    return out


def by_language(run: LoadResult, queries: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50/p95/p99 and the share of requests for Chinese and for English questions.

    The two take different encoders (m3e-small; the 12-layer multilingual encoder, 3-4 times
    slower), so the mixed percentiles are easier to read beside these.
    """
    split = by_label(run, [detect_lang(q) for q in queries])
    return {lang: split[lang] for lang in ("zh", "en") if lang in split}


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


def measure_burst(server: Server, queries: Sequence[str], duration: float) -> dict[str, Any]:
    """/search from BURST clients that honour Retry-After: the share shed (503) and the
    latency of the requests admitted."""
    run = run_load(
        server.url,
        "/search",
        _bodies("/search", queries),
        BURST,
        duration,
        retry_cap_s=RETRY_CAP_S,
    )
    summary = run.summary()
    if run.error_samples:
        summary["error_samples"] = run.error_samples
    return summary


def summarise(run: LoadResult, queries: Sequence[str]) -> dict[str, Any]:
    """A load run's summary with the count of distinct questions, the split by language and
    samples of its errors."""
    summary = run.summary()
    summary["distinct_queries"] = len(queries)
    summary["by_lang"] = by_language(run, queries)
    if run.error_samples:
        summary["error_samples"] = run.error_samples
    return summary


def measure_service(ctx: Context, index: Path, slices: Iterator[list[str]]) -> dict[str, Any]:
    """Cold start, /search and /ask at each concurrency, peak memory of the server."""
    result: dict[str, Any] = {"search": {}, "ask": {}}
    with Server(index, ctx.out / "server.log") as server:
        result["cold_start_s"] = round(server.cold_start_s, 3)
        ctx.log(f"server ready in {server.cold_start_s:.2f} s on {server.url}")
        rss: dict[str, float] = {"ready": proc_status_mb(server.pid, "VmRSS")}
        result["first_request_ms"] = first_requests(server, ctx.queries)
        ctx.log(f"first requests after ready: {result['first_request_ms']}")
        rss["after_first_requests"] = proc_status_mb(server.pid, "VmRSS")
        for route in ("/search", "/ask"):
            for c in CONCURRENCY:
                queries = next(slices)
                run = load_run(server, route, queries, c, ctx.args.duration)
                summary = summarise(run, queries)
                result[route.strip("/")][f"c{c}"] = summary
                ctx.log(f"{route} c{c}: {summary}")
            rss[f"after_{route.strip('/')}"] = proc_status_mb(server.pid, "VmRSS")
            if route == "/search":
                result["burst"] = measure_burst(server, ctx.queries, ctx.args.duration)
                ctx.log(f"/search at concurrency 64: {result['burst']}")
    result["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
    result["server_rss_mb"] = {k: round(v, 1) for k, v in rss.items()}
    return result
