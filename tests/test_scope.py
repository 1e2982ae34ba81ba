"""Resolving a question's regions and years to the reports of a corpus (service.scope)."""

from __future__ import annotations

import pytest

from indexer.types import DocumentMeta
from service.catalogue import Catalogue, span
from service.errors import InvalidQueryError, NotFoundError
from service.facets import Facets
from service.scope import resolve


def _doc(region: str, year: int, slug: str) -> DocumentMeta:
    name = "国务院政府工作报告" if region == "全国" else f"{region}政府工作报告"
    return DocumentMeta(
        doc_id=f"{slug}-{year}-government-work-report",
        source=f"{slug}-{year}-government-work-report.txt",
        sha256="0" * 64,
        title=f"{year}年{name}",
        region=region,
        year=year,
    )


# Shanghai 2017-2025, the State Council 2018, 2019 and 2024, Beijing 2025: the shipped corpus.
CATALOGUE = Catalogue(
    [_doc("上海市", y, "shanghai") for y in range(2017, 2026)]
    + [_doc("全国", y, "national") for y in (2018, 2019, 2024)]
    + [_doc("北京市", 2025, "beijing")]
)


def ids(scope) -> list[str]:
    return [d.removesuffix("-government-work-report") for d in scope.doc_ids]


def test_targets_of_a_year_go_to_that_years_report() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2020,), "targets"))
    assert (ids(scope), scope.per_report, scope.source) == (["shanghai-2020"], False, "question")
    assert scope.reason == "2020年的目标和任务见2020年报告：《2020年上海市政府工作报告》"


def test_results_of_a_year_go_to_the_next_years_report() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2020,), "results"))
    assert ids(scope) == ["shanghai-2021"]
    assert scope.reason.startswith("2020年的完成情况见2021年报告的回顾")


def test_results_fall_back_to_the_years_own_report() -> None:
    # No 2026 Shanghai report reviews 2025: the 2025 report is the closest.
    scope = resolve(CATALOGUE, Facets(("上海市",), (2025,), "results"))
    assert ids(scope) == ["shanghai-2025"]
    assert "没有回顾2025年的2026年报告" in scope.reason


def test_a_missing_report_names_what_is_missing_and_what_the_corpus_holds() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2026,), "targets"))
    assert scope.empty
    assert scope.missing == (
        "语料库中没有2026年上海市政府工作报告；语料库中上海市有2017—2025年的报告",
    )
    beijing = resolve(CATALOGUE, Facets(("北京市",), (2024,), "targets"))
    assert beijing.missing == (
        "语料库中没有2024年北京市政府工作报告；语料库中北京市有2025年的报告",
    )


def test_a_region_without_reports_is_missing() -> None:
    scope = resolve(CATALOGUE, Facets(("广西壮族自治区",), (), "any"))
    assert scope.empty and scope.missing[0].startswith("语料库中没有广西壮族自治区的政府工作报告")


def test_no_year_takes_the_latest_report_of_each_region() -> None:
    one = resolve(CATALOGUE, Facets(("上海市",)))
    assert (ids(one), one.latest, one.per_report) == (["shanghai-2025"], True, False)
    two = resolve(CATALOGUE, Facets(("上海市", "全国")))
    # Oldest first: the State Council's 2024 report, then Shanghai 2025.
    assert (ids(two), two.per_report) == (["national-2024", "shanghai-2025"], True)


def test_no_region_answers_from_every_region_of_that_year() -> None:
    scope = resolve(CATALOGUE, Facets((), (2025,), "targets"))
    assert (ids(scope), scope.per_report) == (["beijing-2025", "shanghai-2025"], True)
    national = resolve(CATALOGUE, Facets((), (2024,), "targets"))
    assert ids(national) == ["national-2024", "shanghai-2024"]


def test_no_region_and_no_year_searches_the_whole_corpus() -> None:
    scope = resolve(CATALOGUE, Facets())
    assert (len(scope.reports), scope.per_report, scope.source) == (13, False, "corpus")


def test_a_comparison_of_years_is_searched_per_report_in_year_order() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2017, 2019), "targets", comparison=True))
    assert (ids(scope), scope.per_report) == (["shanghai-2017", "shanghai-2019"], True)


def test_a_comparison_with_one_missing_year_keeps_the_other() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2016, 2019), "targets", comparison=True))
    assert ids(scope) == ["shanghai-2019"]
    assert scope.missing == (
        "语料库中没有2016年上海市政府工作报告；语料库中上海市有2017—2025年的报告",
    )


def test_request_filters_take_the_place_of_the_question() -> None:
    facets = Facets(("上海市",), (2020,), "targets")
    by_year = resolve(CATALOGUE, facets, regions=["沪"], years=[2019])
    assert (ids(by_year), by_year.source) == (["shanghai-2019"], "request")
    by_id = resolve(CATALOGUE, facets, doc_ids=["national-2019-government-work-report"])
    assert ids(by_id) == ["national-2019"]
    # A region filter alone keeps the question's year.
    region_only = resolve(CATALOGUE, facets, regions=["全国"])
    assert region_only.empty and "2020年国务院政府工作报告" in region_only.missing[0]


def test_bad_filters_say_what_is_known() -> None:
    with pytest.raises(InvalidQueryError, match="unknown region '火星'.*上海市"):
        resolve(CATALOGUE, Facets(), regions=["火星"])
    with pytest.raises(NotFoundError, match="no document 'nope'"):
        resolve(CATALOGUE, Facets(), doc_ids=["nope"])


def test_english_reasons() -> None:
    scope = resolve(CATALOGUE, Facets(("上海市",), (2026,), "targets"), lang="en")
    assert scope.missing == (
        "the corpus holds no 2026 report of 上海市; the corpus holds the 上海市 reports of "
        "2017—2025",
    )


def test_span_writes_years_as_people_do() -> None:
    assert (span([2019, 2017, 2018]), span([2017, 2019]), span([2025]), span([])) == (
        "2017—2019年",
        "2017、2019年",
        "2025年",
        "",
    )


def test_a_period_goes_to_the_report_that_reviews_or_plans_it() -> None:
    five = tuple(range(2013, 2018))
    review = resolve(CATALOGUE, Facets(("全国",), five, "results", period=True))
    assert (ids(review), review.per_report, review.focus) == (
        ["national-2018"],
        False,
        (("national-2018-government-work-report", "review"),),
    )
    assert review.reason.startswith("2013—2017年作为一个时期，见2018年报告")
    plan = resolve(CATALOGUE, Facets(("上海市",), tuple(range(2021, 2026)), "targets", period=True))
    assert ids(plan) == ["shanghai-2021"]
