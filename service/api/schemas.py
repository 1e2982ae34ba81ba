"""Response models of the HTTP API (pydantic lives here and in requests.py, at the edge, only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from indexer.types import DocumentMeta, Hit, Passage, Section
from service.answers import Answer, Citation

from .requests import Mode


class PassageOut(BaseModel):
    """A passage as stored in the index; `source[start:end] == text`."""

    id: str
    doc_id: str
    doc_title: str
    heading_path: list[str]
    section: str | None
    paragraph: int
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, p: Passage, titles: dict[str, str]) -> PassageOut:
        return cls(**_passage_fields(p, titles))


def _passage_fields(p: Passage, titles: dict[str, str]) -> dict[str, Any]:
    return {
        "id": p.id,
        "doc_id": p.doc_id,
        "doc_title": titles.get(p.doc_id, p.doc_id),
        "heading_path": list(p.heading_path),
        "section": p.section,
        "paragraph": p.paragraph,
        "start": p.start,
        "end": p.end,
        "text": p.text,
    }


class SearchHit(PassageOut):
    rank: int = Field(description="1-based.")
    score: float = Field(description="The mode's score (cosine, BM25 or fused).")

    @classmethod
    def of_hit(cls, hit: Hit, titles: dict[str, str]) -> SearchHit:
        return cls(**_passage_fields(hit.passage, titles), rank=hit.rank, score=hit.score)


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    lang: Literal["zh", "en"]
    resolved: Literal["search", "section", "passage"] = Field(
        description="search, or how the query resolved directly: a section or a passage id."
    )
    section: str | None = Field(description="The section the search was restricted to, if any.")
    results: list[SearchHit]
    took_ms: float


class CitationOut(PassageOut):
    n: int = Field(description="The [n] marker in the answer.")
    score: float
    highlights: list[tuple[int, int]] = Field(
        description="[start, end] source offsets of the quoted sentences inside this passage."
    )

    @classmethod
    def of_citation(cls, c: Citation, titles: dict[str, str]) -> CitationOut:
        return cls(
            **_passage_fields(c.hit.passage, titles),
            n=c.n,
            score=c.hit.score,
            highlights=[(s, e) for s, e in c.highlights],
        )


class AskResponse(BaseModel):
    question: str
    answer: str | None = Field(description="Null when generate is false; [n] cite citations[].n.")
    answerable: bool = Field(description="False: the report does not appear to answer it.")
    grounded: bool = Field(description="Every quoted span is found in a cited passage.")
    lang: Literal["zh", "en"]
    citations: list[CitationOut]
    backend: str
    took_ms: float
    warning: str | None = Field(None, description="Present only when set.")

    @classmethod
    def of(
        cls, question: str, answer: Answer, titles: dict[str, str], took_ms: float
    ) -> AskResponse:
        return cls(
            question=question,
            answer=answer.text,
            answerable=answer.answerable,
            grounded=answer.grounded,
            lang="en" if answer.lang == "en" else "zh",
            citations=[CitationOut.of_citation(c, titles) for c in answer.citations],
            backend=answer.backend,
            took_ms=took_ms,
            warning=answer.warning,
        )

    def body(self) -> dict[str, Any]:
        """The JSON body: `warning` only when set."""
        return self.model_dump(mode="json", exclude={"warning"} if self.warning is None else None)


class ContextResponse(BaseModel):
    passage: PassageOut
    before: list[PassageOut] = Field(description="Up to `context` earlier passages, in order.")
    after: list[PassageOut] = Field(description="Up to `context` later passages, in order.")


class _SectionHead(BaseModel):
    """What every view of a section starts with: its reference, title, path and span."""

    ref: str
    title: str
    heading_path: list[str]
    doc_id: str
    start: int
    end: int

    @staticmethod
    def head(s: Section) -> dict[str, Any]:
        return {
            "ref": s.ref,
            "title": s.title,
            "heading_path": list(s.heading_path),
            "doc_id": s.doc_id,
            "start": s.start,
            "end": s.end,
        }


class SectionSummary(_SectionHead):
    passage_count: int

    @classmethod
    def of(cls, s: Section) -> SectionSummary:
        return cls(**cls.head(s), passage_count=len(s.passage_ids))


class SectionsResponse(BaseModel):
    sections: list[SectionSummary]


class SectionResponse(_SectionHead):
    passages: list[PassageOut]


class DocumentOut(BaseModel):
    """A document's metadata from the index manifest (extra keys pass through)."""

    model_config = ConfigDict(extra="allow")

    doc_id: str
    source: str
    sha256: str
    title: str
    date: str | None = None
    venue: str | None = None
    speaker: str | None = None
    region: str | None = None
    year: int | None = None
    chars: int = 0

    @classmethod
    def of(cls, d: DocumentMeta) -> DocumentOut:
        return cls(**d.to_dict())


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    index: str
    model: str
    documents: int
    passages: int


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_query, not_found.")
    message: str = Field(description="What went wrong and what to change.")


class ErrorResponse(BaseModel):
    error: ErrorBody
