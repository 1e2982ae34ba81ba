"""A report uploaded with HTML/script in it (POST /documents) is shown by the widget as text:
nothing in it runs or becomes an element."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import HashEmbedder
from test_documents_untrusted import DOC_ID, MARKUP, TEXT
from widget_helpers import (
    HostSite,
    LiveServer,
    expect,
    host_page,
    shadow_eval,
    skip_without_chromium,
    submit,
)
from widget_helpers import allowed as allowed
from widget_helpers import browser as browser
from widget_helpers import context as context
from write_helpers import AUTH, corpus

from indexer.store import load_index
from service.api.app import create_app
from service.retrieval import Retriever
from service.runtime import version_folder

pytestmark = pytest.mark.browser
skip_without_chromium()


def test_uploaded_markup_renders_as_text(context: Any, allowed: HostSite, tmp_path: Path) -> None:
    s = corpus(tmp_path, index_watch_s=0, cors_origins=[allowed.origin])
    index = load_index(version_folder(s.index_dir), source_dir=s.source_dir)
    with LiveServer(create_app(s, Retriever(index, HashEmbedder()))) as server:
        files = {"file": (f"{DOC_ID}.txt", TEXT.encode(), "text/plain")}
        r = httpx.post(f"{server.url}/documents", files=files, headers=AUTH, timeout=60)
        assert r.status_code == 201, r.text
        page = host_page(context, server, allowed)
        submit(page, "修缮城墙", mode="search")
        cards = page.locator(f".report-widget .rw-card[data-passage-id^='{DOC_ID}']")
        expect(cards.first).to_be_visible()
        shown = cards.first.locator(".rw-text").text_content() or ""
        assert MARKUP in shown
        assert page.evaluate("() => typeof window.__pwned") == "undefined"
        assert shadow_eval(page, "root.querySelectorAll('img, script, iframe, object').length") == 0
