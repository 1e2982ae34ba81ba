"""The widget in headless Chromium with canned API answers: the report each card names, the
region and year filters, the note on how a question was resolved and a comparison over
reports. Screenshots go to test-artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from widget_helpers import (
    Canned,
    HostSite,
    LiveServer,
    api_answer,
    api_document,
    api_passage,
    api_resolved,
    doc_line,
    expect,
    host_page,
    serve,
    shadow_eval,
    skip_without_chromium,
    submit,
)
from widget_helpers import allowed as allowed
from widget_helpers import browser as browser
from widget_helpers import context as context

from indexer.store import LoadedIndex

pytestmark = pytest.mark.browser
skip_without_chromium()

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def fake_server(
    fixture_index: LoadedIndex, fake_embedder: Any, allowed: HostSite
) -> Iterator[LiveServer]:
    """Serves the widget (and CORS preflights) for the tests whose API answers are canned."""
    with serve(fixture_index, fake_embedder, allowed.origin) as server:
        yield server


# ---- reports, filters, notes and comparisons (canned API answers) ---------------------------

SH2018 = api_document(
    "shanghai-2018-government-work-report", "2018年上海市政府工作报告", "上海市", 2018
)
NATION = api_document(
    "national-2024-government-work-report", "2024年国务院政府工作报告", "全国", 2024
)
SH2019 = api_document(
    "shanghai-2019-government-work-report", "2019年上海市政府工作报告", "上海市", 2019
)
BJ2025 = api_document(
    "beijing-2025-government-work-report", "2025年北京市政府工作报告", "北京市", 2025
)
SH2017 = api_document(
    "shanghai-2017-government-work-report", "2017年上海市政府工作报告", "上海市", 2017
)
NOTES = api_document("notes", "notes", None, None)
# Listed as /documents lists them: 全国 is not first, the years are not in order.
DOCUMENTS = {"documents": [SH2018, NATION, SH2019, BJ2025, NOTES]}


def canned_documents(context: Any, server: LiveServer, site: HostSite) -> Canned:
    return Canned(context, f"{server.url}/documents", DOCUMENTS, site.origin, "GET")


def options(page: Any, select: str) -> list[tuple[str, str]]:
    found = page.locator(f".report-widget {select} option")
    return [
        (found.nth(i).get_attribute("value") or "", found.nth(i).text_content() or "")
        for i in range(found.count())
    ]


def test_filters_come_from_documents_and_go_with_the_question(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    documents = canned_documents(context, fake_server, allowed)
    reason = "问题指明了2019年上海市：检索《2019年上海市政府工作报告》"
    answer = api_answer(
        "GDP增长目标",
        "《2019年上海市政府工作报告》提出：“全市生产总值增长6%—6.5%。”[1]",
        [
            api_passage(1, SH2019, "全市生产总值增长6%—6.5%。"),
            api_passage(2, NOTES, "没有地区和年份的说明材料。", heading_path=()),
        ],
        api_resolved(reason),
    )
    ask = Canned(context, f"{fake_server.url}/ask", answer, allowed.origin, "POST")
    page = host_page(context, fake_server, allowed)

    region = page.locator(".report-widget #rw-region")
    year = page.locator(".report-widget #rw-year")
    expect(region.locator("option")).to_have_count(4)
    assert len(documents.requests) == 1
    # 全国 first, then the regions as listed; the latest year first; a report without region
    # or year adds neither.
    assert options(page, "#rw-region") == [
        ("", "全部地区"),
        ("全国", "全国"),
        ("上海市", "上海市"),
        ("北京市", "北京市"),
    ]
    assert options(page, "#rw-year") == [
        ("", "全部年份"),
        ("2025", "2025年"),
        ("2024", "2024年"),
        ("2019", "2019年"),
        ("2018", "2018年"),
    ]
    assert region.is_visible() and year.is_visible()

    region.select_option("上海市")
    year.select_option("2019")
    assert ask.requests == []  # no question yet: choosing a filter sends nothing
    submit(page, "GDP增长目标")
    cards = page.locator(".report-widget .rw-card")
    expect(cards).to_have_count(2)
    base = {"question": "GDP增长目标", "k": 5, "doc_id": None, "generate": True, "stream": False}
    assert ask.bodies == [{**base, "region": "上海市", "year": 2019}]

    # Each card names its report; what the API does not know is left out.
    expect(cards.nth(0).locator(".rw-doc-text")).to_have_text(
        "2019年上海市政府工作报告 · 上海市 · 2019"
    )
    expect(cards.nth(1).locator(".rw-doc-text")).to_have_text("notes")
    assert cards.nth(0).locator(".rw-crumb").all_text_contents() == ["一、主要目标"]
    assert cards.nth(1).locator(".rw-crumbs").count() == 0
    # The note on how the question was resolved stands above the answer.
    note = page.locator(".report-widget .rw-note")
    expect(note).to_have_text(reason)
    assert shadow_eval(
        page,
        "root.querySelector('.rw-note').compareDocumentPosition("
        "root.querySelector('.rw-answer')) & Node.DOCUMENT_POSITION_FOLLOWING",
    )
    assert page.locator(".report-widget .rw-compare").is_hidden()

    # Changing a filter asks again; "all" sends no filter.
    for select, want in ((region, {**base, "year": 2019}), (year, base)):
        with page.expect_response(f"{fake_server.url}/ask"):
            select.select_option("")
        assert ask.bodies[-1] == want
    assert len(ask.bodies) == 3


def test_search_mode_sends_the_filters_and_shows_what_is_missing(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    canned_documents(context, fake_server, allowed)
    missing = "语料库中没有2024年北京市政府工作报告；语料库中北京市有2025年的报告"
    results = {
        "query": "北京的就业目标",
        "mode": "hybrid",
        "lang": "zh",
        "match": "search",
        "resolved": api_resolved("", (missing,)),
        "section": None,
        "results": [api_passage(1, NATION, "城镇新增就业1200万人以上。")],
        "took_ms": 1.0,
    }
    search = Canned(context, f"{fake_server.url}/search", results, allowed.origin, "POST")
    section = Canned(
        context,
        f"{fake_server.url}/sections/**",
        {
            "ref": "一",
            "title": "一、主要目标",
            "heading_path": ["一、主要目标"],
            "doc_id": SH2019["doc_id"],
            "start": 0,
            "end": 30,
            "passages": [api_passage(1, SH2019, "全市生产总值增长6%—6.5%。")],
        },
        allowed.origin,
        "GET",
    )
    page = host_page(context, fake_server, allowed)
    expect(page.locator(".report-widget #rw-year option")).to_have_count(5)
    page.locator(".report-widget #rw-year").select_option("2024")
    submit(page, "北京的就业目标", mode="search")
    card = page.locator(".report-widget .rw-card")
    expect(card).to_have_count(1)
    assert search.bodies == [{"query": "北京的就业目标", "k": 5, "doc_id": None, "year": 2024}]
    expect(card.locator(".rw-doc-text")).to_have_text("2024年国务院政府工作报告 · 全国 · 2024")
    expect(page.locator(".report-widget .rw-note")).to_have_text(missing)
    assert page.locator(".report-widget .rw-answer").is_hidden()

    # A section reference under a region filter looks in that region's latest report.
    page.locator(".report-widget #rw-year").select_option("")
    page.locator(".report-widget #rw-region").select_option("上海市")
    expect(page.locator(".report-widget .rw-results")).to_have_attribute("aria-busy", "false")
    submit(page, "一")
    expect(page.locator(".report-widget .rw-status")).to_have_text("章节 一，共 1 段。")
    assert section.requests[-1].url == (
        f"{fake_server.url}/sections/%E4%B8%80?doc_id={SH2019['doc_id']}"
    )
    assert page.locator(".report-widget .rw-note").is_hidden()


def test_comparison_shows_one_entry_per_report_in_order(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    canned_documents(context, fake_server, allowed)
    reports = [SH2017, SH2019, NATION]
    quotes = [
        "全市生产总值增长6.5%左右。",
        "全市生产总值增长6%—6.5%。",
        "国内生产总值增长5%左右。",
    ]
    citations = [
        api_passage(n, d, q) for n, (d, q) in enumerate(zip(reports, quotes, strict=True), start=1)
    ]
    comparison = [
        {
            "doc_id": d["doc_id"],
            "title": d["title"],
            "region": d["region"],
            "year": d["year"],
            "quote": q,
            "citation": n,
        }
        for n, (d, q) in enumerate(zip(reports, quotes, strict=True), start=1)
    ]
    answer = api_answer(
        "2017年、2019年和2024年的增长目标",
        "各报告的增长目标：2017年[1]，2019年[2]，2024年[3]。",
        citations,
        api_resolved("问题比较了3份报告：逐份检索"),
        comparison,
    )
    Canned(context, f"{fake_server.url}/ask", answer, allowed.origin, "POST")
    page = host_page(context, fake_server, allowed)
    submit(page, "2017年、2019年和2024年的增长目标")
    entries = page.locator(".report-widget .rw-compare-item")
    expect(entries).to_have_count(3)
    assert [entries.nth(i).get_attribute("data-doc-id") for i in range(3)] == [
        d["doc_id"] for d in reports
    ]
    assert entries.locator(".rw-compare-title").all_text_contents() == [d["title"] for d in reports]
    assert entries.locator(".rw-compare-meta").all_text_contents() == [
        "上海市 · 2017",
        "上海市 · 2019",
        "全国 · 2024",
    ]
    assert entries.locator(".rw-compare-quote").all_text_contents() == [
        f"原文：{q}[{n}]" for n, q in enumerate(quotes, start=1)
    ]
    # Above the cards, side by side at this width, and each [n] moves to its card.
    boxes = [entries.nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert shadow_eval(
        page,
        "root.querySelector('.rw-compare').compareDocumentPosition("
        "root.querySelector('.rw-results')) & Node.DOCUMENT_POSITION_FOLLOWING",
    )
    entries.nth(1).locator(".rw-cite[data-n='2']").click()
    assert shadow_eval(page, "root.activeElement.id") == "rw-card-2"
    cards = page.locator(".report-widget .rw-card")
    assert cards.locator(".rw-doc-text").all_text_contents() == [
        doc_line(d["title"], d["region"], d["year"]) for d in reports
    ]

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".report-widget").screenshot(path=str(ARTIFACTS / "widget-compare.png"))
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert shadow_eval(page, "root.querySelector('.rw').getBoundingClientRect().right") <= 360
    page.locator(".report-widget").screenshot(path=str(ARTIFACTS / "widget-compare-360.png"))


def test_filters_load_again_after_documents_failed(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    calls: list[int] = []

    def documents(route: Any) -> None:
        calls.append(1)
        headers = {"Access-Control-Allow-Origin": allowed.origin}
        if len(calls) == 1:
            route.fulfill(status=503, headers=headers, json={"error": {"message": "loading"}})
        else:
            route.fulfill(status=200, headers=headers, json=DOCUMENTS)

    context.route(f"{fake_server.url}/documents", documents)
    with context.expect_event("response", lambda r: r.url == f"{fake_server.url}/documents"):
        page = host_page(context, fake_server, allowed)
    assert page.locator(".report-widget .rw-filters").is_hidden()
    assert calls == [1]
    submit(page, "显示测试", mode="search")
    expect(page.locator(".report-widget #rw-region")).to_be_visible()
    expect(page.locator(".report-widget #rw-region option")).to_have_count(4)
    assert len(calls) == 2
    assert page.locator(".report-widget .rw-error").is_hidden()
