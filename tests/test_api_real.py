"""The HTTP API against the real report index with m3e-small (`slow`): expected passages are
found by their content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import ROOT, settings
from fastapi.testclient import TestClient

from indexer.store import LoadedIndex
from service.api import create_app
from service.retrieval import Retriever

REPORT_ID = "shanghai-2018-government-work-report"

# ---- the real report (m3e-small) -----------------------------------------------------


@pytest.fixture(scope="module")
def real(real_index: LoadedIndex, m3e) -> Iterator[TestClient]:
    # Asked while the 2018 report was the current one: 今年 is 2018.
    with TestClient(create_app(settings(today="2018-03-01"), Retriever(real_index, m3e))) as c:
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
    assert (top["rank"], top["doc_id"], top["doc_title"]) == (
        1,
        REPORT_ID,
        "2018年上海市政府工作报告",
    )


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
    assert (body["match"], body["section"]) == ("section", "三（四）")
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
    # A region the index holds no report of: said plainly, with what it holds, no citation.
    body = real.post("/ask", json={"question": "北京市2018年的财政预算是多少"}).json()
    assert body["answerable"] is False, body["answer"]
    assert body["answer"] == "无法回答：语料库中没有北京市的政府工作报告（现有上海市的报告）。"
    assert (body["citations"], body["resolved"]["doc_ids"]) == ([], [])
    # A place the report never mentions, within the report it holds: the nearest passages.
    body = real.post("/ask", json={"question": "浦东新区2018年的财政预算是多少"}).json()
    assert body["answerable"] is False, body["answer"]
    assert body["answer"].startswith("报告中没有提到浦东新区")
    assert len(body["citations"]) == 5
    assert all(c["highlights"] == [] for c in body["citations"])
