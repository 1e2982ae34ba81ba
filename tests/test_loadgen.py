"""The load generator of the bench: percentiles, request caps, deadlines, loopback only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eval.loadgen import percentiles, require_loopback, run_load, server_total_ms

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"


# ---- pure pieces -------------------------------------------------------------------------


def test_percentiles() -> None:
    assert percentiles(list(range(1, 101))) == pytest.approx((50.5, 95.05, 99.01))
    assert percentiles([]) == (0.0, 0.0, 0.0)


# ---- the load client ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Answers 200 to bodies holding "ok" and 500 otherwise."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 200 if b'"ok"' in body else 503 if b'"busy"' in body else 500
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
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


def test_a_shed_request_is_counted_apart_and_its_retry_after_honoured(local_server: str) -> None:
    bodies = [{"q": "ok"}, {"q": "busy"}]
    run = run_load(local_server, "/x", bodies, 1, duration_s=30, max_requests=4, retry_cap_s=0.05)
    assert (len(run.latencies_ms), run.shed, run.errors) == (2, 2, 0)
    assert run.summary()["shed_share"] == 0.5
    assert len(run.started_s) == 2 and run.started_s == sorted(run.started_s)
    assert run.elapsed_s >= 0.1  # two waits of the capped Retry-After
    # Without retry_cap_s a 503 is an error like any other.
    plain = run_load(local_server, "/x", bodies, 1, duration_s=30, max_requests=4)
    assert (plain.shed, plain.errors) == (0, 2)
    stop = threading.Event()
    stop.set()
    assert run_load(local_server, "/x", bodies, 1, duration_s=30, stop=stop).requests == 0
