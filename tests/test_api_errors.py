"""The HTTP API's error paths (bad input, malformed bodies, not found, configured limits,
unexpected exceptions, a missing or damaged index), then headers, metrics, CORS and the process.

These run against the fixture index (fake embedder, exact ids)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ROOT, error, settings
from api_helpers import client as client
from api_helpers import retriever as retriever
from fastapi.testclient import TestClient

from service.api import create_app
from service.retrieval import Retriever

# ---- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({"query": ""}, "invalid_query", "the query is empty"),
        ({"query": " \t\n "}, "invalid_query", "the query is empty"),
        ({"query": "x" * 501}, "invalid_query", "has 501 characters; the limit is 500"),
        (
            {"query": "生产", "k": 0},
            "invalid_query",
            "k must be an integer between 1 and 50, got 0",
        ),
        ({"query": "生产", "k": 51}, "invalid_query", "between 1 and 50, got 51"),
        ({"query": "生产", "k": "5"}, "invalid_query", "between 1 and 50, got '5'"),
        ({"query": "生产", "k": 2.5}, "invalid_query", "between 1 and 50, got 2.5"),
        ({"query": "生产", "mode": "fuzzy"}, "invalid_query", "unknown mode 'fuzzy': use one of"),
        ({"query": 42}, "invalid_query", "the query must be a string"),
        ({}, "invalid_request", "query is required"),
        ({"query": "生产", "top_k": 3}, "invalid_request", "unknown field 'top_k': remove it"),
        (
            {"query": "生产", "doc_id": 3},
            "invalid_request",
            "doc_id must be a string, a list of strings or null, got 3",
        ),
        (
            {"query": "生产", "region": [1]},
            "invalid_request",
            "region must be a string, a list of strings or null, got 1",
        ),
        (
            {"query": "生产", "year": "2019"},
            "invalid_request",
            "year must be a year such as 2019 (1949..2100), a list of them or null",
        ),
        ({"query": "生产", "region": "火星"}, "invalid_query", "unknown region '火星'"),
        ([], "invalid_request", "must be a JSON object"),
        ("生产", "invalid_request", "must be a JSON object"),
    ],
)
def test_search_rejects_bad_input(client: TestClient, body: Any, code: str, needle: str) -> None:
    assert needle in error(client.post("/search", json=body), 422, code)


def test_question_at_the_limit_is_accepted(client: TestClient) -> None:
    assert client.post("/search", json={"query": "生" * 500, "k": 1}).status_code == 200
    r = client.post("/ask", json={"question": "生" * 501})
    assert "the question has 501 characters" in error(r, 422, "invalid_query")


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({"question": ""}, "invalid_query", "the question is empty"),
        ({"question": "生产", "k": 100}, "invalid_query", "between 1 and 50, got 100"),
        ({"question": "生产", "stream": "yes"}, "invalid_request", "stream must be true or false"),
        ({"question": "生产", "generate": 1}, "invalid_request", "generate must be true or false"),
        ({"query": "生产"}, "invalid_request", "question is required"),
    ],
)
def test_ask_rejects_bad_input(client: TestClient, body: Any, code: str, needle: str) -> None:
    assert needle in error(client.post("/ask", json=body), 422, code)


def test_malformed_bodies(client: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    r = client.post("/search", content=b'{"query": ', headers=json_type)
    assert "the request body is not valid JSON" in error(r, 422, "malformed_json")
    r = client.post("/search", content=b'{"query": "\xff\xfe"}', headers=json_type)
    assert "cannot be read as UTF-8 JSON" in error(r, 422, "malformed_json")
    r = client.post("/search", content=b'{"query": "\\ud800"}', headers=json_type)
    assert "not valid Unicode" in error(r, 422, "invalid_query")
    r = client.post("/search", content=b'{"query": "x", "doc_id": "\\udc00"}', headers=json_type)
    assert "doc_id holds characters that are not valid Unicode" in error(r, 422, "invalid_request")
    r = client.post("/search", content=b"query=x", headers={"content-type": "text/plain"})
    assert "Content-Type: application/json" in error(r, 422, "invalid_request")
    r = client.post("/search", content=b"", headers=json_type)
    assert "the request body is missing" in error(r, 422, "invalid_request")
    big = json.dumps({"query": "x", "pad": "y" * 70_000}).encode()
    r = client.post("/search", content=big, headers=json_type)
    assert "the request body is over 65536 bytes" in error(r, 413, "body_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: cut off while reading
        yield b'{"query": "x", "pad": "'
        yield b"y" * 70_000
        yield b'"}'

    r = client.post("/search", content=chunked(), headers=json_type)
    assert "the request body is over 65536 bytes" in error(r, 413, "body_too_large")


def test_not_found(client: TestClient) -> None:
    message = error(client.get("/passages/demo-2020-9999"), 404, "not_found")
    assert message.startswith("no passage with id 'demo-2020-9999'")
    message = error(client.get("/sections/九（九）"), 404, "not_found")
    assert message.startswith("no section '九（九）': sections are 一, 一（一）")
    assert "no document 'nope'" in error(client.get("/sections?doc_id=nope"), 404, "not_found")
    assert "no document 'nope'" in error(client.get("/sections/一?doc_id=nope"), 404, "not_found")
    message = error(client.get("/documents/nope"), 404, "not_found")
    assert message == (
        "no document 'nope': known documents are demo-2020, flat-notes, unsafe (GET /documents)"
    )
    r = client.post("/search", json={"query": "生产", "doc_id": "nope"})
    assert "known documents are demo-2020" in error(r, 404, "not_found")
    r = client.post("/search", json={"query": "生产", "section": "九"})
    assert "no passages in section '九'" in error(r, 404, "not_found")
    r = client.post("/ask", json={"question": "生产", "section": "九"})
    assert "no passages in section '九'" in error(r, 404, "not_found")
    assert error(client.get("/nowhere"), 404, "not_found") == (
        "no route GET /nowhere: see /docs for the API"
    )
    message = error(client.get("/search"), 405, "method_not_allowed")
    assert message == "/search does not accept GET: use POST (see /docs)"


@pytest.mark.parametrize("context", ["21", "-1", "two"])
def test_context_out_of_range(client: TestClient, context: str) -> None:
    r = client.get(f"/passages/demo-2020-0004?context={context}")
    assert "context must be an integer between 0 and 20" in error(r, 422, "invalid_query")


def test_configured_limits_are_enforced_and_documented(retriever: Retriever) -> None:
    app = create_app(settings(max_k=10, max_question_chars=20, default_k=2), retriever)
    with TestClient(app) as c:
        r = c.post("/search", json={"query": "生产", "k": 11})
        assert error(r, 422, "invalid_query") == "k must be an integer between 1 and 10, got 11"
        r = c.post("/search", json={"query": "生" * 21})
        assert "the limit is 20 (MAX_QUESTION_CHARS)" in error(r, 422, "invalid_query")
        assert len(c.post("/search", json={"query": "生产"}).json()["results"]) == 2
        schema = c.get("/openapi.json").json()["components"]["schemas"]["SearchRequest"]
    assert schema["properties"]["query"]["maxLength"] == 20
    assert schema["properties"]["k"]["default"] == 2
    assert schema["properties"]["k"]["anyOf"][0]["maximum"] == 10


def test_unexpected_exception_is_a_json_500_with_request_id(retriever: Retriever) -> None:
    class Broken(Retriever):
        def search(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("bug")

    broken = Broken(retriever.index, retriever.embedder)
    with TestClient(create_app(settings(), broken), raise_server_exceptions=False) as c:
        r = c.post("/search", json={"query": "生产"}, headers={"X-Request-ID": "req-500"})
    assert "the log has the details" in error(r, 500, "internal")
    assert r.headers["x-request-id"] == "req-500"


# ---- no index ------------------------------------------------------------------------


def test_missing_index_serves_health_docs_and_503(tmp_path: Path) -> None:
    app = create_app(settings(index_dir=tmp_path / "missing"))
    with TestClient(app) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        docs = c.get("/docs")
        assert docs.status_code == 200
        # Offline: Swagger UI comes from the app, not a CDN.
        assert "/static-offline-docs/swagger-ui-bundle.js" in docs.text
        assert "cdn.jsdelivr.net" not in docs.text
        assert c.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
        assert c.get("/openapi.json").status_code == 200
        message = error(c.get("/readyz"), 503, "index_unavailable")
        assert message == (
            f"no index at {tmp_path / 'missing'} (manifest.json is missing): "
            "run `make index` to rebuild it"
        )
        assert error(c.post("/search", json={"query": "生产"}), 503, "index_unavailable") == message
        assert error(c.post("/ask", json={"question": "生产"}), 503, "index_unavailable") == message
        assert error(c.get("/documents"), 503, "index_unavailable") == message
        assert error(c.get("/passages/x"), 503, "index_unavailable") == message


def test_damaged_index_reports_the_load_error(tmp_path: Path, fixture_index_dir: Path) -> None:
    damaged = tmp_path / "index"
    shutil.copytree(fixture_index_dir.resolve(), damaged)
    (damaged / "passages.jsonl").write_text("garbage\n", encoding="utf-8")
    with TestClient(create_app(settings(index_dir=damaged))) as c:
        assert c.get("/healthz").status_code == 200
        message = error(c.get("/readyz"), 503, "index_unavailable")
    assert "is damaged" in message and message.endswith("run `make index` to rebuild it")


def test_readyz_when_loaded(client: TestClient, fixture_index_dir: Path) -> None:
    body = client.get("/readyz").json()
    assert body == {
        "status": "ready",
        "index": str(fixture_index_dir),
        "model": "fake-hash-64",
        "documents": 3,
        "passages": 19,
    }


# ---- headers, metrics, CORS ----------------------------------------------------------


def test_request_id_and_server_timing(client: TestClient) -> None:
    r = client.post("/search", json={"query": "生产总值"}, headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    names = [part.split(";")[0] for part in r.headers["server-timing"].split(", ")]
    assert names == ["encode", "faiss", "bm25", "search", "total"]
    assert re.fullmatch(r"(\w+;dur=\d+\.\d, )+total;dur=\d+\.\d", r.headers["server-timing"])

    r = client.post("/search", json={"query": "生产总值", "mode": "bm25"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert [p.split(";")[0] for p in r.headers["server-timing"].split(", ")] == [
        "bm25",
        "search",
        "total",
    ]
    # An id that is not plain text is replaced, not echoed into logs.
    r = client.get("/healthz", headers={"X-Request-ID": "a b<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert client.get("/nowhere").headers["server-timing"].startswith("total;dur=")


def test_one_log_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="service.access"):
        client.get("/passages/demo-2020-0004", headers={"X-Request-ID": "log-1"})
    lines = [r.getMessage() for r in caplog.records if r.name == "service.access"]
    assert len(lines) == 1
    assert re.fullmatch(r"GET /passages/demo-2020-0004 200 \d+\.\dms id=log-1", lines[0])


def test_metrics_count_requests_by_route_template(retriever: Retriever) -> None:
    with TestClient(create_app(settings(), retriever)) as c:
        c.post("/search", json={"query": "生产总值"})
        c.get("/passages/demo-2020-0004")
        c.get("/passages/demo-2020-0005")
        c.get("/passages/nope")
        c.get("/nowhere")
        text = c.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/search",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="/passages/{passage_id}",status="200"} 2.0' in (
        text
    )
    assert 'http_requests_total{method="GET",route="/passages/{passage_id}",status="404"} 1.0' in (
        text
    )
    assert 'http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert (
        'http_request_duration_seconds_count{method="POST",route="/search",status="200"} 1.0'
        in text
    )


def test_cors(retriever: Retriever, client: TestClient) -> None:
    preflight = {
        "Origin": "http://ui.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    app = create_app(settings(cors_origins=["http://ui.example"]), retriever)
    with TestClient(app) as c:
        r = c.options("/search", headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://ui.example"
        r = c.post("/search", json={"query": "生产"}, headers={"Origin": "http://ui.example"})
        assert r.headers["access-control-allow-origin"] == "http://ui.example"
        assert "Server-Timing" in r.headers["access-control-expose-headers"]
    # None allowed by default.
    r = client.post("/search", json={"query": "生产"}, headers={"Origin": "http://ui.example"})
    assert "access-control-allow-origin" not in r.headers


# ---- process -------------------------------------------------------------------------


def test_core_does_not_import_fastapi() -> None:
    code = (
        "import sys, indexer, service, service.retrieval, service.answers, service.runtime, "
        "service.query, service.refs, service.lang; "
        "sys.exit(1 if 'fastapi' in sys.modules or 'starlette' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_main_parses_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from service.__main__ import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    main(["--index", str(tmp_path), "--host", "0.0.0.0", "--port", "8123"])
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    assert seen["app"].state.api.settings.index_dir == tmp_path
