"""A bounded HTTP load client: fixed concurrency, stopped by a deadline and a request cap."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

# Only this many distinct error descriptions are kept for the report.
MAX_ERROR_SAMPLES = 5


def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of the values (zeros when there are none)."""
    if not len(values):
        return 0.0, 0.0, 0.0
    p50, p95, p99 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95, 99])
    return float(p50), float(p95), float(p99)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run saw: latencies of the successful requests and the failures."""

    concurrency: int
    latencies_ms: list[float]
    errors: int
    elapsed_s: float
    error_samples: list[str] = field(default_factory=list)
    # The server's own time per request (Server-Timing `total`), where it reports one.
    server_ms: list[float] = field(default_factory=list)
    # CPU seconds this client spent: on a shared machine it competes with the server.
    client_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    def summary(self) -> dict[str, Any]:
        """p50/p95/p99 latency (ms), successful requests per second and the error count."""
        p50, p95, p99 = percentiles(self.latencies_ms)
        return {
            "p50_ms": round(p50, 3),
            "p95_ms": round(p95, 3),
            "p99_ms": round(p99, 3),
            "rps": round(len(self.latencies_ms) / self.elapsed_s, 3) if self.elapsed_s else 0.0,
            "errors": self.errors,
            "requests": self.requests,
            "server_p50_ms": round(percentiles(self.server_ms)[0], 3),
            "client_cpu_s": round(self.client_cpu_s, 3),
        }


def server_total_ms(header: str | None) -> float | None:
    """The `total` duration of a Server-Timing header (`a;dur=1.2, total;dur=3.4`)."""
    if not header:
        return None
    for entry in header.split(","):
        name, _, params = entry.strip().partition(";")
        if name == "total":
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "dur":
                    try:
                        return float(value)
                    except ValueError:
                        return None
    return None


def require_loopback(base_url: str) -> None:
    """Refuse to send load anywhere but this machine."""
    host = urlsplit(base_url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"load is only sent to loopback addresses (127.0.0.1, ::1), not {host!r}")


async def _run(
    base_url: str,
    path: str,
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
    duration_s: float,
    max_requests: int,
    timeout_s: float,
) -> LoadResult:
    latencies: list[float] = []
    server: list[float] = []
    samples: list[str] = []
    errors = 0
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    cpu = time.process_time()
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + duration_s

        async def worker() -> None:
            nonlocal errors, issued
            while issued < max_requests and time.perf_counter() < deadline:
                body = bodies[issued % len(bodies)]
                issued += 1
                t = time.perf_counter()
                try:
                    response = await client.post(path, json=body)
                    await response.aread()
                    ok = response.status_code == 200
                    problem = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    latencies.append((time.perf_counter() - t) * 1000)
                    own = server_total_ms(response.headers.get("server-timing"))
                    if own is not None:
                        server.append(own)
                else:
                    errors += 1
                    if len(samples) < MAX_ERROR_SAMPLES and problem not in samples:
                        samples.append(problem)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return LoadResult(concurrency, latencies, errors, elapsed, samples, server, cpu)


def run_load(
    base_url: str,
    path: str,
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
    duration_s: float,
    max_requests: int = 100_000,
    timeout_s: float = 30.0,
) -> LoadResult:
    """POST `bodies` (cycled) to `base_url + path` from `concurrency` workers.

    Args:
        base_url: a loopback URL such as http://127.0.0.1:8123.
        path: the route, e.g. "/search".
        bodies: JSON bodies, sent in order and cycled.
        concurrency: requests in flight at once.
        duration_s: no request starts after this many seconds.
        max_requests: no more than this many requests in all.
        timeout_s: a request that takes longer counts as an error.

    Returns:
        LoadResult; a request is an error unless it answers 200.
    """
    require_loopback(base_url)
    if not bodies:
        raise ValueError("no request bodies to send")
    if concurrency < 1 or duration_s <= 0 or max_requests < 1:
        raise ValueError("concurrency, duration_s and max_requests must be positive")
    return asyncio.run(
        _run(base_url, path, bodies, concurrency, duration_s, max_requests, timeout_s)
    )
