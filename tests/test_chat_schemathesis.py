"""Property-based run of the OpenAI-compatible routes (/v1/*) behind an API key, over the
fixture index: more examples than tests/test_schemathesis.py gives them (which runs them
without keys), each sent with the key, and the same checks: no 5xx, and every status, content
type and body as the schema documents (OpenAI's error shape included)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.api import create_app
from service.retrieval import Retriever
from service.settings import Settings

KEY = "rqa-schemathesis-key"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Built at import (schemathesis needs the schema then); the index is attached by the fixture.
app = create_app(Settings(_env_file=None, api_keys=[KEY]))  # type: ignore[call-arg]
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/v1/")


@pytest.fixture(scope="module", autouse=True)
def _serve_fixture_index(fixture_index, fake_embedder) -> None:
    app.state.api.attach(Retriever(fixture_index, fake_embedder))


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_chat_routes_conform_to_their_schema(case: Any) -> None:
    # Schemathesis makes up an Authorization header from the security scheme: use the key.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code != 401, response.text
