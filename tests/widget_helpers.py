"""Shared by the widget's browser tests (test_widget_browser_ui, test_widget_browser_safety):
the embeddable widget in headless Chromium, against the service on a loopback port.

A host page on a second origin (a tiny http.server on 127.0.0.2; a page fulfilled by
Playwright's router would count as public, and Chromium's Local Network Access rules would
then refuse it the loopback API) embeds the widget with the one-line tag; the API runs under
uvicorn in a thread.

A test module calls skip_without_chromium() at import and takes the fixtures with
`from widget_helpers import browser as browser` (the alias marks a deliberate re-export), so
pytest finds them there and, at module scope, each test module gets its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright import sync_api

from indexer.store import LoadedIndex
from indexer.types import Passage
from service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")


def skip_without_chromium() -> None:
    """Skip the calling test module (at import) when Debian's chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)",
            allow_module_level=True,
        )


expect = sync_api.expect

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


def serve(index: LoadedIndex, embedder: Any, origin: str, **settings: Any) -> LiveServer:
    from service.api.app import create_app
    from service.retrieval import Retriever

    app = create_app(Settings(cors_origins=[origin], **settings), Retriever(index, embedder))
    return LiveServer(app)


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


class Canned:
    """Requests of one method to one API URL, answered with a fixed JSON body (Playwright's
    router, on the whole browser context: routes set before the page loads catch the
    widget's first requests). Other methods (the CORS preflight) go on to the server."""

    def __init__(self, context: Any, url: str, body: Any, origin: str, method: str) -> None:
        self.body = body
        self.origin = origin
        self.method = method
        self.requests: list[Any] = []
        context.route(url, self._answer)

    def _answer(self, route: Any) -> None:
        if route.request.method != self.method:
            route.fallback()
            return
        self.requests.append(route.request)
        route.fulfill(
            status=200, headers={"Access-Control-Allow-Origin": self.origin}, json=self.body
        )

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies sent, in order."""
        return [r.post_data_json for r in self.requests]


# ---- API bodies for canned answers (the fields of service.api.schemas) ---------------------


def api_document(doc_id: str, title: str, region: str | None, year: int | None) -> dict[str, Any]:
    """A GET /documents entry."""
    return {
        "doc_id": doc_id,
        "source": f"{doc_id}.txt",
        "sha256": "0" * 64,
        "title": title,
        "date": f"{year}-01-23" if year else None,
        "venue": None,
        "speaker": None,
        "region": region,
        "year": year,
        "chars": 1000,
    }


def api_passage(
    n: int, doc: dict[str, Any], text: str, heading_path: tuple[str, ...] = ("一、主要目标",)
) -> dict[str, Any]:
    """A /search result or /ask citation (both carry n here) of the report `doc`."""
    start = 100 * n
    return {
        "id": f"{doc['doc_id']}-{n:04d}",
        "doc_id": doc["doc_id"],
        "doc_title": doc["title"],
        "region": doc["region"],
        "year": doc["year"],
        "heading_path": list(heading_path),
        "section": "一" if heading_path else None,
        "paragraph": n,
        "start": start,
        "end": start + len(text),
        "text": text,
        "n": n,
        "rank": n,
        "score": 1.0 / n,
        "highlights": [],
    }


def api_resolved(reason: str = "", missing: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "region": [],
        "year": [],
        "doc_ids": [],
        "reason": reason,
        "missing": list(missing),
        "latest": False,
        "per_report": False,
    }


def api_answer(
    question: str,
    answer: str,
    citations: list[dict[str, Any]],
    resolved: dict[str, Any],
    comparison: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A POST /ask body."""
    return {
        "question": question,
        "answer": answer,
        "answerable": True,
        "grounded": True,
        "lang": "zh",
        "citations": citations,
        "resolved": resolved,
        "comparison": comparison or [],
        "backend": "extractive",
        "took_ms": 1.0,
    }


def by_content(index: LoadedIndex, needle: str) -> Passage:
    found = [p for p in index.passages if needle in p.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} passages"
    return found[0]


def doc_line(*parts: object) -> str:
    """A card's report line: title · region · year, leaving out what is unknown."""
    return " · ".join(str(p) for p in parts if p not in (None, ""))
