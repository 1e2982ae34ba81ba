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
from indexer.errors import InvalidQueryError, ModelError, NotFoundError
from indexer.multilingual import load_multilingual
from indexer.parse import ref_within
from indexer.store import FIX, LoadedIndex
from indexer.types import Hit, Passage, Section

from . import fusion
from .lang import detect_lang
from .refs import find_section_ref, is_bare, normalise_ref
from .translate import Translator

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
    """How hybrid mode combines the two rankings (chosen on the eval set; see README).

    Weighted min-max fusion at alpha 0.5 beat reciprocal rank fusion on the gold set:
    recall@1 0.604 vs 0.509 and MRR@10 0.679 vs 0.621 (before heading-led passages).
    """

    method: Literal["rrf", "weighted"] = "weighted"
    alpha: float = 0.5
    rrf_k: int = fusion.RRF_K
    # With a multilingual index: English questions fuse the multilingual dense ranking with
    # BM25 over the translated terms. Chinese hybrid can add the multilingual ranking with
    # weight zh_ml_weight; at 0.5 it raised Chinese MRR@10 0.814 -> 0.828 but lost one
    # question at recall@5 (0.898 -> 0.894), so Chinese questions keep their path (0).
    # Chosen on the eval set; see README, "English questions".
    en_method: Literal["rrf", "weighted"] = "weighted"
    en_alpha: float = 0.5
    zh_ml_weight: float = 0.0


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
    """Search one loaded index with one embedder (and its multilingual encoder, if built).

    Args:
        index: the loaded index.
        embedder: the model the index's main vectors were made with.
        fusion_config: how hybrid mode fuses rankings.
        cache_size: query vectors kept per encoder.
        multilingual: the encoder of the index's multilingual vectors; "auto" loads the one
            the index was built with (none when it has no multilingual part), None leaves
            English questions on the Chinese path.

    Raises:
        ModelError: an encoder was given that does not match the index's multilingual part.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        fusion_config: FusionConfig | None = None,
        cache_size: int = 1024,
        multilingual: Embedder | Literal["auto"] | None = "auto",
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion_config or FusionConfig()
        self.cache = QueryCache(cache_size)
        self.ml_encoder = self._multilingual(multilingual)
        self.ml_cache = QueryCache(cache_size)
        self._translator: Translator | None = None
        self._translator_lock = threading.Lock()
        self._doc_rows: dict[str, np.ndarray] = {}
        for doc in index.documents:
            self._doc_rows[doc.doc_id] = np.array(
                [i for i, p in enumerate(index.passages) if p.doc_id == doc.doc_id], dtype=np.int64
            )

    def _multilingual(self, option: Embedder | Literal["auto"] | None) -> Embedder | None:
        ml = self.index.multilingual
        if option is None or (ml is None and isinstance(option, str)):
            return None
        if ml is None:
            raise ModelError(
                f"the index at {self.index.folder} has no multilingual vectors: {FIX} "
                "with MULTILINGUAL=true"
            )
        encoder = load_multilingual(ml.model) if isinstance(option, str) else option
        if encoder.name != ml.model or encoder.dim != ml.dim:
            raise ModelError(
                f"the index at {self.index.folder} holds multilingual vectors of {ml.model!r} "
                f"({ml.dim} dimensions), not of {encoder.name!r}: {FIX} with "
                f"MULTILINGUAL_MODEL={encoder.name}, or set MULTILINGUAL_MODEL={ml.model}"
            )
        return encoder

    @property
    def multilingual(self) -> bool:
        """Whether English questions take the multilingual path."""
        return self.ml_encoder is not None

    def translator(self) -> Translator:
        """English -> Chinese BM25 terms for this index's vocabulary (built on first use)."""
        with self._translator_lock:
            if self._translator is None:
                self._translator = Translator(self.index.lexical.retriever.vocab_dict)
            return self._translator

    def is_english(self, query: str) -> bool:
        """Whether the query goes the English (multilingual) way."""
        return self.ml_encoder is not None and detect_lang(query) == "en"

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
        ref = normalise_ref(ref)
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
            section = normalise_ref(section)
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

    def encode_multilingual(self, query: str) -> np.ndarray:
        """The query's vector by the multilingual encoder (cached)."""
        if self.ml_encoder is None:
            raise ModelError(f"no multilingual encoder for the index at {self.index.folder}")
        vec = self.ml_cache.get(query)
        if vec is None:
            vec = self.ml_encoder.encode_queries([query])[0]
            self.ml_cache.put(query, vec)
        return vec

    def query_encoder(self, query: str) -> tuple[Embedder, np.ndarray]:
        """The encoder that fits the query's language, and the query's vector by it."""
        if self.ml_encoder is not None and self.is_english(query):
            return self.ml_encoder, self.encode_multilingual(query)
        return self.embedder, self.encode(query)

    def dense_ranking(
        self, qvec: np.ndarray, n: int, rows: np.ndarray | None, faiss_index: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine scores) of the n best passages, best first (main index by default)."""
        index = self.index.faiss_index if faiss_index is None else faiss_index
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
        normalised = normalise_ref(query)
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
        n = depth if mode == "hybrid" else k
        english = self.is_english(query)
        ml = self.index.multilingual if self.ml_encoder is not None else None
        d_rows = d_scores = l_rows = l_scores = np.empty(0)
        extra: list[tuple[np.ndarray, np.ndarray, float]] = []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            qvec = self.encode_multilingual(query) if english else self.encode(query)
            timings["encode_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            d_rows, d_scores = self.dense_ranking(
                qvec, n, rows, ml.faiss_index if english and ml is not None else None
            )
            timings["faiss_ms"] = (time.perf_counter() - t) * 1000
        if mode in ("bm25", "hybrid"):
            t = time.perf_counter()
            text = " ".join(self.translator().terms(query)) if english else query
            if english:
                timings["translate_ms"] = (time.perf_counter() - t) * 1000
            if text:
                l_rows, l_scores = self.lexical_ranking(text, n, rows)
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        method, alpha = self.fusion.method, self.fusion.alpha
        if english:
            method, alpha = self.fusion.en_method, self.fusion.en_alpha
        elif mode == "hybrid" and ml is not None and self.fusion.zh_ml_weight > 0:
            # Counted in the encode and faiss timings, whose names are part of Server-Timing.
            t = time.perf_counter()
            m_vec = self.encode_multilingual(query)
            timings["encode_ms"] = timings.get("encode_ms", 0.0) + (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            m_rows, m_scores = self.dense_ranking(m_vec, n, rows, ml.faiss_index)
            timings["faiss_ms"] = timings.get("faiss_ms", 0.0) + (time.perf_counter() - t) * 1000
            extra.append((m_rows, m_scores, self.fusion.zh_ml_weight))
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
            ranked = self._fuse(d_rows, d_scores, lex_of, method, alpha, extra)
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
        self,
        d_rows: np.ndarray,
        d_scores: np.ndarray,
        lex_of: dict[int, float],
        method: str,
        alpha: float,
        extra: list[tuple[np.ndarray, np.ndarray, float]] | None = None,
    ) -> list[tuple[int, float]]:
        """Fuse the dense and lexical rankings, plus extra (rows, scores, weight) rankings.

        RRF adds weight / (k + rank) per extra ranking; weighted fusion adds
        weight * minmax(score) over the same candidates.
        """
        l_rows = list(lex_of)
        extra = extra or []
        if method == "rrf":
            fused = fusion.rrf([d_rows.tolist(), l_rows], self.fusion.rrf_k)
            for ranking, _, weight in extra:
                for row, score in fusion.rrf([ranking.tolist()], self.fusion.rrf_k).items():
                    fused[row] = fused.get(row, 0.0) + weight * score
        else:
            # Weighted scores over the dense candidates (the dense list covers the filter).
            rows = np.array(
                list(dict.fromkeys([*d_rows.tolist(), *l_rows, *(r for e in extra for r in e[0])])),
                dtype=np.int64,
            )
            dv = _scores_at(rows, d_rows, d_scores)
            lv = np.array([lex_of.get(int(r), 0.0) for r in rows], dtype=np.float32)
            fused = fusion.weighted(rows, dv, lv, alpha)
            for e_rows, e_scores, weight in extra:
                ev = fusion.minmax(_scores_at(rows, e_rows, e_scores))
                for row, score in zip(rows.tolist(), ev.tolist(), strict=True):
                    fused[row] += weight * score
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _scores_at(rows: np.ndarray, ranked: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Scores of a ranking at the given rows; rows it lacks get its lowest score."""
    known = dict(zip(ranked.tolist(), scores.tolist(), strict=True))
    floor = float(scores.min()) if scores.size else 0.0
    return np.array([known.get(int(r), floor) for r in rows], dtype=np.float32)
