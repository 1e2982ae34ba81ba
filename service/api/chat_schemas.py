"""The OpenAI-compatible API's request and response models (GET /v1/models, POST
/v1/chat/completions), with the service's extension fields.

Requests take OpenAI's shape and ignore fields they do not know, as OpenAI-compatible servers
do; `k`, `mode`, `doc_id`, `region`, `year` and `section` are /ask's filters, for clients
that can send extra fields. Responses are OpenAI's shape; the extension fields
(`references`, `answerable`, `reason`, ...) sit on the assistant message, or on a streamed
chunk's `delta`, where OpenAI clients keep what they do not know.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.conversation import Resolution
from service.limits import K_CEILING

from .requests import DocId, Mode, Region, SectionRef, Text, Year
from .schemas import CitationOut, Resolved, ShortAnswerOut

DEFAULT_MODEL = "report-qa"
EXTRACTIVE_MODEL = "report-qa-extractive"
MODEL_IDS = (DEFAULT_MODEL, EXTRACTIVE_MODEL)

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ContentPart(BaseModel):
    """One part of a message's content; only `text` parts are read."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: Text | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: Text | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text: its content, or its text parts one a line."""
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """POST /v1/chat/completions: OpenAI's request; unknown fields are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "model": "report-qa",
                    "messages": [{"role": "user", "content": "2019年上海GDP增长目标是多少？"}],
                },
                {
                    "model": "report-qa-extractive",
                    "stream": True,
                    "messages": [
                        {"role": "user", "content": "2019年上海GDP增长目标是多少？"},
                        {"role": "assistant", "content": "全市生产总值增长6%-6.5%[1]。"},
                        {"role": "user", "content": "那2020年呢？"},
                    ],
                },
            ]
        },
    )

    model: str = Field(
        description="report-qa (the configured answer backend) or report-qa-extractive "
        "(composed answers, never a language model); any other is 404 (GET /v1/models).",
        json_schema_extra={"enum": list(MODEL_IDS)},
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="The conversation: the last user message is answered, the earlier user "
        "messages resolve a follow-up (那2020年呢？); system messages are preferences only.",
        # At least one user message (else 400 no_user_message).
        json_schema_extra={
            "contains": {
                "type": "object",
                "required": ["role"],
                "properties": {"role": {"const": "user"}},
            }
        },
    )
    stream: bool = Field(False, strict=True, description="True: chat.completion.chunk events.")
    stream_options: StreamOptions | None = None
    # Accepted for OpenAI clients, and ignored: answers are quoted and cited whole, one choice.
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    user: str | None = None
    # The service's own (/ask's filters).
    k: Annotated[int, Field(ge=1, le=K_CEILING, strict=True)] | None = Field(
        None, description="Passages to cite: 1..MAX_K; omitted: DEFAULT_K."
    )
    mode: Mode = "hybrid"
    doc_id: DocId = None
    region: Region = None
    year: Year = None
    section: SectionRef = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="When the index was built (Unix seconds; 0 if none).")
    owned_by: str = "report-qa"
    description: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ConversationOut(BaseModel):
    """How the last user message was read with the earlier ones."""

    question: str = Field(description="The question searched and answered.")
    asked: str = Field(description="The last user message, as sent.")
    follow_up: bool = Field(description="Something was carried over from an earlier question.")
    earlier: str | None = Field(description="The earlier question it was read against.")
    carried: list[str] = Field(description="Taken from it: topic, region, year, report.")
    changed: list[str] = Field(description="Put in place of its own: region, year.")
    note: str = Field(description="How it was resolved, in words; empty when asked as it is.")
    system_messages: int = Field(
        description="System messages received: read as preferences, never as rules over "
        "citing and refusing (they are not passed to the answer backend)."
    )

    @classmethod
    def of(cls, r: Resolution, system_messages: int) -> ConversationOut:
        return cls(
            question=r.question,
            asked=r.asked,
            follow_up=r.follow_up,
            earlier=r.earlier,
            carried=list(r.carried),
            changed=list(r.changed),
            note=r.note,
            system_messages=system_messages,
        )


class AnswerFlags(BaseModel):
    """The extension fields of an answer (on the message, or the final chunk's delta)."""

    references: list[CitationOut] = Field(
        description="The citations of /ask: [n] in the content is references[].n."
    )
    answerable: bool = Field(description="False: a refusal (the content says why).")
    reason: str | None = Field(description="Why it was refused; null when answered.")
    short_answer: ShortAnswerOut | None
    confidence: float = Field(ge=0.0, le=1.0)
    grounded: bool
    backend: str = Field(description="What wrote the answer: extractive, openai, ...")
    warning: str | None = None
    resolved: Resolved
    conversation: ConversationOut


class AssistantMessage(AnswerFlags):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The /ask answer, with [n] markers.")


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Tokens by service.tokens' rule: a run of ASCII letters and digits, or any other
    character but white space, is one token."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, prompt: int, completion: int) -> Usage:
        total = prompt + completion
        return cls(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class OpenAIError(BaseModel):
    message: str = Field(description="What went wrong and what to change.")
    type: str = Field(description="invalid_request_error (4xx) or server_error (5xx).")
    code: str | None = Field(description="e.g. model_not_found, invalid_api_key.")


class OpenAIErrorResponse(BaseModel):
    """Every error under /v1, in OpenAI's shape."""

    error: OpenAIError
