"""The source folder as live writes change it: an upload's file name as a doc_id, the
catalogue's entries for uploaded and removed reports, files written atomically, and the
staging folders that killed writes leave behind."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from indexer.atomic import pid_alive
from indexer.errors import SourceError
from indexer.metadata import read_catalogue
from indexer.sources import CATALOGUE, SUFFIXES

from .errors import UploadError

# A file name as a report's doc_id: letters (any script), digits, - _ . ; no path, no dotfile.
_NAME = re.compile(r"[^\W_][\w.-]*", re.UNICODE)
STAGING = ".reindex-"  # staging folders beside the index: .reindex-<pid>-<random>
_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(?:#.*)?$")


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


def with_entry(staged: Path, name: str, given: dict[str, object]) -> str | None:
    """The staged catalogue with an entry of `given` metadata (title, region, year) for the
    file `name`, written there and returned (None: none given)."""
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


def clean_stale(folder: Path) -> None:
    """Remove the staging folders of writes whose process died (killed mid-build)."""
    for tmp in folder.glob(f"{STAGING}*"):
        pid = tmp.name.removeprefix(STAGING).split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def without_entries(staged: Path, names: list[str]) -> str | None:
    """The staged catalogue without the tables of these source files (a removed report's
    metadata must not wait for a later file of the same name); None: nothing to remove."""
    path = staged / CATALOGUE
    if not path.is_file():
        return None
    entries = read_catalogue(staged).entries
    gone = {n for n in names if n in entries}
    if not gone:
        return None
    kept: list[str] = []
    skipping = False
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        header = _TABLE.match(line)
        if header is not None:
            skipping = _table_name(header.group(1)) in gone
        if not skipping:
            kept.append(line)
    text = "".join(kept)
    path.write_text(text, encoding="utf-8")
    left = read_catalogue(staged).entries  # still valid TOML, and the table is gone
    if gone & set(left):
        raise SourceError(f"{CATALOGUE}: could not remove the entries of {sorted(gone)}")
    return text


def _table_name(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] in "\"'" and raw[-1:] == raw[:1]:
        return str(json.loads(raw)) if raw[0] == '"' else raw[1:-1]
    return raw


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file by renaming a complete temporary one over it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
