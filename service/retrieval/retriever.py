"""The retrieval core: dense, BM25 and hybrid search over a loaded index. No HTTP here.

A thin facade: look-ups are `lookup.Corpus`'s, rankings `rank`'s, fusion `fusion`'s, English
terms `translate`'s; the Retriever picks the encoder for the query's language and joins them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from indexer.encoders import CachedEmbedder, Embedder
from indexer.errors import ModelError
from indexer.milvus_search import MilvusStore
from indexer.store import FIX, LoadedIndex
from indexer.types import Hit, Passage, Section

from ..catalogue import Catalogue, Report
from ..query import Query
from ..refs import is_bare, normalise_ref
from ..scope import Scope
from . import fusion
from .lookup import Corpus
from .sentences import KnownSentences
from .store import FileStore, PassageStore, Where
from .translate import Translator

# Each ranking contributes this many candidates to hybrid fusion (at least 2k).
CANDIDATES = 100
# Sentence vectors kept per encoder for composed answers (the report has a few hundred).
SENTENCE_CACHE = 20_000
# Searched per report (a comparison), each report gives at least this many hits.
PER_REPORT_MIN = 2


@dataclass(frozen=True, slots=True)
class ReportHits:
    """The hits of one report, when a query is searched report by report."""

    report: Report
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Hits for a query, how the query was resolved, and where the time went.

    `text` is what was searched: the query's text, or what is left of it once a section
    reference in it became the filter `section`. `groups` holds the hits report by report
    when the query's scope is searched per report (their hits, in order, are `hits`).
    """

    query: Query
    text: str
    hits: list[Hit]
    resolved: Literal["search", "section", "passage"] = "search"
    section: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    groups: tuple[ReportHits, ...] = ()


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """How hybrid mode combines the rankings, chosen by 5-fold cross-validation on the gold
    set (`python -m eval tune fusion`; see README, "Fusion").

    Chinese questions: weighted min-max fusion of the dense (weight alpha) and BM25
    (1 - alpha) scores, plus the multilingual dense ranking's min-max scores at weight
    zh_ml_weight where the index has multilingual vectors. Every fold chose alpha 0.4 and
    weight 0.75 over 25 weighted configurations and RRF: cross-validated R@1 0.737 and
    MRR@10 0.831 (BM25 alone 0.644 and 0.736), everyday-words R@5 0.907 (0.814 without the
    third ranking). English questions fuse the multilingual dense ranking with BM25 over
    the translated terms (en_method, en_alpha).
    """

    method: Literal["rrf", "weighted"] = "weighted"
    alpha: float = 0.4
    rrf_k: int = fusion.RRF_K
    en_method: Literal["rrf", "weighted"] = "weighted"
    en_alpha: float = 0.5
    zh_ml_weight: float = 0.75


def shares(k: int, reports: int) -> list[int]:
    """Hits per report when k are shared among reports: as even as k allows, at least
    PER_REPORT_MIN each (so more than k when k is small)."""
    if k < PER_REPORT_MIN * reports:
        return [PER_REPORT_MIN] * reports
    return [k // reports + (1 if i < k % reports else 0) for i in range(reports)]


def cached(embedder: Embedder, cache_size: int) -> CachedEmbedder:
    """The embedder behind a cache of query and sentence vectors (itself if it is one)."""
    if isinstance(embedder, CachedEmbedder):
        return embedder
    return CachedEmbedder(embedder, queries=cache_size, passages=SENTENCE_CACHE)


class Retriever:
    """Search one loaded index with one embedder (and its multilingual encoder, if given).

    Args:
        index: the loaded index.
        embedder: the model the index's main vectors were made with (a CachedEmbedder is
            used as it is, so retrievers can share one).
        fusion_config: how hybrid mode fuses rankings.
        cache_size: query vectors kept per encoder.
        multilingual: the encoder of the index's multilingual vectors, for English
            questions; None leaves English questions on the Chinese path.
        cedict_cache: a folder to keep the English translator's reversed dictionary in
            between processes (service.retrieval.translate; start-up 2-3 s faster).
        store: where the rankings come from (service.retrieval.store); the index's own
            FAISS and bm25s files by default.

    Raises:
        ModelError: the multilingual encoder does not match the index's multilingual part.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        fusion_config: FusionConfig | None = None,
        cache_size: int = 1024,
        multilingual: Embedder | None = None,
        store: PassageStore | None = None,
        cedict_cache: Path | None = None,
    ) -> None:
        self.index = index
        self.store: PassageStore = store or FileStore(index)
        self.corpus = Corpus(index)
        self.catalogue = Catalogue(index.documents)
        self.embedder = cached(embedder, cache_size)
        self.fusion = fusion_config or FusionConfig()
        self.ml_encoder = cached(self._check(multilingual), cache_size) if multilingual else None
        self._translator: Translator | None = None
        self._translator_lock = threading.Lock()
        self._cedict_cache = cedict_cache
        self._sentences = self._known_sentences()

    def _known_sentences(self) -> dict[str, KnownSentences]:
        """The sentence-vector encoders over the index's stored sentence vectors, by "main"
        and "multilingual" (none for an index built before they were stored)."""
        held = self.index.sentences
        if held is None:
            return {}
        rows = {t: i for i, t in enumerate(held.texts)}
        out = {"main": KnownSentences(self.embedder, rows, held.main)}
        if self.ml_encoder is not None and held.multilingual is not None:
            out["multilingual"] = KnownSentences(self.ml_encoder, rows, held.multilingual)
        return out

    def _check(self, encoder: Embedder) -> Embedder:
        ml = self.index.multilingual
        if ml is None:
            raise ModelError(
                f"the index at {self.index.folder} has no multilingual vectors: {FIX} "
                "with MULTILINGUAL=true"
            )
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
                self._translator = Translator(
                    self.index.lexical.retriever.vocab_dict, cedict_cache=self._cedict_cache
                )
            return self._translator

    def english(self, query: Query) -> bool:
        """Whether the query goes the English (multilingual) way."""
        return self.ml_encoder is not None and query.english

    def encoder_for(self, query: Query) -> CachedEmbedder:
        """The encoder that fits the query's language (the multilingual one for English)."""
        if self.ml_encoder is not None and query.english:
            return self.ml_encoder
        return self.embedder

    def sentence_encoder_for(self, query: Query) -> KnownSentences | CachedEmbedder:
        """The encoder of the query's language for scoring sentences of passages: their
        vectors from the index where it holds them (indexer.sentences)."""
        which = "multilingual" if self.english(query) else "main"
        return self._sentences.get(which) or self.encoder_for(query)

    # ---- look-ups (lookup.Corpus) --------------------------------------------------

    @property
    def passages(self) -> list[Passage]:
        return self.index.passages

    def passage(self, passage_id: str) -> Passage:
        return self.corpus.passage(passage_id)

    def context(self, passage_id: str, n: int) -> tuple[Passage, list[Passage], list[Passage]]:
        return self.corpus.context(passage_id, n)

    def section(self, ref: str, doc_id: str | None = None) -> Section:
        return self.corpus.section(ref, doc_id)

    # ---- search --------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        """Rank passages for a query (see service.query.understand).

        A passage id or a bare section reference (三（四）讲了什么, 第三部分第四节) resolves to
        that passage or section directly, and a section reference with more words restricts
        the search to that section.

        Raises:
            NotFoundError: unknown document or section.
        """
        t0 = time.perf_counter()
        text, section = query.text, query.section
        scope = query.scope
        if scope is not None and scope.empty:
            return SearchResult(query, text, [], "search", section)
        if query.resolve_refs:
            direct = self._resolve(query)
            if direct is not None:
                return direct
            ref = query.ref
            if (
                ref is not None
                and section is None
                and self.corpus.has_section(ref.ref, query.doc_id)
            ):
                section = ref.ref
                text = ref.rest or text
        if scope is not None and scope.per_report:
            return self._per_report(query, scope, text, section, t0)
        rows = self.corpus.rows(query.allowed, section)
        only = query.doc_id
        if scope is not None and only is not None and section is None:
            rows = self.corpus.focus(rows, only, scope.focus_of(only))
        hits, timings = self._rank(query, text, rows, doc_id=only)
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(query, text, hits, "search", section, timings)

    def _per_report(
        self, query: Query, scope: Scope, text: str, section: str | None, t0: float
    ) -> SearchResult:
        """Each report of the scope searched on its own; their hits taken in turns (each
        report's best, then each one's second...), so any top k holds every report."""
        reports = scope.reports
        groups: list[ReportHits] = []
        timings: dict[str, float] = {}
        for report, k in zip(reports, shares(query.k, len(reports)), strict=True):
            own = section if section and self.corpus.has_section(section, report.doc_id) else None
            rows = self.corpus.rows((report.doc_id,), own)
            if own is None:
                rows = self.corpus.focus(rows, report.doc_id, scope.focus_of(report.doc_id))
            hits, spent = self._rank(query, text, rows, k, report.doc_id)
            for name, ms in spent.items():
                timings[name] = timings.get(name, 0.0) + ms
            groups.append(ReportHits(report, hits))
        turns = (
            g.hits[i]
            for i in range(max(len(g.hits) for g in groups))
            for g in groups
            if i < len(g.hits)
        )
        merged = [
            Hit(h.passage, rank, h.score, h.dense, h.lexical)
            for rank, h in enumerate(turns, start=1)
        ]
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(query, text, merged, "search", section, timings, tuple(groups))

    def _resolve(self, query: Query) -> SearchResult | None:
        """A passage id or a bare section reference, answered without ranking."""
        text, doc_id = query.text, query.doc_id
        row = self.index.by_id.get(text)
        if row is not None:
            p = self.passages[row]
            return SearchResult(query, text, [Hit(p, 1, 1.0)], "passage", p.section)
        normalised = normalise_ref(text)
        if self.corpus.has_section(normalised, doc_id):
            sec = self.corpus.section(normalised, doc_id)
        else:
            ref = query.ref
            if ref is None or not is_bare(ref.rest) or not self.corpus.has_section(ref.ref, doc_id):
                return None
            sec = self.corpus.section(ref.ref, doc_id)
        ids = sec.passage_ids[: query.k]
        hits = [Hit(self.passage(pid), i, 1.0) for i, pid in enumerate(ids, start=1)]
        return SearchResult(query, text, hits, "section", sec.ref)

    def _rank(
        self,
        query: Query,
        text: str,
        rows: np.ndarray | None,
        k: int | None = None,
        doc_id: str | None = None,
    ) -> tuple[list[Hit], dict[str, float]]:
        """The fused ranking within `rows`; `doc_id`: they are one document's, whose own
        BM25 statistics score them (indexer.lexical)."""
        timings: dict[str, float] = {}
        k, mode = k or query.k, query.mode
        n = max(CANDIDATES, 2 * k) if mode == "hybrid" else k
        english = self.english(query)
        ml = self.index.multilingual if self.ml_encoder is not None else None
        d_rows: np.ndarray = np.empty(0, dtype=np.int64)
        d_scores: np.ndarray = np.empty(0, dtype=np.float32)
        lex_of: dict[int, float] = {}
        extra: list[tuple[np.ndarray, np.ndarray, float]] = []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            qvec = self.encoder_for(query).encode_query(text)
            timings["encode_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            d_rows, d_scores = self.store.dense(
                qvec, n, Where(rows=rows), english and ml is not None
            )
            timings["faiss_ms"] = (time.perf_counter() - t) * 1000
        if mode in ("bm25", "hybrid"):
            t = time.perf_counter()
            if english:
                terms = " ".join(self.translator().terms(text))
            else:
                terms = " ".join((text, *query.terms))
            if english:
                timings["translate_ms"] = (time.perf_counter() - t) * 1000
            if terms:
                l_rows, l_scores = self.store.lexical(terms, n, Where(rows=rows), doc_id)
                lex_of = dict(zip(l_rows.tolist(), l_scores.tolist(), strict=True))
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        method, alpha = self.fusion.method, self.fusion.alpha
        if english:
            method, alpha = self.fusion.en_method, self.fusion.en_alpha
        elif (
            mode == "hybrid"
            and ml is not None
            and self.ml_encoder is not None
            and self.fusion.zh_ml_weight > 0
        ):
            # Counted in the encode and faiss timings, whose names are part of Server-Timing.
            t = time.perf_counter()
            m_vec = self.ml_encoder.encode_query(text)
            timings["encode_ms"] = timings.get("encode_ms", 0.0) + (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            m_rows, m_scores = self.store.dense(m_vec, n, Where(rows=rows), multilingual=True)
            timings["faiss_ms"] = timings.get("faiss_ms", 0.0) + (time.perf_counter() - t) * 1000
            extra.append((m_rows, m_scores, self.fusion.zh_ml_weight))
        dense_of: dict[int, float] = dict(zip(d_rows.tolist(), d_scores.tolist(), strict=True))
        ranked: list[tuple[int, float]]
        if mode == "dense":
            ranked = list(dense_of.items())
        elif mode == "bm25":
            ranked = list(lex_of.items())
        elif isinstance(self.store, MilvusStore) and self.store.ranker != "project" and not english:
            # MILVUS_RANKER: Milvus' own hybrid search over the same rankings, to compare.
            ml_vec = m_vec if extra else None
            ranked = self.store.hybrid(qvec, terms, n, Where(rows=rows), alpha, ml_vec, extra)
        else:
            ranked = fusion.fuse(d_rows, d_scores, lex_of, method, alpha, self.fusion.rrf_k, extra)
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
