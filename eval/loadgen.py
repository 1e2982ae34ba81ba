"""A bounded HTTP load client: fixed concurrency, stopped by a deadline and a request cap.

One thread per connection, each with a keep-alive `http.client` connection: the client
shares the machine's cores with the server, and this costs it about a third of the CPU per
request that an asyncio httpx client did (README, Benchmark), so it takes less from the
server it measures.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np

# Only this many distinct error descriptions are kept for the report.
MAX_ERROR_SAMPLES = 5
HEADERS = {"Content-Type": "application/json"}


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
    # Which body (index into the bodies sent) each latency in latencies_ms belongs to.
    body_index: list[int] = field(default_factory=list)
    # When each request in latencies_ms started, in seconds from the run's start.
    started_s: list[float] = field(default_factory=list)
    # Requests the server shed (503 with Retry-After) while the run honoured Retry-After;
    # not errors, not in latencies_ms.
    shed: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors + self.shed

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
            "shed": self.shed,
            "shed_share": round(self.shed / self.requests, 4) if self.requests else 0.0,
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


class _Shared:
    """What the workers of one run share: the request counter and what they saw."""

    def __init__(
        self, max_requests: int, deadline: float, start: float, stop: threading.Event | None
    ) -> None:
        self.lock = threading.Lock()
        self.issued = 0
        self.max_requests = max_requests
        self.deadline = deadline
        self.start = start
        self.stop = stop
        self.latencies: list[float] = []
        self.body_index: list[int] = []
        self.started: list[float] = []
        self.server: list[float] = []
        self.samples: list[str] = []
        self.errors = 0
        self.shed = 0

    def next_index(self) -> int | None:
        """The next request's number, or None once the cap, the deadline or a stop is reached."""
        with self.lock:
            if self.issued >= self.max_requests or time.perf_counter() >= self.deadline:
                return None
            if self.stop is not None and self.stop.is_set():
                return None
            self.issued += 1
            return self.issued - 1

    def record(
        self, n: int, t: float, latency_ms: float, own_ms: float | None, problem: str | None
    ) -> None:
        with self.lock:
            if problem is None:
                self.latencies.append(latency_ms)
                self.body_index.append(n)
                self.started.append(t - self.start)
                if own_ms is not None:
                    self.server.append(own_ms)
            else:
                self.errors += 1
                if len(self.samples) < MAX_ERROR_SAMPLES and problem not in self.samples:
                    self.samples.append(problem)


def retry_after_s(value: str | None, cap_s: float) -> float | None:
    """A Retry-After header's seconds, at most cap_s (None: no usable header)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value), cap_s)


def _worker(
    shared: _Shared,
    host: str,
    port: int,
    path: str,
    payloads: Sequence[bytes],
    timeout_s: float,
    retry_cap_s: float | None,
) -> None:
    """Send requests over one keep-alive connection until the run is over."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        while (n := shared.next_index()) is not None:
            own: float | None = None
            problem: str | None = None
            t = time.perf_counter()
            try:
                conn.request("POST", path, body=payloads[n % len(payloads)], headers=HEADERS)
                response = conn.getresponse()
                data = response.read()
                wait = None
                if response.status == 503 and retry_cap_s is not None:
                    wait = retry_after_s(response.getheader("retry-after"), retry_cap_s)
                if wait is not None:
                    with shared.lock:
                        shared.shed += 1
                    time.sleep(wait)  # a client that honours Retry-After
                    continue
                if response.status != 200:
                    text = data[:200].decode("utf-8", errors="replace")
                    problem = f"HTTP {response.status}: {text}"
                own = server_total_ms(response.getheader("server-timing"))
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                conn.close()  # the next request opens a new connection
            shared.record(n % len(payloads), t, (time.perf_counter() - t) * 1000, own, problem)
    finally:
        conn.close()


def run_load(
    base_url: str,
    path: str,
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
    duration_s: float,
    max_requests: int = 100_000,
    timeout_s: float = 30.0,
    retry_cap_s: float | None = None,
    stop: threading.Event | None = None,
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
        retry_cap_s: honour 503 + Retry-After (wait that long, at most this) and count the
            request as shed, not as an error; None: a 503 is an error.
        stop: set to end the run before its deadline.

    Returns:
        LoadResult; a request is an error unless it answers 200.
    """
    require_loopback(base_url)
    if not bodies:
        raise ValueError("no request bodies to send")
    if concurrency < 1 or duration_s <= 0 or max_requests < 1:
        raise ValueError("concurrency, duration_s and max_requests must be positive")
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    payloads = [json.dumps(b, ensure_ascii=False).encode() for b in bodies]
    cpu = time.process_time()
    start = time.perf_counter()
    shared = _Shared(max_requests, start + duration_s, start, stop)
    workers = [
        threading.Thread(
            target=_worker,
            args=(shared, host, port, path, payloads, timeout_s, retry_cap_s),
            daemon=True,
        )
        for _ in range(concurrency)
    ]
    for w in workers:
        w.start()
    for w in workers:
        # Bounded: a request cannot outlive its timeout, and none starts after the deadline.
        w.join(timeout=duration_s + timeout_s + (retry_cap_s or 0.0) + 5)
    elapsed = time.perf_counter() - start
    return LoadResult(
        concurrency,
        list(shared.latencies),
        shared.errors,
        elapsed,
        list(shared.samples),
        list(shared.server),
        time.process_time() - cpu,
        list(shared.body_index),
        list(shared.started),
        shared.shed,
    )
