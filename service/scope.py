"""Which reports a question is about: its facets (service.facets) resolved against the corpus.

A report delivered in year Y reviews year Y−1 and sets year Y's targets, so a question's year
becomes a report year by what it asks: targets, plans and tasks of Y → the report of Y;
results of Y → the report of Y+1, else Y's own; a question that says neither → Y, else Y+1.
No year: the latest report of each region asked about. No region: every region holding a
report of the year asked about, each answered on its own. Request filters (doc_id, region,
year) take the place of what the question says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from indexer.regions import NATIONAL, region

from .catalogue import Catalogue, Report, order, span
from .facets import Facets

Source = Literal["request", "question", "corpus"]
# Where in a report the answer is: its review of the past year ("review"), or the rest, its
# targets and tasks ("plan").
Focus = Literal["review", "plan"]


@dataclass(frozen=True, slots=True)
class Scope:
    """The reports a question is searched in, and why.

    Attributes:
        reports: the reports to search, oldest first; empty when none of those asked for is
            in the corpus (then `missing` says what is not).
        per_report: search and answer each report on its own (several years or regions).
        regions, years: the regions and report years resolved (empty: not restricted).
        reason: how the question was resolved, in the question's language.
        missing: the reports asked for that the corpus does not hold, with what it holds.
        latest: no year was named, so each region's latest report was taken.
        source: what decided the scope: the request's filters, the question, or neither
            (the whole corpus).
        focus: per doc_id, the part of the report that answers: its review of the year
            before ("review": a year's results in the next year's report) or its targets and
            tasks ("plan": a year's targets in its own report).
        caveats: what an answer must say first: a report taken in place of the one asked
            for (no 2026 report reviews 2025, so the 2025 report is quoted).
    """

    reports: tuple[Report, ...]
    per_report: bool = False
    regions: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reason: str = ""
    missing: tuple[str, ...] = ()
    latest: bool = False
    source: Source = "corpus"
    focus: tuple[tuple[str, Focus], ...] = ()
    caveats: tuple[str, ...] = ()

    @property
    def doc_ids(self) -> tuple[str, ...]:
        return tuple(r.doc_id for r in self.reports)

    def focus_of(self, doc_id: str) -> Focus | None:
        return dict(self.focus).get(doc_id)

    @property
    def empty(self) -> bool:
        """Nothing asked for is in the corpus."""
        return not self.reports


def _reason_join(parts: list[str], lang: str) -> str:
    return ("; " if lang == "en" else "；").join(p for p in parts if p)


def resolve(
    catalogue: Catalogue,
    facets: Facets,
    *,
    doc_ids: Sequence[str] = (),
    regions: Sequence[str] = (),
    years: Sequence[int] = (),
    lang: str = "zh",
) -> Scope:
    """The reports a question asks about (see the module docstring for the rules).

    Raises:
        NotFoundError: a doc_id the corpus does not hold. InvalidQueryError: an unknown
            region in the request.
    """
    en = lang == "en"
    if doc_ids:
        chosen = tuple(sorted((catalogue.report(d) for d in dict.fromkeys(doc_ids)), key=order))
        reason = (
            "the request's doc_id chose the report"
            if en
            else "按请求指定的 doc_id 检索：" + "、".join(r.label for r in chosen)
        )
        return Scope(chosen, len(chosen) > 1, reason=reason, source="request")
    request = bool(regions or years)
    wanted_regions = catalogue.region_names(regions) if regions else facets.regions
    if years:
        return _by_report_years(catalogue, wanted_regions, tuple(sorted(set(years))), lang)
    if facets.years:
        return _by_question_years(catalogue, wanted_regions, facets, lang, request)
    if wanted_regions:
        source: Source = "request" if regions else "question"
        return _latest(catalogue, wanted_regions, lang, source, facets.intent)
    if len(catalogue.regions) == 1:
        return _latest(catalogue, tuple(catalogue.regions), lang, "corpus", facets.intent)
    reason = (
        f"the question names no region or year: all {len(catalogue)} reports searched"
        if en
        else f"问题没有指明地区和年份：检索全部{len(catalogue)}份报告"
    )
    return Scope(catalogue.reports, reason=reason, source="corpus")


def _missing_region(catalogue: Catalogue, name: str, lang: str) -> str:
    if lang == "en":
        held = "、".join(catalogue.regions)
        return f"the corpus holds no report of {name} (it holds reports of {held})"
    return f"语料库中没有{name}的政府工作报告（现有{'、'.join(catalogue.regions)}的报告）"


def _intent_focus(intent: str) -> Focus | None:
    """The part of a report that answers a question of this intent about the report's
    own time: its review (results) or its targets and tasks."""
    return "review" if intent == "results" else "plan" if intent == "targets" else None


def _latest(
    catalogue: Catalogue, names: Sequence[str], lang: str, source: Source, intent: str = "any"
) -> Scope:
    chosen: list[Report] = []
    missing: list[str] = []
    for name in names:
        latest = catalogue.latest(name)
        if latest is None:
            missing.append(_missing_region(catalogue, name, lang))
        else:
            chosen.append(latest)
    chosen.sort(key=order)
    if lang == "en":
        reason = "no year named: the latest report of each region asked about: " + ", ".join(
            r.title for r in chosen
        )
    else:
        reason = "问题没有指明年份，按最新的报告回答：" + "、".join(r.label for r in chosen)
    return Scope(
        tuple(chosen),
        per_report=len(chosen) > 1,
        regions=tuple(names),
        years=tuple(sorted({r.year for r in chosen if r.year is not None})),
        reason=_reason_join([reason if chosen else "", *missing], lang),
        missing=tuple(missing),
        latest=True,
        source=source,
        focus=_focus_all(chosen, _intent_focus(intent)),
    )


def _focus_all(reports: Iterable[Report], focus: Focus | None) -> tuple[tuple[str, Focus], ...]:
    return () if focus is None else tuple((r.doc_id, focus) for r in reports)


def _by_report_years(
    catalogue: Catalogue, names: Sequence[str], years: tuple[int, ...], lang: str
) -> Scope:
    """Request filters: reports delivered in these years (of these regions)."""
    chosen: list[Report] = []
    missing: list[str] = []
    for year in years:
        for name in names or (None,):
            found = catalogue.find(name, year)
            if found:
                chosen.extend(found)
            else:
                missing.append(_missing_report(catalogue, name, year, None, lang))
    chosen = sorted(dict.fromkeys(chosen), key=order)
    reason = (
        "the request's region/year filters: " + ", ".join(r.title for r in chosen)
        if lang == "en"
        else "按请求的地区、年份筛选：" + "、".join(r.label for r in chosen)
    )
    return Scope(
        tuple(chosen),
        per_report=len(chosen) > 1,
        regions=tuple(names),
        years=years,
        reason=_reason_join([reason if chosen else "", *missing], lang),
        missing=tuple(missing),
        source="request",
    )


def _candidates(year: int, intent: str) -> tuple[int, ...]:
    """Report years that answer a question about `year`, best first."""
    if intent == "results":
        return (year + 1, year)
    if intent == "targets":
        return (year,)
    return (year, year + 1)


def _by_question_years(
    catalogue: Catalogue, names: Sequence[str], facets: Facets, lang: str, request: bool
) -> Scope:
    chosen: list[Report] = []
    missing: list[str] = []
    notes: list[str] = []
    focus: dict[str, Focus] = {}
    caveats: list[str] = []
    asked = [(y, facets.intent) for y in facets.years]
    if facets.period:
        # One span: its targets are set in the report of its first year, its results
        # reviewed in the report after its last (the first report of a new term).
        first, last = facets.years[0], facets.years[-1]
        asked = [(first, "targets")] if facets.intent == "targets" else [(last, "results")]
    for year, intent in asked:
        candidates = _candidates(year, intent)
        for name in names or (None,):
            found: list[Report] = []
            for report_year in candidates:
                found = catalogue.find(name, report_year)
                if found:
                    break
            if not found:
                missing.append(_missing_report(catalogue, name, year, intent, lang))
                continue
            chosen.extend(found)
            if facets.period:
                notes.append(_period_note(facets.years, found[0].year, lang))
            else:
                notes.append(_year_note(year, found[0].year, intent, lang))
            if found[0].year != candidates[0]:
                caveats.append(notes[-1])
            part = _year_focus(year, found[0].year, intent)
            for r in found:
                if part is not None:
                    focus[r.doc_id] = part
    chosen = sorted(dict.fromkeys(chosen), key=order)
    labels = "、".join(r.label for r in chosen)
    if lang == "en":
        head = "; ".join(dict.fromkeys(n for n in notes if n)) or "by the year asked about"
        reason = f"{head}: {', '.join(r.title for r in chosen)}" if chosen else ""
    else:
        head = "；".join(dict.fromkeys(n for n in notes if n)) or "按问题中的年份"
        reason = f"{head}：{labels}" if chosen else ""
    if facets.relative:
        reason = _reason_join([reason, _relative_note(facets, lang)], lang)
    return Scope(
        tuple(chosen),
        per_report=len(chosen) > 1,
        regions=tuple(names),
        years=tuple(sorted({r.year for r in chosen if r.year is not None})),
        reason=_reason_join([reason, *missing], lang),
        missing=tuple(missing),
        source="request" if request else "question",
        focus=tuple(focus.items()),
        caveats=tuple(dict.fromkeys(caveats)),
    )


def _year_focus(year: int, report_year: int | None, intent: str) -> Focus | None:
    """Where the answer about `year` is in the report of `report_year`."""
    if report_year == year + 1:
        return "review"
    if report_year == year and intent == "targets":
        return "plan"
    return None


def _period_note(years: tuple[int, ...], report_year: int | None, lang: str) -> str:
    if lang == "en":
        return f"{years[0]}–{years[-1]} as a whole: the {report_year} report"
    return f"{span(years)}作为一个时期，见{report_year}年报告"


def _relative_note(facets: Facets, lang: str) -> str:
    years = "、".join(str(y) for y in facets.years)
    return f"relative years read as {years}" if lang == "en" else f"今年、去年等按{years}年计"


def _year_note(year: int, report_year: int | None, intent: str, lang: str) -> str:
    if report_year is None:
        return ""
    if lang == "en":
        if intent == "results" and report_year == year + 1:
            return f"the results of {year} are reviewed in the {report_year} report"
        if intent == "results":
            return (
                f"no {year + 1} report reviews {year}: quoting the {year} report instead, "
                f"whose review covers {year - 1}"
            )
        if report_year == year + 1:
            return f"no report of {year}: the {report_year} report, which reviews {year}"
        return f"{year}'s targets and tasks are in the {year} report"
    if intent == "results" and report_year == year + 1:
        return f"{year}年的完成情况见{report_year}年报告的回顾"
    if intent == "results":
        return (
            f"语料库中没有回顾{year}年的{year + 1}年报告，"
            f"改用{year}年报告（其回顾部分讲的是{year - 1}年）"
        )
    if report_year == year + 1:
        return f"没有{year}年的报告，改用回顾{year}年的{report_year}年报告"
    return f"{year}年的目标和任务见{year}年报告"


def _missing_report(
    catalogue: Catalogue, name: str | None, year: int, intent: str | None, lang: str
) -> str:
    """What is missing (the report of `year`, of `name`) and what the corpus holds."""
    if name is None:
        held = span(r.year for r in catalogue.reports if r.year is not None)
        if lang == "en":
            return f"the corpus holds no report of {year} (it holds reports of {held})"
        return f"语料库中没有{year}年的政府工作报告（现有{held}的报告）"
    if not catalogue.of_region(name):
        return _missing_region(catalogue, name, lang)
    full = region(name)
    title = full.report_name if full else f"{name}政府工作报告"
    if name == NATIONAL:
        title = "国务院政府工作报告"
    wanted = f"{year}年{title}"
    if intent == "results":
        wanted = f"{year + 1}年（回顾{year}年）或{year}年的{title}"
    if lang == "en":
        return f"the corpus holds no {year} report of {name}; {catalogue.holdings(name, 'en')}"
    return f"语料库中没有{wanted}；{catalogue.holdings(name)}"
