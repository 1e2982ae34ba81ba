"""OpenAPI descriptions of the error responses that routes share."""

from __future__ import annotations

from typing import Any

from ..schemas import ErrorResponse


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error statuses, all with the error body."""
    what = {
        404: "Unknown passage, section, document or route.",
        413: "Request body too large.",
        422: "Invalid request: the message says what to change.",
        503: "No index is loaded: the message says how to build one.",
    }
    return {s: {"model": ErrorResponse, "description": what.get(s, "Error.")} for s in statuses}
