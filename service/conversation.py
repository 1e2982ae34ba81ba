"""Follow-up questions: the question to search, built from a conversation's user turns.

A conversation's last user message is answered; the earlier ones give it context. Each user
turn is read against the one before it (as that one was resolved), so a chain of follow-ups
keeps what the first question set:

- an elliptical follow-up, whose only words are a year or a region (`那2020年呢？`, `北京呢？`,
  `What about 2020?`), asks the earlier question again with its years or regions replaced:
  after `2019年上海GDP增长目标是多少？`, `那2020年呢？` is `2020年上海GDP增长目标是多少？`;
- a follow-up that refers to the report by a pronoun and names no year or region
  (`它的主要任务有哪些？`, `该报告…`) asks about the earlier question's report:
  `2019年上海市政府工作报告的主要任务有哪些？`;
- any other follow-up that names no region, or no year, takes the earlier question's
  (`养老床位新增多少？` after a question about Shanghai in 2019 is asked of that report).

What was carried over (`topic`, `region`, `year`, `report`) and a note in the question's
language say how the question was resolved. Pure text: the facets are read by
service.facets, the reports they name are resolved later, by service.query.understand.
Assistant and system messages never change the question (system messages are the client's
preferences; the service's own rules on citing and refusing always apply).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.regions import NATIONAL, REGIONS

from .errors import InvalidQueryError
from .facets import read_facets, year_mentions
from .lang import detect_lang

# Only the last user turns are read: a topic older than this is not carried over.
MAX_TURNS = 20


class NoQuestionError(InvalidQueryError):
    """The conversation holds no user message to answer."""

    code = "no_user_message"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The question a conversation asks, and how its last message was read.

    Attributes:
        question: the question to search and answer.
        asked: the last user message, as sent (stripped).
        earlier: the earlier question (as resolved) it was read against; None for the first.
        carried: what came from the earlier question: "topic", "region", "year", "report".
        changed: what the follow-up put in place of the earlier question's: "region", "year".
        note: how it was resolved, in the question's language; "" when asked as it is.
    """

    question: str
    asked: str
    earlier: str | None = None
    carried: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    note: str = ""

    @property
    def follow_up(self) -> bool:
        return bool(self.carried)


def resolve_conversation(questions: Sequence[str], today: dt.date) -> Resolution:
    """The question the last of these user messages asks, read with the ones before it.

    Args:
        questions: the user messages' texts, oldest first.
        today: the date 今年/去年 count from.

    Raises:
        NoQuestionError: there is no user message.
    """
    if not questions:
        raise NoQuestionError(
            'the messages hold no user message: end them with {"role": "user", "content": '
            '"2019年上海GDP增长目标是多少？"}'
        )
    *earlier, last = questions[-MAX_TURNS:]
    current: Resolution | None = None
    for text in earlier:
        if text.strip():
            current = follow(current.question if current else None, text, today)
    return follow(current.question if current else None, last, today)


# --- reading one question ------------------------------------------------------------------

_CONNECTOR = re.compile(r"[\s、,，/&和与及或至到—–\-～~]*|\s*(?:and|or|to|through)\s*", re.I)
# What an elliptical follow-up says besides its years and regions.
_FILLER = re.compile(
    r"那么|那|呢|吗|嘛|啊|呀|吧|的|又|还有|还|再|也|同样|一样|情况|怎么样|如何|怎样|是多少|多少|是"
    r"|\b(?:what|what's|whats|how|about|and|or|then|in|for|of|the|same|year|is|was|were|it|also"
    r"|too|instead|please)\b",
    re.I,
)
_NOISE = re.compile(r"[\s\W_]+")
_PASSAGE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-\d{4}", re.I)
# Words that stand for a report already asked about (not 其他, 其中, 尤其, 及其).
_REPORT_PRONOUN = re.compile(
    r"该报告|这份报告|那份报告|这个报告|那个报告|这一报告|本报告|此报告|它们?|(?<![尤极及与])其(?![他它中实余次])"
    r"|\b(?:this|that|the) report(?:'s)?",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Read:
    """What one question names, and where it writes it."""

    text: str
    en: bool
    regions: tuple[str, ...]
    years: tuple[int, ...]
    region_spans: tuple[_Span, ...]
    year_spans: tuple[_Span, ...]

    @classmethod
    def of(cls, text: str, today: dt.date) -> _Read:
        facets = read_facets(text, today)
        asked = set(facets.years)
        years = tuple(_Span(m.start, m.end) for m in year_mentions(text, today) if m.year in asked)
        return cls(
            text,
            detect_lang(text) == "en",
            facets.regions,
            facets.years,
            _region_spans(text, facets.regions),
            years,
        )

    def written(self, spans: tuple[_Span, ...]) -> str:
        """The first group of these spans as written (2020年; 2019年和2020年)."""
        group = _first_group(self.text, spans)
        return self.text[group.start : group.end] if group else ""

    @property
    def elliptical(self) -> bool:
        """Its only words are years, regions and fillers (那2020年呢？)."""
        chars = list(self.text)
        for s in (*self.region_spans, *self.year_spans):
            chars[s.start : s.end] = " " * (s.end - s.start)
        rest = _FILLER.sub(" ", "".join(chars))
        return not _NOISE.sub("", rest)


def _forms(name: str) -> list[str]:
    """How a region may be written: its names, short forms, slug and English names."""
    out: list[str] = []
    for r in REGIONS:
        if r.name == name:
            out += [*r.names, *r.short, *r.run, r.slug]
            if r.name == NATIONAL:
                out += ["State Council", "国家", "我国", "中国", "China"]
    return out


def _region_spans(text: str, regions: tuple[str, ...]) -> tuple[_Span, ...]:
    """Where the text writes these regions (longest forms first, English word-bounded)."""
    forms = sorted({f for name in regions for f in _forms(name)}, key=len, reverse=True)
    if not forms:
        return ()
    alternatives = [_english(f) if f.isascii() else re.escape(f) for f in forms]
    pattern = re.compile("|".join(alternatives), re.I)
    return tuple(_Span(m.start(), m.end()) for m in pattern.finditer(text))


def _english(form: str) -> str:
    """An English name, any case, word-bounded; inner-mongolia also Inner Mongolia."""
    flexible = re.escape(form).replace(r"\-", "[-\\s]?").replace(r"\ ", "[-\\s]?")
    return f"(?<![A-Za-z]){flexible}(?![A-Za-z])"


def _first_group(text: str, spans: tuple[_Span, ...]) -> _Span | None:
    """The first spans joined by list or range words only (2019、2020年), as one span."""
    if not spans:
        return None
    ordered = sorted(spans, key=lambda s: s.start)
    start, end = ordered[0].start, ordered[0].end
    for s in ordered[1:]:
        if s.start < end or not _CONNECTOR.fullmatch(text[end : s.start]):
            break
        end = s.end
    return _Span(start, end)


def _replace(text: str, spans: tuple[_Span, ...], new: str) -> str:
    group = _first_group(text, spans)
    if group is None:
        return text
    return text[: group.start] + new + text[group.end :]


def _insert(into: _Read, text: str, region: str, years: str) -> str:
    """The text (of `into`'s language) with a region and years it does not name: in front
    in Chinese, in brackets after in English."""
    if not region and not years:
        return text
    if into.en:
        return f"{text} ({', '.join(p for p in (region, years) if p)})"
    return f"{region}{years}{text}"


# --- one turn ------------------------------------------------------------------------------


def follow(earlier: str | None, asked: str, today: dt.date) -> Resolution:
    """One question read against the earlier one (None: there is none), as the module says."""
    asked = asked.strip()
    if earlier is None or not asked or _PASSAGE_ID.fullmatch(asked):
        return Resolution(asked, asked)
    now, before = _Read.of(asked, today), _Read.of(earlier, today)
    # An earlier message without a topic of its own (你好, …, 2019年) gives nothing to carry.
    if before.elliptical or (not before.regions and not before.years and not now.elliptical):
        return Resolution(asked, asked)
    changes: list[tuple[str, str]] = []
    if now.elliptical:
        return _elliptical(now, before, asked)
    pronoun = _REPORT_PRONOUN.search(asked)
    if pronoun and not now.regions and not now.years:
        report = _report_name(before)
        if pronoun.group().endswith("'s"):
            report += "'s"
        question = asked[: pronoun.start()] + report + asked[pronoun.end() :]
        changes.append(("report", f"{pronoun.group()}\0{report}"))
        return _resolution(question, asked, earlier, ("report",), changes, now.en)
    carried: list[str] = []
    region = years = ""
    if not now.regions and before.regions:
        region = before.written(before.region_spans) or "、".join(before.regions)
        carried.append("region")
        changes.append(("region", region))
    if not now.years and before.years and before.year_spans:
        years = before.written(before.year_spans)
        carried.append("year")
        changes.append(("year", years))
    if not carried:
        return Resolution(asked, asked)
    question = _insert(now, asked, region, years)
    return _resolution(question, asked, earlier, tuple(carried), changes, now.en)


def _elliptical(now: _Read, before: _Read, asked: str) -> Resolution:
    """The earlier question asked again with the follow-up's years and regions."""
    question, carried = before.text, ["topic"]
    changes: list[tuple[str, str]] = [("topic", "")]
    region = years = ""
    if now.years:
        years = now.written(now.year_spans)
        if before.year_spans:
            question = _replace(question, before.year_spans, years)
            years = ""
        changes.append(("new_year", now.written(now.year_spans)))
    elif before.years:
        carried.append("year")
        changes.append(("year", before.written(before.year_spans)))
    if now.regions:
        region = now.written(now.region_spans) or "、".join(now.regions)
        changes.append(("new_region", region))
        # Where the year was replaced the spans moved: read the regions again.
        spans = _region_spans(question, before.regions)
        if spans:
            question = _replace(question, spans, region)
            region = ""
    elif before.regions:
        carried.append("region")
        changes.append(("region", before.written(before.region_spans) or "、".join(before.regions)))
    question = _insert(before, question, region, years)
    return _resolution(question, asked, before.text, tuple(carried), changes, now.en)


def _report_name(before: _Read) -> str:
    """The earlier question's report, named: 2019年上海市政府工作报告, the 2019 Shanghai report."""
    years = before.written(before.year_spans)
    regions = before.regions
    if before.en:
        where = before.written(before.region_spans)
        return " ".join(p for p in ("the", years, where, "government work report") if p)
    if len(regions) == 1:
        region = next(r for r in REGIONS if r.name == regions[0])
        return f"{years}{region.report_name}"
    return f"{years}{'、'.join(regions)}政府工作报告"


def _resolution(
    question: str,
    asked: str,
    earlier: str,
    carried: tuple[str, ...],
    changes: list[tuple[str, str]],
    en: bool,
) -> Resolution:
    parts = [_change(kind, value, en) for kind, value in changes]
    changed = tuple(k.removeprefix("new_") for k, _ in changes if k.startswith("new_"))
    if en:
        note = f"read with the earlier question “{earlier}” as “{question}”: {'; '.join(parts)}"
    else:
        note = f"按上一问“{earlier}”理解为“{question}”：{'，'.join(parts)}"
    return Resolution(question, asked, earlier, carried, changed, note)


def _change(kind: str, value: str, en: bool) -> str:
    """One thing carried over or changed, in words."""
    if kind == "report":
        word, report = value.split("\0")
        return f"“{word}” taken as {report}" if en else f"“{word}”指{report}"
    words = {
        "topic": ("its topic kept", "沿用其话题"),
        "region": (f"its region kept ({value})", f"沿用其地区（{value}）"),
        "year": (f"its year kept ({value})", f"沿用其年份（{value}）"),
        "new_year": (f"the year changed to {value}", f"年份改为{value}"),
        "new_region": (f"the region changed to {value}", f"地区改为{value}"),
    }
    en_words, zh_words = words[kind]
    return en_words if en else zh_words
