"""Shared by the test_api_* modules: settings that ignore .env, the error-shape check, and the
client on the fixture index (fake embedder).

A test module takes the fixtures with `from api_helpers import client as client` (the alias
marks a deliberate re-export), so pytest finds them there and, at module scope, each test
module gets its own retriever and client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from indexer.store import LoadedIndex
from service.api import create_app
from service.retrieval import Retriever
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def settings(**overrides: Any) -> Settings:
    """Settings that ignore any .env file, with overrides."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def error(response: Any, status: int, code: str) -> str:
    """Assert the error shape, status and code; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


# ---- the fixture index (fake embedder) -----------------------------------------------


@pytest.fixture(scope="module")
def retriever(fixture_index: LoadedIndex, fake_embedder) -> Retriever:
    return Retriever(fixture_index, fake_embedder)


@pytest.fixture(scope="module")
def client(retriever: Retriever) -> Iterator[TestClient]:
    with TestClient(create_app(settings(), retriever)) as c:
        yield c
