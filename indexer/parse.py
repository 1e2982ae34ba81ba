"""Split a report into its title block, heading hierarchy and body paragraphs.

Chinese government reports number their units 一、 (part) › （一） (section) ›
第一 › 1. › （1）. A heading either stands on its own line or opens a paragraph,
in which case it runs to the first sentence end and the rest is body text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from .types import Heading

log = logging.getLogger(__name__)

CN_NUM = "一二三四五六七八九十百"
_SENTENCE_END = re.compile(r"[。！？!?]")

# (level, pattern, ref builder): the pattern's group 1 is the number as written.
_LEVELS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^([{CN_NUM}]{{1,3}})、")),
    (2, re.compile(rf"^[（(]([{CN_NUM}]{{1,3}})[）)]")),
    (3, re.compile(rf"^第([{CN_NUM}]{{1,3}})[，、：:。,]")),
    (4, re.compile(r"^(\d{1,2})[.．、](?!\d)")),
    (5, re.compile(r"^[（(](\d{1,2})[）)]")),
)

SALUTATION = "各位代表"
# Leading and trailing white space, with the byte-order mark that some editors write.
_TRIM = re.compile(r"^[\s\ufeff]*(.*?)[\s\ufeff]*$", re.DOTALL)


def _ref_piece(level: int, number: str) -> str:
    if level == 1:
        return number
    if level == 2:
        return f"（{number}）"
    if level == 3:
        return f"第{number}"
    if level == 4:
        return f"{number}."
    return f"（{number}）"


@dataclass(frozen=True, slots=True)
class Block:
    """A body paragraph (or the part of one after an inline heading)."""

    start: int
    end: int
    heading_path: tuple[str, ...]
    section: str | None
    paragraph: int
    # Start of the heading this block directly follows: its first passage begins there, so
    # the heading's words are searchable and cited with the text they introduce.
    lead: int | None = None


@dataclass(slots=True)
class ParsedDocument:
    text: str
    title_lines: list[tuple[int, int]] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """Non-blank lines as (start, end, indented) with surrounding whitespace trimmed."""
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        m = _TRIM.match(raw)
        if m and m.group(1):
            start = pos + m.start(1)
            indented = raw[: m.start(1)].replace("\ufeff", "") != ""
            out.append((start, pos + m.end(1), indented))
        pos += len(raw)
    return out


def match_heading(line: str) -> tuple[int, str] | None:
    """The (level, number) of a line that opens with a heading number, else None."""
    for level, pattern in _LEVELS:
        m = pattern.match(line)
        if m:
            return level, m.group(1)
    return None


def _is_title_line(line: str, indented: bool) -> bool:
    return (
        not indented
        and len(line) <= 80
        and not _SENTENCE_END.search(line)
        and match_heading(line) is None
        and not line.startswith(SALUTATION)
    )


_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_VENUE = re.compile(r"日在(.+?)上$")
_SPEAKER = re.compile(r"^(?P<role>.*?(?:市长|省长|主席|总理|区长|县长|州长))\s*(?P<name>\S+)$")
_REGION = re.compile(r"^(.+?)(?:市|省|自治区|特别行政区)")


def parse_title_block(lines: list[str]) -> dict[str, object]:
    """Title, date, venue, speaker, region and year from the title block's lines."""
    meta: dict[str, object] = {}
    if lines:
        meta["title"] = lines[0]
    for line in lines[1:]:
        clean = line.lstrip("―—-－ ")
        m = _DATE.search(clean)
        if m and "date" not in meta:
            y, mo, d = (int(g) for g in m.groups())
            meta["date"] = f"{y:04d}-{mo:02d}-{d:02d}"
            meta["year"] = y
            venue = _VENUE.search(clean)
            if venue:
                meta["venue"] = venue.group(1)
            continue
        s = _SPEAKER.match(clean)
        if s and "speaker" not in meta:
            meta["speaker"] = s.group("name")
            meta["speaker_role"] = s.group("role")
    for candidate in (meta.get("speaker_role"), meta.get("venue")):
        if isinstance(candidate, str):
            r = _REGION.match(candidate)
            if r:
                meta["region"] = r.group(1)
                break
    return meta


def parse(text: str, name: str = "<text>") -> ParsedDocument:
    """Parse a report into title block, headings and paragraph blocks with exact offsets."""
    doc = ParsedDocument(text=text)
    lines = _lines(text)
    i = 0
    # Title block: short unindented lines without sentence ends before the body.
    if lines and _is_title_line(text[lines[0][0] : lines[0][1]], lines[0][2]):
        while i < len(lines) and _is_title_line(text[lines[i][0] : lines[i][1]], lines[i][2]):
            i += 1
        doc.title_lines = [(s, e) for s, e, _ in lines[:i]]
        doc.meta = parse_title_block([text[s:e] for s, e in doc.title_lines])

    stack: list[Heading] = []
    counters: dict[str | None, int] = {}
    # A salutation line ending in ： ("各位代表：") joins the paragraph after it.
    pending: tuple[int, int] | None = None

    # The heading that no block has followed yet (only the innermost one can be led).
    unled: Heading | None = None

    def add_block(start: int, end: int) -> None:
        nonlocal pending, unled
        if pending is not None:
            start, pending = pending[0], None
        ref = stack[-1].ref if stack else None
        counters[ref] = counters.get(ref, 0) + 1
        lead = unled.start if unled is not None and stack and stack[-1] is unled else None
        unled = None
        doc.blocks.append(
            Block(start, end, tuple(h.title for h in stack), ref, counters[ref], lead)
        )

    for start, end, _indented in lines[i:]:
        line = text[start:end]
        if line.startswith(SALUTATION):
            # An address to the delegates closes the numbered section it follows.
            while stack and stack[-1].level >= 2:
                stack.pop()
            if line.endswith(("：", ":")) and pending is None:
                pending = (start, end)
                continue
        found = match_heading(line)
        if found is None:
            add_block(start, end)
            continue
        level, number = found
        m = _SENTENCE_END.search(line)
        inline = m is not None and m.end() < len(line)
        h_end = start + m.end() if (inline and m is not None) else end
        if pending is not None:
            # A salutation right before a heading stays a paragraph of its own.
            add_block(*pending)
        while stack and stack[-1].level >= level:
            stack.pop()
        parent_ref = stack[-1].ref if stack else ""
        title = text[start:h_end]
        heading = Heading(
            level=level,
            ref=parent_ref + _ref_piece(level, number),
            title=title,
            start=start,
            end=h_end,
            inline=inline,
            path=(*(h.title for h in stack), title),
        )
        stack.append(heading)
        doc.headings.append(heading)
        unled = heading
        if inline:
            body_start = h_end
            while body_start < end and text[body_start].isspace():
                body_start += 1
            if body_start < end:
                add_block(body_start, end)
    if pending is not None:
        add_block(*pending)
    if not doc.headings:
        log.warning("%s: no headings found; indexing it as flat paragraphs", name)
    return doc


def ref_within(ref: str | None, prefix: str) -> bool:
    """Whether section reference `ref` lies inside the unit `prefix` (三 holds 三（四）).

    A plain string prefix is not enough: 十 is a prefix of 十一 and 1. of 11.
    """
    if ref is None or not ref.startswith(prefix):
        return False
    if len(ref) == len(prefix) or not prefix:
        return True
    last, nxt = prefix[-1], ref[len(prefix)]
    return not ((last in CN_NUM and nxt in CN_NUM) or (last.isdigit() and nxt.isdigit()))
