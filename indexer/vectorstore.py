"""Where the retriever's rankings come from: the store interface and the file store.

A store answers four questions over one index version: the dense top n (main or
multilingual vectors), the lexical (BM25) top n, the passages of some ids, and the
documents' facets. Either may be restricted to passage rows (a section, a report's review)
or to documents, regions and years (`Where`). Rankings are (rows, scores) arrays, best
first, rows being positions in the index folder's passage list.

`service.retrieval.store.FileStore` is the index folder itself (FAISS + bm25s, in
process), the default; `indexer.milvus_store.MilvusStore` is a Milvus collection (Milvus
Lite or a server). Only types live here, so the indexer and the service share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from .types import Passage

if TYPE_CHECKING:
    from .store import LoadedIndex

Ranking = tuple[np.ndarray, np.ndarray]
StoreKind = Literal["faiss", "milvus"]


@dataclass(frozen=True, slots=True)
class Where:
    """A filter: passages in `rows` (None: any) of `doc_ids`, `regions`, `years` (None: any)."""

    rows: np.ndarray | None = None
    doc_ids: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    years: tuple[int, ...] | None = None

    @property
    def empty(self) -> bool:
        """No filter at all."""
        return all(v is None for v in (self.rows, self.doc_ids, self.regions, self.years))


@dataclass(frozen=True, slots=True)
class Facet:
    """A document's facets, as the store holds them."""

    doc_id: str
    region: str | None
    year: int | None
    passages: int


class PassageStore(Protocol):
    """What the retriever ranks with (see the module docstring)."""

    kind: StoreKind

    def dense(
        self, qvec: np.ndarray, n: int, where: Where | None = None, multilingual: bool = False
    ) -> Ranking:
        """(rows, cosine scores) of the n nearest passages, best first."""
        ...

    def lexical(
        self, terms: str, n: int, where: Where | None = None, doc_id: str | None = None
    ) -> Ranking:
        """(rows, BM25 scores) of the n best passages with a positive score, best first;
        `doc_id`: every row is that document's, scored with its own term statistics."""
        ...

    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        """The passages of these ids, in that order (unknown ids are left out)."""
        ...

    def facets(self) -> list[Facet]:
        """Every document with its region, year and passage count, by doc_id."""
        ...

    def close(self) -> None:
        """Release connections (nothing for the file store)."""
        ...


def where_rows(index: LoadedIndex, where: Where | None) -> np.ndarray | None:
    """The passage rows a filter allows, in row order (None: every row)."""
    if where is None or where.empty:
        return None
    if where.doc_ids is None and where.regions is None and where.years is None:
        return where.rows
    docs = {d.doc_id: d for d in index.documents}
    keep = np.array(
        [
            _matches(docs.get(p.doc_id), where)
            and (where.doc_ids is None or p.doc_id in where.doc_ids)
            for p in index.passages
        ],
        dtype=bool,
    )
    if where.rows is not None:
        mask = np.zeros(len(index.passages), dtype=bool)
        mask[where.rows] = True
        keep &= mask
    return np.flatnonzero(keep).astype(np.int64)


def _matches(doc: Any, where: Where) -> bool:
    if doc is None:
        return False
    return (where.regions is None or doc.region in where.regions) and (
        where.years is None or doc.year in where.years
    )
