"""What kind of answer a question asks for (a figure in a unit, a share, a date, a person),
and whether a sentence holds one: 多少张 wants 张, 多少钱 元, 比例 %, 谁 a name or an office.

Rules over the question's words, Chinese or English; no model. A figure's unit must fit
the one asked (多少公里 is not answered by 7000张), a measure word such as 个 takes any figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import jieba.posseg as pseg

Kind = Literal["number", "percent", "date", "person"]

# The unit a Chinese question asks a figure in, then the units that fit it.
_FITS_TEXT = """
钱 元 | 块 元 | 块钱 元 | 元 元 | 公里 公里 千米 | 千米 公里 千米 | 米 米 公里 |
平方米 平方米 平方公里 公顷 亩 | 平方 平方米 平方公里 公顷 亩 | 平米 平方米 |
平方公里 平方公里 平方米 公顷 | 公顷 公顷 亩 平方公里 | 亩 亩 公顷 | 岁 岁 |
人 人 名 人次 万 | 名 名 人 人次 | 人次 人次 人 | 分 分 | 吨 吨 | 标箱 标箱 TEU
"""
_UNIT_FITS = {
    unit: tuple(fits)
    for unit, *fits in (entry.split() for entry in _FITS_TEXT.split("|") if entry.strip())
}
# Measure words: a question's 多少张 wants a figure counted in 张 (个 and 位 take any figure).
_MEASURE = "张家所套台条片座处项户辆架艘场次届期批间栋幢"
_UNIT_Q = re.compile(
    r"(?:多少|(?<!哪)几)(?P<unit>块钱|平方公里|平方米|平方|平米|公里|千米|公顷|人次|标箱|钱|块|元|米|亩|"
    rf"岁|人|名|分|吨|[{_MEASURE}])"
)
_PERCENT_Q = re.compile(
    r"比例|比重|百分|几个点|多少个点|占.{0,12}(?:多少|几)|(?:率|增速|增幅|涨幅|降幅)(?:是|为|有)?多少"
    r"|(?:增长|增速|增幅|涨幅|上涨|下降|降低|涨|降|控制).{0,4}(?:多少|几)(?![张家所套台条片座处项户个元块钱公亩平人名万亿])"
)
_MONEY_Q = re.compile(
    r"(?:价|费|钱|金|款|资|薪|津贴|补贴|补助|收入|预算|投资|额度).{0,6}(?:多少|几)|多少钱"
)
_DATE_Q = re.compile(r"什么时候|何时|哪一?年|哪一?天|哪天|几月|几号|哪个月|什么时间|几时")
_PERSON_Q = re.compile(r"谁|哪位|什么人")
_NUMBER_Q = re.compile(r"多少|(?<!哪)几|多长|多大|多久|多远|多高|多重")

_EN_PERCENT_Q = re.compile(
    r"\b(what|which) (percentage|percent|share|proportion|rate|ratio)\b|\bby how much\b"
    r"|\bhow fast\b|\bgrowth rate\b|\bper ?cent\b"
)
_EN_MONEY_Q = re.compile(
    r"\b(cost|costs|price|prices|fare|fares|pay|paid|rent|fee|fees|pension|salary|wage|wages"
    r"|yuan|money|spend|spent|budget|subsidy|allowance|payment)\b"
)
_EN_NUMBER_Q = re.compile(r"\bhow (many|much|long|far|big|large|old|high)\b|\bwhat (number|size)\b")
_EN_DATE_Q = re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month)\b")
_EN_PERSON_Q = re.compile(r"\bwho\b|\bwhom\b")
_EN_UNITS = (
    (re.compile(r"\bkilomet|\bkm\b"), ("公里", "千米")),
    (re.compile(r"\bsquare met"), ("平方米", "平方公里", "公顷")),
    (re.compile(r"\bhectare"), ("公顷", "亩")),
    (re.compile(r"\bteus?\b"), ("标箱", "TEU")),
    (re.compile(r"\bhow old\b"), ("岁",)),
)

# A figure: Arabic digits (with a Chinese magnitude), or Chinese numerals.
_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千]+)\s*[万亿千百]*"
_DATE = re.compile(r"(?:19|20)\d{2}年|\d{1,2}月|\d{1,2}日|年底|年内|年初|年末|年中|上半年|下半年")
_PERCENT = re.compile(r"\d\s*[%％]|百分之|个百分点|\d\s*成|\d\s*倍")
_FIGURE = re.compile(rf"\d|[一二两三四五六七八九十百千万]+[个{_MEASURE}]")
_OFFICE = re.compile(r"市长|书记|主任|主席|部长|省长|总理|院长|局长|区长|县长|董事长|校长|所长")


@dataclass(frozen=True, slots=True)
class Wanted:
    """The kind of answer asked for, and for a figure the units that fit (none: any)."""

    kind: Kind
    units: tuple[str, ...] = ()


def wanted(question: str, lang: str = "zh") -> Wanted | None:
    """The kind of answer the question asks for; None when it asks for no particular kind."""
    return _wanted_en(question.lower()) if lang == "en" else _wanted_zh(question)


def _wanted_zh(question: str) -> Wanted | None:
    if _PERSON_Q.search(question):
        return Wanted("person")
    if _DATE_Q.search(question):
        return Wanted("date")
    if _PERCENT_Q.search(question):
        return Wanted("percent")
    m = _UNIT_Q.search(question)
    if m is not None and m.group("unit") in _UNIT_FITS:
        return Wanted("number", _UNIT_FITS[m.group("unit")])
    if _MONEY_Q.search(question):
        return Wanted("number", ("元",))
    if m is not None:
        return Wanted("number", (m.group("unit"),))
    return Wanted("number") if _NUMBER_Q.search(question) else None


def _wanted_en(q: str) -> Wanted | None:
    if _EN_PERSON_Q.search(q):
        return Wanted("person")
    if _EN_DATE_Q.search(q):
        return Wanted("date")
    if _EN_PERCENT_Q.search(q):
        return Wanted("percent")
    if _EN_NUMBER_Q.search(q) or (_EN_MONEY_Q.search(q) and re.search(r"\bwhat\b", q)):
        for pattern, units in _EN_UNITS:
            if pattern.search(q):
                return Wanted("number", units)
        money = _EN_MONEY_Q.search(q) and not re.search(r"\bhow many\b", q)
        return Wanted("number", ("元",) if money else ())
    return None


def holds(text: str, want: Wanted | None) -> bool:
    """Whether a sentence holds an answer of the kind wanted (True when none is)."""
    if want is None:
        return True
    if want.kind == "date":
        return bool(_DATE.search(text))
    if want.kind == "percent":
        return bool(_PERCENT.search(text))
    if want.kind == "person":
        if _OFFICE.search(text):
            return True
        return any(flag == "nr" and len(w) >= 2 for w, flag in pseg.cut(text))
    if not want.units:
        return bool(_FIGURE.search(text))
    alternatives = "|".join(re.escape(u) for u in want.units)
    return bool(re.search(rf"{_NUM}\s*[多余]?\s*(?:{alternatives})", text))
