"""The widget in headless Chromium on the fixture index (fake embedder): markup in passages
(and in report names, notes and comparisons) stays text, API errors and refused origins are
shown as such, and the widget page's CSP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from widget_helpers import (
    DENIED_HOST,
    Canned,
    HostSite,
    LiveServer,
    api_answer,
    api_document,
    api_passage,
    api_resolved,
    by_content,
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
from service.query import understand
from service.settings import Settings

pytestmark = pytest.mark.browser
skip_without_chromium()

NETWORK_ERROR = (
    "无法连接到报告检索服务。如果您是本网站的管理员，请确认本网站已列入服务的 CORS_ORIGINS。"
)
WIDGET_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *"
)


@pytest.fixture(scope="module")
def denied() -> Iterator[HostSite]:
    with HostSite(DENIED_HOST) as site:
        yield site


@pytest.fixture(scope="module")
def fixture_server(
    fixture_index: LoadedIndex, fake_embedder: Any, allowed: HostSite
) -> Iterator[LiveServer]:
    with serve(fixture_index, fake_embedder, allowed.origin, max_question_chars=40) as server:
        yield server


# ---- the fixture index (fake embedder) ---------------------------------------------------


def test_markup_in_passages_renders_as_text(
    context: Any,
    fixture_server: LiveServer,
    allowed: HostSite,
    fixture_index: LoadedIndex,
    fake_embedder: Any,
) -> None:
    from service.retrieval import Retriever

    unsafe = by_content(fixture_index, "onerror")
    assert '<img src=x onerror="window.__xss=1">' in unsafe.text
    page = host_page(context, fixture_server, allowed)

    submit(page, unsafe.id)
    card = page.locator(".report-widget .rw-card")
    expect(card).to_have_count(1)
    assert card.locator(".rw-text").text_content() == unsafe.text

    query = "必须原样显示为文字"
    assert unsafe.id in [
        h.passage.id for h in Retriever(fixture_index, fake_embedder).search(understand(query)).hits
    ]
    submit(page, query, mode="search")
    expect(page.locator(f".report-widget .rw-card[data-passage-id='{unsafe.id}']")).to_have_count(1)
    shown = page.locator(f".report-widget .rw-card[data-passage-id='{unsafe.id}'] .rw-text")
    assert shown.text_content() == unsafe.text
    assert shown.locator("mark").count() >= 1

    page.locator(".report-widget input[value=ask]").check()
    submit(page, "标记<img src=x onerror>显示")
    expect(page.locator(".report-widget .rw-card")).not_to_have_count(0)

    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert shadow_eval(page, "root.querySelectorAll('img, script, iframe, object').length") == 0
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0


def test_markup_in_reports_notes_and_comparisons_renders_as_text(
    context: Any, fixture_server: LiveServer, allowed: HostSite
) -> None:
    img = '<img src=x onerror="window.__xss=1">'
    hostile = api_document("hostile", f"报告{img}", f"地区{img}", 2024)
    other = api_document("other", "<b>另一份</b>", "上海市", 2025)
    Canned(
        context,
        f"{fixture_server.url}/documents",
        {"documents": [hostile, other]},
        allowed.origin,
        "GET",
    )
    answer = api_answer(
        "比较",
        f"答案{img}[1][2]",
        [api_passage(1, hostile, f"正文{img}"), api_passage(2, other, "正文")],
        api_resolved(f"说明{img}", ("缺少<script>window.__xss=2</script>",)),
        [
            {
                "doc_id": d["doc_id"],
                "title": d["title"],
                "region": d["region"],
                "year": d["year"],
                "quote": f"摘录{img}",
                "citation": n,
            }
            for n, d in ((1, hostile), (2, other))
        ],
    )
    Canned(context, f"{fixture_server.url}/ask", answer, allowed.origin, "POST")
    page = host_page(context, fixture_server, allowed)
    expect(page.locator(".report-widget #rw-region option")).to_have_count(3)
    assert page.locator(".report-widget #rw-region option").all_text_contents() == [
        "全部地区",
        f"地区{img}",
        "上海市",
    ]
    submit(page, "比较")
    expect(page.locator(".report-widget .rw-compare-item")).to_have_count(2)
    expect(page.locator(".report-widget .rw-card").first.locator(".rw-doc-text")).to_have_text(
        f"报告{img} · 地区{img} · 2024"
    )
    expect(page.locator(".report-widget .rw-note p")).to_have_text(
        [f"说明{img}", "缺少<script>window.__xss=2</script>"]
    )
    assert page.locator(".report-widget .rw-compare-title").all_text_contents() == [
        f"报告{img}",
        "<b>另一份</b>",
    ]
    assert page.locator(".report-widget .rw-compare-quote").first.text_content() == (
        f"原文：摘录{img}[1]"
    )
    expect(page.locator(".report-widget .rw-answer-text")).to_have_text(f"答案{img}[1][2]")
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert shadow_eval(page, "root.querySelectorAll('img, script, b, iframe').length") == 0


def test_api_error_message_is_shown_as_text(
    context: Any, fixture_server: LiveServer, allowed: HostSite
) -> None:
    question = "这个问题" * 11  # 44 characters; the fixture server allows 40
    got = httpx.post(f"{fixture_server.url}/ask", json={"question": question}, timeout=30)
    assert got.status_code == 422
    message = got.json()["error"]["message"]
    assert "the limit is 40" in message
    page = host_page(context, fixture_server, allowed)
    submit(page, question)
    expect(page.locator(".report-widget .rw-error")).to_have_text(message)
    expect(page.locator(".report-widget .rw-card")).to_have_count(0)


def test_origin_not_allowed_gets_no_data(
    context: Any, fixture_server: LiveServer, denied: HostSite
) -> None:
    preflight = httpx.options(
        f"{fixture_server.url}/search",
        headers={
            "Origin": denied.origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    page = host_page(context, fixture_server, denied)
    submit(page, "显示测试", mode="search")
    expect(page.locator(".report-widget .rw-error")).to_have_text(NETWORK_ERROR)
    expect(page.locator(".report-widget .rw-error")).to_have_attribute("role", "alert")
    expect(page.locator(".report-widget .rw-card")).to_have_count(0)


def test_widget_page_csp_and_script(
    context: Any, fixture_server: LiveServer, fixture_index: LoadedIndex
) -> None:
    page_response = httpx.get(f"{fixture_server.url}/widget")
    assert page_response.status_code == 200
    assert page_response.headers["content-security-policy"] == WIDGET_CSP
    assert page_response.headers["content-type"] == "text/html; charset=utf-8"
    script = httpx.get(f"{fixture_server.url}/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "innerHTML" not in script.text and "eval(" not in script.text

    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    page.goto(f"{fixture_server.url}/widget")
    target = by_content(fixture_index, "onerror")
    submit(page, "九（九）")  # no such section: the API's 404 message, as text
    expect(page.locator(".report-widget .rw-error")).to_contain_text("no section '九（九）'")
    submit(page, target.id)
    expect(page.locator(".report-widget .rw-card")).to_have_count(1)
    # One year and no region in the fixture corpus: nothing to filter by.
    assert page.locator(".report-widget .rw-filters").is_hidden()
    # Citations without a region, date or section leave those parts out.
    flat = by_content(fixture_index, "轨道交通总里程")
    dated = by_content(fixture_index, "新设企业3000家")
    for p, want in [
        (flat, f"《flat-notes》第{flat.paragraph}段，字符 {flat.start}–{flat.end}"),
        (
            dated,
            f"《示范区政府工作报告》（2020年2月3日）一（一）第1段，字符 {dated.start}–{dated.end}",
        ),
    ]:
        submit(page, p.id)
        expect(page.locator(".report-widget .rw-card")).to_have_attribute("data-passage-id", p.id)
        page.locator(".report-widget .rw-copy").click()
        expect(page.locator(".report-widget .rw-copied")).to_have_text("已复制")
        assert page.evaluate("() => navigator.clipboard.readText()") == want
    # Styles apply under style-src 'self' (constructable stylesheet), and nothing was refused.
    assert shadow_eval(
        page, "getComputedStyle(root.querySelector('.rw-submit')).backgroundColor"
    ) == ("rgb(164, 22, 26)")
    assert not [line for line in console if "Content Security Policy" in line], console


def test_widget_page_frame_ancestors_setting(
    fixture_index: LoadedIndex, fake_embedder: Any
) -> None:
    from fastapi.testclient import TestClient
    from pydantic import ValidationError

    from service.api.app import create_app
    from service.retrieval import Retriever

    settings = Settings(widget_frame_ancestors="'self' https://news.example")
    app = create_app(settings, Retriever(fixture_index, fake_embedder))
    with TestClient(app) as client:
        got = client.get("/widget")
    assert got.status_code == 200
    assert got.headers["content-security-policy"] == WIDGET_CSP.replace(
        "frame-ancestors *", "frame-ancestors 'self' https://news.example"
    )
    with pytest.raises(ValidationError):
        Settings(widget_frame_ancestors="*; script-src *")
