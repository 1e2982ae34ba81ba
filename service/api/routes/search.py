"""POST /search and POST /ask (JSON or an event stream).

The routes are made per app (make_router), with request models that carry its limits.
No `from __future__ import annotations` here: FastAPI reads the body models from the
annotations of functions defined inside make_router.
"""

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from indexer.errors import ReportQAError
from service.answers import CitationsEvent, DeltaEvent, DoneEvent, Event
from service.query import Query

from ..deps import Loaded, LoadedDep
from ..errors import status_of
from ..observability import record_timings
from ..requests import RequestModels
from ..schemas import AskResponse, CitationOut, Reports, Resolved, SearchHit, SearchResponse
from .common import errors, understand_request

log = logging.getLogger("service.api")


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def _event(name: str, content: dict[str, Any]) -> dict[str, Any]:
    """The schema of one server-sent event whose data is JSON matching `content`."""
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": content,
            },
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# With stream: true. In OpenAPI 3.1 an event stream's `schema` describes each event.
STREAM_DOC = {
    "text/event-stream": {
        "schema": {
            "oneOf": [
                _event("citations", {"type": "array", "items": _ref("CitationOut")}),
                _event(
                    "delta",
                    {
                        "type": "object",
                        "required": ["text"],
                        "properties": {"text": {"type": "string"}},
                    },
                ),
                _event("done", _ref("AskResponse")),
                _event("error", _ref("ErrorResponse")),
            ]
        },
        "description": (
            "With stream: true: a `citations` event (the citations list), then `delta` events "
            '({"text": ...}, the answer in pieces), then `done` (the object a request without '
            "streaming gets); `error` (the error body) instead if it fails midway."
        ),
    }
}


RESOLVE_DOC = (
    "\n\nThe reports searched come from `doc_id`, `region` and `year` when set, else from the "
    "question: its regions (上海, 沪, 全国, 国务院...) and years (2019年, 二〇一九年, 去年); a "
    "year's targets are in that year's report, its results in the next year's; no year: each "
    "region's latest report. `resolved` says which reports and why; several years or regions "
    "are searched report by report."
)
SEARCH_DOC = (
    "Rank passages for a query (hybrid, dense or BM25), optionally within a document or "
    "section.\n\nA query that is a passage id or names a section (三（四）讲了什么, "
    "第三部分第四节) resolves to\nthat passage or section directly (`match`)." + RESOLVE_DOC
)
ASK_DOC = (
    "Answer a question with quotes from the reports and numbered citations; each quote names "
    "its report, and a comparison lists each report's evidence in `comparison`. A report "
    "the corpus does not hold gives `answerable: false` and says what it holds.\n\n"
    "`generate: false` returns the citations with a null answer; `stream: true` answers with\n"
    "server-sent events." + RESOLVE_DOC
)


def make_router(models: RequestModels) -> APIRouter:
    """The /search and /ask routes, taking the request bodies of `models`."""
    router = APIRouter(tags=["search"])
    search_body, ask_body = models.search, models.ask

    @router.post(
        "/search",
        response_model=SearchResponse,
        responses=errors(413, 404, 422, 503),
        description=SEARCH_DOC,
    )
    async def search(
        body: search_body,  # type: ignore[valid-type]
        request: Request,
        api: LoadedDep,
    ) -> SearchResponse:
        return await run_search(body, request, api)

    @router.post(
        "/ask",
        response_model=AskResponse,
        responses={200: {"content": STREAM_DOC}, **errors(413, 404, 422, 503)},
        description=ASK_DOC,
    )
    async def ask(
        body: ask_body,  # type: ignore[valid-type]
        request: Request,
        api: LoadedDep,
    ) -> Any:
        return await run_ask(body, request, api)

    return router


async def run_search(body: Any, request: Request, api: Loaded) -> SearchResponse:
    """The search route's work (its description is make_router's)."""
    t0 = time.perf_counter()
    query = understand_request(api, body, body.query)
    result = await api.state.run(api.retriever.search, query)
    record_timings(
        request.state, {"search" if n == "total_ms" else n: v for n, v in result.timings.items()}
    )
    return SearchResponse(
        query=query.text,
        mode=body.mode,
        lang=query.lang,
        match=result.resolved,
        resolved=Resolved.of(query, api.reports),
        section=result.section,
        results=[SearchHit.of_hit(h, api.reports) for h in result.hits],
        took_ms=_ms(t0),
    )


async def run_ask(body: Any, request: Request, api: Loaded) -> Any:
    """The ask route's work (its description is make_router's)."""
    t0 = time.perf_counter()
    query = understand_request(api, body, body.question, generate=body.generate, field="question")
    if body.stream:
        return await _stream(api, query, t0)
    answer = await api.state.run(api.asker.ask, query)
    record_timings(request.state, {"ask": (time.perf_counter() - t0) * 1000})
    return JSONResponse(AskResponse.of(query, answer, api.reports, _ms(t0)).body())


def _sse(event: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=event)


def _serialize(event: Event, query: Query, reports: Reports, t0: float) -> ServerSentEvent:
    if isinstance(event, CitationsEvent):
        cites = [
            CitationOut.of_citation(c, reports).model_dump(mode="json") for c in event.citations
        ]
        return _sse("citations", cites)
    if isinstance(event, DeltaEvent):
        return _sse("delta", {"text": event.text})
    if isinstance(event, DoneEvent):
        return _sse("done", AskResponse.of(query, event.answer, reports, _ms(t0)).body())
    raise TypeError(f"Asker.stream yielded an unknown event {event!r}")


async def _stream(api: Loaded, query: Query, t0: float) -> EventSourceResponse:
    events: Iterator[Event] = api.asker.stream(query)
    # Retrieval runs before the first event: its errors still get their own status code.
    first = await api.state.run(next, events, None)

    async def body() -> AsyncIterator[ServerSentEvent]:
        event = first
        try:
            while event is not None:
                yield _serialize(event, query, api.reports, t0)
                # Not bounded by the CPU slots: a backend may wait here on the network.
                event = await anyio.to_thread.run_sync(next, events, None)
        except ReportQAError as exc:
            if status_of(exc) >= 500 and status_of(exc) != 503:
                log.error("stream failed", exc_info=exc)
            yield _sse("error", {"error": {"code": exc.code, "message": str(exc)}})
        except Exception:
            log.exception("stream failed")
            yield _sse("error", {"error": {"code": "internal", "message": "the answer failed"}})
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    return EventSourceResponse(body())
