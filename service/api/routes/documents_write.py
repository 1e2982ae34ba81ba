"""Add, replace and remove reports while the service runs (service.reindex), and GET /index.

The writes need an API key (auth.RequireWriteKey). Each runs its build in a worker thread and
answers once the new index version serves.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, Form, Path, UploadFile
from pydantic import BaseModel, Field

from service.reindex import Change, Upload

from ..auth import RequireWriteKey
from ..deps import LoadedDep, StateDep
from .common import errors

router = APIRouter(tags=["documents"])

DocId = Annotated[str, Path(description="A document id from GET /documents.")]
UploadField = Annotated[
    UploadFile, File(description="The report: a UTF-8 .txt file or a Word .docx document.")
]
RegionField = Annotated[
    str | None, Form(description="Its region (上海市, 上海, shanghai) if the text lacks it.")
]
YearField = Annotated[
    int | None, Form(ge=1949, le=2100, description="The year it was delivered, if not in it.")
]
TitleField = Annotated[str | None, Form(description="Its title, if the text lacks it.")]
FlatField = Annotated[
    bool,
    Form(
        description="Index a text without 一、/（一） headings as flat paragraphs (without "
        "it such a text is refused with 422)."
    ),
]
WRITE_ERRORS = errors(401, 403, 404, 409, 413, 422, 500, 503)


class ChangeResponse(BaseModel):
    """What a write changed, once the new index version serves."""

    action: str = Field(description="added, replaced or removed.")
    doc_id: str
    version: str = Field(description="The index version now serving.")
    passages_added: int = Field(description="Passages the new version has and the old had not.")
    passages_removed: int = Field(description="Passages the old version had and the new lacks.")
    embedded: int = Field(description="Passages embedded for this build.")
    reused: int = Field(description="Passages whose vectors were reused from the old version.")
    seconds: float = Field(description="From the request to the new version serving.")

    @classmethod
    def of(cls, c: Change) -> ChangeResponse:
        return cls(
            action=c.action,
            doc_id=c.doc_id,
            version=c.version,
            passages_added=c.passages_added,
            passages_removed=c.passages_removed,
            embedded=c.embedded,
            reused=c.reused,
            seconds=c.seconds,
        )


class IndexStatus(BaseModel):
    """The serving index version and the builder's state."""

    version: str | None = Field(description="The versioned folder var/index links to.")
    built_at: str | None = Field(description="When that version was built (ISO 8601, UTC).")
    building: str | None = Field(description="The write being built now, e.g. adding x; null.")
    last_error: str | None = Field(description="Why the last failed build failed; null.")
    documents: int
    passages: int


async def _upload(
    file: UploadFile, region: str | None, year: int | None, title: str | None, flat: bool
) -> Upload:
    return Upload(file.filename or "", await file.read(), region, year, title, flat)


@router.get("/index", response_model=IndexStatus, responses=errors(503))
async def index_status(api: LoadedDep) -> IndexStatus:
    """The index version that serves, when it was built, a build in progress, the last error."""
    s = api.state.reindexer.status(api.runtime)
    index = api.runtime.index
    return IndexStatus(
        version=s.version,
        built_at=s.built_at,
        building=s.building,
        last_error=s.last_error,
        documents=len(index.documents),
        passages=len(index.passages),
    )


@router.post(
    "/documents",
    response_model=ChangeResponse,
    status_code=201,
    responses=WRITE_ERRORS,
    dependencies=[RequireWriteKey],
)
async def add_document(
    api: LoadedDep,
    state: StateDep,
    file: UploadField,
    region: RegionField = None,
    year: YearField = None,
    title: TitleField = None,
    flat: FlatField = False,
) -> ChangeResponse:
    """Add a report (its doc_id is the file name without the extension), rebuild, serve it."""
    upload = await _upload(file, region, year, title, flat)
    change = await anyio.to_thread.run_sync(state.reindexer.add, api.runtime, upload, state.serve)
    return ChangeResponse.of(change)


@router.put(
    "/documents/{doc_id}",
    response_model=ChangeResponse,
    responses=WRITE_ERRORS,
    dependencies=[RequireWriteKey],
)
async def replace_document(
    doc_id: DocId,
    api: LoadedDep,
    state: StateDep,
    file: UploadField,
    region: RegionField = None,
    year: YearField = None,
    title: TitleField = None,
    flat: FlatField = False,
) -> ChangeResponse:
    """Replace a report's source with the uploaded file, rebuild, serve the new version."""
    upload = await _upload(file, region, year, title, flat)
    change = await anyio.to_thread.run_sync(
        state.reindexer.replace, api.runtime, doc_id, upload, state.serve
    )
    return ChangeResponse.of(change)


@router.delete(
    "/documents/{doc_id}",
    response_model=ChangeResponse,
    responses=WRITE_ERRORS,
    dependencies=[RequireWriteKey],
)
async def remove_document(doc_id: DocId, api: LoadedDep, state: StateDep) -> ChangeResponse:
    """Remove a report from the source folder and the index, serve the new version."""
    change = await anyio.to_thread.run_sync(
        state.reindexer.remove, api.runtime, doc_id, state.serve
    )
    return ChangeResponse.of(change)
