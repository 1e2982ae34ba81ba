"""The HTTP API on the fixture index (fake embedder, exact ids): search shapes and filters,
passage, section and document lookups, answers, and streaming."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import ROOT, error, settings
from api_helpers import client as client
from api_helpers import retriever as retriever
from fastapi.testclient import TestClient

from service.answers import Asker, CitationsEvent, DeltaEvent
from service.api import create_app
from service.retrieval import Retriever

PASSAGE_KEYS = {
    "id",
    "doc_id",
    "doc_title",
    "region",
    "year",
    "heading_path",
    "section",
    "paragraph",
    "start",
    "end",
    "text",
}


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


def test_search_returns_passages_with_rank_and_score(client: TestClient) -> None:
    r = client.post("/search", json={"query": "新建养老床位多少张", "k": 2, "mode": "bm25"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "query",
        "mode",
        "lang",
        "match",
        "resolved",
        "section",
        "results",
        "took_ms",
    }
    assert (body["query"], body["mode"], body["lang"], body["match"]) == (
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
    assert (body["match"], [h["id"] for h in body["results"]]) == (
        "passage",
        ["demo-2020-0008"],
    )
    assert body["resolved"]["doc_ids"] == ["demo-2020"]
    body = client.post("/search", json={"query": "一（一）讲了什么"}).json()
    assert (body["match"], body["section"]) == ("section", "一（一）")
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
        "confidence",
        "reason",
        "short_answer",
        "grounded",
        "lang",
        "citations",
        "resolved",
        "comparison",
        "backend",
        "took_ms",
    }
    assert (body["backend"], body["answerable"], body["grounded"]) == ("extractive", True, True)
    # BM25 mode measures no passage cosine: the verifier counts that signal as average.
    assert 0.5 < body["confidence"] <= 1.0 and body["reason"] is None
    # Three documents: the quote names its report.
    # The answer leads with the figure asked for, its clause word for word, then the quote.
    assert body["answer"] == (
        "新建养老床位800张[1]。"
        "《示范区政府工作报告》指出：“新增就业岗位5万个，新建养老床位800张。”[1]"
    )
    short = body["short_answer"]
    assert (short["text"], short["n"]) == ("800张", 1)
    source = client.get("/documents/demo-2020/text").text
    assert source[short["start"] : short["end"]] == "800张"
    assert body["comparison"] == []
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
    assert body["answer"] == "报告没有提到“火星”，无法回答这个问题。以下是最接近的段落，仅供参考。"
    assert body["reason"] == "报告没有提到“火星”。"
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
