"""Read a folder of source reports into documents: text as read, where it came from, its hash."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """One source file as read: its id, path under the source folder, sha256 and text."""

    doc_id: str
    source: str
    sha256: str
    text: str


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
