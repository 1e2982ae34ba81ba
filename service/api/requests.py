"""Request models of the HTTP API, made from the service's Limits.

The limits a request is checked against (service.limits) are declared in these models, so
the OpenAPI schema shows the configured values. Question length and k are enforced by
service.query.understand, on the stripped text and with messages that name the setting;
here pydantic enforces the fixed ceilings, the types and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from service.limits import K_CEILING, Limits

Mode = Literal["hybrid", "dense", "bm25"]


def _valid_text(value: str) -> str:
    """Refuse lone surrogates: they cannot be encoded, searched or echoed back as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "invalid_text", "the text holds characters that are not valid Unicode: send UTF-8"
        ) from None
    return value


Text = Annotated[str, AfterValidator(_valid_text)]
DocId = Annotated[
    Text | list[Text] | None,
    Field(description="Only passages of this document, or of these (GET /documents)."),
]
Region = Annotated[
    Text | list[Text] | None,
    Field(
        description="Only reports of this region, or of these: 上海市, 上海, 沪, shanghai, 全国. "
        "Unset: read from the question."
    ),
]
Year = Annotated[
    Annotated[int, Field(strict=True, ge=1949, le=2100)]
    | list[Annotated[int, Field(strict=True, ge=1949, le=2100)]]
    | None,
    Field(
        description="Only reports delivered in this year, or these. Unset: read from the "
        "question (a year's targets: that year's report; its results: the next year's)."
    ),
]
SectionRef = Annotated[
    Text | None,
    Field(description="Only passages inside this section reference: '三' (a part), '三（四）'."),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class RequestModels:
    """The request bodies of one app, declared with its limits."""

    search: type[BaseModel]
    ask: type[BaseModel]


def request_models(limits: Limits) -> RequestModels:
    """SearchRequest and AskRequest with these limits in their fields."""
    # Contains something other than whitespace (JSON Schema `pattern` is a search, not a match).
    query_text = Annotated[
        str,
        Field(
            min_length=1,
            pattern=r"\S",
            json_schema_extra={"maxLength": limits.max_question_chars},
        ),
        AfterValidator(_valid_text),
    ]
    k_value = Annotated[
        int,
        Field(
            ge=1,
            le=K_CEILING,
            strict=True,
            description="How many passages to return: 1..MAX_K (50). Omitted: DEFAULT_K (5).",
            json_schema_extra={"maximum": limits.max_k},
        ),
    ]
    omitted_k: JsonDict = {"default": limits.default_k}

    class SearchRequest(_Request):
        """POST /search."""

        query: query_text = Field(description="A question, a section reference or a passage id.")
        k: k_value | None = Field(None, json_schema_extra=omitted_k)
        mode: Mode = Field("hybrid", description="hybrid (default), dense or bm25.")
        doc_id: DocId = None
        region: Region = None
        year: Year = None
        section: SectionRef = None

    class AskRequest(_Request):
        """POST /ask."""

        question: query_text = Field(description="A question about the report.")
        k: k_value | None = Field(None, json_schema_extra=omitted_k)
        mode: Mode = Field("hybrid", description="hybrid (default), dense or bm25.")
        doc_id: DocId = None
        region: Region = None
        year: Year = None
        section: SectionRef = None
        generate: bool = Field(True, strict=True, description="False: citations only, answer null.")
        stream: bool = Field(
            False,
            strict=True,
            description="True: text/event-stream with `citations`, `delta`..., `done` events.",
        )

    return RequestModels(SearchRequest, AskRequest)
