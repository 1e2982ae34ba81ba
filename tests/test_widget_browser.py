"""The embeddable widget in headless Chromium, against the service on a loopback port.

A host page on a second origin (a tiny http.server on 127.0.0.2; a page fulfilled by
Playwright's router would count as public, and Chromium's Local Network Access rules would
then refuse it the loopback API) embeds the widget with the one-line tag; the API runs under
uvicorn in a thread. Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright import sync_api

from indexer.store import LoadedIndex
from indexer.types import Passage
from service.query import understand
from service.settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
expect = sync_api.expect

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Host pages live on other loopback addresses than the API (127.0.0.1): other origins.
ALLOWED_HOST = "127.0.0.2"
DENIED_HOST = "127.0.0.3"
NETWORK_ERROR = (
    "无法连接到报告检索服务。如果您是本网站的管理员，请确认本网站已列入服务的 CORS_ORIGINS。"
)
WIDGET_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *"
)
QUESTION = "养老床位新增多少"


class LiveServer:
    """The app under uvicorn in a background thread, on a free 127.0.0.1 port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class HostSite:
    """A third-party site on another loopback address: GET /host.html?api=URL embeds the widget."""

    def __init__(self, address: str) -> None:
        self.httpd = ThreadingHTTPServer((address, 0), HostPage)
        self.origin = f"http://{address}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class HostPage(BaseHTTPRequestHandler):
    """The host page: its own hostile CSS, then the one-line tag between two elements."""

    def do_GET(self) -> None:
        api = parse_qs(urlsplit(self.path).query).get("api", [""])[0]
        body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host</title>
<style>* {{ color: lime !important; font-size: 40px; }} .rw-card {{ display: none; }}</style>
</head><body>
<h1 id="before">新闻</h1>
<script src="{escape(api)}/widget.js" data-api="{escape(api)}"></script>
<p id="after">正文</p>
</body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def allowed() -> Iterator[HostSite]:
    with HostSite(ALLOWED_HOST) as site:
        yield site


@pytest.fixture(scope="module")
def denied() -> Iterator[HostSite]:
    with HostSite(DENIED_HOST) as site:
        yield site


def serve(index: LoadedIndex, embedder: Any, origin: str, **settings: Any) -> LiveServer:
    from service.api.app import create_app
    from service.retrieval import Retriever

    app = create_app(Settings(cors_origins=[origin], **settings), Retriever(index, embedder))
    return LiveServer(app)


@pytest.fixture(scope="module")
def real_server(real_index: LoadedIndex, m3e: Any, allowed: HostSite) -> Iterator[LiveServer]:
    with serve(real_index, m3e, allowed.origin) as server:
        yield server


@pytest.fixture(scope="module")
def fixture_server(
    fixture_index: LoadedIndex, fake_embedder: Any, allowed: HostSite
) -> Iterator[LiveServer]:
    with serve(fixture_index, fake_embedder, allowed.origin, max_question_chars=40) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 900, "height": 1000},
        permissions=["clipboard-read", "clipboard-write"],
    )
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def host_page(context: Any, server: LiveServer, site: HostSite) -> Any:
    """A page of `site` that embeds the widget of `server` with the one-line tag."""
    page = context.new_page()
    page.goto(f"{site.origin}/host.html?api={server.url}")
    return page


def submit(page: Any, query: str, mode: str = "ask") -> None:
    if mode == "search":
        page.locator(".report-widget input[value=search]").check()
    page.locator(".report-widget #rw-q").fill(query)
    page.locator(".report-widget #rw-q").press("Enter")


def shadow_eval(page: Any, expression: str) -> Any:
    """Evaluate `expression` with `root` bound to the widget's shadow root."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('.report-widget').shadowRoot; "
        f"return {expression}; }}"
    )


def by_content(index: LoadedIndex, needle: str) -> Passage:
    found = [p for p in index.passages if needle in p.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} passages"
    return found[0]


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
    assert card.locator(".rw-crumb").all_text_contents() == [
        "政府工作报告",
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
    assert want.startswith("《政府工作报告》（上海，2018年1月23日）三（四）第")
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
    # Tab order: input, submit, the mode radios, then the card's buttons; focus is visible.
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
