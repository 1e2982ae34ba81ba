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

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer import milvus_store
from indexer.atomic import relink
from indexer.build import BuildReport, build
from indexer.encoders.base import Embedder
from indexer.errors import ReportQAError, SourceError
from indexer.parse import parse
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
from .source_folder import (
    STAGING,
    check_name,
    clean_stale,
    with_entry,
    without_entries,
    write_atomic,
)

log = logging.getLogger(__name__)
_DOING = {"added": "adding", "replaced": "replacing", "removed": "removing"}


@dataclass(frozen=True, slots=True)
class Upload:
    """A report as uploaded: its file name, bytes and the metadata the caller gave."""

    filename: str
    data: bytes
    region: str | None = None
    year: int | None = None
    title: str | None = None
    # Index a text without 一、/（一） headings as flat paragraphs (refused unless asked).
    flat: bool = False


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


class Reindexer:
    """Applies one write at a time to the source folder and the index of `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.building: str | None = None
        self.last_error: str | None = None
        self._failed: str | None = None  # a version on disk that failed to load

    def status(self, serving: Runtime | None = None) -> Status:
        """The version `serving` serves (else the one on disk), and the builder's state."""
        if serving is not None:
            built_at = serving.index.manifest.get("created_at")
            return Status(
                serving.version,
                None if built_at is None else str(built_at),
                self.building,
                self.last_error,
            )
        folder = runtime.version_folder(self.settings.index_dir)
        try:
            return Status(
                folder.name,
                str(read_manifest(folder).get("created_at")),
                self.building,
                self.last_error,
            )
        except ReportQAError:  # no index yet: GET /index answers 503 before it asks
            return Status(None, None, self.building, self.last_error)

    def follow(self, current: Runtime, serve: Callable[[Runtime], None]) -> str | None:
        """Serve the version INDEX_DIR links to if it is not `current`'s (an index built
        beside the service: `make index`). Returns the version now served, or None when
        nothing changed, a write is being built (it swaps itself), or the version on disk
        failed to load before (kept in last_error; tried again once the link moves).

        Raises:
            ReportQAError: the new version cannot be loaded; `current` keeps serving.
        """
        on_disk = runtime.version_folder(self.settings.index_dir)
        serving = current.index.folder
        if serving.is_symlink() or not on_disk.is_dir():
            return None  # a runtime loaded through the link itself (attached): not followed
        if on_disk.name in (serving.name, self._failed):
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            retriever = current.retriever
            ml = retriever.ml_encoder if self.settings.multilingual else None
            try:
                loaded = runtime.load(self.settings, embedder=retriever.embedder, multilingual=ml)
            except Exception as exc:
                self._failed = on_disk.name
                self.last_error = (
                    f"index version {on_disk.name} cannot be served "
                    f"({type(exc).__name__}: {exc}); still serving {current.version}"
                )
                raise
            serve(loaded)
            self._failed = None
            self.last_error = None
            return loaded.version
        finally:
            self._lock.release()

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
            (doc,) = read_sources(alone, limit)
        except SourceError as exc:
            raise UploadError(str(exc).replace(str(alone) + os.sep, "")) from exc
        if not upload.flat and not parse(doc.text, name).headings:
            raise UploadError(
                f"{name} has no recognisable report structure: no line opens a part (一、) or "
                "a section (（一）). Fix its headings, or send it again with flat=true to index "
                "it as flat paragraphs (searchable, but no section numbers to cite)"
            )

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
        clean_stale(index_dir.parent)
        with tempfile.TemporaryDirectory(
            prefix=f"{STAGING}{os.getpid()}-", dir=index_dir.parent
        ) as tmp:
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
            previous = runtime.version_folder(index_dir) if index_dir.is_symlink() else None
            try:
                catalogue = None
                if upload is not None and name is not None:
                    (staged / name).write_bytes(upload.data)
                    catalogue = with_entry(
                        staged,
                        name,
                        {"title": upload.title, "region": upload.region, "year": upload.year},
                    )
                elif replaced:
                    catalogue = without_entries(staged, replaced)
                report = self._index(staged, retriever.embedder, ml)
            except SourceError as exc:  # name the source folder, not the staged copy
                raise SourceError(str(exc).replace(str(staged), str(source))) from exc
            try:
                loaded = runtime.load(
                    settings, embedder=retriever.embedder, multilingual=ml, source_dir=staged
                )
            except Exception:
                # Built but not servable: the link goes back to the serving version, so the
                # disk, the source folder and what is served still agree.
                if previous is not None and previous.is_dir():
                    relink(index_dir, previous)
                    self._restore_alias(current)
                raise
            # The new version loads: make the source folder say what it holds.
            for old in replaced:
                (source / old).unlink()
            if upload is not None and name is not None:
                write_atomic(source / name, upload.data)
            if catalogue is not None:
                write_atomic(source / CATALOGUE, catalogue.encode("utf-8"))
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

    def _restore_alias(self, current: Runtime) -> None:
        """After a rollback, the Milvus alias back on the serving version's collection (the
        build moved it to the version that did not load)."""
        target = self.settings.milvus_target()
        collection = getattr(current.retriever.store, "collection", None)
        if target is None or not isinstance(collection, str):
            return
        try:
            milvus_store.publish(target, collection)
        except ReportQAError as exc:  # the serving runtime follows its manifest regardless
            log.warning("the Milvus alias stays on the unserved version: %s", exc)

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
