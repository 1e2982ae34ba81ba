"""The widget in headless Chromium on the real report: the answer's cards, highlights,
context and citation, section and passage lookups, search mode, the keyboard, and the loading
and empty states (test_widget_browser_reports.py has the reports, filters and comparisons).
Screenshots go to test-artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from widget_helpers import (
    HostSite,
    LiveServer,
    by_content,
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
from indexer.types import Passage
from service.query import understand

pytestmark = pytest.mark.browser
skip_without_chromium()

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "养老床位新增多少"


@pytest.fixture(scope="module")
def real_server(real_index: LoadedIndex, m3e: Any, allowed: HostSite) -> Iterator[LiveServer]:
    with serve(real_index, m3e, allowed.origin) as server:
        yield server


@pytest.fixture(scope="module")
def fake_server(
    fixture_index: LoadedIndex, fake_embedder: Any, allowed: HostSite
) -> Iterator[LiveServer]:
    """Serves the widget (and CORS preflights) for the tests whose API answers are canned."""
    with serve(fixture_index, fake_embedder, allowed.origin) as server:
        yield server


def citation(p: Passage, index: LoadedIndex) -> str:
    doc = index.document(p.doc_id)
    assert doc is not None and doc.date is not None
    y, m, d = (int(x) for x in doc.date.split("-"))
    return (
        f"《{doc.title}》（{doc.region}，{y}年{m}月{d}日）{p.section}第{p.paragraph}段，"
        f"字符 {p.start}–{p.end}"
    )


# ---- the real report -----------------------------------------------------------------


def test_question_card_context_citation_and_screenshots(
    context: Any, real_server: LiveServer, allowed: HostSite, real_index: LoadedIndex, m3e: Any
) -> None:
    from service.retrieval import Retriever

    expected = by_content(real_index, "新增7000张养老床位")
    answering = next(s for s in re.findall(r"[^。]*。", expected.text) if "7000张养老床位" in s)
    page = host_page(context, real_server, allowed)
    # Mounted where the tag stands: between the host's heading and paragraph.
    assert (
        page.evaluate("() => document.querySelector('#before').nextElementSibling.className")
        == "report-widget"
    )

    submit(page, QUESTION)
    cards = page.locator(".report-widget .rw-card")
    expect(cards).to_have_count(5)
    card = cards.first
    expect(card).to_have_attribute("data-passage-id", expected.id)
    # The card names its report as the API does (title, region, year), then the headings.
    cited = httpx.post(f"{real_server.url}/ask", json={"question": QUESTION}, timeout=60).json()
    first = cited["citations"][0]
    assert first["id"] == expected.id
    expect(card.locator(".rw-doc-text")).to_have_text(
        doc_line(first["doc_title"], first["region"], first["year"])
    )
    assert card.locator(".rw-crumb").all_text_contents() == [
        "三、2018年主要任务",
        "（四）完善基本民生制度，持续增进民生福祉。",
    ]
    assert list(expected.heading_path) == [
        "三、2018年主要任务",
        "（四）完善基本民生制度，持续增进民生福祉。",
    ]
    assert card.locator(".rw-text").text_content() == expected.text
    assert card.locator("mark.rw-hl").all_text_contents() == [answering]
    expect(card.locator(".rw-ref")).to_have_text(f"三（四） 第{expected.paragraph}段")
    expect(page.locator(".report-widget .rw-status")).to_have_text("找到 5 段相关内容。")
    # The host's CSS (color: lime !important; .rw-card hidden) does not reach inside.
    assert card.is_visible()
    assert shadow_eval(page, "getComputedStyle(root.querySelector('.rw-text')).color") != (
        "rgb(0, 255, 0)"
    )

    # The answer's [1] marker moves focus to the first card.
    answer = page.locator(".report-widget .rw-answer-text")
    expect(answer).to_contain_text("7000张养老床位")
    answer.locator(".rw-cite[data-n='1']").first.click()
    assert shadow_eval(page, "root.activeElement.id") == "rw-card-1"

    # Show context: the neighbours of the same section, in place, exactly.
    _, before, after = Retriever(real_index, m3e).context(expected.id, 2)
    assert before and after
    card.locator(".rw-ctx-btn").click()
    expect(card.locator(".rw-ctx-btn")).to_have_attribute("aria-expanded", "true")
    expect(card.locator(".rw-before p")).to_have_count(len(before))
    assert card.locator(".rw-before p").all_text_contents() == [p.text for p in before]
    assert card.locator(".rw-after p").all_text_contents() == [p.text for p in after]

    # Copy citation: the exact string lands on the clipboard.
    want = citation(expected, real_index)
    assert want.startswith("《2018年上海市政府工作报告》（上海市，2018年1月23日）三（四）第")
    card.locator(".rw-copy").click()
    expect(card.locator(".rw-copied")).to_have_text("已复制")
    assert page.evaluate("() => navigator.clipboard.readText()") == want

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".report-widget").screenshot(path=str(ARTIFACTS / "widget.png"))
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert shadow_eval(page, "root.querySelector('.rw').getBoundingClientRect().right") <= 360
    page.locator(".report-widget").screenshot(path=str(ARTIFACTS / "widget-360.png"))


def test_section_reference_shows_that_section(
    context: Any, real_server: LiveServer, allowed: HostSite, real_index: LoadedIndex
) -> None:
    section = next(s for s in real_index.sections if s.ref == "三（四）")
    page = host_page(context, real_server, allowed)
    submit(page, "三（四）")
    cards = page.locator(".report-widget .rw-card")
    expect(cards).to_have_count(len(section.passage_ids))
    ids = [cards.nth(i).get_attribute("data-passage-id") for i in range(cards.count())]
    assert ids == list(section.passage_ids)
    expect(page.locator(".report-widget .rw-status")).to_have_text(
        f"章节 三（四），共 {len(section.passage_ids)} 段。"
    )
    assert page.locator(".report-widget .rw-answer").is_hidden()


def test_search_mode_highlights_query_terms(
    context: Any, real_server: LiveServer, allowed: HostSite, real_index: LoadedIndex, m3e: Any
) -> None:
    from service.retrieval import Retriever

    want = [h.passage.id for h in Retriever(real_index, m3e).search(understand(QUESTION, 5)).hits]
    page = host_page(context, real_server, allowed)
    submit(page, QUESTION, mode="search")
    cards = page.locator(".report-widget .rw-card")
    expect(cards).to_have_count(5)
    assert [cards.nth(i).get_attribute("data-passage-id") for i in range(5)] == want
    marks = cards.first.locator("mark").all_text_contents()
    assert "新增" in marks and "养老床位" in marks
    assert all(re.fullmatch(r"(养老|床位|新增)+", m) for m in marks), marks
    assert page.locator(".report-widget .rw-answer").is_hidden()


def test_passage_id_and_keyboard(
    context: Any, real_server: LiveServer, allowed: HostSite, real_index: LoadedIndex
) -> None:
    target = by_content(real_index, "养老床位新增4.9万张")
    page = host_page(context, real_server, allowed)
    page.keyboard.press("Tab")
    assert shadow_eval(page, "root.activeElement.id") == "rw-q"
    page.keyboard.type(target.id)
    page.keyboard.press("Enter")
    cards = page.locator(".report-widget .rw-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-passage-id", target.id)
    # Tab order: input, submit, the mode radios, then the card's buttons (one report: no
    # region or year filter to offer); focus is visible.
    assert page.locator(".report-widget .rw-filters").is_hidden()
    page.keyboard.press("Tab")
    assert shadow_eval(page, "root.activeElement.className") == "rw-submit"
    assert shadow_eval(page, "getComputedStyle(root.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Tab")
    assert shadow_eval(page, "root.activeElement.value") == "ask"
    page.keyboard.press("Tab")
    assert shadow_eval(page, "root.activeElement.className") == "rw-btn rw-ctx-btn"
    page.keyboard.press("Enter")
    expect(cards.first.locator(".rw-ctx-btn")).to_have_attribute("aria-expanded", "true")
    # Labels for assistive technology.
    assert shadow_eval(page, "root.querySelector('label[for=rw-q]').textContent") == (
        "在报告中查找Search the report"
    )
    assert shadow_eval(page, "root.querySelector('.rw-status').getAttribute('aria-live')") == (
        "polite"
    )


def test_loading_then_empty_state(context: Any, real_server: LiveServer, allowed: HostSite) -> None:
    page = host_page(context, real_server, allowed)
    held: list[Any] = []
    page.route(f"{real_server.url}/search", lambda route: held.append(route))
    submit(page, "没有的内容", mode="search")
    status = page.locator(".report-widget .rw-status")
    expect(status).to_have_text("正在查找…")
    expect(page.locator(".report-widget .rw-results")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].fulfill(
        status=200,
        headers={"Access-Control-Allow-Origin": allowed.origin},
        json={"query": "没有的内容", "mode": "hybrid", "results": [], "took_ms": 1.0},
    )
    expect(page.locator(".report-widget .rw-empty")).to_have_text("报告中没有找到相关内容")
    expect(page.locator(".report-widget .rw-card")).to_have_count(0)
    expect(page.locator(".report-widget .rw-results")).to_have_attribute("aria-busy", "false")
