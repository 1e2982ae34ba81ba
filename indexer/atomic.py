"""Swap a freshly written folder in for an old one atomically: readers see one or the other."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
    for d in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(out: Path) -> None:
    """Remove temporary folders left by builds that were killed."""
    for tmp in out.parent.glob(f".{out.name}.tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 2)[1])
        except (IndexError, ValueError):
            continue
        if not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


# Versions kept on disk: the serving one and the one before it, so a process still reading
# the previous version (a service that has not swapped yet) finds its files.
KEEP_VERSIONS = 2


def _prune(out: Path, current: Path) -> None:
    """Remove all but the newest KEEP_VERSIONS versions of `out` (by their build stamp)."""

    def stamp(path: Path) -> int:
        try:
            return int(path.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return 0

    versions = sorted(out.parent.glob(f".{out.name}.v-*"), key=stamp, reverse=True)
    keep = {current.resolve(), *(v.resolve() for v in versions[:KEEP_VERSIONS])}
    for old in versions:
        if old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


def relink(out: Path, version: Path) -> None:
    """Point the link `out` at an existing version folder beside it, atomically (a rollback:
    a version that was built but could not be served gives way to the one before it)."""
    out = Path(out)
    version = Path(version)
    if version.parent.resolve() != out.parent.resolve() or not version.is_dir():
        raise ValueError(f"{version} is not a version folder beside {out}")
    link = out.parent / f".{out.name}.link-{os.getpid()}-{time.time_ns()}"
    os.symlink(version.name, link)
    os.replace(link, out)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `out`; on success swap it in atomically.

    `out` becomes a symbolic link to a versioned sibling folder, replaced with
    os.replace, so a reader sees the old index or the new one, never a mix. If the
    body raises (or the process dies), the previous index is left untouched. The previous
    version stays on disk beside the new one (KEEP_VERSIONS); older ones are removed.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(out)
    stamp = f"{os.getpid()}-{time.time_ns()}"
    tmp = out.parent / f".{out.name}.tmp-{stamp}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        version = out.parent / f".{out.name}.v-{stamp}"
        os.rename(tmp, version)
        link = out.parent / f".{out.name}.link-{stamp}"
        os.symlink(version.name, link)
        if out.exists() and not out.is_symlink():
            legacy = out.parent / f".{out.name}.old-{stamp}"
            os.rename(out, legacy)
            os.replace(link, out)
            shutil.rmtree(legacy, ignore_errors=True)
        else:
            os.replace(link, out)
        fd = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _prune(out, version)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
