"""Read a folder of source reports into documents: text as read, where it came from, its hash.

Sources are UTF-8 `.txt` files (the text is the file itself, so offsets index the file) and
Word `.docx` files (read with python-docx: the text is the document's non-empty paragraphs,
one per line, and offsets index that text). Formats it cannot read (.doc, .pdf, .wps...) are
refused rather than left out unnoticed; dotfiles, Word's lock files (`~$x.docx`), notes
(.md) and the catalogue (indexer.metadata) are not reports and are passed over.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

SUFFIXES = (".txt", ".docx")
# The project's catalogue of report metadata (read by indexer.metadata), not a report.
CATALOGUE = "catalogue.toml"
_SAVE_AS = "save it as .docx or as a UTF-8 .txt file (one paragraph per line)"
# Formats reports come in that cannot be read: the fix for each.
REFUSED = {
    **dict.fromkeys(
        (".doc", ".wps", ".rtf", ".odt", ".pages", ".docm", ".dot", ".dotx"),
        f"open it in Word or WPS and {_SAVE_AS}",
    ),
    **dict.fromkeys((".pdf", ".html", ".htm", ".mht", ".xls", ".xlsx", ".et"), f"{_SAVE_AS}"),
    **dict.fromkeys((".zip", ".rar", ".7z"), "extract the reports in it into the folder"),
}
# An OLE compound file: an old .doc, or a password-protected .docx (Office encrypts into one).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Larger files are refused before they are read: no report comes near this.
MAX_SOURCE_BYTES = 20 * 1024 * 1024
# A .docx is a zip archive: its parts together may unpack to at most this. A report's are a
# few MB; a small file that claims more is a zip bomb, or carries media, not text.
MAX_DOCX_UNPACKED_BYTES = 100 * 1024 * 1024


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


def decode_text(path: Path, raw: bytes) -> str:
    """A .txt source's text: strict UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8: byte {exc.start} (0x{raw[exc.start]:02x}) cannot be "
            "decoded; convert the file to UTF-8 (e.g. `iconv -f GB18030 -t UTF-8`)"
        ) from exc


def _check_unpacked(path: Path, max_unpacked: int) -> None:
    """Refuse a .docx whose parts would unpack to more than max_unpacked bytes (the sizes its
    zip directory declares, which zipfile never reads past)."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return  # python-docx names the damage below
    if total > max_unpacked:
        raise SourceError(
            f"{path} would unpack to {total / 2**20:.0f} MB, over the "
            f"{max_unpacked / 2**20:.0f} MB a Word report may hold (a report's text is a few "
            "MB): it may be a zip bomb or carry large media; save its text as a UTF-8 .txt file"
        )


def docx_text(path: Path, max_unpacked: int = MAX_DOCX_UNPACKED_BYTES) -> str:
    """A .docx source's text: its non-empty paragraphs, stripped, one per line."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    with path.open("rb") as f:
        if f.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise SourceError(
                f"{path} is not a .docx inside but an OLE file: a password-protected document "
                "or an old .doc renamed .docx; open it in Word or WPS, remove any password, and "
                "save it as .docx, or save its text as a UTF-8 .txt file"
            )
    _check_unpacked(path, max_unpacked)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(
            f"{path} cannot be read as a Word document ({type(exc).__name__}: {exc}); it may "
            "be damaged, encrypted or an old .doc renamed: open it in Word or WPS and save it "
            "again as .docx without a password, or save its text as a UTF-8 .txt file"
        ) from exc
    paragraphs = (p.text.strip() for p in document.paragraphs)
    return "\n".join(p for p in paragraphs if p)


def _is_report(path: Path, source_dir: Path) -> bool:
    """Whether a file is a report to read; raises SourceError for one in a format it cannot."""
    rel = path.relative_to(source_dir)
    if any(part.startswith(".") for part in rel.parts) or path.name.startswith("~$"):
        return False  # hidden files and folders, Word's lock files
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise SourceError(
            f"{path} is a {suffix} file, which cannot be indexed: {REFUSED[suffix]}, "
            f"or move it out of {source_dir}"
        )
    return suffix in SUFFIXES


def read_sources(source_dir: Path, max_bytes: int = MAX_SOURCE_BYTES) -> list[SourceDoc]:
    """Every .txt and .docx file under source_dir, in a stable order.

    Raises:
        SourceError: a missing or empty folder, a file in a format that cannot be read (.doc,
            .pdf...), a file over `max_bytes`, one that cannot be decoded or has no text, two
            files that would get the same doc_id; the message names the file and the fix.
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise SourceError(
            f"source folder {source_dir} does not exist: create it and put the reports "
            "there as UTF-8 .txt or .docx files, or pass --source"
        )
    found = sorted(p for p in source_dir.rglob("*") if p.is_file())
    files = [p for p in found if _is_report(p, source_dir)]
    if not files:
        raise SourceError(
            f"source folder {source_dir} has no .txt or .docx files: add the reports there"
        )
    docs: list[SourceDoc] = []
    seen: dict[str, Path] = {}
    for path in files:
        rel = path.relative_to(source_dir)
        doc_id = _doc_id(rel)
        if doc_id in seen:
            raise SourceError(
                f"{seen[doc_id]} and {path} would both be document {doc_id!r}: "
                "keep one of them, or rename the other"
            )
        seen[doc_id] = path
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                f"{path} is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit "
                "for a source: check that it is a report, or raise MAX_SOURCE_BYTES"
            )
        raw = path.read_bytes()
        text = docx_text(path) if path.suffix.lower() == ".docx" else decode_text(path, raw)
        if not text.strip():
            raise SourceError(f"{path} is empty: add the report's text or remove the file")
        docs.append(SourceDoc(doc_id, rel.as_posix(), hashlib.sha256(raw).hexdigest(), text))
    return docs
