"""Refused writes change nothing: bad uploads (4xx with the fix), the API key rules, one build
at a time (409), and a failed build that leaves the serving version as it was."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from api_helpers import error
from write_helpers import AUTH, NEW_ID, NEW_TEXT, app_client, corpus, doc_ids, snapshot, upload

import service.reindex
from indexer.build import build as real_build


@pytest.fixture
def live(tmp_path: Path) -> Any:
    s = corpus(tmp_path, max_source_bytes=4096)
    with app_client(s) as client:
        yield s, client


BAD = [
    ("gbk.txt", NEW_TEXT.encode("gb18030"), 422, "bad_upload", "not UTF-8"),
    ("fake.docx", b"PK\x03\x04 not really a zip", 422, "bad_upload", "Word document"),
    ("ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, 422, "bad_upload", "OLE"),
    ("empty.txt", b"", 422, "bad_upload", "empty"),
    ("blank.txt", b" \n\t\n", 422, "bad_upload", "empty"),
    ("big.txt", "报告".encode() * 1000, 413, "file_too_large", "MAX_SOURCE_BYTES"),
    ("demo-2020.txt", NEW_TEXT.encode(), 409, "document_exists", "PUT /documents/demo-2020"),
    ("../escape.txt", NEW_TEXT.encode(), 422, "bad_upload", "plain file name"),
    ("sub/inner.txt", NEW_TEXT.encode(), 422, "bad_upload", "plain file name"),
    ("..\\win.txt", NEW_TEXT.encode(), 422, "bad_upload", "plain file name"),
    (".hidden.txt", NEW_TEXT.encode(), 422, "bad_upload", "document id"),
    ("report.pdf", NEW_TEXT.encode(), 422, "bad_upload", ".txt or .docx"),
    ("catalogue.toml", b'["x.txt"]\nyear = 2020\n', 422, "bad_upload", ".txt or .docx"),
]


@pytest.mark.parametrize(("name", "data", "status", "code", "says"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_upload_is_refused_and_changes_nothing(
    live: Any, name: str, data: bytes, status: int, code: str, says: str
):
    s, client = live
    before = snapshot(s)
    message = error(upload(client, name, data), status, code)
    assert says in message
    assert str(s.source_dir) not in message  # names the upload, not the server's folders
    assert snapshot(s) == before
    assert [p.name for p in Path(s.index_dir).parent.iterdir() if "reindex" in p.name] == []
    assert client.get("/index").json()["last_error"] is None


def test_unknown_documents_are_404(live: Any):
    s, client = live
    before = snapshot(s)
    message = error(client.delete("/documents/nope", headers=AUTH), 404, "not_found")
    assert "demo-2020" in message  # lists the known ones
    r = upload(client, "nope.txt", NEW_TEXT.encode(), "PUT", "/documents/nope")
    error(r, 404, "not_found")
    assert snapshot(s) == before


def test_a_bad_region_is_refused(live: Any):
    s, client = live
    before = snapshot(s)
    r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), region="亚特兰蒂斯")
    assert "亚特兰蒂斯" in error(r, 422, "bad_upload")
    assert ".reindex-" not in r.json()["error"]["message"]  # names the source folder
    assert snapshot(s) == before


def test_an_upload_over_the_body_limit_is_413(tmp_path: Path):
    s = corpus(tmp_path, max_source_bytes=1024)
    with app_client(s) as client:
        error(upload(client, "huge.txt", b"x" * (200 * 1024)), 413, "body_too_large")


def test_writes_are_disabled_without_keys(tmp_path: Path):
    s = corpus(tmp_path, api_keys=[])
    with app_client(s) as client:
        message = error(upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()), 403, "writes_disabled")
        assert "API_KEYS" in message and "ALLOW_OPEN_WRITES" in message
        error(client.delete("/documents/demo-2020"), 403, "writes_disabled")
        assert client.post("/search", json={"query": "养老床位"}).status_code == 200


def test_open_writes_when_allowed(tmp_path: Path):
    s = corpus(tmp_path, api_keys=[], allow_open_writes=True)
    with app_client(s) as client:
        r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), headers={})
        assert r.status_code == 201, r.text


def test_writes_need_a_valid_key(live: Any):
    s, client = live
    before = snapshot(s)
    r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), headers={})
    assert "Authorization" in error(r, 401, "missing_api_key")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer wrong"}
    error(upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), headers=bad), 401, "invalid_api_key")
    error(client.delete("/documents/demo-2020", headers=bad), 401, "invalid_api_key")
    assert snapshot(s) == before
    assert client.get("/index").status_code == 200  # reading needs no key


def test_one_build_at_a_time(live: Any, monkeypatch: pytest.MonkeyPatch):
    _, client = live
    started, release = threading.Event(), threading.Event()

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(30)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(service.reindex, "build", slow_build)
    first: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: first.update(r=upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()))
    )
    worker.start()
    try:
        assert started.wait(30)
        assert client.get("/index").json()["building"] == f"adding {NEW_ID}"
        message = error(
            client.delete("/documents/demo-2020", headers=AUTH), 409, "build_in_progress"
        )
        assert f"adding {NEW_ID}" in message and "GET /index" in message
        # Searches go on, on the version that serves.
        assert NEW_ID not in doc_ids(client, "量子计算中心")
        assert "demo-2020" in doc_ids(client, "养老床位")
    finally:
        release.set()
        worker.join(60)
    assert first["r"].status_code == 201, first["r"].text
    assert client.get("/index").json()["building"] is None
    assert NEW_ID in doc_ids(client, "量子计算中心")


def test_a_failed_build_leaves_the_serving_version(live: Any, monkeypatch: pytest.MonkeyPatch):
    s, client = live
    before = snapshot(s)
    status = client.get("/index").json()

    def broken_build(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.reindex, "build", broken_build)
    message = error(upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()), 500, "build_failed")
    assert "disk full" in message and "unchanged" in message
    assert snapshot(s) == before
    after = client.get("/index").json()
    assert after["version"] == status["version"] and after["passages"] == status["passages"]
    assert "disk full" in after["last_error"]
    assert "demo-2020" in doc_ids(client, "养老床位")
    monkeypatch.setattr(service.reindex, "build", real_build)
    assert upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()).status_code == 201
    assert client.get("/index").json()["last_error"] is None
