"""Build the index folder from a folder of reports."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from . import dense, multilingual, store
from .chunk import chunk_document, embedding_text
from .embed import Embedder
from .errors import IndexLoadError, ModelError, SourceError
from .lexical import LexicalIndex
from .parse import ParsedDocument, parse, ref_within
from .settings import get_settings
from .types import DocumentMeta, Passage, Section

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceDoc:
    doc_id: str
    source: str
    sha256: str
    text: str


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
            f"  seconds    {self.total_s:.2f} (parse {self.parse_s:.2f}, embed {self.embed_s:.2f})"
            f"{ml}"
        )


def _doc_id(relative: Path) -> str:
    stem = relative.with_suffix("").as_posix()
    return re.sub(r"[\s/\\]+", "-", stem)


def read_sources(source_dir: Path) -> list[SourceDoc]:
    """Every .txt file under source_dir, decoded as strict UTF-8, in a stable order."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise SourceError(
            f"source folder {source_dir} does not exist: create it and put the reports "
            "there as UTF-8 .txt files, or pass --source"
        )
    files = sorted(p for p in source_dir.rglob("*.txt") if p.is_file())
    if not files:
        raise SourceError(f"source folder {source_dir} has no .txt files: add the reports there")
    docs = []
    for path in files:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path} is not UTF-8: byte {exc.start} (0x{raw[exc.start]:02x}) cannot be "
                "decoded; convert the file to UTF-8 (e.g. `iconv -f GB18030 -t UTF-8`)"
            ) from exc
        if not text.strip():
            raise SourceError(f"{path} is empty: add the report's text or remove the file")
        rel = path.relative_to(source_dir)
        docs.append(SourceDoc(_doc_id(rel), rel.as_posix(), hashlib.sha256(raw).hexdigest(), text))
    return docs


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


def _embed_key(embedder: Embedder, passage_prompt: str, text: str) -> str:
    return hashlib.sha256(f"{embedder.name}\0{passage_prompt}\0{text}".encode()).hexdigest()


def _previous_vectors(out: Path, model: str, dim: int) -> dict[str, np.ndarray]:
    """Vectors of the index already at `out`, by embedding key, when it used this model."""
    try:
        old = store.load_index(out, expected_model=model, expected_dim=dim)
        keys = json.loads((out / store.EMBED_KEYS).read_text(encoding="utf-8"))
    except (IndexLoadError, ModelError, OSError, ValueError):
        return {}
    if len(keys) != old.faiss_index.ntotal:
        return {}
    vectors = old.faiss_index.reconstruct_n(0, old.faiss_index.ntotal)
    return dict(zip(keys, vectors, strict=True))


def _previous_ml_vectors(out: Path, encoder: Embedder) -> dict[str, np.ndarray]:
    """Multilingual vectors of the index already at `out`, by key, when it used this encoder."""
    try:
        old = store.load_index(out)
        keys = multilingual.read_keys(out / store.ML_KEYS)
    except (IndexLoadError, ModelError, OSError, ValueError):
        return {}
    ml = old.multilingual
    if ml is None or ml.model != encoder.name or ml.dim != encoder.dim:
        return {}
    if len(keys) != ml.faiss_index.ntotal:
        return {}
    return dict(zip(keys, ml.faiss_index.reconstruct_n(0, ml.faiss_index.ntotal), strict=True))


def build(
    source_dir: Path,
    out: Path,
    embedder: Embedder,
    chunk_size: int = 160,
    index_kind: str = "flat",
    hnsw_m: int = 32,
    ef_search: int = 128,
    progress: bool = True,
    multilingual_encoder: Embedder | Literal[False] | None = None,
    ml_cache_dir: Path | None = None,
) -> BuildReport:
    """Parse, chunk, embed and index every report in `source_dir` into `out`, atomically.

    Unchanged passages embedded with the same model are copied from the index at `out`.
    A failure anywhere leaves the previous index at `out` as it was.

    `multilingual_encoder` adds the multilingual index (ml.faiss, ml_keys.json) for English
    questions: None follows MULTILINGUAL / MULTILINGUAL_MODEL / MULTILINGUAL_CACHE_DIR,
    False builds none, an encoder is used as given (with `ml_cache_dir` as its shared cache).
    """
    t0 = time.perf_counter()
    report = BuildReport(out=Path(out))
    sources = read_sources(source_dir)
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
        meta = dict(parsed.meta)
        title = str(meta.pop("title", src.doc_id))
        year = meta.pop("year", None)
        documents.append(
            DocumentMeta(
                doc_id=src.doc_id,
                source=src.source,
                sha256=src.sha256,
                title=title,
                date=meta.pop("date", None),  # type: ignore[arg-type]
                venue=meta.pop("venue", None),  # type: ignore[arg-type]
                speaker=meta.pop("speaker", None),  # type: ignore[arg-type]
                region=meta.pop("region", None),  # type: ignore[arg-type]
                year=int(year) if isinstance(year, int) else None,
                chars=len(src.text),
                extra={
                    **meta,
                    "passages": len(doc_passages),
                    "parts": sum(1 for h in parsed.headings if h.level == 1),
                    "sections": sum(1 for h in parsed.headings if h.level == 2),
                },
            )
        )
    report.parse_s = time.perf_counter() - t0

    texts = [embedding_text(p) for p in passages]
    prompt = getattr(embedder, "passage_prompt", "")
    keys = [_embed_key(embedder, prompt, t) for t in texts]
    cached = _previous_vectors(Path(out), embedder.name, embedder.dim)
    missing = [i for i, k in enumerate(keys) if k not in cached]
    t1 = time.perf_counter()
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if missing:
        fresh = embedder.encode_passages([texts[i] for i in missing], progress=progress)
        vectors[missing] = fresh
    for i, k in enumerate(keys):
        if k in cached:
            vectors[i] = cached[k]
    report.embed_s = time.perf_counter() - t1
    report.embedded, report.reused = len(missing), len(texts) - len(missing)

    ml_encoder = multilingual_encoder
    if ml_encoder is None:
        ml_encoder = multilingual.from_settings()
        ml_cache_dir = ml_cache_dir or get_settings().multilingual_cache_dir
    ml = None
    if ml_encoder:
        ml = multilingual.embed_passages(
            ml_encoder,
            [p.text for p in passages],  # the heading prefix lowers MRR with e5 (measured)
            _previous_ml_vectors(Path(out), ml_encoder),
            ml_cache_dir,
            progress,
        )
        report.ml_model = ml_encoder.name
        report.ml_embedded, report.ml_reused, report.ml_embed_s = ml.embedded, ml.reused, ml.seconds

    faiss_index = dense.build_index(vectors, index_kind, hnsw_m, ef_search)
    lexical = LexicalIndex.build(texts)
    with store.atomic_folder(Path(out)) as tmp:
        store.write_jsonl(tmp / store.PASSAGES, [p.to_dict() for p in passages])
        (tmp / store.SECTIONS).write_text(
            json.dumps(
                [
                    {
                        "doc_id": s.doc_id,
                        "ref": s.ref,
                        "title": s.title,
                        "heading_path": list(s.heading_path),
                        "start": s.start,
                        "end": s.end,
                        "passage_ids": list(s.passage_ids),
                    }
                    for s in sections
                ],
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        (tmp / store.EMBED_KEYS).write_text(json.dumps(keys), encoding="utf-8")
        dense.save(faiss_index, tmp / store.FAISS_FILE)
        lexical.save(tmp / store.BM25_DIR)
        if ml_encoder and ml is not None:
            ml_index = dense.build_index(ml.vectors, index_kind, hnsw_m, ef_search)
            dense.save(ml_index, tmp / store.ML_FAISS)
            (tmp / store.ML_KEYS).write_text(json.dumps(ml.keys), encoding="utf-8")
        manifest = {
            "format_version": store.FORMAT_VERSION,
            "created_at": store.now_iso(),
            "model": embedder.name,
            "dim": embedder.dim,
            "query_prompt": getattr(embedder, "query_prompt", ""),
            "passage_prompt": prompt,
            "passage_count": len(passages),
            "chunk_size": chunk_size,
            "faiss_index": index_kind,
            "documents": [d.to_dict() for d in documents],
            "files": store.file_checksums(tmp),
        }
        if ml_encoder:
            manifest["multilingual"] = {
                "model": ml_encoder.name,
                "dim": ml_encoder.dim,
                "query_prompt": getattr(ml_encoder, "query_prompt", ""),
                "passage_prompt": getattr(ml_encoder, "passage_prompt", ""),
                "files": [store.ML_FAISS, store.ML_KEYS],
            }
        (tmp / store.MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    report.documents = len(documents)
    report.parts = sum(int(d.extra["parts"]) for d in documents)
    report.sections = sum(int(d.extra["sections"]) for d in documents)
    report.passages = len(passages)
    report.mean_passage_chars = sum(len(p.text) for p in passages) / len(passages)
    report.total_s = time.perf_counter() - t0
    return report
