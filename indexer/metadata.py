"""A report's metadata: title, region, level, year, date, speaker and venue.

Read from the report's text where it says so (its title block, see
indexer.parse.parse_title_block; the venue, the speaker's office or the opening address
naming the region; a part `一、2018年工作回顾` meaning it was delivered in 2019), else from
the catalogue the project keeps beside the reports (`catalogue.toml`, for what a text does
not say), else from the file name (`<region-slug>-<year>-government-work-report`). A
catalogue entry overrides a text reading only for the fields it lists in `corrects`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import SourceError
from .parse import ParsedDocument
from .regions import Region, region, region_of_slug, regions_in
from .sources import CATALOGUE

FIELDS = ("title", "region", "year", "date", "speaker", "venue")
NAMING = "<region>-<year>-government-work-report"

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
# A part that reviews a year (so the report is of the year after) or plans its own year.
_PART_YEAR = re.compile(
    r"^(?:[一二三四五六七八九十]+、)?\s*对?((?:19|20)\d{2})\s*年(?P<what>\S{0,8}?"
    r"(?:回顾|主要任务|重点任务|重点工作|工作安排|工作任务|政府工作|经济社会发展|总体要求"
    r"|目标任务|工作思路|主要目标))"
)
_STANDING = 40  # a part's heading stands on a line of its own, shorter than this
# `现在，我代表上海市人民政府，向大会报告工作` (我代表国务院 in a national report).
_OPENING = re.compile(r"我代表([^，,。；\s]{2,20}?)(?:人民政府)?[，,向]")
_OPENING_SPAN = 2000


@dataclass(frozen=True, slots=True)
class Facts:
    """What one place (the text, a catalogue entry, the file name) says about a report:
    None where it says nothing. `region` is a full name (上海市, 全国)."""

    title: str | None = None
    region: str | None = None
    year: int | None = None
    date: str | None = None
    speaker: str | None = None
    venue: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalogue entry: what it says, and the fields whose text reading it corrects."""

    facts: Facts
    corrects: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The catalogue file of a source folder and its entries by source path (file name)."""

    path: Path
    entries: Mapping[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """A report's metadata as the index records it, and what the build should warn about."""

    title: str
    region: str | None = None
    level: str | None = None
    year: int | None = None
    date: str | None = None
    speaker: str | None = None
    venue: str | None = None
    warnings: tuple[str, ...] = ()


def _region_in(*texts: object) -> Region | None:
    """The first region the first text naming one names."""
    for text in texts:
        found = regions_in(text) if isinstance(text, str) else []
        if found:
            return found[0]
    return None


def _part_year(text: str) -> int | None:
    """The year a report was delivered by its parts: `一、2018年工作回顾` reviews the year
    before it; `三、2018年主要任务`, `对2018年政府工作的建议` plan its own year."""
    for line in text.splitlines():
        line = line.strip(" \t\u3000\ufeff")
        if len(line) > _STANDING or "。" in line:
            continue
        m = _PART_YEAR.match(line)
        if m:
            year = int(m.group(1))
            return year + 1 if m.group("what").endswith("回顾") else year
    return None


def is_full_title(title: str | None) -> bool:
    """Whether a title names its year and region (2025年北京市政府工作报告)."""
    return bool(title and _TITLE_YEAR.search(title) and regions_in(title))


def from_text(text: str, parsed: ParsedDocument) -> Facts:
    """What a report's text says: its title block, else the opening address and its parts."""
    meta = parsed.meta

    def text_of(key: str) -> str | None:
        value = meta.get(key)
        return value if isinstance(value, str) else None

    title = text_of("title")
    year = meta.get("year")
    if not isinstance(year, int):
        title_year = _TITLE_YEAR.search(title) if title else None
        year = int(title_year.group(1)) if title_year else _part_year(text)
    opening = _OPENING.search(text[:_OPENING_SPAN])
    r = _region_in(
        meta.get("venue"), meta.get("speaker_role"), title, opening.group(1) if opening else None
    )
    return Facts(
        title=title,
        region=r.name if r else None,
        year=year,
        date=text_of("date"),
        speaker=text_of("speaker"),
        venue=text_of("venue"),
    )


def from_file_name(source: str) -> Facts:
    """Region and year from a file name: `beijing-2025-government-work-report.docx`, or one
    in Chinese (`2025年山东省政府工作报告.docx`)."""
    stem = PurePosixPath(source).stem
    r = region_of_slug(stem) or _region_in(stem)
    year = _YEAR.search(stem)
    return Facts(region=r.name if r else None, year=int(year.group(1)) if year else None)


def describe(source: str, text: str, parsed: ParsedDocument, catalogue: Catalogue) -> ReportMeta:
    """A report's metadata: its text, else its catalogue entry, else its file name.

    Args:
        source: the file's path in the source folder (SourceDoc.source), the catalogue's key.
        text: the report's text; parsed: that text parsed.
        catalogue: the source folder's catalogue (read_catalogue).

    The warnings name the file and the fix: a year or region nothing tells, a catalogue value
    the text contradicts, a file name that contradicts the report.
    """
    said = from_text(text, parsed)
    named = from_file_name(source)
    entry = catalogue.entries.get(source)
    warnings: list[str] = []

    def pick(key: str, told: object) -> Any:
        listed = getattr(entry.facts, key) if entry else None
        if listed is not None and (told is None or (entry and key in entry.corrects)):
            return listed
        if listed is not None and listed != told:
            warnings.append(
                f"{source}: {catalogue.path} gives {key} {listed!r} but the text says "
                f'{told!r}; the text is kept: if it is wrong, add corrects = ["{key}"] '
                "to the entry, else remove the value"
            )
        return told if told is not None else getattr(named, key, None)

    year = pick("year", said.year)
    where = pick("region", said.region)
    for key, value in (("year", year), ("region", where)):
        other = getattr(named, key)
        if value is not None and other is not None and value != other:
            warnings.append(
                f"{source}: its file name says {key} {other} but the report is of {value}: "
                f"rename the file ({NAMING}), or correct the reading in {catalogue.path}"
            )
    unknown = [k for k, v in (("year", year), ("region", where)) if v is None]
    if unknown:
        suffix = PurePosixPath(source).suffix
        warnings.append(
            f"{source}: cannot tell the {' and '.join(unknown)} of this report from its text, "
            f"{catalogue.path.name} or its file name: add it to {catalogue.path} "
            f'(["{source}"] then e.g. year = 2025, region = "上海市") or name the file '
            f"{NAMING}{suffix} (e.g. shanghai-2025-government-work-report{suffix})"
        )
    r = region(where) if where else None
    title = pick("title", said.title if is_full_title(said.title) else None)
    if title is None:
        composed = f"{year}年{r.report_name}" if year and r else None
        title = composed or said.title or PurePosixPath(source).stem
    return ReportMeta(
        title=title,
        region=where,
        level=r.level if r else None,
        year=year,
        date=pick("date", said.date),
        speaker=pick("speaker", said.speaker),
        venue=pick("venue", said.venue),
        warnings=tuple(warnings),
    )


def stale_entries(catalogue: Catalogue, sources: Iterable[str]) -> list[str]:
    """Warnings for catalogue entries that name no source file."""
    have = set(sources)
    return [
        f"{catalogue.path} has an entry for {name!r}, which is no file of the source folder: "
        "use the file's name with its suffix (e.g. shanghai-2024-government-work-report.txt), "
        "or remove the entry"
        for name in catalogue.entries
        if name not in have
    ]


# ---- the catalogue file -------------------------------------------------------------

_FORMAT = (
    'each report is a table headed by its quoted file name, e.g. ["shanghai-2024-government-'
    'work-report.txt"], with lines such as speaker = "龚正" (keys: '
    + ", ".join(FIELDS)
    + ", corrects)"
)


def _line_of(text: str, name: str, key: str | None = None) -> int | None:
    """The line of an entry's header (or of a key inside it), for error messages."""
    lines = text.splitlines()
    header = next(
        (i for i, line in enumerate(lines) if line.lstrip().startswith("[") and name in line),
        None,
    )
    if header is None or key is None:
        return None if header is None else header + 1
    for i in range(header + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return header + 1


def read_catalogue(source_dir: Path) -> Catalogue:
    """The catalogue of a source folder (`catalogue.toml`; an empty one if there is none).

    Raises:
        SourceError: it is not UTF-8 TOML, or an entry has an unknown key or a bad value;
            the message names the file, the line where it can, and the fix.
    """
    path = Path(source_dir) / CATALOGUE
    if not path.is_file():
        return Catalogue(path)
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 ({exc}): save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path} is not valid TOML ({exc}): fix that line; {_FORMAT}") from exc
    return Catalogue(path, {name: _entry(path, text, name, value) for name, value in data.items()})


def _entry(path: Path, text: str, name: str, value: object) -> Entry:
    """One entry, checked."""

    def fail(problem: str, key: str | None = None) -> SourceError:
        line = _line_of(text, name, key)
        where = f"{path}, line {line}" if line else str(path)
        return SourceError(f'{where}: entry ["{name}"] {problem}')

    if not isinstance(value, dict):
        raise fail(f"is not a table: {_FORMAT}")
    values: dict[str, Any] = {}
    for key, v in value.items():
        if isinstance(v, dict):
            raise fail(
                f"holds a table {key!r}: write the file name in quotes, "
                f'["{name}.{key}"] rather than [{name}.{key}]'
            )
        if key not in (*FIELDS, "corrects"):
            raise fail(f"has unknown key {key!r}: use {', '.join(FIELDS)} or corrects", key)
        try:
            values[key] = _checked(key, v)
        except ValueError as exc:
            raise fail(f"has a bad {key} {v!r}: {exc}", key) from exc
    corrects = values.pop("corrects", frozenset())
    missing = sorted(k for k in corrects if k not in values)
    if missing:
        raise fail(f"corrects {', '.join(missing)} but gives no value for it: add one", "corrects")
    facts = Facts(**values)
    if facts.date and facts.year and int(facts.date[:4]) != facts.year:
        raise fail(f"gives date {facts.date} but year {facts.year}: correct one of them", "year")
    return Entry(facts, corrects)


def _checked(key: str, value: object) -> Any:
    """A catalogue value in the form Facts holds it; ValueError says what is wanted."""
    if key == "year":
        if isinstance(value, bool) or not isinstance(value, int) or not 1949 <= value <= 2100:
            raise ValueError("write the year delivered as a number, e.g. year = 2019")
        return value
    if key == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value).isoformat()
        raise ValueError('write the date as YYYY-MM-DD, e.g. date = "2019-01-28"')
    if key == "corrects":
        if not isinstance(value, list) or not all(v in FIELDS for v in value):
            raise ValueError(f"write a list of fields among {', '.join(FIELDS)}")
        return frozenset(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("write it as a non-empty string in quotes")
    if key == "region":
        r = region(value)
        if r is None:
            raise ValueError(
                "not a region: use a full name, short name or slug (上海市, 上海, shanghai; "
                "全国 for the State Council)"
            )
        return r.name
    return value.strip()
