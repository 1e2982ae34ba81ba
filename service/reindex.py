"""Add, replace and remove reports while the service runs: write the source, build a new index
version beside the serving one, and hand the new Runtime over to be served.

One build at a time (a second is refused with BuildInProgressError). The upload is checked on
its own first, then the build reads a staged copy of the source folder with the change applied
and writes the index atomically (indexer.atomic: the serving version stays until the new one is
complete); only then is the source folder itself changed. A failure anywhere leaves the index,
the source folder and the serving Runtime as they were, and is kept for `status()`.

Unchanged passages keep their vectors: indexer.build copies them from the index it replaces,
so only the changed document is embedded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.build import BuildReport, build
from indexer.encoders.base import Embedder
from indexer.errors import ReportQAError, SourceError
from indexer.metadata import read_catalogue
from indexer.sources import CATALOGUE, SUFFIXES, read_sources
from indexer.store import read_manifest

from . import runtime
from .errors import (
    BuildFailedError,
    BuildInProgressError,
    DocumentExistsError,
    NotFoundError,
    UploadError,
    UploadTooLargeError,
)
from .runtime import Runtime
from .settings import Settings

# A file name as a report's doc_id: letters (any script), digits, - _ . ; no path, no dotfile.
_NAME = re.compile(r"[^\W_][\w.-]*", re.UNICODE)
_DOING = {"added": "adding", "replaced": "replacing", "removed": "removing"}


@dataclass(frozen=True, slots=True)
class Upload:
    """A report as uploaded: its file name, bytes and the metadata the caller gave."""

    filename: str
    data: bytes
    region: str | None = None
    year: int | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What a write did, once the new version serves."""

    action: str  # "added", "replaced" or "removed"
    doc_id: str
    version: str
    passages_added: int
    passages_removed: int
    embedded: int
    reused: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Status:
    """The serving version and what the builder is doing."""

    version: str | None
    built_at: str | None
    building: str | None
    last_error: str | None


def check_name(filename: str) -> tuple[str, str]:
    """(file name, doc_id) of an upload; refuses paths, dotfiles and other formats."""
    name = filename.strip()
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        raise UploadError(
            f"the file name {filename!r} is not a plain file name: send the report as e.g. "
            "beijing-2026-government-work-report.txt, without folders"
        )
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUFFIXES:
        raise UploadError(
            f"{name!r} is not a .txt or .docx file: send the report as a UTF-8 .txt file or a "
            "Word .docx document"
        )
    if not _NAME.fullmatch(stem) or name == CATALOGUE:
        raise UploadError(
            f"{name!r} cannot be a document id: use letters, digits, '-', '_' and '.' only, "
            "starting with a letter or digit"
        )
    return stem + suffix.lower(), stem


class Reindexer:
    """Applies one write at a time to the source folder and the index of `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.building: str | None = None
        self.last_error: str | None = None

    def status(self) -> Status:
        index_dir = Path(self.settings.index_dir)
        built_at: str | None = None
        version: str | None = None
        try:
            built_at = str(read_manifest(index_dir).get("created_at"))
            version = index_dir.resolve().name
        except ReportQAError:
            pass  # no index yet: GET /index answers 503 before it asks
        return Status(version, built_at, self.building, self.last_error)

    def add(self, current: Runtime, upload: Upload, serve: Callable[[Runtime], None]) -> Change:
        """Add a report that is not in the corpus yet (DocumentExistsError if it is)."""
        name, doc_id = check_name(upload.filename)
        if current.index.document(doc_id) is not None or self._source_of(doc_id):
            raise DocumentExistsError(
                f"document {doc_id!r} exists already: replace it with PUT /documents/{doc_id}"
            )
        return self._apply("added", doc_id, current, serve, upload, name)

    def replace(
        self, current: Runtime, doc_id: str, upload: Upload, serve: Callable[[Runtime], None]
    ) -> Change:
        """Replace a report's source with the upload (its file name may differ; its doc_id not)."""
        self._known(current, doc_id)
        name, uploaded_id = check_name(upload.filename)
        if uploaded_id != doc_id:
            name = doc_id + os.path.splitext(name)[1]
        return self._apply("replaced", doc_id, current, serve, upload, name)

    def remove(self, current: Runtime, doc_id: str, serve: Callable[[Runtime], None]) -> Change:
        """Remove a report from the source folder and the index."""
        self._known(current, doc_id)
        return self._apply("removed", doc_id, current, serve, None, None)

    # ---- internals ---------------------------------------------------------------------

    def _known(self, current: Runtime, doc_id: str) -> None:
        if current.index.document(doc_id) is None:
            known = ", ".join(d.doc_id for d in current.index.documents)
            raise NotFoundError(f"no document {doc_id!r}: known documents are {known}")

    def _source_of(self, doc_id: str, current: Runtime | None = None) -> list[str]:
        """The source files of a doc_id, relative to the source folder: the one the index
        names (it may be in a subfolder) and any at the top of the folder."""
        folder = Path(self.settings.source_dir)
        meta = current.index.document(doc_id) if current is not None else None
        names = [meta.source] if meta is not None else []
        names += [doc_id + s for s in SUFFIXES if doc_id + s not in names]
        return [n for n in names if (folder / n).is_file()]

    def _check_upload(self, upload: Upload, name: str, staging: Path) -> None:
        """Read the upload alone, as the build will, so its problems name it, not the build."""
        limit = self.settings.max_source_bytes
        if len(upload.data) > limit:
            raise UploadTooLargeError(
                f"{name} is {len(upload.data) / 2**20:.1f} MB, over the "
                f"{limit / 2**20:.0f} MB limit for a report (MAX_SOURCE_BYTES)"
            )
        if not upload.data.strip():
            raise UploadError(f"{name} is empty: send the report's text")
        alone = staging / "alone"
        alone.mkdir()
        (alone / name).write_bytes(upload.data)
        try:
            read_sources(alone, limit)
        except SourceError as exc:
            raise UploadError(str(exc).replace(str(alone) + os.sep, "")) from exc

    def _apply(
        self,
        action: str,
        doc_id: str,
        current: Runtime,
        serve: Callable[[Runtime], None],
        upload: Upload | None,
        name: str | None,
    ) -> Change:
        if not self._lock.acquire(blocking=False):
            raise BuildInProgressError(
                f"another write is being built ({self.building}): retry when GET /index "
                "shows no build in progress"
            )
        t0 = time.perf_counter()
        try:
            self.building = f"{_DOING[action]} {doc_id}"
            change = self._build(action, doc_id, current, serve, upload, name, t0)
        except (UploadError, NotFoundError, DocumentExistsError):
            raise
        except SourceError as exc:
            self.last_error = str(exc)
            raise UploadError(f"the corpus with this change cannot be indexed: {exc}") from exc
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise BuildFailedError(
                f"the new index version could not be built ({self.last_error}); the serving "
                "version is unchanged"
            ) from exc
        finally:
            self.building = None
            self._lock.release()
        self.last_error = None
        return change

    def _build(
        self,
        action: str,
        doc_id: str,
        current: Runtime,
        serve: Callable[[Runtime], None],
        upload: Upload | None,
        name: str | None,
        t0: float,
    ) -> Change:
        settings = self.settings
        source = Path(settings.source_dir)
        index_dir = Path(settings.index_dir)
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".reindex-", dir=index_dir.parent) as tmp:
            staging = Path(tmp)
            if upload is not None and name is not None:
                self._check_upload(upload, name, staging)
            staged = staging / "source"
            shutil.copytree(source, staged)
            replaced = self._source_of(doc_id, current)
            for old in replaced:
                (staged / old).unlink()
            retriever = current.retriever
            ml = retriever.ml_encoder if settings.multilingual else None
            try:
                catalogue = None
                if upload is not None and name is not None:
                    (staged / name).write_bytes(upload.data)
                    catalogue = self._catalogue_entry(staged, name, upload)
                report = self._index(staged, retriever.embedder, ml)
            except SourceError as exc:  # name the source folder, not the staged copy
                raise SourceError(str(exc).replace(str(staged), str(source))) from exc
            # The index now holds the change: make the source folder say the same.
            for old in replaced:
                (source / old).unlink()
            if upload is not None and name is not None:
                _write_atomic(source / name, upload.data)
            if catalogue is not None:
                _write_atomic(source / CATALOGUE, catalogue.encode("utf-8"))
        loaded = runtime.load(settings, embedder=retriever.embedder, multilingual=ml)
        serve(loaded)
        before = {(p.id, p.text) for p in current.index.passages}
        after = {(p.id, p.text) for p in loaded.index.passages}
        return Change(
            action,
            doc_id,
            index_dir.resolve().name,
            len(after - before),
            len(before - after),
            report.embedded,
            report.reused,
            round(time.perf_counter() - t0, 3),
        )

    def _index(self, staged: Path, embedder: Embedder, ml: Embedder | None) -> BuildReport:
        """Build the staged source folder into the index folder (a new version beside it)."""
        settings = self.settings
        return build(
            staged,
            Path(settings.index_dir),
            embedder,
            **settings.build_options(),
            progress=False,
            multilingual_encoder=ml,
        )

    def _catalogue_entry(self, staged: Path, name: str, upload: Upload) -> str | None:
        """The staged catalogue with an entry for the upload's metadata (None: none given)."""
        given = {"title": upload.title, "region": upload.region, "year": upload.year}
        given = {k: v for k, v in given.items() if v not in (None, "")}
        if not given:
            return None
        path = staged / CATALOGUE
        if name in read_catalogue(staged).entries:
            raise UploadError(
                f"{CATALOGUE} has an entry for {name} already: edit it there, or send the "
                "report without region, year and title"
            )
        lines = [f"\n[{json.dumps(name, ensure_ascii=False)}]"]
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in given.items()]
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        text = text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(lines) + "\n"
        path.write_text(text, encoding="utf-8")
        read_catalogue(staged)  # a bad value (an unknown region) fails here, as SourceError
        return text


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file by renaming a complete temporary one over it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
