"""Property-based run of the OpenAPI schema against the app over the fixture index.

Schemathesis generates requests from /openapi.json (valid ones and, per operation, some
that break the schema) and checks that no response is a 5xx and that every response matches
the documented status codes, content types and schemas.
"""

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

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Built at import (schemathesis needs the schema then); the index is attached by the fixture
# below. (schemathesis.pytest.from_fixture does not work with pytest 9.)
app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _serve_fixture_index(fixture_index, fake_embedder) -> None:
    app.state.api.attach(Retriever(fixture_index, fake_embedder))


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
