"""Bounded work per route: past MAX_IN_FLIGHT + MAX_QUEUED, or past QUEUE_TIMEOUT_S of waiting,
a search is answered 503 with Retry-After (OpenAI's shape under /v1); probes and look-ups are
never held behind searches; a full /search does not hold /ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from api_helpers import error, settings
from fastapi.testclient import TestClient

from indexer.store import LoadedIndex
from service.api import create_app
from service.retrieval import Retriever

SLOW_S = 0.6


class SlowRetriever(Retriever):
    """Searches that wait on `gate` (or SLOW_S), so requests pile up on purpose."""

    gate = threading.Event()

    def search(self, query: Any) -> Any:
        self.gate.wait(SLOW_S)
        return super().search(query)


@pytest.fixture
def client(fixture_index: LoadedIndex, fake_embedder: Any) -> Iterator[TestClient]:
    s = settings(max_in_flight=1, max_queued=1, queue_timeout_s=0.2)
    SlowRetriever.gate.clear()
    app = create_app(s, SlowRetriever(fixture_index, fake_embedder))
    with TestClient(app) as c:
        yield c
    SlowRetriever.gate.set()


def _search(client: TestClient) -> Any:
    return client.post("/search", json={"query": "养老床位", "k": 1, "mode": "bm25"})


def test_a_burst_beyond_the_bound_is_shed_with_retry_after(client: TestClient):
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(_search, client)
        time.sleep(0.1)  # the first holds the one turn
        rest = [pool.submit(_search, client) for _ in range(3)]
        shed = [f.result() for f in rest]
        # One waited its 0.2 s and gave up, two found the queue full: all three shed.
        for r in shed:
            message = error(r, 503, "overloaded")
            assert "retry in 1 s" in message
            assert r.headers["Retry-After"] == "1"
        # Probes, metrics and look-ups answer while /search is full.
        t = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/documents").status_code == 200
        assert time.perf_counter() - t < SLOW_S / 2
        assert first.result().status_code == 200
    metrics = client.get("/metrics").text
    assert 'http_requests_shed_total{route="/search"} 3.0' in metrics
    assert _search(client).status_code == 200  # the turn was given back


def test_a_short_wait_is_admitted(client: TestClient):
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_search, client)
        time.sleep(0.1)
        second = pool.submit(_search, client)
        time.sleep(0.05)
        SlowRetriever.gate.set()  # the first ends well within the second's 0.2 s
        assert first.result().status_code == 200
        assert second.result().status_code == 200


def test_routes_are_bounded_apart(client: TestClient):
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_search, client)
        time.sleep(0.1)
        t = time.perf_counter()
        ask = client.post("/ask", json={"question": "孤立的问题", "mode": "bm25"})
        assert time.perf_counter() - t < SLOW_S + 0.3
        assert ask.status_code == 200  # /ask has its own turns (its search waits on the gate)
        assert first.result().status_code == 200


def test_the_chat_route_sheds_in_openai_shape(client: TestClient):
    body = {"model": "report-qa", "messages": [{"role": "user", "content": "养老床位"}]}
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(client.post, "/v1/chat/completions", json=body)
        time.sleep(0.1)
        rest = [pool.submit(client.post, "/v1/chat/completions", json=body) for _ in range(2)]
        shed = [f.result() for f in rest]
        assert first.result().status_code == 200
    for r in shed:
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "1"
        assert r.json()["error"]["type"] == "server_error"
        assert r.json()["error"]["code"] == "overloaded"


def test_the_bounds_default_to_the_cores(fixture_index: LoadedIndex, fake_embedder: Any):
    app = create_app(settings(), Retriever(fixture_index, fake_embedder))
    state = app.state.api
    bounds = state.bounds()
    assert bounds.in_flight == state.slots
    assert bounds.queued == 8 * state.slots
    assert bounds.timeout_s == 1.0
