"""Look things up by id: passages with context, sections, documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import Field

from service.errors import NotFoundError
from service.limits import MAX_CONTEXT

from ..deps import Loaded, LoadedDep
from ..schemas import (
    ContextResponse,
    DocumentOut,
    DocumentsResponse,
    PassageOut,
    SectionResponse,
    SectionsResponse,
    SectionSummary,
)
from .common import errors

router = APIRouter(tags=["browse"])

DocFilter = Annotated[
    str | None, Query(description="Only this document (default: the first that has it).")
]


def _check_doc(api: Loaded, doc_id: str | None) -> None:
    if doc_id is not None and api.retriever.index.document(doc_id) is None:
        known = ", ".join(d.doc_id for d in api.retriever.index.documents)
        raise NotFoundError(f"no document {doc_id!r}: known documents are {known} (GET /documents)")


@router.get(
    "/passages/{passage_id}", response_model=ContextResponse, responses=errors(404, 422, 503)
)
async def passage(
    passage_id: Annotated[str, Path(description="A passage id from /search or /ask.")],
    api: LoadedDep,
    context: Annotated[
        int, Query(ge=0, le=MAX_CONTEXT, description="Neighbours of the same section per side.")
    ] = 0,
) -> ContextResponse:
    """A passage and up to `context` neighbouring passages of the same section on each side."""
    p, before, after = api.retriever.context(passage_id, context)
    return ContextResponse(
        passage=PassageOut.of(p, api.reports),
        before=[PassageOut.of(b, api.reports) for b in before],
        after=[PassageOut.of(a, api.reports) for a in after],
    )


@router.get("/sections", response_model=SectionsResponse, responses=errors(404, 422, 503))
async def sections(api: LoadedDep, doc_id: DocFilter = None) -> SectionsResponse:
    """Every numbered part and section, in document order, with its passage count."""
    _check_doc(api, doc_id)
    return SectionsResponse(
        sections=[
            SectionSummary.of(s)
            for s in api.retriever.index.sections
            if doc_id is None or s.doc_id == doc_id
        ]
    )


@router.get("/sections/{ref}", response_model=SectionResponse, responses=errors(404, 422, 503))
async def section(
    ref: Annotated[str, Path(description="A section reference: 三 (a part) or 三（四）.")],
    api: LoadedDep,
    doc_id: DocFilter = None,
) -> SectionResponse:
    """One section: its reference, title, heading path, source span and passages."""
    s = api.retriever.section(ref, doc_id)
    return SectionResponse(
        **SectionResponse.head(s),
        passages=[PassageOut.of(api.retriever.passage(pid), api.reports) for pid in s.passage_ids],
    )


RegionFilter = Annotated[
    list[str] | None,
    Query(
        description="Only reports of this region (上海市, 上海, shanghai, 全国); repeat it for "
        "several: ?region=上海&region=全国."
    ),
]
YearFilter = Annotated[
    list[Annotated[int, Field(ge=1949, le=2100)]] | None,
    Query(description="Only reports delivered in this year; repeat it for several."),
]


@router.get("/documents", response_model=DocumentsResponse, responses=errors(422, 503))
async def documents(
    api: LoadedDep, region: RegionFilter = None, year: YearFilter = None
) -> DocumentsResponse:
    """The indexed documents with their metadata (title, region, level, year, date, venue,
    speaker, counts...): those of the regions and years asked for, if any."""
    regions = set(api.retriever.catalogue.region_names(region or ()))
    years = set(year or ())
    return DocumentsResponse(
        documents=[
            DocumentOut.of(d)
            for d in api.retriever.index.documents
            if (not regions or d.region in regions) and (not years or d.year in years)
        ]
    )


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=errors(404, 503))
async def document(doc_id: str, api: LoadedDep) -> DocumentOut:
    """One document's metadata."""
    _check_doc(api, doc_id)
    found = api.retriever.index.document(doc_id)
    if found is None:  # _check_doc raised already; this narrows the type
        raise NotFoundError(f"no document {doc_id!r}")
    return DocumentOut.of(found)


def _json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """errors() for a route whose own response is not JSON: FastAPI would document the error
    bodies in the route's media type, but they are JSON."""
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    return {
        s: {"description": e["description"], "content": {"application/json": {"schema": ref}}}
        for s, e in errors(*statuses).items()
    }


@router.get(
    "/documents/{doc_id}/text",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **_json_errors(404, 503),
    },
)
async def document_text(doc_id: str, api: LoadedDep) -> PlainTextResponse:
    """A document's text as indexed: every passage's `start`/`end` index it."""
    _check_doc(api, doc_id)
    return PlainTextResponse(api.retriever.index.text(doc_id))
