"""Recognise a section reference or a passage id inside a query."""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = "零一二三四五六七八九"
_CN = "一二三四五六七八九十"


def to_cn(n: int) -> str:
    """1..99 as Chinese numerals (十, 十一, 二十三)."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def normalise_ref(ref: str) -> str:
    """A section reference as the index writes it: trimmed, with full-width parentheses."""
    return ref.strip().replace("(", "（").replace(")", "）")


def _num(token: str) -> str:
    return to_cn(int(token)) if token.isdigit() else token


_PATTERNS = (
    # 三（四）, 三(四), 三、（四）
    re.compile(rf"(?<![{_CN}])([{_CN}]{{1,3}})、?[（(]([{_CN}]{{1,3}})[）)]"),
    # 第三部分第四节 / 第三部分第（四）项 / 第3部分第4节
    re.compile(
        rf"第([{_CN}]{{1,3}}|\d{{1,2}})(?:部分|大部分|章)\s*第?[（(]?([{_CN}]{{1,3}}|\d{{1,2}})[）)]?(?:节|项|条|小节|方面)"
    ),
    # part 3 section 4 / part III? (arabic only)
    re.compile(r"\bpart\s+(\d{1,2})\s*,?\s*section\s+(\d{1,2})\b", re.IGNORECASE),
    re.compile(r"\bsection\s+(\d{1,2})\s*[.(（]\s*(\d{1,2})\s*\)?", re.IGNORECASE),
)
_PART_ONLY = (
    re.compile(rf"第([{_CN}]{{1,3}}|\d{{1,2}})(?:部分|大部分|章)"),
    re.compile(r"\bpart\s+(\d{1,2})\b", re.IGNORECASE),
    # a bare part reference such as "三" or "三、" standing alone
    re.compile(rf"^\s*([{_CN}]{{1,3}})、?\s*$"),
)

# What people add to a bare reference: "讲了什么", "的主要内容", "what does ... say".
_FILLER = re.compile(
    r"(讲了什么|讲的是什么|讲什么|说了什么|写了什么|是什么|有哪些内容|哪些内容|主要内容|的内容|内容|"
    r"标题|题目|主题|名称|叫什么|聚焦什么|围绕什么展开|围绕什么|报告|"
    r"讲了|讲的|主要|包括|关于|请|介绍|概括|总结|一下|的|了|吗|呢|[？?。，,！!：:\s])"
    r"|\b(what|does|do|did|is|are|the|of|in|say|says|said|about|cover|covers|summarize|"
    r"summarise|report|tell|me|title|heading|theme|its|it)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RefMatch:
    """A section reference found in a query, and what is left of the query without it."""

    ref: str
    rest: str


def find_section_ref(query: str) -> RefMatch | None:
    """The section (三（四）) or part (三) a query names, if any."""
    for pattern in _PATTERNS:
        m = pattern.search(query)
        if m:
            ref = f"{_num(m.group(1))}（{_num(m.group(2))}）"
            return RefMatch(ref, (query[: m.start()] + query[m.end() :]).strip())
    for pattern in _PART_ONLY:
        m = pattern.search(query)
        if m:
            return RefMatch(_num(m.group(1)), (query[: m.start()] + query[m.end() :]).strip())
    return None


def is_bare(rest: str) -> bool:
    """Whether the rest of a query, without its reference, asks for nothing more."""
    return not _FILLER.sub("", rest).strip()
