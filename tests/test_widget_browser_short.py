"""The widget's short answer in headless Chromium, with canned /ask responses: shown above the
answer with its [n], its span marked in card n, as text only, and not shown at all when its
span is not card n's text at its offsets. A screenshot goes to test-artifacts/ (gitignored)."""

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

SH2018 = api_document(
    "shanghai-2018-government-work-report", "2018年上海市政府工作报告", "上海市", 2018
)
OTHER = "新建和改扩建35所幼儿园。"
QUOTE = "今年开办20个社区幼儿托管点，新增1000个爱心接力站。"
QUESTION = "今年开几个社区幼儿托管点？"


@pytest.fixture(scope="module")
def fake_server(
    fixture_index: LoadedIndex, fake_embedder: Any, allowed: HostSite
) -> Iterator[LiveServer]:
    with serve(fixture_index, fake_embedder, allowed.origin) as server:
        yield server


def canned(short: dict[str, Any] | None, quote: str = QUOTE) -> dict[str, Any]:
    """An /ask body whose card 2 quotes `quote` (its sentence highlighted) and its short answer."""
    first = api_passage(1, SH2018, OTHER)
    second = api_passage(2, SH2018, quote)
    second["highlights"] = [[second["start"], second["start"] + quote.index("，")]]
    body = api_answer(
        QUESTION,
        f"今年开办20个社区幼儿托管点[2]。报告指出：“{quote[: quote.index('，')]}”[2]",
        [first, second],
        api_resolved(),
    )
    if short is not None:
        body["short_answer"] = short
    return body


def short_of(text: str, quote: str = QUOTE, n: int = 2) -> dict[str, Any]:
    start = 100 * n + quote.index(text)
    return {"text": text, "n": n, "start": start, "end": start + len(text)}


def ask(context: Any, server: LiveServer, site: HostSite, body: dict[str, Any]) -> Any:
    Canned(context, f"{server.url}/documents", {"documents": [SH2018]}, site.origin, "GET")
    Canned(context, f"{server.url}/ask", body, site.origin, "POST")
    page = host_page(context, server, site)
    submit(page, QUESTION)
    expect(page.locator(".report-widget .rw-card")).to_have_count(2)
    return page


def test_the_short_answer_leads_and_is_marked_in_its_card(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    page = ask(context, fake_server, allowed, canned(short_of("20个")))
    short = page.locator(".report-widget .rw-short")
    expect(short).to_be_visible()
    expect(short.locator(".rw-short-text")).to_have_text("20个")
    expect(short).to_have_text("答案：20个[2]")
    # Above the answer and the quotes.
    for later in (".rw-answer", ".rw-results"):
        assert shadow_eval(
            page,
            f"root.querySelector('.rw-short').compareDocumentPosition("
            f"root.querySelector('{later}')) & Node.DOCUMENT_POSITION_FOLLOWING",
        )
    # Its span is marked in card 2, inside the quoted sentence's highlight; card 1 has none.
    cards = page.locator(".report-widget .rw-card")
    marks = cards.nth(1).locator("mark.rw-mark-short")
    expect(marks).to_have_count(1)
    expect(marks).to_have_text("20个")
    assert shadow_eval(
        page,
        "root.querySelector('#rw-card-2 mark.rw-mark-short').parentElement.className",
    ) == ("rw-hl")
    expect(cards.nth(1).locator("mark.rw-hl")).to_have_text("今年开办20个社区幼儿托管点")
    expect(cards.nth(1).locator(".rw-text")).to_have_text(QUOTE)
    assert cards.nth(0).locator("mark.rw-mark-short").count() == 0
    # Distinct from the sentence highlight.
    colours = shadow_eval(
        page,
        "[getComputedStyle(root.querySelector('#rw-card-2 mark.rw-mark-short')).backgroundColor,"
        " getComputedStyle(root.querySelector('#rw-card-2 mark.rw-hl')).backgroundColor]",
    )
    assert colours[0] != colours[1]
    # Its [n] moves to the card like the answer's markers.
    short.locator(".rw-cite[data-n='2']").click()
    assert shadow_eval(page, "root.activeElement.id") == "rw-card-2"

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".report-widget").screenshot(path=str(ARTIFACTS / "widget-short.png"))


def test_a_span_outside_the_sentence_highlight_is_marked_too(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    page = ask(context, fake_server, allowed, canned(short_of("1000个")))
    card = page.locator(".report-widget #rw-card-2")
    expect(card.locator("mark.rw-mark-short")).to_have_text("1000个")
    expect(card.locator(".rw-text")).to_have_text(QUOTE)


def test_the_short_answer_is_text_only(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    hostile = '<img src=x onerror="window.pwned=1">'
    quote = f"今年开办{hostile}，新增1000个爱心接力站。"
    page = ask(context, fake_server, allowed, canned(short_of(hostile, quote), quote))
    expect(page.locator(".report-widget .rw-short-text")).to_have_text(hostile)
    expect(page.locator(".report-widget #rw-card-2 mark.rw-mark-short")).to_have_text(hostile)
    assert shadow_eval(page, "root.querySelectorAll('img').length") == 0
    assert page.evaluate("() => window.pwned") is None


@pytest.mark.parametrize(
    "short",
    [
        None,
        {**short_of("20个"), "start": short_of("20个")["start"] + 1},  # not its text there
        {**short_of("20个"), "text": "30个"},
        {**short_of("20个"), "n": 3},  # no such card
        {**short_of("20个"), "n": 1},  # not in card 1
        {"text": "20个", "n": 2},  # no offsets
        "20个",
    ],
    ids=["absent", "moved", "other-text", "no-card", "other-card", "no-offsets", "not-object"],
)
def test_no_short_answer_unless_it_is_card_n_s_text(
    context: Any, fake_server: LiveServer, allowed: HostSite, short: Any
) -> None:
    body = canned(None)
    if short is not None:
        body["short_answer"] = short
    page = ask(context, fake_server, allowed, body)
    expect(page.locator(".report-widget .rw-answer")).to_be_visible()
    assert page.locator(".report-widget .rw-short").is_hidden()
    assert page.locator(".report-widget mark.rw-mark-short").count() == 0
    # The sentence highlight is as before.
    expect(page.locator(".report-widget #rw-card-2 mark.rw-hl")).to_have_text(
        "今年开办20个社区幼儿托管点"
    )


def test_a_new_question_clears_the_short_answer(
    context: Any, fake_server: LiveServer, allowed: HostSite
) -> None:
    bodies = [canned(short_of("20个")), canned(None)]

    def answer(route: Any) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fulfill(
            status=200,
            headers={"Access-Control-Allow-Origin": allowed.origin},
            json=bodies.pop(0),
        )

    Canned(context, f"{fake_server.url}/documents", {"documents": [SH2018]}, allowed.origin, "GET")
    context.route(f"{fake_server.url}/ask", answer)
    page = host_page(context, fake_server, allowed)
    submit(page, QUESTION)
    expect(page.locator(".report-widget .rw-short")).to_be_visible()
    submit(page, "今年新建多少所幼儿园？")
    expect(page.locator(".report-widget .rw-short")).to_be_hidden()
    expect(page.locator(".report-widget .rw-card")).to_have_count(2)
    assert page.locator(".report-widget mark.rw-mark-short").count() == 0
