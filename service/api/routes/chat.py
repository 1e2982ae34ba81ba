"""The OpenAI-compatible API: GET /v1/models and POST /v1/chat/completions.

A chat completion is /ask's answer to the conversation's question (service.conversation
reads a follow-up with the earlier user messages), understood once by Runtime.understand with
/ask's filters, answered by the model's Asker; its citations travel as `references` on the
message (or on the stream's first and last chunks), beside /ask's flags. Every /v1 route takes
the API key check (auth.RequireKey); errors take OpenAI's shape (errors.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from indexer.errors import ReportQAError
from service.answers import Answer, Asker, CitationsEvent, DeltaEvent, DoneEvent, Event
from service.conversation import resolve_conversation
from service.errors import NotFoundError
from service.query import Query
from service.tokens import count_all, count_tokens

from ..auth import RequireKey
from ..chat_schemas import (
    DEFAULT_MODEL,
    EXTRACTIVE_MODEL,
    MODEL_IDS,
    AnswerFlags,
    AssistantMessage,
    ChatCompletion,
    ChatRequest,
    Choice,
    ConversationOut,
    ModelCard,
    ModelList,
    OpenAIErrorResponse,
    Usage,
)
from ..deps import Loaded, LoadedDep, StateDep
from ..errors import error_body, status_of
from ..observability import record_timings
from ..schemas import AskResponse, CitationOut
from ..state import AppState
from .common import understand_request

log = logging.getLogger("service.api")

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[RequireKey])


class UnknownModelError(NotFoundError):
    """A model this service does not offer."""

    code = "model_not_found"


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    what = {
        400: "Invalid request (bad messages, no user message, too long a question).",
        401: "Missing or wrong API key (when API_KEYS is set).",
        404: "Unknown model.",
        413: "Request body too large.",
        503: "No index is loaded: the message says how to build one.",
    }
    return {
        s: {"model": OpenAIErrorResponse, "description": what.get(s, "Error.")} for s in statuses
    }


STREAM_DOC = {
    "text/event-stream": {
        # In OpenAPI 3.1 an event stream's `schema` describes each event.
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "string",
                    "description": "A chat.completion.chunk as JSON; the last event: [DONE].",
                }
            },
        },
        "description": (
            "With stream: true: a chunk with the role and `references` (the citations), chunks "
            "of `content`, a last chunk (finish_reason stop) whose delta holds the "
            "references again and every flag of the message, a usage chunk with "
            "stream_options.include_usage, then `data: [DONE]`. A failure midway sends "
            '`data: {"error": ...}` instead.'
        ),
    }
}


def _created(state: AppState) -> int:
    """When the loaded index was built, in Unix seconds (0 without one)."""
    if state.runtime is None:
        return 0
    stamp = state.runtime.index.manifest.get("created_at")
    try:
        return int(dt.datetime.fromisoformat(str(stamp)).timestamp())
    except ValueError:
        return 0


def _cards(state: AppState) -> list[ModelCard]:
    generator = state.runtime.asker.generator if state.runtime is not None else None
    backend = generator.name if generator is not None else state.settings.answer_backend
    created = _created(state)
    return [
        ModelCard(
            id=DEFAULT_MODEL,
            created=created,
            description=f"cited answers from the configured backend ({backend})",
        ),
        ModelCard(
            id=EXTRACTIVE_MODEL,
            created=created,
            description="cited answers composed of the reports' own sentences; never a "
            "language model",
        ),
    ]


def _unknown(model: str) -> UnknownModelError:
    return UnknownModelError(
        f"the model {model!r} does not exist: use {' or '.join(MODEL_IDS)} (GET /v1/models)"
    )


@router.get("/models", response_model=ModelList, responses=_errors(401))
async def models(state: StateDep) -> ModelList:
    """The models this service offers, in OpenAI's list shape."""
    return ModelList(data=_cards(state))


@router.get("/models/{model_id}", response_model=ModelCard, responses=_errors(401, 404))
async def model(
    model_id: Annotated[
        str,
        Path(
            description="report-qa or report-qa-extractive (any other: 404).",
            json_schema_extra={"enum": list(MODEL_IDS)},
        ),
    ],
    state: StateDep,
) -> ModelCard:
    """One model."""
    for card in _cards(state):
        if card.id == model_id:
            return card
    raise _unknown(model_id)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={200: {"content": STREAM_DOC}, **_errors(400, 401, 404, 413, 503)},
)
async def chat_completions(body: ChatRequest, request: Request, api: LoadedDep) -> Any:
    """Answer the conversation's last user message as /ask does, with the citations as
    `references` (an OpenAI chat completion, or chat.completion.chunk events with stream)."""
    t0 = time.perf_counter()
    if body.model not in MODEL_IDS:
        raise _unknown(body.model)
    texts = [(m.role, m.text()) for m in body.messages]
    resolution = resolve_conversation(
        [text for role, text in texts if role == "user"], api.settings.today or dt.date.today()
    )
    conversation = ConversationOut.of(
        resolution, sum(role in ("system", "developer") for role, _ in texts)
    )
    query = understand_request(api, body, resolution.question, field="question")
    asker = await _asker(request, api, body.model)
    reply = _Reply(body, api, query, conversation, count_all(text for _, text in texts))
    if body.stream:
        return await _stream(asker, reply, api)
    answer = await api.state.run(asker.ask, query)
    record_timings(request.state, {"ask": (time.perf_counter() - t0) * 1000})
    return JSONResponse(reply.completion(answer).model_dump(mode="json"))


async def _asker(request: Request, api: Loaded, model: str) -> Asker:
    """The runtime's asker for report-qa; one without a generator for report-qa-extractive
    (made once per runtime, beside it)."""
    if model == DEFAULT_MODEL or api.asker.generator is None:
        return api.asker
    held = getattr(request.app.state, "extractive_asker", None)
    if held is not None and held[0] is api.runtime:
        return held[1]
    asker = await api.state.run(Asker, api.retriever, api.settings.answer_min_score)
    request.app.state.extractive_asker = (api.runtime, asker)
    return asker


class _Reply:
    """One completion's identity and the pieces every shape of it is made of."""

    def __init__(
        self,
        body: ChatRequest,
        api: Loaded,
        query: Query,
        conversation: ConversationOut,
        prompt_tokens: int,
    ) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = body.model
        self.include_usage = body.stream_options is not None and body.stream_options.include_usage
        self.api, self.query = api, query
        self.conversation = conversation
        self.prompt_tokens = prompt_tokens

    def references(self, citations: Any) -> list[CitationOut]:
        return [CitationOut.of_citation(c, self.api.reports) for c in citations]

    def flags(self, answer: Answer) -> AnswerFlags:
        ask = AskResponse.of(self.query, answer, self.api.reports, 0.0)
        return AnswerFlags(
            references=ask.citations,
            answerable=ask.answerable,
            reason=ask.reason,
            short_answer=ask.short_answer,
            confidence=ask.confidence,
            grounded=ask.grounded,
            backend=ask.backend,
            warning=ask.warning,
            resolved=ask.resolved,
            conversation=self.conversation,
        )

    def usage(self, content: str) -> Usage:
        return Usage.of(self.prompt_tokens, count_tokens(content))

    def completion(self, answer: Answer) -> ChatCompletion:
        content = answer.text or ""
        message = AssistantMessage(**dict(self.flags(answer)), content=content)
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[Choice(message=message)],
            usage=self.usage(content),
        )

    def chunk(self, delta: dict[str, Any], finish: bool = False) -> ServerSentEvent:
        """A chat.completion.chunk event with this delta."""
        choice = {"index": 0, "delta": delta, "finish_reason": "stop" if finish else None}
        return self._event({"choices": [choice]})

    def usage_chunk(self, content: str) -> ServerSentEvent:
        """The chunk OpenAI sends last with stream_options.include_usage: no choices."""
        return self._event({"choices": [], "usage": self.usage(content).model_dump()})

    def _event(self, fields: dict[str, Any]) -> ServerSentEvent:
        head = {"id": self.id, "object": "chat.completion.chunk", "created": self.created}
        data = {**head, "model": self.model, **fields}
        return ServerSentEvent(data=json.dumps(data, ensure_ascii=False))

    def chunks(self, event: Event, sent: list[str]) -> Iterator[ServerSentEvent]:
        """The chunks of one event of Asker.stream; `sent` collects the content sent."""
        if isinstance(event, CitationsEvent):
            refs = [r.model_dump(mode="json") for r in self.references(event.citations)]
            yield self.chunk({"role": "assistant", "content": "", "references": refs})
        elif isinstance(event, DeltaEvent):
            sent.append(event.text)
            yield self.chunk({"content": event.text})
        elif isinstance(event, DoneEvent):
            text = event.answer.text or ""
            if "".join(sent).strip() != text.strip():
                # A model that failed midway: its deltas are not the answer. The references
                # fit the composed answer, which follows.
                extra = f"\n\n{text}" if sent else text
                sent.append(extra)
                yield self.chunk({"content": extra})
            yield self.chunk(self.flags(event.answer).model_dump(mode="json"), finish=True)
            if self.include_usage:
                yield self.usage_chunk("".join(sent))
        else:
            raise TypeError(f"Asker.stream yielded an unknown event {event!r}")


async def _stream(asker: Asker, reply: _Reply, api: Loaded) -> EventSourceResponse:
    events: Iterator[Event] = asker.stream(reply.query)
    # Retrieval runs before the first event: its errors still get their own status code.
    first = await api.state.run(next, events, None)

    async def body() -> AsyncIterator[ServerSentEvent]:
        event, sent = first, list[str]()
        try:
            while event is not None:
                for chunk in reply.chunks(event, sent):
                    yield chunk
                # Not bounded by the CPU slots: a backend may wait here on the network.
                event = await anyio.to_thread.run_sync(next, events, None)
        except ReportQAError as exc:
            if status_of(exc) >= 500 and status_of(exc) != 503:
                log.error("chat stream failed", exc_info=exc)
            yield _error(status_of(exc), exc.code, str(exc))
        except Exception:
            log.exception("chat stream failed")
            yield _error(500, "internal", "the answer failed; the log has the details")
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        yield ServerSentEvent(data="[DONE]")

    return EventSourceResponse(body())


def _error(status: int, code: str, message: str) -> ServerSentEvent:
    _, data = error_body(status, code, message, "/v1/chat/completions")
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False))
