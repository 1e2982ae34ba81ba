"""Figures as the reports write them: a number with its magnitude, unit and qualifier."""

from __future__ import annotations

import re
from dataclasses import dataclass

MONEY = ("美元", "欧元", "港元", "元")
RATE_UNITS = frozenset({"%", "个百分点", "百分点", "分之"})
_UNIT_TEXT = (
    "微克/立方米 个百分点 百分点 平方公里 平方千米 平方米 立方米 千瓦时 千瓦 公里 千米 公顷 标准箱 "
    "人次 个月 周年 小时 分钟"
)
_MEASURE_WORDS = (
    "人个张家座所套条项户台片件名场位辆艘架届次批处段"
    "栋幢间只头株棵例册部款种类块门支对组轮期岁年天倍吨亩斤米份层级"
)
UNITS = (*MONEY, *_UNIT_TEXT.split(), *_MEASURE_WORDS)
UNIT_RE = "|".join(re.escape(u) for u in sorted(set(UNITS), key=len, reverse=True))
NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MAG = r"(?:[十百千万亿]{1,3})?"
_ONE = rf"{NUM}[多余]?{_MAG}(?:[%％]|{UNIT_RE})?"
QUALIFIERS = ("左右", "以上", "以下", "以内", "之内", "上下")
_QUAL_RE = "|".join(QUALIFIERS)
_FIGURE = re.compile(
    rf"(?<![A-Za-z0-9.+/／\-_]){_ONE}(?:(?:——|[－\-—–~～至到]){_ONE})?(?:{_QUAL_RE})?(?![A-Za-z0-9])"
)
CN_DIGITS = "零〇一二三四五六七八九十百"
_FRACTION = re.compile(rf"[{CN_DIGITS}]+分之[{CN_DIGITS}]+|\d+分之\d+")
_YEAR_NUM = re.compile(r"(?:1[89]|20)\d\d")
_TRAILING_UNIT = re.compile(rf"(?P<mag>[十百千万亿]*)(?P<unit>[%％]|{UNIT_RE})?$")


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure's span in a text, its unit ("%" for a percentage, "分之" for a fraction, ""
    for a bare 329.7万) and magnitude (万, 亿, "")."""

    start: int
    end: int
    unit: str
    magnitude: str


def unit_of(text: str) -> tuple[str, str]:
    """The unit and magnitude a figure ends with, its qualifier left off."""
    for q in QUALIFIERS:
        if text.endswith(q):
            text = text[: -len(q)]
            break
    m = _TRAILING_UNIT.search(text)
    if m is None:  # pragma: no cover - the pattern matches the empty string
        return "", ""
    unit = m.group("unit") or ""
    return ("%" if unit in ("%", "％") else unit), m.group("mag")


def figures(text: str) -> list[Figure]:
    """Every figure of a text: a number with a unit, a percentage, a fraction or a bare 万.

    Years (2018年), ordinals (第46届), codes (PM2.5, C919, 5G) and bare numbers are not
    figures.
    """
    out = []
    for m in _FIGURE.finditer(text):
        unit, mag = unit_of(m.group())
        if not unit and not mag:
            continue
        if m.start() > 0 and text[m.start() - 1] == "第":
            continue
        head = re.match(NUM, m.group())
        if unit == "年" and head and _YEAR_NUM.fullmatch(head.group()):
            continue
        out.append(Figure(m.start(), m.end(), unit, mag))
    for m in _FRACTION.finditer(text):
        out.append(Figure(m.start(), m.end(), "分之", ""))
    return sorted(out, key=lambda f: f.start)
