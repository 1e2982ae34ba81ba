"""Shared by the Milvus test modules: a Milvus Lite database in a temporary folder."""

from __future__ import annotations

import pytest

from indexer import milvus_store


def lite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URI of a new Milvus Lite database (skips the module if Milvus Lite cannot start)."""
    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    try:
        client = milvus_store.connect(uri)
        client.list_collections()
        client.close()
    except Exception as exc:  # Milvus Lite cannot start here
        pytest.skip(f"Milvus Lite does not start: {exc}")
    return uri
