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
# A line that opens an annex after the report (附件1, 名词解释): what follows is kept as
# paragraphs under it, outside the report's numbering (Guangdong 2025 numbers its annex's
# items 一、…十、 again).
_APPENDIX = re.compile(
    r"^(?:附件\s*[0-9一二三四五六七八九十]*|附录\s*[0-9一二三四五六七八九十]*|(?:附[：:]?\s*)?名词解释)"
    r"\s*[：:]?$"
)
# A part's title standing unnumbered on its own line (Sichuan 2025: 2024年工作回顾), read as
# a part only in a report that numbers none of its parts.
_PART_TITLE = re.compile(
    r"^(?:(?:19|20)\d{2}\s*年|过去[一五]年|今后五年)?[^。！？；，,]{0,14}?"
    r"(?:工作回顾|工作安排(?:建议)?|主要任务|重点任务|总体要求|政府自身建设|重点工作|目标任务)$"
)
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
    # A date-and-venue line may end as a sentence (`…同志作政府工作报告。`) and still belong.
    body = line.rstrip("。") if _DATE_LINE.match(line) else line
    return (
        not indented
        and len(line) <= 80
        and not _SENTENCE_END.search(body)
        and match_heading(line) is None
        and not line.startswith(SALUTATION)
    )


_CN_DIGITS = "〇一二三四五六七八九"
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_DATE_LINE = re.compile(rf"^[-—―－\s（(]*(?:{_DATE.pattern}|{_CN_DATE.pattern})")
# `在上海市第十五届人民代表大会第一次会议上`: a 大会 followed by 第…次会议 runs on to it.
_VENUE = re.compile(r"在(?P<venue>[^\s在，。]*?(?:会议|大会(?!第)))(?:上|的)?")
_ROLE = r"(?:代理?)?(?:市长|省长|主席|总理|区长|县长|州长)"
# A name as printed: two to four characters, sometimes spaced out (龚 正, 李　强), or a
# transcribed name with a middle dot.
_NAME = r"(?:[\u4e00-\u9fff](?:[ \u3000]?[\u4e00-\u9fff]){1,3}?|[\u4e00-\u9fff]+·[\u4e00-\u9fff·]+)"
_SPEAKER = re.compile(rf"^(?P<role>.*?{_ROLE})[\s\u3000]*(?P<name>{_NAME})(?:同志)?$")
_NAME_FIRST = re.compile(rf"^(?P<name>[\u4e00-\u9fff]{{2,4}}?)(?:同志)?(?P<role>{_ROLE})$")
# What follows the speaker on a date line: `作政府工作报告。`, `的讲话`.
_TAIL = re.compile(r"(?:作|的)?(?:政府工作报告|工作报告|讲话|报告)?[。．.）)]*$")
_CREDIT = re.compile(r"^(?:来源|作者|编辑|责任编辑|发布时间|发布日期|记者)\s*[:：]")
_REGION = re.compile(r"^(.+?)(?:市|省|自治区|特别行政区)")


def _cn_number(digits: str) -> int:
    """二〇二五 -> 2025 (digit by digit), 十二 -> 12, 二十 -> 20 (with a ten)."""
    digits = digits.replace("零", "〇")
    if "十" not in digits:
        return int("".join(str(_CN_DIGITS.index(c)) for c in digits))
    tens, _, ones = digits.partition("十")
    return (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)


def _speaker(piece: str) -> re.Match[str] | None:
    piece = _TAIL.sub("", piece.strip(" \u3000-—―－（()）")).strip(" \u3000")
    return _SPEAKER.match(piece) or _NAME_FIRST.match(piece)


def _read_date_line(line: str, meta: dict[str, object]) -> bool:
    """Date, venue and speaker from a date-and-venue line; False if it names no date."""
    m = _DATE.search(line)
    cn = None if m else _CN_DATE.search(line)
    found = m or cn
    if found is None:
        return False
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        y, mo, d = (_cn_number(g) for g in found.groups())
    meta["date"] = f"{y:04d}-{mo:02d}-{d:02d}"
    meta["year"] = y
    after = line[found.end() :]
    pieces = [line[: found.start()], after]
    venue = _VENUE.search(after)
    if venue:
        meta["venue"] = venue.group("venue")
        pieces[1:] = [after[: venue.start()], after[venue.end() :]]
    for piece in pieces:
        s = _speaker(piece)
        if s and "speaker" not in meta:
            meta["speaker"] = re.sub(r"[\s\u3000]", "", s.group("name"))
            meta["speaker_role"] = s.group("role")
    return True


def parse_title_block(lines: list[str]) -> dict[str, object]:
    """Title, date, venue, speaker, region and year from the title block's lines.

    A line is a date-and-venue line (`——2024年3月5日在第十四届全国人民代表大会第二次会议上`,
    `2025年1月14日在…会议上北京市市长 殷勇同志作政府工作报告。`), a speaker line
    (`上海市市长　龚 正`), a source credit (`来源：北京日报`) or else the title: the first
    such line. `region` is the raw name the speaker's role or the venue begins with (上海).
    """
    meta: dict[str, object] = {}
    for line in lines:
        clean = line.strip(" \u3000").lstrip("―—-－ ")
        if "date" not in meta and _read_date_line(clean, meta):
            continue
        s = _speaker(clean)
        if s:
            if "speaker" not in meta:
                meta["speaker"] = re.sub(r"[\s\u3000]", "", s.group("name"))
                meta["speaker_role"] = s.group("role")
            continue
        if "title" not in meta and not _CREDIT.match(clean):
            meta["title"] = line
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

    body = lines[i:]
    numbered_parts = any(
        (found := match_heading(text[s:e])) is not None and found[0] == 1 for s, e, _ in body
    )
    annex = False
    for start, end, _indented in body:
        line = text[start:end]
        if _APPENDIX.match(line):
            if pending is not None:
                add_block(*pending)
                pending = None
            annex = True
            stack.clear()
            ref = re.sub(r"[\s：:]", "", line)
            heading = Heading(0, ref, line, start, end, inline=False, path=(line,))
            stack.append(heading)
            doc.headings.append(heading)
            unled = heading
            continue
        if annex:
            add_block(start, end)
            continue
        if line.startswith(SALUTATION):
            # An address to the delegates closes the numbered section it follows.
            while stack and stack[-1].level >= 2:
                stack.pop()
            if line.endswith(("：", ":")) and pending is None:
                pending = (start, end)
                continue
        found = match_heading(line)
        parts = sum(1 for h in doc.headings if h.level == 1)
        if found is None and not numbered_parts and parts < 10 and _PART_TITLE.match(line):
            found = (1, CN_NUM[parts])
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
