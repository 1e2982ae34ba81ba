"""Questions over the whole shipped corpus (22 reports, m3e-small): the right report and year,
labelled quotes, comparisons in year order, and plain answers when a report is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from service.answers import Asker
from service.answers.prompt import passages_block
from service.query import understand
from service.retrieval import Retriever

TODAY = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def retriever(corpus_index, m3e) -> Retriever:
    return Retriever(corpus_index, m3e)


@pytest.fixture(scope="module")
def asker(retriever) -> Asker:
    return Asker(retriever)


def ask(asker: Asker, question: str, today: dt.date = TODAY, **filters):
    query = understand(question, catalogue=asker.retriever.catalogue, today=today, **filters)
    return query, asker.ask(query)


def short(doc_ids) -> list[str]:
    return [d.removesuffix("-government-work-report") for d in doc_ids]


def test_the_catalogue_holds_every_shipped_report(retriever) -> None:
    catalogue = retriever.catalogue
    assert len(catalogue) == 22
    assert catalogue.regions[:3] == ["全国", "北京市", "天津市"]
    assert [r.year for r in catalogue.of_region("上海市")] == list(range(2017, 2026))


@pytest.mark.parametrize(
    ("question", "today", "expected"),
    [
        # A year's targets: that year's report.
        ("上海2020年城镇调查失业率目标是多少？", TODAY, ["shanghai-2020"]),
        ("2022年上海地方一般公共预算收入增长目标是多少？", TODAY, ["shanghai-2022"]),
        # A year's results: the next year's report, which reviews it.
        ("2020年上海全市生产总值实际增长了多少？", TODAY, ["shanghai-2021"]),
        ("2018年全国GDP实际增长了多少", TODAY, ["national-2019"]),
        # 去年 and 今年 count from the date the question is asked on.
        ("去年上海GDP增长了多少？", dt.date(2024, 6, 1), ["shanghai-2024"]),
        ("今年上海的GDP增长目标是多少", dt.date(2023, 3, 1), ["shanghai-2023"]),
        # No year: the latest report of the region.
        ("上海的GDP增长目标是多少", TODAY, ["shanghai-2025"]),
        # Several regions, one year: each of them.
        ("上海和全国2019年的GDP增长目标", TODAY, ["national-2019", "shanghai-2019"]),
        # A year the reports talk about as a subject is not a report to look for.
        ("上海2035年远景目标是什么", TODAY, ["shanghai-2025"]),
    ],
)
def test_questions_resolve_to_the_report_that_answers(retriever, question, today, expected):
    query = understand(question, catalogue=retriever.catalogue, today=today)
    assert query.scope is not None
    assert short(query.scope.doc_ids) == expected


def test_a_year_result_quotes_the_next_reports_review(asker) -> None:
    _, answer = ask(asker, "2020年上海全市生产总值实际增长了多少？")
    assert answer.answerable
    # The answer leads with the figure asked for, then the labelled quotes.
    assert answer.text.startswith("全年实现生产总值增长1.7%[2]。《2021年上海市政府工作报告》指出：")
    assert "全年实现生产总值增长1.7%" in answer.text
    assert {c.hit.passage.doc_id for c in answer.citations} == {
        "shanghai-2021-government-work-report"
    }
    # Only the review part (一、2020年工作回顾) answers what 2020 achieved.
    assert {c.hit.passage.heading_path[0] for c in answer.citations} == {"一、2020年工作回顾"}


def test_a_comparison_quotes_each_report_in_year_order(asker, corpus_index) -> None:
    _, answer = ask(asker, "2017年和2019年上海的一般公共预算收入增长目标分别是多少？")
    lines = answer.text.split("\n")
    assert [line[: line.index("》") + 1] for line in lines] == [
        "《2017年上海市政府工作报告》",
        "《2019年上海市政府工作报告》",
    ]
    assert "一般公共预算收入增长7%" in lines[0] and "地方一般公共预算收入增长5%" in lines[1]
    assert [(c.report.year, c.report.region) for c in answer.comparison] == [
        (2017, "上海市"),
        (2019, "上海市"),
    ]
    for compared in answer.comparison:
        cited = answer.citations[compared.citation - 1]
        assert cited.report == compared.report
        assert compared.quote in cited.hit.passage.text
        assert f"“{compared.quote}”[{compared.citation}]" in answer.text
    # Each report's line leads with its own short answer, an exact span of its report.
    assert [c.short.text if c.short else None for c in answer.comparison] == ["7%", "5%"]
    assert answer.short is None
    for compared in answer.comparison:
        span = compared.short
        assert span is not None
        cited = answer.citations[span.n - 1]
        assert cited.report == compared.report
        assert corpus_index.text(cited.hit.passage.doc_id)[span.start : span.end] == span.text


def test_a_missing_report_says_what_is_missing_and_what_is_held(asker) -> None:
    _, answer = ask(asker, "2026年上海GDP增长目标是多少？")
    assert (answer.answerable, answer.citations) == (False, [])
    assert answer.text == (
        "无法回答：语料库中没有2026年上海市政府工作报告；语料库中上海市有2017—2025年的报告。"
    )
    _, beijing = ask(asker, "北京市2024年的就业目标是多少")
    assert not beijing.answerable and "北京市有2025年的报告" in beijing.text


def test_without_a_year_the_answer_says_it_used_the_latest_report(asker) -> None:
    _, answer = ask(asker, "上海的GDP增长目标是多少？")
    assert answer.text.startswith(
        "问题没有指明年份，按最新的报告回答。全市生产总值增长5%左右[1]。"
        "《2025年上海市政府工作报告》指出："
    )
    assert "全市生产总值增长5%左右" in answer.text


def test_request_filters_choose_the_report(asker) -> None:
    query, answer = ask(asker, "GDP增长目标是多少", region="沪", year=2019)
    assert short(query.scope.doc_ids) == ["shanghai-2019"]
    assert answer.text.startswith("全市生产总值增长6%-6.5%[1]。《2019年上海市政府工作报告》指出：")


def test_citations_and_prompt_name_their_report(asker) -> None:
    _, answer = ask(asker, "2019年上海的GDP增长目标是多少")
    report = answer.citations[0].report
    assert (report.title, report.region, report.year) == (
        "2019年上海市政府工作报告",
        "上海市",
        2019,
    )
    assert (
        passages_block(answer.citations)
        .splitlines()[1]
        .startswith("[1] 上海市 2019 《2019年上海市政府工作报告》 | ")
    )


def test_docx_reports_answer_with_exact_offsets(asker, corpus_index) -> None:
    _, answer = ask(asker, "河南2025年粮食产量目标是多少")
    assert {c.hit.passage.doc_id for c in answer.citations} == {"henan-2025-government-work-report"}
    text = corpus_index.text("henan-2025-government-work-report")
    for c in answer.citations:
        p = c.hit.passage
        assert text[p.start : p.end] == p.text
        for start, end in c.highlights:
            assert text[start:end] in answer.text


def test_the_api_reports_the_resolution_and_the_comparison(corpus_index_dir, retriever) -> None:
    from service.api.app import create_app
    from service.settings import Settings

    settings = Settings(index_dir=corpus_index_dir, today=TODAY, multilingual=False)
    app = create_app(settings, retriever)
    with TestClient(app) as client:
        body = client.post(
            "/ask", json={"question": "2017年和2019年上海的一般公共预算收入增长目标分别是多少？"}
        ).json()
        assert body["resolved"]["doc_ids"] == [
            "shanghai-2017-government-work-report",
            "shanghai-2019-government-work-report",
        ]
        assert (body["resolved"]["region"], body["resolved"]["year"]) == (["上海市"], [2017, 2019])
        assert [c["year"] for c in body["comparison"]] == [2017, 2019]
        for compared in body["comparison"]:
            cited = body["citations"][compared["citation"] - 1]
            assert (cited["year"], compared["quote"] in cited["text"]) == (compared["year"], True)
        assert [c["short_answer"]["text"] for c in body["comparison"]] == ["7%", "5%"]
        assert body["short_answer"] is None
        first = body["citations"][0]
        assert (first["doc_title"], first["region"], first["year"]) == (
            "2017年上海市政府工作报告",
            "上海市",
            2017,
        )
        missing = client.post("/ask", json={"question": "2026年上海GDP增长目标"}).json()
        assert (missing["answerable"], missing["resolved"]["doc_ids"]) == (False, [])
        assert missing["resolved"]["missing"] == [
            "语料库中没有2026年上海市政府工作报告；语料库中上海市有2017—2025年的报告"
        ]
        search = client.post(
            "/search", json={"query": "GDP增长目标", "region": ["全国"], "year": [2019, 2024]}
        ).json()
        assert {h["doc_id"] for h in search["results"]} == {
            "national-2019-government-work-report",
            "national-2024-government-work-report",
        }
        assert search["resolved"]["per_report"] is True
