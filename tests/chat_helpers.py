"""Shared by the test_chat_* modules: the app served by a real uvicorn server on a free
loopback port (in a thread), so the OpenAI and LangChain clients talk HTTP to it, and an
index of the Shanghai 2019 and 2020 reports (fake embedder) for follow-up questions."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from conftest import SEEDS
from fakes import HashEmbedder
from fastapi import FastAPI

from indexer.build import build
from indexer.store import LoadedIndex, load_index

SH2019 = "shanghai-2019-government-work-report"
SH2020 = "shanghai-2020-government-work-report"


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    """Serve the app on 127.0.0.1 at a free port until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz").status_code == 200
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def shanghai_index(out: Path) -> LoadedIndex:
    """An index of the Shanghai 2019 and 2020 reports with the fake embedder."""
    source = out / "source"
    source.mkdir(parents=True)
    for doc_id in (SH2019, SH2020):
        shutil.copy(SEEDS / f"{doc_id}.txt", source / f"{doc_id}.txt")
    build(source, out / "index", HashEmbedder(), progress=False)
    return load_index(out / "index")
