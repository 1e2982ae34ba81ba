"""Milvus across versions: a live write whose version does not load puts the alias back on
the serving collection, a swapped-out store closes its client once its last user drops it,
and a runtime that searches Milvus maps the folder's vectors instead of reading them.

Skipped when pymilvus or milvus-lite is missing or Milvus Lite cannot start.
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path
from typing import Any

import pytest
from api_helpers import error, settings
from conftest import FIXTURE_CORPUS
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from write_helpers import KEY, NEW_ID, NEW_TEXT, snapshot, upload

import service.reindex
from indexer.build import build
from indexer.store import FAISS_FILE, load_index

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from milvus_helpers import lite_uri

from indexer import milvus_store
from indexer.milvus_search import MilvusStore
from indexer.milvus_store import MilvusTarget
from service import runtime
from service.api import create_app
from service.retrieval import Retriever
from service.retrieval.store import open_store
from service.settings import Settings


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return lite_uri(tmp_path_factory)


def _milvus_corpus(tmp_path: Path, uri: str, alias: str) -> Settings:
    """A writable copy of the fixture corpus built into Milvus, and settings that serve it."""
    source = tmp_path / "source"
    shutil.copytree(FIXTURE_CORPUS, source)
    out = tmp_path / "var" / "index"
    build(source, out, HashEmbedder(), progress=False, milvus=MilvusTarget(uri, alias=alias))
    return settings(
        source_dir=source,
        index_dir=out,
        api_keys=KEY,
        multilingual=False,
        index_watch_s=0,
        vector_store="milvus",
        milvus_uri=uri,
        milvus_alias=alias,
    )


def test_a_rolled_back_write_puts_the_alias_back(
    tmp_path: Path, milvus_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _milvus_corpus(tmp_path, milvus_uri, "rollback_test")
    target = MilvusTarget(milvus_uri, alias="rollback_test")
    serving = milvus_store.current(target)
    index = load_index(runtime.version_folder(s.index_dir), source_dir=s.source_dir)
    store = open_store(index, "milvus", milvus_uri)
    app = create_app(s, Retriever(index, HashEmbedder(), store=store))
    with TestClient(app) as client:
        before = snapshot(s)

        def failing_load(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("out of memory")

        monkeypatch.setattr(service.reindex.runtime, "load", failing_load)
        error(upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode()), 500, "build_failed")
        assert snapshot(s) == before
        # The build had moved the alias to its own collection; it is back on the served one.
        assert serving is not None and milvus_store.current(target) == serving
        monkeypatch.undo()
        r = upload(client, f"{NEW_ID}.txt", NEW_TEXT.encode())
        assert r.status_code == 201, r.text
        built = load_index(s.index_dir).manifest["store"]["collection"]
        assert milvus_store.current(target) == built
        assert milvus_store.current(target) != serving


def test_a_dropped_store_closes_its_client(tmp_path: Path, milvus_uri: str) -> None:
    s = _milvus_corpus(tmp_path, milvus_uri, "close_test")
    store = open_store(load_index(s.index_dir), "milvus", milvus_uri)
    assert isinstance(store, MilvusStore)
    client = store.client
    assert store.collection in client.list_collections()  # open while the store is held
    del store
    gc.collect()
    with pytest.raises(Exception, match="connect"):
        client.list_collections()


def _mapped(path: Path) -> bool:
    """Whether this process maps the file (Linux: /proc/self/maps)."""
    return str(path.resolve()) in Path("/proc/self/maps").read_text()


def test_a_milvus_runtime_maps_the_folders_vectors(tmp_path: Path, milvus_uri: str) -> None:
    s = _milvus_corpus(tmp_path, milvus_uri, "mmap_test")
    faiss_file = runtime.version_folder(s.index_dir) / FAISS_FILE
    files = runtime.load(s.model_copy(update={"vector_store": "faiss"}), embedder=HashEmbedder())
    assert not _mapped(faiss_file)  # the file store reads its vectors into memory
    rt = runtime.load(s, embedder=HashEmbedder())
    try:
        assert _mapped(faiss_file)
        assert rt.retriever.store.kind == "milvus"
        hits = rt.retriever.search(rt.understand("养老床位", 3, "hybrid")).hits
        expected = files.retriever.search(files.understand("养老床位", 3, "hybrid")).hits
        assert [h.passage.id for h in hits] == [h.passage.id for h in expected]
    finally:
        rt.retriever.store.close()
