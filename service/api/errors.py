"""The one place where errors become HTTP responses: {"error": {"code", "message"}}.

Under /v1 (the OpenAI-compatible API) the same errors take OpenAI's shape, {"error":
{"message", "type", "code"}}, and a request that fails validation is 400, as OpenAI's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.errors import IndexLoadError, ModelError, ReportQAError, SourceError
from service.answers.generators import GenerationError
from service.errors import (
    BuildFailedError,
    ConflictError,
    InvalidQueryError,
    NotFoundError,
    UploadError,
    UploadTooLargeError,
)
from service.limits import MAX_CONTEXT
from service.query import MODES
from service.settings import Settings

from .auth import Unauthorized, WritesDisabled

log = logging.getLogger("service.api")

# Domain error -> HTTP status. Load-time errors (index, model, source) mean "not ready".
STATUS: dict[type[ReportQAError], int] = {
    InvalidQueryError: 422,
    NotFoundError: 404,
    IndexLoadError: 503,
    ModelError: 503,
    SourceError: 503,
    GenerationError: 503,
    Unauthorized: 401,
    WritesDisabled: 403,
    ConflictError: 409,
    UploadTooLargeError: 413,
    UploadError: 422,
    BuildFailedError: 500,
}
# Fields whose bad values are a bad query (code invalid_query) rather than a bad request.
QUERY_FIELDS = {"query", "question", "k", "mode", "context"}


def status_of(exc: ReportQAError) -> int:
    """The HTTP status of a domain error (500 for one this table does not know: a bug)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def openai_path(path: str) -> bool:
    """Whether a path is the OpenAI-compatible API's (its errors take OpenAI's shape)."""
    return path == "/v1" or path.startswith("/v1/")


def error_body(status: int, code: str, message: str, path: str = "") -> tuple[int, dict[str, Any]]:
    """(status, body) of an error on this path: the service's shape, or OpenAI's under /v1."""
    # Messages may echo user input: keep them encodable whatever was sent.
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    if not openai_path(path):
        return status, {"error": {"code": code, "message": safe}}
    status = 400 if status == 422 else status
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return status, {"error": {"message": safe, "type": kind, "code": code}}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    path: str = "",
) -> JSONResponse:
    """The error body every failure uses (OpenAI's under /v1)."""
    status, body = error_body(status, code, message, path)
    return JSONResponse(body, status_code=status, headers=headers)


def internal_error(path: str = "") -> JSONResponse:
    """The last resort for an exception no handler mapped (a bug: the log has the traceback)."""
    return error_response(
        500, "internal", "the server failed on this request; the log has the details", path=path
    )


def too_large(max_bytes: int, path: str = "") -> JSONResponse:
    """413 for a request body over the limit."""
    return error_response(
        413,
        "body_too_large",
        f"the request body is over {max_bytes} bytes: send a short JSON object",
        path=path,
    )


def _field(loc: tuple[Any, ...]) -> str:
    """`k` for ("body", "k"), `body` for the body itself, `context` for ("query", "context"),
    `doc_id` for an error inside one of its forms (("body", "doc_id", "list[str]", 0))."""
    if len(loc) > 1:
        return str(loc[1])
    return str(loc[0]) if loc else "body"


def _example(path: str) -> str:
    if openai_path(path):
        return (
            '{"model": "report-qa", "messages": [{"role": "user", "content": '
            '"2017年上海市生产总值增长多少？"}]}'
        )
    if path.startswith("/ask"):
        return '{"question": "2017年上海市生产总值增长多少？"}'
    return '{"query": "2017年上海市生产总值增长多少？"}'


def describe(error: dict[str, Any], path: str, settings: Settings) -> tuple[str, str]:
    """(code, message) for one pydantic error, saying what to change."""
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    field = _field(loc)
    value = error.get("input")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        where = loc[1] if len(loc) > 1 else "?"
        return "malformed_json", (
            f"the request body is not valid JSON ({reason} at character {where}): "
            f"send a JSON object such as {_example(path)}"
        )
    if field == "body" or loc == ("body",):
        if kind == "missing":
            return "invalid_request", (
                f"the request body is missing: send a JSON object such as {_example(path)} "
                "with Content-Type: application/json"
            )
        return "invalid_request", (
            "the request body must be a JSON object such as "
            f"{_example(path)}, sent with Content-Type: application/json"
        )
    if openai_path(path) and field in ("messages", "model", "stream_options"):
        # Pydantic's own steps in the location (function-after[...]) name no field.
        where = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}"
            for p in loc[2:]
            if isinstance(p, int) or str(p).isidentifier()
        )
        return "invalid_request", (
            f"{field}{where}: {error.get('msg', 'invalid value')}; send e.g. {_example(path)}"
        )
    if kind == "missing":
        return "invalid_request", f"{field} is required: send e.g. {_example(path)}"
    if kind == "extra_forbidden":
        return "invalid_request", (
            f"unknown field {field!r}: remove it (see the request schema at /docs)"
        )
    if kind in ("string_unicode", "invalid_text"):
        return "invalid_query" if field in QUERY_FIELDS else "invalid_request", (
            f"{field} holds characters that are not valid Unicode (lone surrogates): "
            "send UTF-8 text"
        )
    if field in ("query", "question"):
        if kind in ("string_too_short", "string_pattern_mismatch"):
            return "invalid_query", f"the {field} is empty: type a question or a section reference"
        if kind == "string_type":
            return "invalid_query", f"the {field} must be a string, e.g. {_example(path)}"
    if field == "k":
        return (
            "invalid_query",
            f"k must be an integer between 1 and {settings.max_k}, got {value!r}",
        )
    if field == "context":
        return (
            "invalid_query",
            f"context must be an integer between 0 and {MAX_CONTEXT}, got {value!r}",
        )
    if field == "mode":
        return "invalid_query", f"unknown mode {value!r}: use one of {', '.join(MODES)}"
    if field in ("generate", "stream"):
        return "invalid_request", f"{field} must be true or false, got {value!r}"
    if field == "section":
        return "invalid_request", f"{field} must be a string or null, got {value!r}"
    if field in ("doc_id", "region"):
        return "invalid_request", (
            f"{field} must be a string, a list of strings or null, got {value!r}"
        )
    if field == "year":
        return "invalid_request", (
            f"year must be a year such as 2019 (1949..2100), a list of them or null, got {value!r}"
        )
    return "invalid_request", f"{field}: {error.get('msg', 'invalid value')}"


def install(app: FastAPI, settings: Settings, max_body_bytes: int) -> None:
    """Register the handlers that turn every failure into the error body."""

    @app.exception_handler(ReportQAError)
    async def domain_error(request: Request, exc: ReportQAError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500 and status != 503:
            log.error("unmapped domain error on %s", request.url.path, exc_info=exc)
        headers = getattr(exc, "headers", None)
        return error_response(status, exc.code, str(exc), headers=headers, path=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        described = [describe(e, request.url.path, settings) for e in errors] or [
            ("invalid_request", "the request is invalid: see /docs")
        ]
        code = described[0][0]
        message = "; ".join(dict.fromkeys(m for _, m in described))
        return error_response(422, code, message, path=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        method, path = request.method, request.url.path
        if exc.status_code == 404:
            return error_response(
                404, "not_found", f"no route {method} {path}: see /docs for the API", path=path
            )
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow", "")
            return error_response(
                405,
                "method_not_allowed",
                f"{path} does not accept {method}: use {allowed or 'another method'} (see /docs)",
                headers=exc.headers,
                path=path,
            )
        if exc.status_code == 400:
            # FastAPI's only 400 is a body it could not parse (bad UTF-8): a malformed body.
            return error_response(
                422,
                "malformed_json",
                f"the request body cannot be read as UTF-8 JSON: send a JSON object such as "
                f"{_example(path)}",
                path=path,
            )
        if exc.status_code == 413:
            return too_large(max_body_bytes, path)
        return error_response(
            exc.status_code, "http_error", str(exc.detail), headers=exc.headers, path=path
        )
