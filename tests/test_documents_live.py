"""The service follows its index: a version built beside it (`make index`) is served on the
next check of the link or on SIGHUP, a version that cannot load is refused and reported, a
write whose new version fails to load rolls the link back, the previous runtime is released
after a swap, a text without headings is indexed only when asked, and a removed report's
catalogue entry goes with it."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import error
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from write_helpers import (
    AUTH,
    KEY,
    NEW_ID,
    NEW_TEXT,
    app_client,
    corpus,
    doc_ids,
    snapshot,
    upload,
)

import service.reindex
from indexer.build import build
from indexer.sources import CATALOGUE
from service.settings import Settings

FLAT_TEXT = "本市今年新建口袋公园十二座。\n\n全年完成老旧小区改造三百个。\n"


def _state(client: TestClient) -> Any:
    return client.app.state.api  # type: ignore[attr-defined]


def _build_beside(s: Settings, name: str, text: str) -> str:
    """What `make index` does beside a running service: a new source, a new version."""
    (Path(s.source_dir) / name).write_text(text, encoding="utf-8")
    build(Path(s.source_dir), Path(s.index_dir), HashEmbedder(), progress=False)
    return Path(s.index_dir).resolve().name


def test_a_version_built_beside_the_service_is_served_on_the_next_check(tmp_path: Path):
    s = corpus(tmp_path, index_watch_s=0.05)
    with app_client(s) as client:
        before = client.get("/index").json()["version"]
        assert NEW_ID not in doc_ids(client, "量子计算中心")
        version = _build_beside(s, f"{NEW_ID}.txt", NEW_TEXT)
        assert version != before
        # The watcher checks every 50 ms.
        assert _version_becomes(lambda: client.get("/index").json()["version"], version)
        assert NEW_ID in doc_ids(client, "量子计算中心")
        assert client.get("/readyz").json()["index"].endswith(version)


def test_follow_swaps_once_and_releases_the_previous_runtime(tmp_path: Path):
    s = corpus(tmp_path, index_watch_s=0)  # only on SIGHUP (here: called directly)
    with app_client(s) as client:
        state = _state(client)
        old = weakref.ref(state.runtime.index)
        assert state.follow() is None  # nothing new
        version = _build_beside(s, f"{NEW_ID}.txt", NEW_TEXT)
        assert state.follow() == version
        assert state.follow() is None
        assert NEW_ID in doc_ids(client, "量子计算中心")
        gc.collect()
        assert old() is None  # no request holds it any more: its memory is released


def test_a_version_that_cannot_load_is_reported_and_not_served(tmp_path: Path):
    s = corpus(tmp_path, index_watch_s=0)
    with app_client(s) as client:
        state = _state(client)
        serving = client.get("/index").json()["version"]
        broken = _build_beside(s, f"{NEW_ID}.txt", NEW_TEXT)
        with (Path(s.index_dir) / "passages.jsonl").open("a", encoding="utf-8") as f:
            f.write("\n")  # damaged: its checksum no longer matches the manifest
        assert state.follow() is None
        status = client.get("/index").json()
        assert status["version"] == serving
        assert broken in status["last_error"] and "damaged" in status["last_error"]
        assert state.follow() is None  # not tried again until the link moves
        assert NEW_ID not in doc_ids(client, "量子计算中心")
        fixed = _build_beside(s, f"{NEW_ID}.txt", NEW_TEXT)
        assert state.follow() == fixed
        status = client.get("/index").json()
        assert status["version"] == fixed and status["last_error"] is None
        assert NEW_ID in doc_ids(client, "量子计算中心")


def test_a_write_whose_version_cannot_load_rolls_the_link_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    s = corpus(tmp_path, index_watch_s=0)
    with app_client(s) as client:
        before = snapshot(s)
        real_load = service.reindex.runtime.load

        def failing_load(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("out of memory")

        monkeypatch.setattr(service.reindex.runtime, "load", failing_load)
        message = error(upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()), 500, "build_failed")
        assert "out of memory" in message and "unchanged" in message
        # The link, the source folder and what is served still agree: the old version.
        assert snapshot(s) == before
        assert client.get("/index").json()["version"] == before[1]
        monkeypatch.setattr(service.reindex.runtime, "load", real_load)
        assert _state(client).follow() is None  # nothing on disk to follow
        assert upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()).status_code == 201


def test_a_text_without_headings_is_indexed_only_when_asked(tmp_path: Path):
    s = corpus(tmp_path, index_watch_s=0)
    with app_client(s) as client:
        before = snapshot(s)
        message = error(upload(client, "parks.txt", FLAT_TEXT.encode()), 422, "bad_upload")
        assert "no recognisable report structure" in message and "flat=true" in message
        assert snapshot(s) == before
        r = upload(client, "parks.txt", FLAT_TEXT.encode(), flat="true")
        assert r.status_code == 201, r.text
        assert "parks" in doc_ids(client, "口袋公园")
        hit = client.post("/search", json={"query": "口袋公园", "k": 1, "mode": "bm25"})
        assert hit.json()["results"][0]["section"] is None


def test_removing_a_report_removes_its_catalogue_entry(tmp_path: Path):
    s = corpus(tmp_path, index_watch_s=0)
    catalogue = Path(s.source_dir) / CATALOGUE
    with app_client(s) as client:
        r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), region="北京", year="2021")
        assert r.status_code == 201, r.text
        assert f'["{NEW_ID}.txt"]' in catalogue.read_text(encoding="utf-8")
        assert client.delete(f"/documents/{NEW_ID}", headers=AUTH).status_code == 200
        assert NEW_ID not in catalogue.read_text(encoding="utf-8")
        # The same name again without metadata: nothing of the removed report's is left.
        r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode())
        assert r.status_code == 201, r.text
        doc = client.get(f"/documents/{NEW_ID}").json()
        assert doc["region"] is None  # the year, 2021, still comes from the file name


def test_sighup_makes_the_service_check_at_once(tmp_path: Path):
    """Under uvicorn (the main thread's event loop) SIGHUP wakes the watcher."""
    s = corpus(tmp_path)
    proc, url = _start_server(s, "index_watch_s=3600")
    try:

        def serving() -> str:
            return str(httpx.get(f"{url}/index").json()["version"])

        before = serving()
        version = _build_beside(s, f"{NEW_ID}.txt", NEW_TEXT)
        time.sleep(0.3)
        assert serving() == before  # the interval is an hour
        os.kill(proc.pid, signal.SIGHUP)
        assert _version_becomes(serving, version)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import socket, sys, time
sys.path.insert(0, {tests!r})
import uvicorn
from fakes import HashEmbedder
from api_helpers import settings
from indexer import store
from indexer.store import load_index
from service.api import create_app
from service.retrieval import Retriever
from service.runtime import version_folder
{prelude}
s = settings(source_dir={source!r}, index_dir={index!r}, multilingual=False, {extra})
app = create_app(s, Retriever(load_index(version_folder(s.index_dir)), HashEmbedder()))
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
"""
# Makes the build stop in the middle of writing the new version (and say so).
SLOW_WRITE = """
real = store.write_jsonl
def slow(path, rows):
    real(path, rows)
    print("writing", flush=True)
    time.sleep(60)
store.write_jsonl = slow
"""


def _start_server(s: Settings, extra: str, prelude: str = "") -> tuple[subprocess.Popen[str], str]:
    """A uvicorn subprocess over the folders of `s` (fake embedder), ready; and its URL."""
    script = SERVER.format(
        tests=str(Path(__file__).parent),
        source=str(s.source_dir),
        index=str(s.index_dir),
        extra=extra,
        prelude=prelude,
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    url = f"http://127.0.0.1:{int(proc.stdout.readline())}"
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz").status_code == 200:
                return proc, url
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the server at {url} did not become ready")


def _version_becomes(get: Callable[[], str], version: str) -> bool:
    """Whether `get()` returns `version` within 10 s (polled every 50 ms)."""
    for _ in range(200):
        if get() == version:
            return True
        time.sleep(0.05)
    return get() == version


def test_a_server_killed_during_a_write_leaves_the_serving_version(tmp_path: Path):
    s = corpus(tmp_path)
    before = snapshot(s)
    proc, url = _start_server(s, f"api_keys={KEY!r}", SLOW_WRITE)
    try:
        assert proc.stdout is not None

        def send() -> None:
            files = {"file": (f"{NEW_ID}.txt", NEW_TEXT.encode(), "text/plain")}
            with contextlib.suppress(httpx.TransportError):  # the server dies under it
                httpx.post(f"{url}/documents", files=files, headers=AUTH, timeout=90)

        writer = threading.Thread(target=send)
        writer.start()
        assert proc.stdout.readline().strip() == "writing"  # in the middle of the build
        assert httpx.get(f"{url}/index").json()["building"] == f"adding {NEW_ID}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        writer.join(90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert snapshot(s) == before  # the link and the source folder as they were
    assert list(Path(s.index_dir).parent.glob(".reindex-*"))  # the dead write's staging
    # A restart serves the old version; the dead write's folders are cleared by the next one.
    with app_client(s) as client:
        assert client.get("/index").json()["version"] == before[1]
        assert NEW_ID not in doc_ids(client, "量子计算中心")
        assert upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()).status_code == 201
        assert NEW_ID in doc_ids(client, "量子计算中心")
    left = [p.name for p in Path(s.index_dir).parent.iterdir() if ".tmp-" in p.name]
    assert left == [] and not list(Path(s.index_dir).parent.glob(".reindex-*"))
