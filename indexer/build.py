"""Build the index folder from a folder of reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import dense, metadata, sentences, store, vectors
from .chunk import chunk_document, embedding_text
from .encoders.base import Embedder
from .errors import IndexLoadError, ModelError, SourceError
from .lexical import LexicalIndex
from .milvus_store import MilvusTarget
from .parse import ParsedDocument, parse, ref_within
from .sources import MAX_SOURCE_BYTES, read_sources
from .types import DocumentMeta, Passage, Section

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did, for the CLI summary and the benchmark."""

    out: Path
    documents: int = 0
    parts: int = 0
    sections: int = 0
    passages: int = 0
    mean_passage_chars: float = 0.0
    embedded: int = 0
    reused: int = 0
    parse_s: float = 0.0
    embed_s: float = 0.0
    total_s: float = 0.0
    warnings: list[str] = field(default_factory=list)
    ml_model: str | None = None
    ml_embedded: int = 0
    ml_reused: int = 0
    ml_embed_s: float = 0.0
    sentences: int = 0
    sentences_embedded: int = 0  # by either encoder
    sentences_embed_s: float = 0.0

    def summary(self) -> str:
        ml = (
            f"\n  multilingual {self.ml_model}: {self.ml_embedded} new, {self.ml_reused} reused "
            f"({self.ml_embed_s:.2f} s)"
            if self.ml_model
            else ""
        )
        return (
            f"index written to {self.out}\n"
            f"  documents  {self.documents}\n"
            f"  parts      {self.parts}\n"
            f"  sections   {self.sections}\n"
            f"  passages   {self.passages} (mean {self.mean_passage_chars:.1f} chars)\n"
            f"  embedded   {self.embedded} new, {self.reused} reused from the previous index\n"
            f"  sentences  {self.sentences} ({self.sentences_embedded} embedded, "
            f"{self.sentences_embed_s:.2f} s)\n"
            f"  seconds    {self.total_s:.2f} (parse {self.parse_s:.2f}, embed {self.embed_s:.2f})"
            f"{ml}"
        )


def sections_of(doc_id: str, parsed: ParsedDocument, passages: list[Passage]) -> list[Section]:
    """Every heading as a Section spanning its own heading and the passages under it."""
    out = []
    for h in parsed.headings:
        inside = [p for p in passages if ref_within(p.section, h.ref)]
        end = max([h.end, *(p.end for p in inside)])
        out.append(
            Section(doc_id, h.ref, h.title, h.path, h.start, end, tuple(p.id for p in inside))
        )
    return out


def _previous_index(out: Path) -> store.LoadedIndex | None:
    """The index already at `out`, whose vectors a rebuild reuses (None: none usable)."""
    try:
        return store.load_index(out)
    except (IndexLoadError, ModelError):
        return None


def _previous_vectors(
    old: store.LoadedIndex | None, main: Embedder, ml: Embedder | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Vectors of the previous index by content key: those of the same model, and
    those of the same multilingual encoder (empty where it used another one, or has none)."""
    if old is None:
        return {}, {}
    same = old.model == main.name and old.dim == main.dim
    main_vectors = _by_key(old.folder / store.EMBED_KEYS, old.faiss_index) if same else {}
    ml_vectors: dict[str, np.ndarray] = {}
    old_ml = old.multilingual
    if ml is not None and old_ml is not None and (old_ml.model, old_ml.dim) == (ml.name, ml.dim):
        ml_vectors = _by_key(old.folder / store.ML_KEYS, old_ml.faiss_index)
    return main_vectors, ml_vectors


def _previous_sentences(
    old: store.LoadedIndex | None, main: Embedder, ml: Embedder | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Sentence vectors of the previous index by their cache keys, where its models are
    these (see _previous_vectors)."""
    if old is None:
        return {}, {}
    held = old.sentences
    if held is None:
        return {}, {}
    main_of: dict[str, np.ndarray] = {}
    if (old.model, old.dim) == (main.name, main.dim):
        main_of = {
            vectors.passage_key(main, t): v for t, v in zip(held.texts, held.main, strict=True)
        }
    ml_of: dict[str, np.ndarray] = {}
    old_ml, ml_held = old.multilingual, held.multilingual
    if (
        ml is not None
        and ml_held is not None
        and old_ml is not None
        and (old_ml.model, old_ml.dim) == (ml.name, ml.dim)
    ):
        ml_of = {vectors.passage_key(ml, t): v for t, v in zip(held.texts, ml_held, strict=True)}
    return main_of, ml_of


def _embed_sentences(
    report: BuildReport,
    texts: list[str],
    old: store.LoadedIndex | None,
    main: Embedder,
    ml: Embedder | None,
    ml_cache_dir: Path | None,
    progress: bool,
) -> sentences.SentenceVectors:
    """Vectors of every distinct sentence of the passages, by both encoders."""
    distinct = sentences.unique_sentences(texts)
    previous, previous_ml = _previous_sentences(old, main, ml)
    got = vectors.embed_passages(main, distinct, previous, progress=progress)
    ml_got = None
    if ml is not None:
        ml_got = vectors.embed_passages(ml, distinct, previous_ml, ml_cache_dir, progress)
    report.sentences = len(distinct)
    report.sentences_embedded = got.embedded + (ml_got.embedded if ml_got else 0)
    report.sentences_embed_s = got.seconds + (ml_got.seconds if ml_got else 0.0)
    return sentences.SentenceVectors(
        distinct, got.vectors, ml_got.vectors if ml_got is not None else None
    )


def _by_key(keys_file: Path, faiss_index: Any) -> dict[str, np.ndarray]:
    """An index's vectors by the content keys stored beside it ({} if they do not match)."""
    try:
        keys = vectors.read_keys(keys_file)
    except (OSError, ValueError):
        return {}
    if len(keys) != faiss_index.ntotal:
        return {}
    return dict(zip(keys, faiss_index.reconstruct_n(0, faiss_index.ntotal), strict=True))


def build(
    source_dir: Path,
    out: Path,
    embedder: Embedder,
    chunk_size: int = 160,
    index_kind: str = "flat",
    hnsw_m: int = 32,
    ef_search: int = 128,
    progress: bool = True,
    multilingual_encoder: Embedder | None = None,
    ml_cache_dir: Path | None = None,
    max_source_bytes: int = MAX_SOURCE_BYTES,
    milvus: MilvusTarget | None = None,
) -> BuildReport:
    """Parse, chunk, embed and index every report in `source_dir` into `out`, atomically.

    Unchanged passages embedded with the same model are copied from the index at `out`.
    A failure anywhere leaves the previous index at `out` as it was.

    `multilingual_encoder` adds the multilingual index (ml.faiss, ml_keys.json) for English
    questions, with `ml_cache_dir` as its vector cache shared by builds; None builds none.
    `milvus` also writes the version into a Milvus collection (indexer.milvus_store).
    """
    t0 = time.perf_counter()
    report = BuildReport(out=Path(out))
    sources = read_sources(source_dir, max_source_bytes)
    catalogue = metadata.read_catalogue(Path(source_dir))
    _warn(report, metadata.stale_entries(catalogue, (s.source for s in sources)))
    passages: list[Passage] = []
    sections: list[Section] = []
    documents: list[DocumentMeta] = []
    for src in sources:
        parsed = parse(src.text, name=src.source)
        if not parsed.headings:
            report.warnings.append(f"{src.source}: no headings found; indexed as flat paragraphs")
        doc_passages = chunk_document(src.doc_id, parsed, chunk_size)
        if not doc_passages:
            raise SourceError(f"{src.source} has no text to index")
        passages.extend(doc_passages)
        sections.extend(sections_of(src.doc_id, parsed, doc_passages))
        meta = metadata.describe(src.source, src.text, parsed, catalogue)
        _warn(report, meta.warnings)
        # The speaker's office as the text gives it, unless the catalogue named another speaker.
        role = parsed.meta.get("speaker_role")
        role = role if role and parsed.meta.get("speaker") == meta.speaker else None
        documents.append(
            DocumentMeta(
                doc_id=src.doc_id,
                source=src.source,
                sha256=src.sha256,
                title=meta.title,
                date=meta.date,
                venue=meta.venue,
                speaker=meta.speaker,
                region=meta.region,
                year=meta.year,
                level=meta.level,
                chars=len(src.text),
                extra={
                    **({"speaker_role": role} if role else {}),
                    "passages": len(doc_passages),
                    "parts": sum(1 for h in parsed.headings if h.level == 1),
                    "sections": sum(1 for h in parsed.headings if h.level == 2),
                },
            )
        )
    report.parse_s = time.perf_counter() - t0

    texts = [embedding_text(p) for p in passages]
    old = _previous_index(Path(out))
    previous, previous_ml = _previous_vectors(old, embedder, multilingual_encoder)
    main = vectors.embed_passages(embedder, texts, previous, progress=progress)
    report.embed_s, report.embedded, report.reused = main.seconds, main.embedded, main.reused

    ml = None
    if multilingual_encoder is not None:
        ml = vectors.embed_passages(
            multilingual_encoder,
            [p.text for p in passages],  # the heading prefix lowers MRR with e5 (measured)
            previous_ml,
            ml_cache_dir,
            progress,
        )
        report.ml_model = multilingual_encoder.name
        report.ml_embedded, report.ml_reused, report.ml_embed_s = ml.embedded, ml.reused, ml.seconds

    held = _embed_sentences(
        report,
        [p.text for p in passages],
        old,
        embedder,
        multilingual_encoder,
        ml_cache_dir,
        progress,
    )
    del old, previous, previous_ml  # the previous index's memory, before writing the new one

    store.write_index(
        Path(out),
        passages,
        sections,
        documents,
        _vectors(embedder, dense.build_index(main.vectors, index_kind, hnsw_m, ef_search), main),
        LexicalIndex.build(texts, [p.doc_id for p in passages]),
        chunk_size,
        index_kind,
        None
        if ml is None or multilingual_encoder is None
        else _vectors(
            multilingual_encoder, dense.build_index(ml.vectors, index_kind, hnsw_m, ef_search), ml
        ),
        texts={src.doc_id: src.text for src in sources},
        sentences=held,
        milvus=milvus,
    )

    report.documents = len(documents)
    report.parts = sum(int(d.extra["parts"]) for d in documents)
    report.sections = sum(int(d.extra["sections"]) for d in documents)
    report.passages = len(passages)
    report.mean_passage_chars = sum(len(p.text) for p in passages) / len(passages)
    report.total_s = time.perf_counter() - t0
    return report


def _warn(report: BuildReport, warnings: Iterable[str]) -> None:
    """Log each warning and keep it in the report (the CLI prints them)."""
    for warning in warnings:
        log.warning("%s", warning)
        report.warnings.append(warning)


def _vectors(
    encoder: Embedder, faiss_index: Any, embedded: vectors.EmbeddedPassages
) -> store.Vectors:
    return store.Vectors(
        encoder.name,
        encoder.dim,
        getattr(encoder, "query_prompt", ""),
        getattr(encoder, "passage_prompt", ""),
        faiss_index,
        embedded.keys,
    )
