"""GET /documents with region and year filters, and GET /documents/{doc_id}/text, over an
index of every report in seeds/ (fake embedder: these tests are not about ranking)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import error, settings
from conftest import FIXTURE_CORPUS, SEEDS
from fakes import HashEmbedder
from fastapi.testclient import TestClient

from indexer.build import build
from indexer.regions import REGIONS
from indexer.sources import read_sources
from indexer.store import load_index
from service.api import create_app
from service.retrieval import Retriever

SH = [f"shanghai-{y}-government-work-report" for y in range(2017, 2026)]
NAT = [f"national-{y}-government-work-report" for y in (2018, 2019, 2024)]
PROVINCES = ["beijing", "guangdong", "hainan", "henan", "hubei", "jiangsu", "liaoning"]
PROVINCES += ["sichuan", "tianjin", "zhejiang"]
PROVINCES_2025 = [f"{r}-2025-government-work-report" for r in PROVINCES]
HELD = ["全国", "北京市", "天津市", "上海市", "辽宁省", "江苏省", "浙江省", "河南省", "湖北省"]
HELD += ["广东省", "海南省", "四川省"]


def serve(folder: Path) -> TestClient:
    return TestClient(create_app(settings(), Retriever(load_index(folder), HashEmbedder())))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    out = tmp_path_factory.mktemp("seeds") / "index"
    build(SEEDS, out, HashEmbedder(), progress=False)
    with serve(out) as c:
        yield c


def ids(client: TestClient, params: dict[str, object] | list[tuple[str, object]]) -> list[str]:
    r = client.get("/documents", params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return [d["doc_id"] for d in r.json()["documents"]]


def test_all_documents_with_their_metadata(client: TestClient):
    docs = client.get("/documents").json()["documents"]
    assert sorted(d["doc_id"] for d in docs) == sorted(SH + NAT + PROVINCES_2025)
    national = next(d for d in docs if d["doc_id"] == NAT[1])
    assert {k: national[k] for k in ("title", "region", "level", "year", "speaker")} == {
        "title": "2019年国务院政府工作报告",
        "region": "全国",
        "level": "national",
        "year": 2019,
        "speaker": "李克强",
    }
    assert sorted({d["region"] for d in docs}) == sorted(HELD)
    assert {d["level"] for d in docs if d["region"] != "全国"} == {"provincial"}
    one = client.get(f"/documents/{PROVINCES_2025[0]}").json()
    assert (one["title"], one["level"], one["date"]) == ("2025年北京市政府工作报告", "provincial",
                                                         "2025-01-14")  # fmt: skip


@pytest.mark.parametrize("name", ["上海", "上海市", "shanghai", "沪", "SHANGHAI"])
def test_a_region_by_any_name(client: TestClient, name: str):
    assert sorted(ids(client, {"region": name})) == SH


def test_regions_and_years_combine(client: TestClient):
    params = [("region", "上海"), ("region", "全国"), ("year", 2019)]
    assert sorted(ids(client, params)) == [NAT[1], SH[2]]
    assert sorted(ids(client, {"year": 2025})) == sorted([*PROVINCES_2025, SH[-1]])
    assert sorted(ids(client, [("year", 2024), ("year", 2018)])) == sorted(
        [NAT[0], NAT[2], SH[1], SH[7]]
    )
    assert sorted(ids(client, [("region", "国务院")])) == NAT
    assert ids(client, {"region": "重庆"}) == []  # a region the corpus holds no report of
    assert ids(client, {"region": "北京", "year": 2019}) == []


def test_an_unknown_region_lists_the_regions_held(client: TestClient):
    message = error(client.get("/documents", params={"region": "火星"}), 422, "invalid_query")
    assert message.startswith("unknown region '火星'")
    assert message.endswith("、".join(r.name for r in REGIONS if r.name in HELD))


@pytest.mark.parametrize("year", ["去年", "2019.5", 0, 20190])
def test_a_year_must_be_a_year(client: TestClient, year: object):
    message = error(client.get("/documents", params={"year": year}), 422, "invalid_request")
    assert "year" in message


def test_a_document_text_is_served_as_indexed(client: TestClient):
    texts = {d.doc_id: d.text for d in read_sources(SEEDS)}
    for doc_id in (SH[1], PROVINCES_2025[0], NAT[2]):
        r = client.get(f"/documents/{doc_id}/text")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.text == texts[doc_id]
    # A passage's offsets index the document's text, a .docx's too.
    text = client.get(f"/documents/{PROVINCES_2025[0]}/text").text
    section = client.get("/sections/二（三）", params={"doc_id": PROVINCES_2025[0]}).json()
    assert section["passages"]
    for p in section["passages"]:
        assert text[p["start"] : p["end"]] == p["text"]


def test_an_unknown_document_text_is_404_with_the_known_ids(client: TestClient):
    message = error(client.get("/documents/nope/text"), 404, "not_found")
    assert message.startswith("no document 'nope': known documents are beijing-2025-")
    assert message.endswith("(GET /documents)")
    assert error(client.get("/documents/a/b/text"), 404, "not_found").startswith("no route")


def test_an_index_without_texts_says_to_rebuild(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    out = tmp_path / "index"
    build(src, out, HashEmbedder(), progress=False)
    shutil.rmtree(out / "texts")  # as an index built before texts were stored
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("texts/")}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with serve(out) as c:
        message = error(c.get("/documents/demo-2020/text"), 503, "index_unavailable")
        assert c.get("/documents").status_code == 200
    assert "texts/demo-2020.txt is missing" in message
    assert message.endswith("run `make index` to rebuild it")
