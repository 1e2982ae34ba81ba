"""Look-ups over a loaded index: passages by id, their neighbours, sections, filter rows."""

from __future__ import annotations

import re

import numpy as np

from indexer.parse import ref_within
from indexer.store import LoadedIndex
from indexer.types import Passage, Section

from ..errors import NotFoundError
from ..refs import normalise_ref

# A report's part that reviews the past: 一、2018年工作回顾, 一、过去五年工作回顾.
REVIEW_PART = re.compile(r"回顾|过去一年|过去五年")


class Corpus:
    """The passages and sections of one loaded index, by id, reference and document."""

    def __init__(self, index: LoadedIndex) -> None:
        self.index = index
        self.doc_rows: dict[str, np.ndarray] = {}
        for doc in index.documents:
            self.doc_rows[doc.doc_id] = np.array(
                [i for i, p in enumerate(index.passages) if p.doc_id == doc.doc_id], dtype=np.int64
            )
        # Whether each passage lies in its report's review part (一、2018年工作回顾).
        self.in_review = np.array(
            [
                bool(p.heading_path) and REVIEW_PART.search(p.heading_path[0]) is not None
                for p in index.passages
            ],
            dtype=bool,
        )

    @property
    def passages(self) -> list[Passage]:
        return self.index.passages

    def focus(self, rows: np.ndarray | None, doc_id: str, focus: str | None) -> np.ndarray | None:
        """`rows` (None: the document's) narrowed to the document's review part ("review")
        or to the rest ("plan"); as they were when the report has no review part."""
        if focus is None:
            return rows
        base = self.doc_rows[doc_id] if rows is None else rows
        review = self.in_review[base]
        if not review.any():
            return rows
        kept = base[review] if focus == "review" else base[~review]
        return kept if kept.size else rows

    def row(self, passage_id: str) -> int:
        """The row of a passage id; NotFoundError with an example id when there is none."""
        row = self.index.by_id.get(passage_id)
        if row is None:
            raise NotFoundError(
                f"no passage with id {passage_id!r}: ids look like "
                f"{self.passages[0].id!r}; find them with POST /search"
            )
        return row

    def passage(self, passage_id: str) -> Passage:
        return self.passages[self.row(passage_id)]

    def context(self, passage_id: str, n: int) -> tuple[Passage, list[Passage], list[Passage]]:
        """A passage with up to n neighbours on each side from the same section."""
        row = self.row(passage_id)
        p = self.passages[row]
        same = [
            i
            for i in range(max(0, row - n), min(len(self.passages), row + n + 1))
            if self.passages[i].doc_id == p.doc_id and self.passages[i].section == p.section
        ]
        before = [self.passages[i] for i in same if i < row][-n:] if n else []
        after = [self.passages[i] for i in same if i > row][:n] if n else []
        return p, before, after

    def check_doc(self, doc_id: str | None) -> None:
        """NotFoundError listing the known documents when doc_id is not one of them."""
        if doc_id is not None and doc_id not in self.doc_rows:
            known = ", ".join(sorted(self.doc_rows))
            raise NotFoundError(f"no document {doc_id!r}: known documents are {known}")

    def has_section(self, ref: str, doc_id: str | None) -> bool:
        return any(
            s.ref == ref and (doc_id is None or s.doc_id == doc_id) for s in self.index.sections
        )

    def section(self, ref: str, doc_id: str | None = None) -> Section:
        """The section with exactly this reference (the first document's, unless doc_id)."""
        self.check_doc(doc_id)
        ref = normalise_ref(ref)
        for s in self.index.sections:
            if s.ref == ref and (doc_id is None or s.doc_id == doc_id):
                return s
        refs = [s.ref for s in self.index.sections if doc_id is None or s.doc_id == doc_id]
        raise NotFoundError(
            f"no section {ref!r}{f' in {doc_id}' if doc_id else ''}: "
            f"sections are {', '.join(dict.fromkeys(refs))}"
        )

    def rows(self, doc_ids: tuple[str, ...] | None, section: str | None) -> np.ndarray | None:
        """Rows allowed by the filters (None = all); `section` is a normalised reference."""
        if section is None and (not doc_ids or set(doc_ids) >= self.doc_rows.keys()):
            # Every document: no filter, so FAISS and BM25 take their unfiltered paths.
            for known in doc_ids or ():
                self.check_doc(known)
            return None
        for known in doc_ids or ():
            self.check_doc(known)
        if not doc_ids:
            rows = np.arange(len(self.passages))
        elif len(doc_ids) == 1:
            rows = self.doc_rows[doc_ids[0]]
        else:
            rows = np.sort(np.concatenate([self.doc_rows[d] for d in doc_ids]))
        doc_id = doc_ids[0] if doc_ids and len(doc_ids) == 1 else None
        if section is not None:
            rows = np.array(
                [r for r in rows if ref_within(self.passages[r].section, section)], dtype=np.int64
            )
            if rows.size == 0:
                where = f" in {doc_id}" if doc_id else ""
                raise NotFoundError(
                    f"no passages in section {section!r}{where}: use a reference such as "
                    "'三' (a part) or '三（四）' (a section); GET /sections/三 shows one"
                )
        return rows
