"""POST, PUT and DELETE /documents on a live app: searches before and after see the right
documents, a deleted report's passages are gone, unchanged vectors are reused, and a restart
(a new app over the same folders) keeps every change."""

from __future__ import annotations

from pathlib import Path

from fakes import HashEmbedder
from fastapi.testclient import TestClient
from write_helpers import AUTH, NEW_ID, NEW_TEXT, app_client, corpus, doc_ids, upload

from indexer.build import build
from service.settings import Settings


def _passages(client: TestClient, doc_id: str) -> list[str]:
    """The ids of a document's passages in the index the app serves."""
    index = client.app.state.api.runtime.index  # type: ignore[attr-defined]
    return [p.id for p in index.passages if p.doc_id == doc_id]


def _texts(client: TestClient, doc_id: str) -> list[str]:
    """A document's passages' texts, as served."""
    index = client.app.state.api.runtime.index  # type: ignore[attr-defined]
    return [p.text for p in index.passages if p.doc_id == doc_id]


def test_add_replace_delete_and_restart(tmp_path: Path):
    s = corpus(tmp_path)
    with app_client(s) as client:
        before = client.get("/index").json()
        assert before["building"] is None and before["last_error"] is None
        assert doc_ids(client, "量子计算中心") & {NEW_ID} == set()
        assert "demo-2020" in doc_ids(client, "养老床位")

        # Add: the new report is searchable once the answer comes, and only it was embedded.
        r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode(), region="北京", year="2021")
        assert r.status_code == 201, r.text
        added = r.json()
        assert added["action"] == "added" and added["doc_id"] == NEW_ID
        assert added["passages_added"] > 0 and added["passages_removed"] == 0
        assert added["embedded"] == added["passages_added"]
        assert added["reused"] == before["passages"]
        assert added["version"] != before["version"]
        assert NEW_ID in doc_ids(client, "量子计算中心")
        doc = client.get(f"/documents/{NEW_ID}").json()
        assert (doc["region"], doc["year"]) == ("北京市", 2021)
        assert (Path(s.source_dir) / f"{NEW_ID}.txt").read_text(encoding="utf-8") == NEW_TEXT
        status = client.get("/index").json()
        assert status["version"] == added["version"]
        assert status["passages"] == before["passages"] + added["passages_added"]

        # Replace: the old wording is gone, the new one found; the other reports untouched.
        text = NEW_TEXT.replace("量子计算中心三座", "深海探测基地两座")
        r = upload(client, f"{NEW_ID}.txt", text.encode(), "PUT", f"/documents/{NEW_ID}")
        assert r.status_code == 200, r.text
        replaced = r.json()
        assert replaced["action"] == "replaced"
        assert replaced["passages_added"] == replaced["passages_removed"] == 1
        assert replaced["embedded"] == 1
        assert NEW_ID in doc_ids(client, "深海探测基地")
        assert not any("量子计算中心" in t for t in _texts(client, NEW_ID))
        assert client.get(f"/documents/{NEW_ID}/text").text == text

        # Delete: every passage of the report is gone, from search and lookup.
        demo = _passages(client, "demo-2020")
        assert demo
        r = client.delete("/documents/demo-2020", headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "removed"
        assert r.json()["passages_removed"] >= len(demo)
        assert "demo-2020" not in doc_ids(client, "养老床位")
        assert client.get("/documents/demo-2020").status_code == 404
        assert all(client.get(f"/passages/{pid}").status_code == 404 for pid in demo)
        assert not (Path(s.source_dir) / "demo-2020.txt").exists()
        final = client.get("/documents").json()["documents"]

    _restart_keeps(s, final, text)


def _restart_keeps(s: Settings, final: list[dict[str, object]], text: str) -> None:
    with app_client(s) as client:
        assert client.get("/documents").json()["documents"] == final
        assert NEW_ID in doc_ids(client, "深海探测基地")
        assert "demo-2020" not in doc_ids(client, "养老床位")
        assert client.get(f"/documents/{NEW_ID}/text").text == text


def test_a_docx_upload_and_a_replacement_under_another_name(tmp_path: Path):
    import io

    import docx

    document = docx.Document()
    for line in NEW_TEXT.splitlines():
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    s = corpus(tmp_path)
    with app_client(s) as client:
        r = upload(client, f"{NEW_ID}.docx", buffer.getvalue())
        assert r.status_code == 201, r.text
        assert NEW_ID in doc_ids(client, "量子计算中心")
        # Replaced by a .txt sent under any name: the doc_id stays, the .docx goes.
        r = upload(client, "cleaner.txt", NEW_TEXT.encode(), "PUT", f"/documents/{NEW_ID}")
        assert r.status_code == 200, r.text
        # The same paragraphs: only passages whose line breaks differ are embedded again.
        assert r.json()["embedded"] < r.json()["reused"]
    assert sorted(p.name for p in Path(s.source_dir).iterdir() if NEW_ID in p.name) == [
        f"{NEW_ID}.txt"
    ]


def test_a_report_in_a_subfolder_is_removed(tmp_path: Path):
    s = corpus(tmp_path)
    source = Path(s.source_dir)
    (source / "sub").mkdir()
    (source / "unsafe.txt").rename(source / "sub" / "unsafe.txt")
    build(source, s.index_dir, HashEmbedder(), progress=False)
    with app_client(s) as client:
        assert client.get("/documents/sub-unsafe").status_code == 200
        r = client.delete("/documents/sub-unsafe", headers=AUTH)
        assert r.status_code == 200, r.text
        assert client.get("/documents/sub-unsafe").status_code == 404
    assert not (source / "sub" / "unsafe.txt").exists()
    with app_client(s) as client:  # the restart's source check agrees with the index
        assert client.get("/documents/sub-unsafe").status_code == 404
