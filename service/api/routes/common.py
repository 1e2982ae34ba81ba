"""OpenAPI descriptions of the error responses that routes share."""

from __future__ import annotations

from typing import Any

from service.query import Query

from ..deps import Loaded
from ..schemas import ErrorResponse


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error statuses, all with the error body."""
    what = {
        401: "A missing or invalid API key.",
        403: "Writes are disabled: set API_KEYS (or ALLOW_OPEN_WRITES=true).",
        404: "Unknown passage, section, document or route.",
        409: "The document exists already, or another build is under way.",
        413: "Request body too large.",
        422: "Invalid request: the message says what to change.",
        500: "The build failed; the serving index is unchanged.",
        503: "No index is loaded: the message says how to build one.",
    }
    return {s: {"model": ErrorResponse, "description": what.get(s, "Error.")} for s in statuses}


def understand_request(api: Loaded, body: Any, text: str, **options: Any) -> Query:
    """A request's question understood with its filters (k, mode, doc_id, region, year,
    section), as /search, /ask and the chat completions take them."""
    return api.runtime.understand(
        text,
        body.k,
        body.mode,
        body.doc_id,
        body.section,
        region=body.region,
        year=body.year,
        **options,
    )
