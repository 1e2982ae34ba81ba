"""The retrieval core: dense, BM25 and hybrid search over a loaded index. No HTTP here."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import faiss as _faiss
import numpy as np

from indexer.embed import Embedder
from indexer.errors import InvalidQueryError, NotFoundError
from indexer.parse import ref_within
from indexer.store import LoadedIndex
from indexer.types import Hit, Passage, Section

from . import fusion
from .refs import find_section_ref, is_bare

# faiss ships stubs that lack the HNSW and ID-selector APIs used here.
faiss: Any = _faiss

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid")
MAX_K = 50
# Each ranking contributes this many candidates to hybrid fusion (at least 2k).
CANDIDATES = 100


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Hits for a query, how the query was resolved, and where the time went."""

    query: str
    mode: str
    hits: list[Hit]
    resolved: Literal["search", "section", "passage"] = "search"
    section: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """How hybrid mode combines the two rankings (chosen on the eval set; see README)."""

    method: Literal["rrf", "weighted"] = "rrf"
    alpha: float = 0.5
    rrf_k: int = fusion.RRF_K


class QueryCache:
    """A small thread-safe LRU of query vectors: repeated questions skip the encoder."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            vec = self._data.get(key)
            if vec is not None:
                self._data.move_to_end(key)
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = vec
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class Retriever:
    """Search one loaded index with one embedder."""

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        fusion_config: FusionConfig | None = None,
        cache_size: int = 1024,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion_config or FusionConfig()
        self.cache = QueryCache(cache_size)
        self._doc_rows: dict[str, np.ndarray] = {}
        for doc in index.documents:
            self._doc_rows[doc.doc_id] = np.array(
                [i for i, p in enumerate(index.passages) if p.doc_id == doc.doc_id], dtype=np.int64
            )

    # ---- lookups -------------------------------------------------------------------

    @property
    def passages(self) -> list[Passage]:
        return self.index.passages

    def passage(self, passage_id: str) -> Passage:
        row = self.index.by_id.get(passage_id)
        if row is None:
            raise NotFoundError(
                f"no passage with id {passage_id!r}: ids look like "
                f"{self.passages[0].id!r}; find them with POST /search"
            )
        return self.passages[row]

    def context(self, passage_id: str, n: int) -> tuple[Passage, list[Passage], list[Passage]]:
        """A passage with up to n neighbours on each side from the same section."""
        row = self.index.by_id.get(passage_id)
        if row is None:
            self.passage(passage_id)  # raises with the message
            raise AssertionError  # pragma: no cover
        p = self.passages[row]
        same = [
            i
            for i in range(max(0, row - n), min(len(self.passages), row + n + 1))
            if self.passages[i].doc_id == p.doc_id and self.passages[i].section == p.section
        ]
        before = [self.passages[i] for i in same if i < row][-n:] if n else []
        after = [self.passages[i] for i in same if i > row][:n] if n else []
        return p, before, after

    def _check_doc(self, doc_id: str | None) -> None:
        if doc_id is not None and doc_id not in self._doc_rows:
            known = ", ".join(sorted(self._doc_rows))
            raise NotFoundError(f"no document {doc_id!r}: known documents are {known}")

    def section(self, ref: str, doc_id: str | None = None) -> Section:
        """The section with exactly this reference (the first document's, unless doc_id)."""
        self._check_doc(doc_id)
        ref = ref.strip().replace("(", "（").replace(")", "）")
        for s in self.index.sections:
            if s.ref == ref and (doc_id is None or s.doc_id == doc_id):
                return s
        refs = [s.ref for s in self.index.sections if doc_id is None or s.doc_id == doc_id]
        raise NotFoundError(
            f"no section {ref!r}{f' in {doc_id}' if doc_id else ''}: "
            f"sections are {', '.join(dict.fromkeys(refs))}"
        )

    def _mask(self, doc_id: str | None, section: str | None) -> np.ndarray | None:
        """Rows allowed by the filters (None = all)."""
        if doc_id is None and section is None:
            return None
        self._check_doc(doc_id)
        rows = self._doc_rows[doc_id] if doc_id else np.arange(len(self.passages))
        if section is not None:
            section = section.strip().replace("(", "（").replace(")", "）")
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

    # ---- scoring -------------------------------------------------------------------

    def encode(self, query: str) -> np.ndarray:
        vec = self.cache.get(query)
        if vec is None:
            vec = self.embedder.encode_queries([query])[0]
            self.cache.put(query, vec)
        return vec

    def dense_ranking(
        self, qvec: np.ndarray, n: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine scores) of the n best passages, best first."""
        index = self.index.faiss_index
        n = min(n, index.ntotal if rows is None else len(rows))
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(rows.astype(np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, n))
                if hasattr(index, "hnsw")
                else faiss.SearchParameters(sel=selector)
            )
        scores, ids = index.search(qvec.reshape(1, -1).astype(np.float32), n, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def lexical_ranking(
        self, query: str, n: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of the n best passages with a positive score, best first."""
        scores = self.index.lexical.scores(query)
        if rows is not None:
            masked = np.full_like(scores, -1.0)
            masked[rows] = scores[rows]
            scores = masked
        n = min(n, scores.size)
        top = np.argpartition(-scores, n - 1)[:n] if n < scores.size else np.arange(scores.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top]

    # ---- search --------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        doc_id: str | None = None,
        section: str | None = None,
        resolve_refs: bool = True,
    ) -> SearchResult:
        """Rank passages for a query.

        Args:
            query: the question; a passage id or a bare section reference (三（四）讲了什么,
                第三部分第四节) resolves to that passage or section directly, and a section
                reference with more words restricts the search to that section.
            k: how many hits, 1..50.
            mode: "dense", "bm25" or "hybrid".
            doc_id: only this document.
            section: only passages inside this section reference (三, 三（四）).
            resolve_refs: set False to search the query text as it is.

        Returns:
            SearchResult with hits ranked from 1.

        Raises:
            InvalidQueryError: empty query, k out of range, unknown mode.
            NotFoundError: unknown document or section.
        """
        if not query or not query.strip():
            raise InvalidQueryError("the query is empty: type a question or a section reference")
        if not 1 <= k <= MAX_K:
            raise InvalidQueryError(f"k must be between 1 and {MAX_K}, got {k}")
        if mode not in MODES:
            raise InvalidQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        query = query.strip()
        t0 = time.perf_counter()
        if resolve_refs:
            direct = self._resolve(query, k, mode, doc_id)
            if direct is not None:
                return direct
            ref = find_section_ref(query)
            if ref is not None and section is None and self._has_section(ref.ref, doc_id):
                section = ref.ref
                query = ref.rest or query
        rows = self._mask(doc_id, section)
        hits, timings = self._rank(query, k, mode, rows)
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(query, mode, hits, "search", section, timings)

    def _has_section(self, ref: str, doc_id: str | None) -> bool:
        return any(
            s.ref == ref and (doc_id is None or s.doc_id == doc_id) for s in self.index.sections
        )

    def _resolve(self, query: str, k: int, mode: str, doc_id: str | None) -> SearchResult | None:
        """A passage id or a bare section reference, answered without ranking."""
        row = self.index.by_id.get(query)
        if row is not None:
            p = self.passages[row]
            return SearchResult(query, mode, [Hit(p, 1, 1.0)], "passage", p.section)
        normalised = query.replace("(", "（").replace(")", "）")
        if self._has_section(normalised, doc_id):
            sec = self.section(normalised, doc_id)
        else:
            ref = find_section_ref(query)
            if ref is None or not is_bare(ref.rest) or not self._has_section(ref.ref, doc_id):
                return None
            sec = self.section(ref.ref, doc_id)
        ids = sec.passage_ids[:k]
        hits = [Hit(self.passage(pid), i, 1.0) for i, pid in enumerate(ids, start=1)]
        return SearchResult(query, mode, hits, "section", sec.ref)

    def _rank(
        self, query: str, k: int, mode: str, rows: np.ndarray | None
    ) -> tuple[list[Hit], dict[str, float]]:
        timings: dict[str, float] = {}
        depth = max(CANDIDATES, 2 * k)
        d_rows = d_scores = l_rows = l_scores = np.empty(0)
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            qvec = self.encode(query)
            timings["encode_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            d_rows, d_scores = self.dense_ranking(qvec, depth if mode == "hybrid" else k, rows)
            timings["faiss_ms"] = (time.perf_counter() - t) * 1000
        if mode in ("bm25", "hybrid"):
            t = time.perf_counter()
            l_rows, l_scores = self.lexical_ranking(query, depth if mode == "hybrid" else k, rows)
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        dense_of: dict[int, float] = {
            int(r): float(s) for r, s in zip(d_rows.tolist(), d_scores.tolist(), strict=True)
        }
        lex_of: dict[int, float] = {
            int(r): float(s) for r, s in zip(l_rows.tolist(), l_scores.tolist(), strict=True)
        }
        ranked: list[tuple[int, float]]
        if mode == "dense":
            ranked = list(dense_of.items())
        elif mode == "bm25":
            ranked = list(lex_of.items())
        else:
            ranked = self._fuse(d_rows, d_scores, lex_of)
        hits = [
            Hit(
                self.passages[row],
                rank,
                float(score),
                dense=dense_of.get(row),
                lexical=lex_of.get(row, 0.0 if mode != "dense" else None),
            )
            for rank, (row, score) in enumerate(ranked[:k], start=1)
        ]
        return hits, timings

    def _fuse(
        self, d_rows: np.ndarray, d_scores: np.ndarray, lex_of: dict[int, float]
    ) -> list[tuple[int, float]]:
        cfg = self.fusion
        l_rows = list(lex_of)
        if cfg.method == "rrf":
            fused = fusion.rrf([d_rows.tolist(), l_rows], cfg.rrf_k)
        else:
            # Weighted scores over the dense candidates (the dense list covers the filter).
            rows = np.array(list(dict.fromkeys([*d_rows.tolist(), *l_rows])), dtype=np.int64)
            dense_all = dict(zip(d_rows.tolist(), d_scores.tolist(), strict=True))
            floor = float(d_scores.min()) if d_scores.size else 0.0
            dv = np.array([dense_all.get(int(r), floor) for r in rows], dtype=np.float32)
            lv = np.array([lex_of.get(int(r), 0.0) for r in rows], dtype=np.float32)
            fused = fusion.weighted(rows, dv, lv, cfg.alpha)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
