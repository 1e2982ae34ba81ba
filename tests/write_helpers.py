"""Shared by the test_documents_write* modules: a writable copy of the fixture corpus, its
index (fake embedder) and an app over them, as a restart would make it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from api_helpers import settings
from conftest import FIXTURE_CORPUS
from fakes import HashEmbedder
from fastapi.testclient import TestClient

from indexer.build import build
from indexer.store import load_index
from service.api import create_app
from service.retrieval import Retriever
from service.runtime import version_folder
from service.settings import Settings

KEY = "test-write-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW_ID = "quantum-2021-report"
NEW_TEXT = (
    "量子市政府工作报告\n\n各位代表：\n\n一、过去一年工作回顾\n\n"
    "过去一年，全市新建量子计算中心三座，培育光刻企业四十家。\n\n"
    "二、今年主要任务\n\n今年将建设星链地面站两座，推进冰雪旅游。\n"
)


def corpus(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings over a copy of the fixture corpus and its freshly built index."""
    source = tmp_path / "source"
    shutil.copytree(FIXTURE_CORPUS, source)
    out = tmp_path / "var" / "index"
    build(source, out, HashEmbedder(), progress=False)
    values: dict[str, Any] = {"api_keys": KEY, "multilingual": False}
    return settings(source_dir=source, index_dir=out, **(values | overrides))


def app_client(s: Settings) -> TestClient:
    """A client of a new app over the folders of `s` (use it in a `with`)."""
    # Loaded from the version the link points at, as the service loads it (runtime.load).
    index = load_index(version_folder(s.index_dir), source_dir=s.source_dir)
    return TestClient(create_app(s, Retriever(index, HashEmbedder())))


def doc_ids(client: TestClient, query: str, k: int = 20) -> set[str]:
    """The documents of a search's results."""
    r = client.post("/search", json={"query": query, "k": k, "mode": "bm25"})
    assert r.status_code == 200, r.text
    return {hit["doc_id"] for hit in r.json()["results"]}


def upload(
    client: TestClient,
    name: str,
    data: bytes,
    method: str = "POST",
    path: str = "/documents",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    """Send a report as the multipart `file` field."""
    return client.request(
        method,
        path,
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
        headers=AUTH if headers is None else headers,
    )


def snapshot(s: Settings) -> tuple[dict[str, bytes], str]:
    """The source folder's files and the index version: what a refused write must not change."""
    files = {p.name: p.read_bytes() for p in sorted(Path(s.source_dir).iterdir())}
    return files, Path(s.index_dir).resolve().name
