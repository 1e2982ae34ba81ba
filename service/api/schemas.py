"""Response models of the HTTP API (pydantic lives here and in requests.py, at the edge, only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from indexer.types import DocumentMeta, Hit, Passage, Section
from service.answers import Answer, Citation
from service.answers.short import ShortAnswer
from service.catalogue import Report
from service.query import Query

from .requests import Mode

Reports = Mapping[str, Report]


class PassageOut(BaseModel):
    """A passage as stored in the index; `text[start:end]` of its document's text
    (GET /documents/{doc_id}/text) is `text`."""

    id: str
    doc_id: str
    doc_title: str = Field(description="The report's title, e.g. 2019年上海市政府工作报告.")
    region: str | None = Field(description="The report's region: 上海市, 全国, ...")
    year: int | None = Field(description="The year the report was delivered.")
    heading_path: list[str]
    section: str | None
    paragraph: int
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, p: Passage, reports: Reports) -> PassageOut:
        return cls(**_passage_fields(p, reports))


def _passage_fields(p: Passage, reports: Reports) -> dict[str, Any]:
    report = reports.get(p.doc_id)
    return {
        "id": p.id,
        "doc_id": p.doc_id,
        "doc_title": report.title if report else p.doc_id,
        "region": report.region if report else None,
        "year": report.year if report else None,
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
    def of_hit(cls, hit: Hit, reports: Reports) -> SearchHit:
        return cls(**_passage_fields(hit.passage, reports), rank=hit.rank, score=hit.score)


class Resolved(BaseModel):
    """Which reports the question was searched in, and why."""

    region: list[str] = Field(description="Regions resolved (empty: not restricted).")
    year: list[int] = Field(description="Report years resolved (empty: not restricted).")
    doc_ids: list[str] = Field(description="The reports searched, oldest first.")
    reason: str = Field(description="How the request or the question chose them.")
    missing: list[str] = Field(
        description="Reports asked about that the corpus does not hold, with what it holds."
    )
    latest: bool = Field(description="No year named: each region's latest report was taken.")
    per_report: bool = Field(description="Searched and answered report by report.")

    @classmethod
    def of(cls, query: Query, corpus: Reports) -> Resolved:
        scope = query.scope
        if scope is None:
            ids = list(query.doc_ids) or list(corpus)
            return cls(
                region=[],
                year=[],
                doc_ids=ids,
                reason="",
                missing=[],
                latest=False,
                per_report=False,
            )
        return cls(
            region=list(scope.regions),
            year=list(scope.years),
            doc_ids=list(scope.doc_ids),
            reason=scope.reason,
            missing=list(scope.missing),
            latest=scope.latest,
            per_report=scope.per_report,
        )


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    lang: Literal["zh", "en"]
    match: Literal["search", "section", "passage"] = Field(
        description="search, or how the query resolved directly: a section or a passage id."
    )
    resolved: Resolved
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
    def of_citation(cls, c: Citation, reports: Reports) -> CitationOut:
        return cls(
            **_passage_fields(c.hit.passage, reports),
            n=c.n,
            score=c.hit.score,
            highlights=[(s, e) for s, e in c.highlights],
        )


class ShortAnswerOut(BaseModel):
    """The figure, name, date or short list asked for, exactly as the report writes it."""

    text: str = Field(description="The span, as written: 20个, 6.5%左右, 2018年1月23日.")
    n: int = Field(description="The [n] of the citation whose quoted sentence holds it.")
    start: int = Field(description="Offset in the document's text (as passages' start).")
    end: int = Field(description="End offset: the document's text[start:end] is `text`.")

    @classmethod
    def of(cls, short: ShortAnswer | None) -> ShortAnswerOut | None:
        if short is None:
            return None
        return cls(text=short.text, n=short.n, start=short.start, end=short.end)


class ComparedOut(BaseModel):
    """One report's evidence in a comparison answer."""

    doc_id: str
    title: str
    region: str | None
    year: int | None
    quote: str = Field(description="The report's best answering sentence, verbatim.")
    citation: int = Field(description="The [n] of the citation the quote comes from.")
    short_answer: ShortAnswerOut | None = Field(
        description="The figure, name, date or short list asked for, in this report's quotes."
    )


class AskResponse(BaseModel):
    question: str
    answer: str | None = Field(description="Null when generate is false; [n] cite citations[].n.")
    answerable: bool = Field(description="False: the report does not appear to answer it.")
    confidence: float = Field(
        ge=0.0,
        le=1.0,
        description="How likely the cited passages answer the question (the verifier's "
        "probability); 0 when a rule refused it, 1 for a section outline.",
    )
    reason: str | None = Field(
        description="Why it was refused, in the question's language "
        "(报告没有提到“最低工资”。); null when answered."
    )
    short_answer: ShortAnswerOut | None = Field(
        description="The figure, name, date or short list the question asks for, when a "
        "quoted sentence holds one; the composed answer then leads with it. Null otherwise."
    )
    grounded: bool = Field(description="Every quoted span is found in a cited passage.")
    lang: Literal["zh", "en"]
    citations: list[CitationOut]
    resolved: Resolved
    comparison: list[ComparedOut] = Field(
        description="Each report's evidence, oldest first, when answered report by report."
    )
    backend: str
    took_ms: float
    warning: str | None = Field(None, description="Present only when set.")

    @classmethod
    def of(cls, query: Query, answer: Answer, reports: Reports, took_ms: float) -> AskResponse:
        return cls(
            question=query.text,
            answer=answer.text,
            answerable=answer.answerable,
            confidence=min(1.0, max(0.0, answer.confidence)),
            reason=answer.reason,
            short_answer=ShortAnswerOut.of(answer.short),
            grounded=answer.grounded,
            lang="en" if answer.lang == "en" else "zh",
            citations=[CitationOut.of_citation(c, reports) for c in answer.citations],
            resolved=Resolved.of(query, reports),
            comparison=[
                ComparedOut(
                    doc_id=c.report.doc_id,
                    title=c.report.title,
                    region=c.report.region,
                    year=c.report.year,
                    quote=c.quote,
                    citation=c.citation,
                    short_answer=ShortAnswerOut.of(c.short),
                )
                for c in answer.comparison
            ],
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
    title: str = Field(description="e.g. 2019年上海市政府工作报告, 2024年国务院政府工作报告.")
    date: str | None = Field(None, description="The day it was delivered, YYYY-MM-DD.")
    venue: str | None = None
    speaker: str | None = None
    region: str | None = Field(None, description="Full name: 上海市, 北京市; 全国 (State Council).")
    year: int | None = Field(None, description="The year it was delivered.")
    level: str | None = Field(None, description="national or provincial.")
    chars: int = Field(0, description="Length of its text (GET /documents/{doc_id}/text).")

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
