"""What a question asks about: the regions it names, the years it means and what kind of year.

Pure text reading; service.scope resolves it against the corpus. A report of year Y reviews
Y−1 and sets Y's targets, so beside the years this says whether targets or results are asked.

Years: `2019年`, `2019 年`, `2019年度`, `二〇一九年`, `两千零一十九年`, 1978..2100. In Chinese a
    bare `2019` only opening the question or after a region name, and before a region, 的,
    GDP or CPI (`2019上海GDP目标`), so `2019亿元` and `2019件` are not years; in English text
    (service.lang) any free-standing 4-digit number not followed by a unit (`2019 billion`).
    Relative: 今年/本年度, 去年, 前年, 明年, 今明两年, this/last/next year, the year before last.
    Lists (`2019、2020年`) give each year; ranges (`2021年到2023年`, `2021—2023年`, `2021 to
    2023`) are expanded inclusive, except over 15 years: then only the two ends.
Subject years are named but no report or period to look up: a year before 远景 (2035年远景目标)
    or an event (第四十六届, 首届, 世博会); a deadline (after 到/至/by/before but not 截至/截止到,
    "as of"; before 前/以前/之前 but not 前三季度) unless a range joins it to an earlier year;
    any year after today.year + 1, for which no report can exist yet. today.year + 1 stays a
    report year (in December the next report is weeks away): the service says it is missing.
    A year both asked about and a subject counts as asked about.
Intent: "results" for what happened (实际, 完成, 达到, 实现了, 增长了, 取得, 成绩, 回顾, 做了,
    同比, 比上年; actual, achieved, grew, did … grow); "targets" for what was set (目标, 预期,
    计划, 要, 任务, 安排, 部署, 力争, 左右; target, goal, plan, will); else "any". A results word
    after a modal (要完成, 力争达到) is a target. Both kinds: "results", since a question naming
    a target and asking what was achieved (目标是多少，实际完成了多少) is about the outcome, which
    the next report reviews. A year naming a report (`2019年政府工作报告`, `the 2019 work
    report`) means that report itself: "any", answered from that year's report first.
Regions: names and aliases (indexer.regions); English names (Shanghai, Inner Mongolia), any
    case, word-bounded; short forms (沪, 粤) except inside known words (犹豫, 鄂尔多斯); runs of
    two or more short forms (京津冀, 沪苏浙皖), which may use the commoner Region.run ones.
    全国, 国务院, 中央政府, State Council name the national level always; 全国 as a yardstick
    (全国领先, 居全国前列, 在全国率先, 占全国, 全国首个, 全国人大代表, 全国性) and 国家, 我国,
    中国, China, national only when no other region is named; 国家级 never. Cities add nothing.
Comparison: two or more years or regions, or a word that compares (比较, 相比, 变化, 分别, vs).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from indexer.regions import region_mentions

from .lang import detect_lang
from .periods import is_period, plan_years
from .question_regions import regions_named

Intent = Literal["targets", "results", "any"]

FIRST_YEAR, LAST_YEAR = 1978, 2100
MAX_RANGE_YEARS = 15


@dataclass(frozen=True, slots=True)
class YearMention:
    """One year read from a question: its value and where it is written (text[start:end])."""

    year: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Facets:
    """The regions and years a question names, and what kind of year it means.

    Attributes:
        regions: canonical full names (上海市, 全国), in order of mention, no duplicates.
        years: the years asked about as report years or periods, ascending, ranges expanded.
        intent: "targets" (plans, tasks), "results" (outcomes) or "any" (not said).
        subject_years: years named as a subject (2035年远景目标, 到2025年), ascending.
        relative: a year came from 今年/去年/明年/前年 (or this/last/next year).
        comparison: the question compares years, regions or values.
        period: the years are one span asked about as a whole (service.periods).
    """

    regions: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    intent: Intent = "any"
    subject_years: tuple[int, ...] = ()
    relative: bool = False
    comparison: bool = False
    period: bool = False


@dataclass(frozen=True, slots=True)
class _Token:
    """A year as written; anchored: a year beyond doubt (with 年, relative, or English)."""

    mention: YearMention
    anchored: bool
    relative: bool = False


# --- years ---------------------------------------------------------------------------------

_ARABIC = re.compile(r"(?<![\dA-Za-z.．])\d{4}(?!\d|[.．]\d)")
_CN_DIGIT = {c: i % 10 for i, c in enumerate("〇一二三四五六七八九零")}
_CN_YEAR = re.compile(
    r"[〇零一二三四五六七八九]{4}(?=\s*年)|[两二]千(?:零?[一二三四五六七八九]?十[一二三四五六七八九]?"
    r"|零[一二三四五六七八九])?(?=\s*年)"
)
_NIAN = re.compile(r"\s*年度?")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_UNIT_AFTER = re.compile(
    r"\s*(?:%|percent|per\s+cent|billion|million|thousand|trillion|yuan|rmb|tons?|tonnes?|km|"
    r"kilomet\w*|square|hectares?|mu|people|persons?|households?|units?|items?|enterprises?|"
    r"compan\w*|firms?|projects?|cases?|times|kwh?|mw|gw)",
    re.IGNORECASE,
)
_BARE_ZH_AFTER = re.compile(r"\s*(?:的|GDP|CPI)", re.IGNORECASE)
_LEADING = " \t\r\n，,。.？?！!：:；;、\"'“”‘’《》（）()【】[]"
_RELATIVE = re.compile(
    r"今明两年|今年|本年度|(?<!过)去年|(?<![年此之以日])前年(?!均)|明年"
    r"|\bthe\s+year\s+before\s+last\b|\b(?:this|current|last|previous|past|next|coming)\s+year\b",
    re.IGNORECASE,
)
_RELATIVE_OFFSETS = {"今年": (0,), "本年度": (0,), "去年": (-1,), "前年": (-2,), "明年": (1,),
    "今明两年": (0, 1), "this": (0,), "current": (0,), "last": (-1,), "previous": (-1,),
    "past": (-1,), "next": (1,), "coming": (1,), "the": (-2,)}  # fmt: skip
_RANGE_GAP = re.compile(r"\s*(?:到|至|—+|–|-|－|～|~|〜|to|through|thru|until)\s*", re.I)
_LIST_GAP = re.compile(
    r"\s*(?:、|和|与|及|以及|跟|同|或|或者|,|，|/|&|and|or|vs\.?|versus)\s*", re.I
)
_DEADLINE_BEFORE = re.compile(
    r"(?:(?<![截止])[到至]|\b(?:by|before|until))\s*(?:the\s+end\s+of\s+)?$", re.I
)
_DEADLINE_AFTER = re.compile(r"[底末]?(?:以|之)?前(?![一二三四五六七八九十两\d个季月半年])")
_VISION_AFTER = re.compile(r"\s*(?:的)?\s*远景|\s*(?:'s\s+)?(?:long-range|vision)\b", re.I)
_EVENT_AFTER = re.compile(
    r"\s*(?:的)?\s*(?:第[\d零〇一二三四五六七八九十百]+届|首届"
    r"|[\u4e00-\u9fff]{0,3}?(?:世博会|冬奥会|奥运会|残奥会|亚运会|进博会|全运会|大运会))"
)
_REPORT_AFTER = re.compile(
    r"\s*(?:的)?\s*《?\s*(?:[\u4e00-\u9fff]{0,8}?(?:人民)?政府)?(?:工作)?报告"
    r"|(?:'s)?\s+(?:[A-Za-z']+\s+){0,3}?(?:government\s+)?(?:work\s+)?report\b",
    re.I,
)


def _cn_year(numeral: str) -> int:
    """The value of a year in Chinese numerals: 二〇一九 -> 2019, 两千零一十九 -> 2019."""
    if "千" not in numeral:
        return int("".join(str(_CN_DIGIT[c]) for c in numeral))
    tens, ten, units = numeral[2:].lstrip("零").rpartition("十")
    if not ten:  # 两千零九: no tens
        return 2000 + (_CN_DIGIT[units] if units else 0)
    return 2000 + 10 * (_CN_DIGIT[tens] if tens else 1) + (_CN_DIGIT[units] if units else 0)


def _bare_year(text: str, start: int, end: int, english: bool) -> bool:
    """Whether a 4-digit number written without 年 is a year (see the module docstring)."""
    if english:
        return not _UNIT_AFTER.match(text, end) and not text[end : end + 1].isalpha()
    spans = region_mentions(text)
    if text[:start].strip(_LEADING) and all(e != start for _, _, e in spans):
        return False  # neither opens the question nor follows a region name
    following = len(text) - len(text[end:].lstrip())
    return bool(_BARE_ZH_AFTER.match(text, end)) or any(s == following for _, s, _ in spans)


def _tokens(text: str, today: dt.date, english: bool) -> list[_Token]:
    """Every year written in the text (not yet told report from subject), in text order; a
    bare number that is no year alone is kept, unanchored, as it may join a list (2019、2020年)."""
    out: list[_Token] = []
    for m in _ARABIC.finditer(text):
        year, nian = int(m.group()), _NIAN.match(text, m.end())
        if FIRST_YEAR <= year <= LAST_YEAR:
            anchored = bool(nian) or _bare_year(text, m.start(), m.end(), english)
            out.append(
                _Token(YearMention(year, m.start(), nian.end() if nian else m.end()), anchored)
            )
    for m in _CN_YEAR.finditer(text):
        year, nian = _cn_year(m.group()), _NIAN.match(text, m.end())
        if FIRST_YEAR <= year <= LAST_YEAR and nian:
            out.append(_Token(YearMention(year, m.start(), nian.end()), True))
    for m in _RELATIVE.finditer(text):
        key = m.group().split()[0].lower()
        for offset in _RELATIVE_OFFSETS[key]:
            mention = YearMention(today.year + offset, m.start(), m.end())
            out.append(_Token(mention, True, relative=True))
    return sorted(out, key=lambda t: (t.mention.start, t.mention.year))


def _groups(text: str, tokens: list[_Token]) -> list[list[tuple[_Token, str]]]:
    """Tokens joined by list or range words (2019、2020年; 2021到2023年), each with the link
    ("range", "list" or "" for the first) to the one before it."""
    groups: list[list[tuple[_Token, str]]] = []
    for token in tokens:
        if groups and not token.relative and not groups[-1][-1][0].relative:
            gap = text[groups[-1][-1][0].mention.end : token.mention.start]
            link = (
                "range" if _RANGE_GAP.fullmatch(gap) else "list" if _LIST_GAP.fullmatch(gap) else ""
            )
            if link:
                groups[-1].append((token, link))
                continue
        groups.append([(token, "")])
    return groups


def _subject(text: str, token: _Token, today: dt.date) -> bool:
    """Whether a year is named as a vision, an event, a deadline after it, or the far future."""
    end = token.mention.end
    return (
        token.mention.year > today.year + 1
        or bool(_VISION_AFTER.match(text, end) or _EVENT_AFTER.match(text, end))
        or bool(token.anchored and not token.relative and _DEADLINE_AFTER.match(text, end))
    )


@dataclass(frozen=True, slots=True)
class _Years:
    """What _read_years found (see Facets); report_named: a year names a report (2019年报告)."""

    years: tuple[int, ...]
    subject: tuple[int, ...]
    mentions: tuple[YearMention, ...]
    relative: bool
    report_named: bool


def _read_years(text: str, today: dt.date, english: bool) -> _Years:
    """The years of a question, told into report years and subject years."""
    years, subject = set[int](), set[int]()
    mentions: list[YearMention] = []
    relative = report_named = False
    for group in _groups(text, _tokens(text, today, english)):
        if not any(t.anchored for t, _ in group):
            continue
        ranged = any(link == "range" for _, link in group)
        deadline = not ranged and bool(_DEADLINE_BEFORE.search(text[: group[0][0].mention.start]))
        for i, (token, link) in enumerate(group):
            year = token.mention.year
            mentions.append(token.mention)
            if link == "range" and 0 < year - group[i - 1][0].mention.year < MAX_RANGE_YEARS:
                inner = range(group[i - 1][0].mention.year + 1, year)
                years.update(y for y in inner if y <= today.year + 1)
                subject.update(y for y in inner if y > today.year + 1)
            if deadline or _subject(text, token, today):
                subject.add(year)
                continue
            years.add(year)
            relative |= token.relative
            report_named |= bool(_REPORT_AFTER.match(text, token.mention.end))
    ordered = tuple(sorted(years))
    return _Years(ordered, tuple(sorted(subject - years)), tuple(mentions), relative, report_named)


def year_mentions(text: str, today: dt.date) -> tuple[YearMention, ...]:
    """Every year the question writes (asked about or subject; 今年 too), in text order.

    Args:
        text: the question. today: the date 今年/去年 count from.
    """
    text = text.translate(_FULLWIDTH)
    return _read_years(text, today, detect_lang(text) == "en").mentions


# --- intent --------------------------------------------------------------------------------

_MODAL = (
    r"(?<!要)(?<!将)(?<!力争)(?<!争取)(?<!计划)(?<!确保)(?<!预计)(?<!能否)(?<!如何)"
    r"(?<!打算)(?<!准备)"
)
_RESULTS = re.compile(
    rf"实际|{_MODAL}(?:完成|达到|达成|取得)|实现了|实现情况|是否实现|有没有实现|成效|成绩|成果|成就"
    r"|回顾|结果|同比|[比较]上年|进展|执行情况|累计|已经"
    r"|(?:增长|下降|提高|降低|减少|增加|上升|回落|新增|建成|突破|超过|做|干|采取|出台|推出|开展"
    r"|实施|办|推进|落实|涨|降|升|跌)了"
    r"|\b(?:actual(?:ly)?|achieved?|achievements?|accomplish\w*|results?|outcomes?|performance"
    r"|review\w*|grew|rose|fell|declined|dropped|reached|completed|met)\b"
    r"|\bdid\b.*\b(?:grow|rise|fall|increase|decrease|decline|reach|achieve|complete|do)\b",
    re.IGNORECASE,
)
# A question for a measured value (2021年GDP总量有多少): a year's figures are known only
# after it ends, so they are results, which the next year's report gives.
_QUANTITY = re.compile(
    r"多少|几[个项家所座条万亿]|[多有]大|规模|总量|比重|比例|占比|浓度|水平"
    r"|\b(?:how (?:much|many|big|high)|what (?:was|were) (?:the )?\w+ (?:rate|level|size|share))\b",
    re.IGNORECASE,
)
_TARGETS = re.compile(
    r"目标|预期|计划|打算|将要|将会|任务|安排|部署|重点工作|工作重点|力争|左右|规划|拟|举措"
    r"|控制在|保持在|赤字率|专项债|特别国债"  # figures a report sets, never reviews
    r"|(?<![主重需只想必纲摘概首])要(?![求素闻点])"
    r"|\b(?:targets?|goals?|aims?|plans?|planned|planning|expected|projected|tasks?|"
    r"priorit(?:y|ies)|will|intends?|objectives?|around)\b",
    re.IGNORECASE,
)


def _intent(text: str, report_named: bool, dated: bool = True) -> Intent:
    """What the question's years mean (see the module docstring)."""
    if report_named:
        return "any"
    if _RESULTS.search(text):
        return "results"
    if _TARGETS.search(text):
        return "targets"
    return "results" if dated and _QUANTITY.search(text) else "any"


# --- comparison ----------------------------------------------------------------------------

_COMPARE = re.compile(
    r"比较|对比|相比|相较|比起|(?<!气候)变化|分别|差别|差异|区别|不同|异同"
    r"|\b(?:compare[ds]?|comparing|comparison|versus|vs\.?|differ\w*|(?<!climate\s)change[ds]?"
    r"|respectively)\b",
    re.IGNORECASE,
)


def read_facets(text: str, today: dt.date) -> Facets:
    """Read a question's regions, years, intent and whether it compares.

    Args:
        text: the question, Chinese or English.
        today: the date relative years (今年, 去年, last year) count from and the future
            starts after.

    Returns:
        The Facets; empty tuples where the question names no region or year.
    """
    text = text.translate(_FULLWIDTH)
    found = _read_years(text, today, detect_lang(text) == "en")
    regions = regions_named(text)
    years = found.years or plan_years(text)
    period = is_period(text, years)
    return Facets(
        regions=regions,
        years=years,
        intent=_intent(text, found.report_named, bool(years)),
        subject_years=found.subject,
        relative=found.relative,
        comparison=(len(years) > 1 and not period)
        or len(regions) > 1
        or bool(_COMPARE.search(text)),
        period=period,
    )
