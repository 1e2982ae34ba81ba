"""Typed values shared by the indexer, the retrieval core, the service and eval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading found in a source text.

    `level` ranks the numbering style (1 = 一、 part, 2 = （一） section, 3 = 第一,
    4 = 1., 5 = （1）); `ref` is the short reference of the unit it opens (`三（四）`).
    """

    level: int
    ref: str
    title: str
    start: int
    end: int
    inline: bool
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable span of one document: `source[start:end] == text`."""

    id: str
    doc_id: str
    heading_path: tuple[str, ...]
    section: str | None
    paragraph: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["heading_path"] = list(self.heading_path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(
            id=data["id"],
            doc_id=data["doc_id"],
            heading_path=tuple(data["heading_path"]),
            section=data["section"],
            paragraph=int(data["paragraph"]),
            start=int(data["start"]),
            end=int(data["end"]),
            text=data["text"],
        )


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered unit of a document (a part, a section or deeper)."""

    doc_id: str
    ref: str
    title: str
    heading_path: tuple[str, ...]
    start: int
    end: int
    passage_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """A report's metadata (indexer.metadata: its text, else the catalogue, else its file
    name) plus where it came from. `region` is the full name (上海市, 全国 for the State
    Council), `level` national or provincial, `year` the year it was delivered."""

    doc_id: str
    source: str
    sha256: str
    title: str
    date: str | None = None
    venue: str | None = None
    speaker: str | None = None
    region: str | None = None
    year: int | None = None
    level: str | None = None
    chars: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentMeta:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage returned by a retriever, with its rank (1-based) and score.

    `dense` and `lexical` keep the component scores (cosine, BM25) where known.
    """

    passage: Passage
    rank: int
    score: float
    dense: float | None = None
    lexical: float | None = None
