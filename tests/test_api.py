"""The HTTP API: shapes, lookups, streaming, every error path, headers and metrics.

Most tests run against the fixture index (fake embedder, exact ids); the `slow` ones run
against the real report index with m3e-small and find expected passages by their content.
"""

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
from fastapi.testclient import TestClient

from indexer.store import LoadedIndex
from service.answers import Asker, CitationsEvent, DeltaEvent
from service.api import create_app
from service.retrieval import Retriever
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REPORT_ID = "shanghai-2018-government-work-report"
PASSAGE_KEYS = {
    "id",
    "doc_id",
    "doc_title",
    "heading_path",
    "section",
    "paragraph",
    "start",
    "end",
    "text",
}


def settings(**overrides: Any) -> Settings:
    """Settings that ignore any .env file, with overrides."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def error(response: Any, status: int, code: str) -> str:
    """Assert the error shape, status and code; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


def sse_events(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of a text/event-stream body, pings skipped."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].strip())
        if name is not None:
            events.append((name, json.loads("\n".join(data))))
    return events


# ---- fixture index (fake embedder) ---------------------------------------------------


@pytest.fixture(scope="module")
def retriever(fixture_index: LoadedIndex, fake_embedder) -> Retriever:
    return Retriever(fixture_index, fake_embedder)


@pytest.fixture(scope="module")
def client(retriever: Retriever) -> Iterator[TestClient]:
    with TestClient(create_app(settings(), retriever)) as c:
        yield c


def test_search_returns_passages_with_rank_and_score(client: TestClient) -> None:
    r = client.post("/search", json={"query": "新建养老床位多少张", "k": 2, "mode": "bm25"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"query", "mode", "lang", "resolved", "section", "results", "took_ms"}
    assert (body["query"], body["mode"], body["lang"], body["resolved"]) == (
        "新建养老床位多少张",
        "bm25",
        "zh",
        "search",
    )
    assert [h["id"] for h in body["results"]] == ["demo-2020-0006", "flat-notes-0001"]
    top = body["results"][0]
    assert set(top) == PASSAGE_KEYS | {"rank", "score"}
    assert top["rank"] == 1 and top["score"] > body["results"][1]["score"] > 0
    assert top == {
        **top,
        "doc_id": "demo-2020",
        "doc_title": "示范区政府工作报告",
        "heading_path": ["一、过去一年工作回顾", "（二）改善民生福祉。"],
        "section": "一（二）",
        "text": "（二）改善民生福祉。新增就业岗位5万个，新建养老床位800张。",
    }
    source = (ROOT / "tests/fixtures/corpus/demo-2020.txt").read_text(encoding="utf-8")
    assert source[top["start"] : top["end"]] == top["text"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("新建养老床位多少张", "demo-2020-0006"),
        ("PM2.5年平均浓度", "demo-2020-0010"),
        ("轨道交通总里程", "flat-notes-0002"),
        ("重大工程投资", "demo-2020-0008"),
    ],
)
def test_search_top1_on_fixture_index(
    client: TestClient, query: str, expected: str, mode: str
) -> None:
    r = client.post("/search", json={"query": query, "mode": mode})
    assert r.status_code == 200
    assert r.json()["results"][0]["id"] == expected


def test_search_defaults_to_hybrid_and_default_k(client: TestClient) -> None:
    body = client.post("/search", json={"query": "生产总值"}).json()
    assert body["mode"] == "hybrid"
    assert [h["rank"] for h in body["results"]] == [1, 2, 3, 4, 5]


def test_search_filters(client: TestClient) -> None:
    def ids(**extra: Any) -> list[str]:
        r = client.post("/search", json={"query": "生产总值增长", "k": 50, **extra})
        assert r.status_code == 200, r.text
        return [h["id"] for h in r.json()["results"]]

    assert {i.split("-0")[0] for i in ids(doc_id="flat-notes")} == {"flat-notes"}
    assert sorted(ids(doc_id="demo-2020", section="二")) == [
        "demo-2020-0007",
        "demo-2020-0008",
        "demo-2020-0009",
        "demo-2020-0010",
    ]
    assert sorted(ids(doc_id="demo-2020", section="一（一）")) == [
        "demo-2020-0004",
        "demo-2020-0005",
    ]


def test_search_by_passage_id_and_section_reference(client: TestClient) -> None:
    body = client.post("/search", json={"query": "demo-2020-0008"}).json()
    assert (body["resolved"], [h["id"] for h in body["results"]]) == (
        "passage",
        ["demo-2020-0008"],
    )
    body = client.post("/search", json={"query": "一（一）讲了什么"}).json()
    assert (body["resolved"], body["section"]) == ("section", "一（一）")
    assert [h["id"] for h in body["results"]] == ["demo-2020-0004", "demo-2020-0005"]


def test_passage_with_context_stays_in_its_section(client: TestClient) -> None:
    r = client.get("/passages/demo-2020-0008", params={"context": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body["passage"]) == PASSAGE_KEYS
    assert body["passage"]["id"] == "demo-2020-0008"
    # 0008 is alone in 二1.（1）: its neighbours belong to other sections.
    assert (body["before"], body["after"]) == ([], [])
    body = client.get("/passages/demo-2020-0004?context=1").json()
    assert [p["id"] for p in body["before"]] == []
    assert [p["id"] for p in body["after"]] == ["demo-2020-0005"]
    body = client.get("/passages/demo-2020-0005").json()
    assert (body["before"], body["after"]) == ([], [])


def test_sections_and_documents(client: TestClient) -> None:
    body = client.get("/sections", params={"doc_id": "demo-2020"}).json()
    assert [s["ref"] for s in body["sections"]] == [
        "一",
        "一（一）",
        "一（二）",
        "二",
        "二1.",
        "二1.（1）",
        "二1.（2）",
        "二2.",
        "三",
        "三第一",
        "三第二",
    ]
    assert body["sections"][1] == {
        "ref": "一（一）",
        "title": "（一）推进改革开放。",
        "heading_path": ["一、过去一年工作回顾", "（一）推进改革开放。"],
        "doc_id": "demo-2020",
        "start": body["sections"][1]["start"],
        "end": body["sections"][1]["end"],
        "passage_count": 2,
    }
    assert len(client.get("/sections").json()["sections"]) == 13

    r = client.get("/sections/一（一）", params={"doc_id": "demo-2020"})
    assert r.status_code == 200
    sec = r.json()
    assert (sec["ref"], sec["title"], sec["doc_id"]) == (
        "一（一）",
        "（一）推进改革开放。",
        "demo-2020",
    )
    assert [p["id"] for p in sec["passages"]] == ["demo-2020-0004", "demo-2020-0005"]
    assert sec["start"] <= sec["passages"][0]["start"] < sec["passages"][-1]["end"] <= sec["end"]
    assert client.get("/sections/二", params={"doc_id": "unsafe"}).json()["passages"][0]["id"] == (
        "unsafe-0003"
    )

    docs = client.get("/documents").json()["documents"]
    assert [d["doc_id"] for d in docs] == ["demo-2020", "flat-notes", "unsafe"]
    assert docs[0]["title"] == "示范区政府工作报告"
    assert (docs[0]["date"], docs[0]["speaker"], docs[0]["passages"]) == ("2020-02-03", "李明", 13)
    assert client.get("/documents/unsafe").json()["title"] == "安全测试报告"


def test_ask_composes_a_cited_answer(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "新建养老床位多少张", "k": 3, "mode": "bm25"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "question",
        "answer",
        "answerable",
        "grounded",
        "lang",
        "citations",
        "backend",
        "took_ms",
    }
    assert (body["backend"], body["answerable"], body["grounded"]) == ("extractive", True, True)
    assert body["answer"] == "报告指出：“新增就业岗位5万个，新建养老床位800张。”[1]"
    assert [(c["n"], c["id"]) for c in body["citations"]] == [
        (1, "demo-2020-0006"),
        (2, "flat-notes-0001"),
    ]
    first = body["citations"][0]
    assert set(first) == PASSAGE_KEYS | {"n", "score", "highlights"}
    # The quoted sentence is the passage after its heading (10 characters: （二）改善民生福祉。).
    assert first["highlights"] == [[first["start"] + 10, first["end"]]]
    assert body["citations"][1]["highlights"] == []


def test_ask_refuses_what_the_fixture_does_not_say(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "火星", "k": 3}).json()
    assert (body["answerable"], body["lang"]) == (False, "zh")
    assert body["answer"] == "报告中没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考。"
    assert [c["n"] for c in body["citations"]] == [1, 2, 3]
    assert "warning" not in body


def test_ask_without_generation_returns_citations_only(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "重大工程投资", "generate": False}).json()
    assert body["answer"] is None
    assert body["citations"][0]["id"] == "demo-2020-0008"
    assert all(c["highlights"] == [] for c in body["citations"])


def test_ask_stream_event_order(client: TestClient) -> None:
    question = {"question": "一（一）讲了什么", "stream": True}
    r = client.post("/ask", json=question)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [name for name, _ in events]
    assert names[0] == "citations" and names[-1] == "done"
    assert set(names[1:-1]) == {"delta"} and len(names) > 2
    citations, done = events[0][1], events[-1][1]
    assert [c["id"] for c in citations] == ["demo-2020-0004", "demo-2020-0005"]
    assert "".join(data["text"] for name, data in events if name == "delta") == done["answer"]
    # done carries the object a non-streaming request gets.
    plain = client.post("/ask", json={**question, "stream": False}).json()
    assert {**done, "took_ms": 0} == {**plain, "took_ms": 0}


def test_stream_errors_before_the_first_event_keep_their_status(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "生产总值", "stream": True, "doc_id": "nope"})
    assert "no document 'nope'" in error(r, 404, "not_found")


def test_stream_failing_midway_ends_with_an_error_event(retriever: Retriever) -> None:
    class Failing(Asker):
        def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            yield CitationsEvent([])
            yield DeltaEvent("报告")
            raise RuntimeError("backend went away")

    app = create_app(settings(), retriever, Failing(retriever))
    with TestClient(app) as c:
        r = c.post("/ask", json={"question": "生产总值", "stream": True})
    assert r.status_code == 200
    events = sse_events(r.text)
    assert [name for name, _ in events] == ["citations", "delta", "error"]
    assert events[2][1] == {"error": {"code": "internal", "message": "the answer failed"}}


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
        ({"query": "生产", "doc_id": 3}, "invalid_request", "doc_id must be a string or null"),
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


# ---- the real report (m3e-small) -----------------------------------------------------


@pytest.fixture(scope="module")
def real(real_index: LoadedIndex, m3e) -> Iterator[TestClient]:
    with TestClient(create_app(settings(), Retriever(real_index, m3e))) as c:
        yield c


def passage_with(index: LoadedIndex, needle: str) -> str:
    """The id of the one passage whose text contains needle."""
    found = [p.id for p in index.passages if needle in p.text]
    assert len(found) == 1, (needle, found)
    return found[0]


REAL_QUESTIONS = [
    ("营改增五年累计为企业减税多少？", "累计为企业减税3112亿元"),
    ("今年新建和转化多少套租赁房源？", "新建和转化租赁房源20万套"),
    ("自贸试验区新设了多少家企业？", "新设企业5.2万家"),
    ("中小河道综合整治完成了多少条段？", "1864条段"),
    ("2018年经济增长目标是多少？", "全市生产总值增长6.5%左右"),
    ("爱心暑托班开设多少个？", "500个小学生爱心暑托班"),
    ("新增多少张养老床位", "新增7000张养老床位"),
]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(("question", "needle"), REAL_QUESTIONS)
def test_real_top1(
    real: TestClient, real_index: LoadedIndex, question: str, needle: str, mode: str
) -> None:
    r = real.post("/search", json={"query": question, "mode": mode, "k": 3})
    assert r.status_code == 200
    top = r.json()["results"][0]
    assert top["id"] == passage_with(real_index, needle)
    assert (top["rank"], top["doc_id"], top["doc_title"]) == (1, REPORT_ID, "政府工作报告")


@pytest.mark.slow
def test_real_section_filters_change_the_answer(real: TestClient, real_index: LoadedIndex) -> None:
    def top(**extra: Any) -> dict[str, Any]:
        r = real.post("/search", json={"query": "新增多少张养老床位", "k": 10, **extra})
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        return results

    past = passage_with(real_index, "养老床位新增4.9万张")
    plan = passage_with(real_index, "新增7000张养老床位")
    assert top(section="一")[0]["id"] == past
    assert top(section="三")[0]["id"] == plan
    assert top(section="三（四）", doc_id=REPORT_ID)[0]["id"] == plan
    assert {h["section"] for h in top(section="三（四）")} == {"三（四）"}
    assert all(h["section"].startswith("三") for h in top(section="三"))
    assert {h["section"][0] for h in top(section="一")} == {"一"}


@pytest.mark.slow
@pytest.mark.parametrize("query", ["三（四）讲了什么", "第三部分第四节", "三(四)"])
def test_real_section_reference_in_query(real: TestClient, query: str) -> None:
    section = real.get("/sections/三（四）").json()
    body = real.post("/search", json={"query": query, "k": 50}).json()
    assert (body["resolved"], body["section"]) == ("section", "三（四）")
    assert [h["id"] for h in body["results"]] == [p["id"] for p in section["passages"]]
    answer = real.post("/ask", json={"question": query}).json()
    assert answer["answerable"] is True
    assert [c["id"] for c in answer["citations"]] == [p["id"] for p in section["passages"][:5]]
    assert "[1]" in answer["answer"]


@pytest.mark.slow
def test_real_section_and_passage_context(real: TestClient, real_index: LoadedIndex) -> None:
    section = real.get("/sections/三（四）").json()
    assert section["title"] == "（四）完善基本民生制度，持续增进民生福祉。"
    assert section["heading_path"] == [
        "三、2018年主要任务",
        "（四）完善基本民生制度，持续增进民生福祉。",
    ]
    ids = [p["id"] for p in section["passages"]]
    assert len(ids) == len(
        real_index.sections[[s.ref for s in real_index.sections].index("三（四）")].passage_ids
    )
    pid = passage_with(real_index, "新增7000张养老床位")
    i = ids.index(pid)
    body = real.get(f"/passages/{pid}?context=2").json()
    assert body["passage"]["id"] == pid
    assert [p["id"] for p in body["before"]] == ids[max(0, i - 2) : i]
    assert [p["id"] for p in body["after"]] == ids[i + 1 : i + 3]
    # The section's first passage has no earlier neighbour inside the section.
    body = real.get(f"/passages/{ids[0]}?context=2").json()
    assert (body["before"], [p["id"] for p in body["after"]]) == ([], ids[1:3])
    source = (ROOT / "seeds" / f"{REPORT_ID}.txt").read_text(encoding="utf-8")
    assert source[section["start"] : section["end"]].startswith("（四）完善基本民生制度")


@pytest.mark.slow
def test_real_answer_quotes_its_citation(real: TestClient, real_index: LoadedIndex) -> None:
    body = real.post("/ask", json={"question": "营改增五年累计为企业减税多少？"}).json()
    assert body["answerable"] is True and body["grounded"] is True
    assert body["citations"][0]["id"] == passage_with(real_index, "累计为企业减税3112亿元")
    assert "3112亿元" in body["answer"] and "[1]" in body["answer"]
    source = (ROOT / "seeds" / f"{REPORT_ID}.txt").read_text(encoding="utf-8")
    first = body["citations"][0]
    assert first["highlights"]
    for start, end in first["highlights"]:
        assert first["start"] <= start < end <= first["end"]
        assert source[start:end] in body["answer"]


@pytest.mark.slow
def test_real_unanswerable_question(real: TestClient) -> None:
    body = real.post("/ask", json={"question": "北京市2018年的财政预算是多少"}).json()
    assert body["answerable"] is False, body["answer"]
    assert body["answer"] == (
        "报告中没有提到北京市，无法回答这个问题。以下是最接近的段落，仅供参考。"
    )
    assert len(body["citations"]) == 5
    assert all(c["highlights"] == [] for c in body["citations"])
