"""The index folder on disk: its one writer (write_index, atomic), its one reader (load_index)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import dense, milvus_store
from .atomic import atomic_folder
from .errors import IndexLoadError, ModelError
from .lexical import LexicalIndex
from .milvus_store import MilvusTarget
from .sentences import SentenceVectors
from .types import DocumentMeta, Passage, Section

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
SECTIONS = "sections.json"
FAISS_FILE = "dense.faiss"
EMBED_KEYS = "embed_keys.json"
ML_FAISS = "ml.faiss"
ML_KEYS = "ml_keys.json"
BM25_DIR = "bm25"
TEXTS = "texts"  # texts/<doc_id>.txt: each document's text as read (passages' offsets index it)
FIX = "run `make index` to rebuild it"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file in the folder except the manifest, by relative path."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Vectors:
    """A dense index and the encoder its vectors stand for, as the manifest records it.

    `keys` are the content keys of the rows (indexer.vectors.passage_key), kept so that a
    rebuild reuses unchanged vectors; None writes none.
    """

    model: str
    dim: int
    query_prompt: str
    passage_prompt: str
    faiss_index: Any  # a faiss.Index
    keys: list[str] | None = None


def section_to_dict(s: Section) -> dict[str, Any]:
    return {
        "doc_id": s.doc_id,
        "ref": s.ref,
        "title": s.title,
        "heading_path": list(s.heading_path),
        "start": s.start,
        "end": s.end,
        "passage_ids": list(s.passage_ids),
    }


def text_path(folder: Path, doc_id: str) -> Path:
    """Where a document's text lies in an index folder; ValueError for an id that is no name."""
    if not doc_id or doc_id in (".", "..") or any(c in doc_id for c in "/\\\0"):
        raise ValueError(f"document id {doc_id!r} cannot name a file")
    return folder / TEXTS / f"{doc_id}.txt"


def write_index(
    out: Path,
    passages: list[Passage],
    sections: list[Section],
    documents: list[DocumentMeta],
    main: Vectors,
    lexical: LexicalIndex,
    chunk_size: int,
    faiss_kind: str,
    multilingual: Vectors | None = None,
    texts: Mapping[str, str] | None = None,
    sentences: SentenceVectors | None = None,
    milvus: MilvusTarget | None = None,
) -> None:
    """Write an index folder at `out`, atomically (see atomic_folder), with its manifest.

    The manifest names the model, the prompts, the documents and the sha256 of every file,
    which load_index verifies. `texts` are the documents' texts by doc_id (SourceDoc.text),
    stored as UTF-8 bytes exactly (no newline translation). `sentences`: the passages'
    sentence vectors (indexer.sentences), by the main model and, when given, the multilingual
    one. `milvus`: also write the passages into a new collection there, which the manifest
    names (`store`), and move its alias to it once the folder is in place
    (indexer.milvus_store).
    """
    with atomic_folder(Path(out)) as tmp:
        for doc_id, text in (texts or {}).items():
            path = text_path(tmp, doc_id)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        write_jsonl(tmp / PASSAGES, [p.to_dict() for p in passages])
        (tmp / SECTIONS).write_text(
            json.dumps([section_to_dict(s) for s in sections], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        if main.keys is not None:
            (tmp / EMBED_KEYS).write_text(json.dumps(main.keys), encoding="utf-8")
        dense.save(main.faiss_index, tmp / FAISS_FILE)
        lexical.save(tmp / BM25_DIR)
        if multilingual is not None:
            dense.save(multilingual.faiss_index, tmp / ML_FAISS)
            (tmp / ML_KEYS).write_text(json.dumps(multilingual.keys or []), encoding="utf-8")
        sentence_files = sentences.save(tmp) if sentences is not None else []
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "created_at": now_iso(),
            "model": main.model,
            "dim": main.dim,
            "query_prompt": main.query_prompt,
            "passage_prompt": main.passage_prompt,
            "passage_count": len(passages),
            "chunk_size": chunk_size,
            "faiss_index": faiss_kind,
            "documents": [d.to_dict() for d in documents],
            "files": file_checksums(tmp),
        }
        if sentences is not None:
            manifest["sentences"] = {
                "count": len(sentences.texts),
                "multilingual": sentences.multilingual is not None,
                "files": sentence_files,
            }
        if multilingual is not None:
            manifest["multilingual"] = {
                "model": multilingual.model,
                "dim": multilingual.dim,
                "query_prompt": multilingual.query_prompt,
                "passage_prompt": multilingual.passage_prompt,
                "files": [ML_FAISS, ML_KEYS],
            }
        if milvus is not None:  # last, so that little can fail after it is written
            manifest["store"] = milvus_store.write_version(
                milvus,
                passages,
                documents,
                main.faiss_index,
                None if multilingual is None else multilingual.faiss_index,
                faiss_kind,
                lexical,
            )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    if milvus is not None:
        milvus_store.publish(milvus, str(manifest["store"]["collection"]))


@dataclass(frozen=True, slots=True)
class MultilingualIndex:
    """The optional second dense index, by a multilingual encoder (rows = passages)."""

    model: str
    dim: int
    faiss_index: Any  # a faiss.Index


@dataclass
class LoadedIndex:
    """Everything the retrieval core needs, read from one index folder."""

    folder: Path
    manifest: dict[str, Any]
    passages: list[Passage]
    documents: list[DocumentMeta]
    sections: list[Section]
    faiss_index: Any  # a faiss.Index
    lexical: LexicalIndex
    by_id: dict[str, int] = field(default_factory=dict)
    multilingual: MultilingualIndex | None = None
    # The passages' sentence vectors (None: an index built before they were stored).
    sentences: SentenceVectors | None = None

    def __post_init__(self) -> None:
        self.by_id = {p.id: i for i, p in enumerate(self.passages)}

    @property
    def model(self) -> str:
        return str(self.manifest["model"])

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    def document(self, doc_id: str) -> DocumentMeta | None:
        return next((d for d in self.documents if d.doc_id == doc_id), None)

    def text(self, doc_id: str) -> str:
        """A document's text as read from its source: `text[p.start:p.end] == p.text`.

        Raises:
            LookupError: no such document. IndexLoadError: its text is missing (an index
                built before texts were stored) or unreadable.
        """
        if self.document(doc_id) is None:
            known = ", ".join(d.doc_id for d in self.documents)
            raise LookupError(f"no document {doc_id!r} in the index: known documents are {known}")
        path = text_path(self.folder, doc_id)
        try:
            return path.read_bytes().decode("utf-8")
        except FileNotFoundError as exc:
            raise IndexLoadError(
                f"index at {self.folder} holds no text of {doc_id!r} ({TEXTS}/{path.name} is "
                f"missing: the index was built before texts were stored): {FIX}"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexLoadError(f"text {path} cannot be read ({exc}): {FIX}") from exc


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        raise IndexLoadError(f"no index at {folder} (manifest.json is missing): {FIX}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"{path} is damaged ({exc}): {FIX}") from exc
    if not isinstance(manifest, dict):
        raise IndexLoadError(f"{path} is damaged (not a JSON object): {FIX}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexLoadError(
            f"index at {folder} has format version {version!r}, this code reads "
            f"{FORMAT_VERSION}: {FIX}"
        )
    return manifest


def load_index(
    folder: Path,
    expected_model: str | None = None,
    expected_dim: int | None = None,
    source_dir: Path | None = None,
    ef_search: int | None = None,
    mmap: bool = False,
) -> LoadedIndex:
    """Load and verify an index folder.

    Args:
        folder: the index folder (or the link to it).
        expected_model: refuse an index built with another embedding model.
        expected_dim: refuse an index whose vectors have another dimension.
        source_dir: when given, refuse an index whose source files changed since.
        ef_search: HNSW search breadth, for an HNSW index.
        mmap: map the FAISS and BM25 files instead of reading them into memory (a runtime
            that searches Milvus keeps them only for rebuilds and checks).

    Raises:
        IndexLoadError: missing, damaged or stale index. ModelError: model mismatch.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    try:
        files: dict[str, str] = manifest["files"]
        model = manifest["model"]
        dim = int(manifest["dim"])
        count = int(manifest["passage_count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexLoadError(f"{folder / MANIFEST} lacks field {exc}: {FIX}") from exc
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"index file {path} is missing: {FIX}")
        if sha256_file(path) != digest:
            raise IndexLoadError(
                f"index file {path} is damaged (its sha256 differs from the manifest): {FIX}"
            )
    if expected_model is not None and expected_model != model:
        raise ModelError(
            f"the index at {folder} was built with embedding model {model!r} but "
            f"EMBEDDING_MODEL is {expected_model!r}: {FIX} with the new model, or set "
            f"EMBEDDING_MODEL={model}"
        )
    if expected_dim is not None and expected_dim != dim:
        raise ModelError(
            f"the index at {folder} holds {dim}-dimensional vectors but the model gives "
            f"{expected_dim}: {FIX}"
        )
    documents = [DocumentMeta.from_dict(d) for d in manifest.get("documents", [])]
    if source_dir is not None:
        for doc in documents:
            src = Path(source_dir) / doc.source
            if src.is_file() and sha256_file(src) != doc.sha256:
                raise IndexLoadError(
                    f"{src} changed since the index was built, so its offsets would be wrong: {FIX}"
                )
    try:
        with (folder / PASSAGES).open(encoding="utf-8") as f:
            passages = [Passage.from_dict(json.loads(line)) for line in f if line.strip()]
        sections = [
            Section(
                doc_id=s["doc_id"],
                ref=s["ref"],
                title=s["title"],
                heading_path=tuple(s["heading_path"]),
                start=int(s["start"]),
                end=int(s["end"]),
                passage_ids=tuple(s["passage_ids"]),
            )
            for s in json.loads((folder / SECTIONS).read_text(encoding="utf-8"))
        ]
        index = dense.load(folder / FAISS_FILE, ef_search=ef_search, mmap=mmap)
        lexical = LexicalIndex.load(folder / BM25_DIR, len(passages), mmap=mmap)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexLoadError(f"index at {folder} cannot be read ({exc}): {FIX}") from exc
    if len(passages) != count or index.ntotal != count or index.d != dim:
        raise IndexLoadError(
            f"index at {folder} is inconsistent ({len(passages)} passages, "
            f"{index.ntotal} vectors of dimension {index.d}; manifest says {count} of {dim}): "
            f"{FIX}"
        )
    loaded = LoadedIndex(folder, manifest, passages, documents, sections, index, lexical)
    loaded.multilingual = _load_multilingual(folder, manifest, count, ef_search, mmap)
    held = manifest.get("sentences")
    if held:
        ml = loaded.multilingual
        ml_dim = ml.dim if held.get("multilingual") and ml is not None else None
        loaded.sentences = SentenceVectors.load(folder, (dim, ml_dim))
    return loaded


def _load_multilingual(
    folder: Path, manifest: dict[str, Any], count: int, ef_search: int | None, mmap: bool = False
) -> MultilingualIndex | None:
    """The multilingual vectors when the manifest lists them (built with MULTILINGUAL=true)."""
    ml = manifest.get("multilingual")
    if not ml:
        return None
    try:
        model, dim = str(ml["model"]), int(ml["dim"])
        index = dense.load(folder / ML_FAISS, ef_search=ef_search, mmap=mmap)
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise IndexLoadError(
            f"multilingual index at {folder} cannot be read ({exc}): {FIX}"
        ) from exc
    if index.ntotal != count or index.d != dim:
        raise IndexLoadError(
            f"multilingual index at {folder} is inconsistent ({index.ntotal} vectors of "
            f"dimension {index.d}; manifest says {count} of {dim}): {FIX}"
        )
    return MultilingualIndex(model, dim, index)
