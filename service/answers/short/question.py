"""What a question asks for: a figure in a unit, an ordinal, a name, a date or a short list."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .figures import MONEY, UNIT_RE


@dataclass(frozen=True, slots=True)
class Asked:
    """What kind of short answer a question asks for (see `asked`).

    Attributes:
        kind: "number" (a figure, percentages included), "ordinal" (第几届), "name",
            "date" or "list".
        units: the units a figure may have ("张"; "" for a bare 329.7万); empty: any unit.
        percent: for a figure: "only" (a rate: 比例, 率), "prefer" (a change: 增长多少),
            "avoid" (an amount: 总量, 多少钱) or "any".
        times: the question asks for a multiple (几倍): figures in 倍 are not second best.
        total: the question asks for a total (一共, 累计): figures the sentence totals win.
        new: the question asks what was added (新增, 新建): a cumulative figure is second.
        detail: for a date: "day" (哪一天), "year" (哪一年) or "any" (什么时候).
        count: for a list: the number of items asked for (哪两个 → 2), if said.
        ordinal: for an ordinal: the measure word after 第几 (届), "" when none.
        at: where the question word is in the question: the words of its clause are what
            is asked about, the rest is context.
    """

    kind: str
    units: frozenset[str] = frozenset()
    percent: str = "any"
    times: bool = False
    total: bool = False
    new: bool = False
    detail: str = "any"
    count: int | None = None
    ordinal: str = ""
    at: int = 0


_ZH_NUMERALS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_LIST = re.compile(r"哪些|哪几|哪(?P<count>[两二三四五六七八九])[个条种类项家所座位大方面]")
_ZH_NAME = re.compile(r"谁|哪位|何人")
_ZH_DATE = re.compile(
    r"(?P<day>哪一天|哪天|哪一日|几月几日|几月几号|几号|什么日子|日期)"
    r"|(?P<year>哪一年|哪年|哪个年份)"
    r"|什么时候|何时|哪个月|几月份?"
)
_ZH_ORDINAL = re.compile(r"第几(?P<unit>届|代|轮|批|次|个|位|名|期|条|项|号|季度)?")
_ZH_NUMBER = re.compile(
    r"多少|(?<![这那近前后好过最十哪第])几(?![乎])|多大|多长|多远|多久|多高|多重|多快|什么水平|百分之几"
)
_ZH_TARGET = re.compile(r"(?:目标|增速|增幅|涨幅|比例|比重|规模|总量)(?:是)?[？?]?$")
_ZH_UNIT_AFTER = re.compile(rf"^(?:多少|几)(?P<mag>[十百千万亿]*)(?P<unit>{UNIT_RE}|钱|平方)?")
_ZH_RATE = re.compile(r"比例|比重|占比|百分|率|几个点|增速|增幅|涨幅|占.{0,14}(?:多少|几)")
_ZH_CHANGE = re.compile(r"增长|(?<!新)增加|下降|提高|降低|减少|上涨|涨|降到|降了|(?<!新)增了|快")
_ZH_AMOUNT = re.compile(r"总量|总额|规模|多少钱|资金|投资额|多大面积|面积")
_ZH_TOTAL = re.compile(r"一共|总共|共有|累计|总数|加起来|合计|总计")
_ZH_TIMES = re.compile(r"倍|翻")
_ZH_NEW = re.compile(r"新增|新建|新开|新设|多出|多了")
_ZH_LENGTH = re.compile(r"多长(?!时间)|多远")
_ZH_DURATION = re.compile(r"多久|多长时间|多少时间")
_ZH_AREA = re.compile(r"多大面积|多少面积|面积")

_PEOPLE = frozenset({"人", "名", "位", "人次", ""})
_LENGTH = frozenset({"公里", "千米", "米"})
_AREA = frozenset({"平方米", "平方公里", "平方千米", "亩", "公顷"})
_DURATION = frozenset({"分钟", "小时", "天", "年", "个月", "周年"})
# Measure words a count in 个 answers as well.
_LIKE_GE = frozenset({"份", "处", "块", "所", "座"})


def _zh_units(unit: str) -> frozenset[str]:
    """The figure units that answer a question's measure word."""
    if unit in ("人", "名", "位"):
        return _PEOPLE
    if unit == "钱" or unit.endswith("元"):
        return frozenset(MONEY)
    if unit == "平方":
        return frozenset({"平方米", "平方公里", "平方千米"})
    if unit in _LIKE_GE:
        return frozenset({unit, "个"})
    if unit in ("个百分点", "百分点"):
        return frozenset({"个百分点", "百分点"})
    return frozenset({unit})


def _zh_figure(question: str, at: int) -> tuple[frozenset[str], str]:
    """The units and the percentage policy of a question asking 多少/几 at offset `at`."""
    m = _ZH_UNIT_AFTER.match(question[at:])
    unit = (m.group("unit") or "") if m else ""
    if question[at:].startswith(("几个点", "多少个点")):
        return frozenset(), "only"
    if unit == "钱":
        return frozenset(MONEY), "avoid"
    if unit:
        return _zh_units(unit), "any"
    if m is not None and m.group("mag"):
        return frozenset({""}), "any"
    for pattern, units in ((_ZH_LENGTH, _LENGTH), (_ZH_DURATION, _DURATION), (_ZH_AREA, _AREA)):
        if pattern.search(question):
            return units, "any"
    if _ZH_RATE.search(question):
        return frozenset(), "only"
    if _ZH_AMOUNT.search(question):
        return frozenset(), "avoid"
    if _ZH_CHANGE.search(question):
        return frozenset(), "prefer"
    return frozenset(), "any"


def _zh_number(question: str, at: int) -> Asked:
    units, percent = _zh_figure(question, at)
    return Asked(
        "number",
        units,
        percent,
        times=bool(_ZH_TIMES.search(question)) or "倍" in units or percent == "prefer",
        total=bool(_ZH_TOTAL.search(question)),
        new=bool(_ZH_NEW.search(question)),
    )


def _zh_asked(question: str) -> Asked | None:
    found: list[tuple[int, Asked]] = []
    if m := _ZH_LIST.search(question):
        count = _ZH_NUMERALS.get(m.group("count") or "")
        found.append((m.start(), Asked("list", count=count)))
    if m := _ZH_NAME.search(question):
        found.append((m.start(), Asked("name")))
    if m := _ZH_DATE.search(question):
        detail = "day" if m.group("day") else "year" if m.group("year") else "any"
        found.append((m.start(), Asked("date", detail=detail)))
    if m := _ZH_ORDINAL.search(question):
        found.append((m.start(), Asked("ordinal", ordinal=m.group("unit") or "")))
    if m := _ZH_NUMBER.search(question):
        found.append((m.start(), _zh_number(question, m.start())))
    if not found and _ZH_TARGET.search(question.strip()):
        found.append((len(question) - 1, _zh_number(question, len(question))))
    if not found:
        return None
    at, kind = min(found, key=lambda f: f[0])
    return replace(kind, at=at)


_EN_WORD = re.compile(r"[a-z0-9%'’\-]+")
_EN_NAME = re.compile(r"\bwho(?:m|se)?\b")
_EN_DATE = re.compile(
    r"\b(?P<day>(?:what|which) (?:date|day)|on what day)\b"
    r"|\b(?P<year>(?:what|which|in what) year)\b"
    r"|\bwhen\b"
)
_EN_NUMBER = re.compile(
    r"\bhow (?P<how>many|much|long|far|big|large|fast|high|old)\b"
    r"|\bby how much\b"
    r"|\bwhat (?:[\w&'-]+ ){0,3}?(?P<what>percentage|percent|share|proportion|rate|ratio|"
    r"intensity|target|goal|level|size|number|amount|value|total)\b"
)
_EN_LIST = re.compile(r"\b(?:which|what)\b")
_EN_AUX_TEXT = (
    "are were is was will would did does do has have had can could should shall must "
    "to in of on for by over during from with that this the a an"
)
_EN_AUX = frozenset(_EN_AUX_TEXT.split())
# Units named anywhere in an English question (… in yuan?).
_EN_UNIT_WORD = re.compile(
    r"\b(?:yuan|dollars?|kilomet(?:re|er)s?|hectares?|tonnes?|households?)\b"
)
_EN_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_EN_RATE = re.compile(r"percent|percentage|share|proportion|\brate\b|ratio|%|intensity|cover")
_EN_CHANGE = re.compile(r"\b(?:grow|grew|growth|increase|rise|rose|fall|fell|drop|expand|fast)")
EN_FUTURE = re.compile(
    r"\b(?:will|plan|plans|planned|target|targets|goal|aim|aims|expect|expects|expected|"
    r"should|set for|is to|are to|to be)\b"
)
_EN_PEOPLE = "people person resident citizen national graduate worker senior student visitor"
_EN_UNITS: dict[str, frozenset[str]] = {
    **dict.fromkeys((*_EN_PEOPLE.split(), "passenger", "traveller"), _PEOPLE),
    **dict.fromkeys(("kilometre", "kilometer", "km"), _LENGTH),
    **dict.fromkeys(("metre", "meter"), frozenset({"米"})),
    **dict.fromkeys(("tonne", "ton"), frozenset({"吨"})),
    "square": frozenset({"平方米", "平方公里", "平方千米"}),
    "hectare": frozenset({"公顷"}),
    "mu": frozenset({"亩"}),
    "yuan": frozenset(MONEY),
    "dollar": frozenset({"美元"}),
    "household": frozenset({"户"}),
    "bed": frozenset({"张"}),
    "year": frozenset({"年"}),
    "time": frozenset({"倍"}),
    "percentage": frozenset({"个百分点", "百分点"}),
}


def _en_singular(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + repl
    return word


def _plural(word: str) -> bool:
    return (
        len(word) > 3
        and (word.endswith("s") or word.endswith("s'"))
        and not word.endswith(("ss", "us", "is", "'s", "’s"))
    )


def _en_phrase(q: str, end: int) -> list[str]:
    """The words after a question word, up to the first auxiliary or preposition."""
    words: list[str] = []
    for w in _EN_WORD.findall(q[end:]):
        if w in _EN_AUX and words:
            break
        if w not in _EN_AUX:
            words.append(w)
        if len(words) == 5:
            break
    return words


def _en_figure(q: str, m: re.Match[str]) -> tuple[frozenset[str], str]:
    """The units and the percentage policy of an English question (lower case)."""
    how = m.group("how")
    if how == "many":
        phrase = _en_phrase(q, m.end())
        for i, w in enumerate(phrase):
            key = _en_singular(w.strip("'"))
            if key == "percentage":
                if i + 1 < len(phrase) and phrase[i + 1].startswith("point"):
                    return _EN_UNITS[key], "any"
            elif key in _EN_UNITS:
                return _EN_UNITS[key], "any"
    if found := _EN_UNIT_WORD.search(q):
        return _EN_UNITS[_en_singular(found.group())], "any"
    if how == "many":
        return frozenset(), "avoid"
    if how in ("long", "far"):
        return _LENGTH | _DURATION, "any"
    if _EN_RATE.search(q):
        return frozenset(), "only"
    if how in ("much", "big", "large") and re.search(r"\b(?:space|area|land)\b", q):
        return _AREA, "any"
    if _EN_CHANGE.search(q) or m.group("what") in ("target", "goal"):
        return frozenset(), "prefer"
    if how in ("much", "big", "large") or m.group("what") in ("amount", "value", "total", "size"):
        return frozenset(), "avoid"
    return frozenset(), "any"


def _en_number(q: str, m: re.Match[str]) -> Asked:
    units, percent = _en_figure(q, m)
    return Asked(
        "number",
        units,
        percent,
        times=bool(re.search(r"\btimes\b|\bfold\b", q)) or "倍" in units or percent == "prefer",
        total=bool(re.search(r"\b(?:in total|total|altogether|cumulative)\b", q)),
        new=bool(re.search(r"\b(?:new|newly|add|added|adds)\b", q)),
    )


def _en_asked(question: str) -> Asked | None:
    q = question.lower().replace("’", "'")
    found: list[tuple[int, Asked]] = []
    if m := _EN_NAME.search(q):
        found.append((m.start(), Asked("name")))
    if m := _EN_DATE.search(q):
        detail = "day" if m.group("day") else "year" if m.group("year") else "any"
        found.append((m.start(), Asked("date", detail=detail)))
    if m := _EN_NUMBER.search(q):
        found.append((m.start(), _en_number(q, m)))
    for m in _EN_LIST.finditer(q):
        rest = q[m.end() :].split()
        phrase = _en_phrase(q, m.end())
        if (rest[:1] == ["are"] or rest[:1] == ["were"]) or any(_plural(w) for w in phrase[:4]):
            count = next((_EN_COUNT[w] for w in rest[:3] if w in _EN_COUNT), None)
            found.append((m.start(), Asked("list", count=count)))
            break
    if not found:
        return None
    at, kind = min(found, key=lambda f: f[0])
    return replace(kind, at=at)


def asked(question: str, lang: str) -> Asked | None:
    """The kind of short answer the question asks for, or None (a reason, a description).

    The question word that comes first decides: 多少/几 (+ measure word), 谁/哪位,
    什么时候/哪一天/哪一年, 哪些/哪几个 and 第几; how many/how much/what share, who, when,
    which … (plural). A question ending in 目标/增速/比例 asks for a figure too.
    """
    return _en_asked(question) if lang == "en" else _zh_asked(question)
