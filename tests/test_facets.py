"""service.facets: the regions, years, intent and comparison read from questions as residents
ask them, each asserted exactly (today is 2026-12-02 unless a case says otherwise)."""

from __future__ import annotations

import datetime as dt

import pytest

from indexer.regions import regions_in
from service.facets import Facets, YearMention, read_facets, year_mentions

TODAY = dt.date(2026, 12, 2)
SH, BJ, NATION = "上海市", "北京市", "全国"


def facets(text: str, today: dt.date = TODAY) -> Facets:
    return read_facets(text, today)


# Whole Facets for the questions the service is built around.
WHOLE = [
    (
        "2017年和2019年上海的一般公共预算收入增长目标分别是多少？",
        Facets((SH,), (2017, 2019), "targets", comparison=True),
    ),
    ("上海和全国2019年的GDP增长目标", Facets((SH, NATION), (2019,), "targets", comparison=True)),
    ("去年上海GDP增长了多少", Facets((SH,), (2025,), "results", relative=True)),
    ("今年北京的主要预期目标", Facets((BJ,), (2026,), "targets", relative=True)),
    ("二〇一九年上海的就业目标", Facets((SH,), (2019,), "targets")),
    (
        "上海2021年到2023年的GDP增长目标",
        Facets((SH,), (2021, 2022, 2023), "targets", (), False, True),
    ),
    ("2035年远景目标是什么", Facets((), (), "targets", (2035,))),
    ("2021年第四十六届世界技能大赛在哪里举办", Facets((), (), "any", (2021,))),
    ("沪2025年GDP目标", Facets((SH,), (2025,), "targets")),
    # A deficit rate is set by the report of its year, never reviewed.
    ("国务院2024年的赤字率是多少", Facets((NATION,), (2024,), "targets")),
    ("上海有哪些国家战略任务", Facets((SH,), (), "targets")),
    ("今年财政收入2019亿元，实际完成了多少", Facets((), (2026,), "results", relative=True)),
    ("上海2020年城镇调查失业率目标是多少？", Facets((SH,), (2020,), "targets")),
    ("2020年上海全市生产总值实际增长了多少？", Facets((SH,), (2020,), "results")),
    ("2022年上海地方一般公共预算收入增长目标是多少？", Facets((SH,), (2022,), "targets")),
    ("2026年上海GDP增长目标", Facets((SH,), (2026,), "targets")),
    ("What was Shanghai's GDP growth target in 2019?", Facets((SH,), (2019,), "targets")),
    ("How much did Shanghai's GDP actually grow in 2020?", Facets((SH,), (2020,), "results")),
    ("How did China's GDP grow last year?", Facets((NATION,), (2025,), "results", (), True)),
    ("深圳的GDP目标", Facets((), (), "targets")),
    ("你好", Facets()),
]


@pytest.mark.parametrize(("question", "expected"), WHOLE)
def test_whole_facets(question: str, expected: Facets) -> None:
    assert facets(question) == expected


# (question, years, subject_years)
YEARS = [
    ("2019 年上海GDP增长目标", (2019,), ()),
    ("2019年度上海预算执行情况", (2019,), ()),
    ("二零二零年上海的就业目标", (2020,), ()),
    ("两千零一十九年上海的就业目标", (2019,), ()),
    ("两千零九年的目标", (2009,), ()),
    ("２０１９年上海GDP目标", (2019,), ()),
    # bare numbers: at the start or after a region, before a region, 的 or GDP
    ("2019上海GDP目标", (2019,), ()),
    ("2019的上海GDP目标", (2019,), ()),
    ("上海2019的GDP目标", (2019,), ()),
    ("上海2019GDP目标", (2019,), ()),
    # lists and ranges
    ("2019年和2020年上海GDP", (2019, 2020), ()),
    ("2019、2020年上海GDP", (2019, 2020), ()),
    ("2019年与2020年", (2019, 2020), ()),
    ("2017年、2019年", (2017, 2019), ()),
    ("2019和2020年北京的GDP", (2019, 2020), ()),
    ("2021到2023年", (2021, 2022, 2023), ()),
    ("2021—2023年上海", (2021, 2022, 2023), ()),
    ("2021-2023年", (2021, 2022, 2023), ()),
    ("2021至2023年", (2021, 2022, 2023), ()),
    ("2021～2023年", (2021, 2022, 2023), ()),
    ("从2021年到2023年", (2021, 2022, 2023), ()),
    ("2000年到2014年", tuple(range(2000, 2015)), ()),  # 15 years: expanded
    ("2000年到2015年", (2000, 2015), ()),  # 16: only the ends
    ("2010年到2030年", (2010,), (2030,)),  # 2030 is after next year
    ("What are the targets for 2021 to 2023?", (2021, 2022, 2023), ()),
    ("Targets in 2019 and 2020", (2019, 2020), ()),
    # subjects
    ("2035年远景目标是什么", (), (2035,)),
    ("到2035年上海要建成什么", (), (2035,)),
    ("到2025年底完成的任务", (), (2025,)),
    ("至2025年上海的目标", (), (2025,)),
    ("2030年前碳达峰", (), (2030,)),
    ("2060年前实现碳中和", (), (2060,)),
    ("2025年底前完成", (), (2025,)),
    ("2018年首届进博会", (), (2018,)),
    ("2010年上海世博会", (), (2010,)),
    ("2019年的目标中，到2035年要实现什么", (2019,), (2035,)),
    ("By 2035, what will Shanghai become?", (), (2035,)),
    # not deadlines: "as of", a period of the year, a range
    ("截至2023年底上海常住人口", (2023,), ()),
    ("2020年前三季度上海GDP增长了多少", (2020,), ()),
    ("2021年至2025年的成就", (2021, 2022, 2023, 2024, 2025), ()),
    # the future: next year is still a report year, the year after is a subject
    ("2027年上海GDP目标", (2027,), ()),
    ("2028年上海GDP目标", (), (2028,)),
    ("2021年到2028年", (2021, 2022, 2023, 2024, 2025, 2026, 2027), (2028,)),
    # numbers that are no years
    ("今年上海GDP 2019亿元", (2026,), ()),
    ("上海2019件提案", (), ()),
    ("全市新增就业1200万人，增长5.5%", (), ()),
    ("收入增长2019.5亿元", (), ()),
    ("第2019号文件", (), ()),
    ("C919大飞机", (), ()),
    ("GDP of 2019 billion yuan", (), ()),
    ("1949年以前的历史", (), ()),  # before 1978: no year at all
]


@pytest.mark.parametrize(("question", "years", "subject"), YEARS)
def test_years(question: str, years: tuple[int, ...], subject: tuple[int, ...]) -> None:
    found = facets(question)
    assert (found.years, found.subject_years) == (years, subject)


RELATIVE = [
    ("今年北京的主要预期目标", (2026,)),
    ("本年度的重点任务", (2026,)),
    ("去年上海GDP增长了多少", (2025,)),
    ("前年北京GDP增长了多少", (2024,)),
    ("明年的目标", (2027,)),
    ("今明两年的目标", (2026, 2027)),
    ("What are this year's targets?", (2026,)),
    ("last year Shanghai GDP growth", (2025,)),
    ("Beijing results the year before last", (2024,)),
    ("next year's plan", (2027,)),
]


@pytest.mark.parametrize(("question", "years"), RELATIVE)
def test_relative_years(question: str, years: tuple[int, ...]) -> None:
    found = facets(question)
    assert (found.years, found.relative) == (years, True)


@pytest.mark.parametrize(
    "question", ["过去年均增长多少", "此前年均增幅", "2019年上海GDP目标", "上海有哪些目标"]
)
def test_no_relative_year(question: str) -> None:
    assert facets(question).relative is False


def test_today_moves_the_future() -> None:
    assert facets("2027年上海GDP目标", dt.date(2025, 6, 1)).subject_years == (2027,)
    assert facets("2027年上海GDP目标", dt.date(2026, 1, 5)).years == (2027,)
    assert facets("去年的成绩", dt.date(2020, 3, 1)).years == (2019,)


INTENT = [
    ("上海2020年城镇调查失业率目标是多少？", "targets"),
    ("2022年上海地方一般公共预算收入增长目标是多少？", "targets"),
    ("2020年上海全市生产总值实际增长了多少？", "results"),
    ("2020年GDP目标是多少，实际完成了多少？", "results"),  # both kinds: the outcome
    ("上海2020年的目标是否实现", "results"),
    ("今年要完成哪些重点任务", "targets"),  # a results word after a modal
    ("力争达到什么水平", "targets"),
    ("2025年上海计划做什么", "targets"),
    ("今年有哪些工作安排和部署", "targets"),
    ("GDP增长5%左右", "targets"),
    ("2019年上海取得了哪些成绩", "results"),
    ("2023年工作回顾", "results"),
    ("去年做了哪些工作", "results"),
    ("GDP比上年增长多少", "results"),
    ("2023年上海GDP是多少", "results"),
    ("2021年上海GDP总量有多少", "results"),
    ("2020年上海城镇调查失业率是多少", "results"),
    ("2021年上海居民收入涨了多少", "results"),
    ("上海2024年研发投入占GDP的比例打算达到多少？", "targets"),
    ("2020年上海物价涨幅控制在多少", "targets"),
    ("国务院2018年和2019年的赤字率分别是多少？", "targets"),
    ("2019年上海的营商环境", "any"),
    ("上海有哪些重要的改革", "any"),  # 重要 holds 要, not a plan
    ("What is the plan for 2025?", "targets"),
    ("What did Shanghai achieve in 2019?", "results"),
    ("How much did GDP grow in 2020?", "results"),
    ("Tell me about Shanghai in 2019", "any"),
    # a year that names a report means that report, whatever is asked of it
    ("2019年上海市政府工作报告回顾了哪些成绩", "any"),
    ("《2019年政府工作报告》中的目标", "any"),
    ("2019年的报告提到了什么", "any"),
    ("2019年省政府工作报告的目标", "any"),
    ("What targets did the 2019 government work report set?", "any"),
]


@pytest.mark.parametrize(("question", "intent"), INTENT)
def test_intent(question: str, intent: str) -> None:
    assert facets(question).intent == intent


REGIONS = [
    ("沪", (SH,)),
    ("豫", ("河南省",)),
    ("沪苏浙皖一体化", (SH, "江苏省", "浙江省", "安徽省")),
    ("京津冀协同发展的目标", (BJ, "天津市", "河北省")),
    ("粤港澳大湾区建设", ("广东省", "香港特别行政区", "澳门特别行政区")),
    ("湘鄂赣三省", ("湖南省", "湖北省", "江西省")),
    ("川渝地区", ("四川省", "重庆市")),
    ("黑吉辽振兴", ("黑龙江省", "吉林省", "辽宁省")),
    ("港澳台", ("香港特别行政区", "澳门特别行政区", "台湾省")),
    ("出台京津冀协同政策", (BJ, "天津市", "河北省")),  # 出台 holds no 台湾
    ("广西和宁夏的GDP", ("广西壮族自治区", "宁夏回族自治区")),
    ("内蒙古自治区的目标", ("内蒙古自治区",)),
    ("北京与上海", (BJ, SH)),
    ("上海上海市上海", (SH,)),
    # words that hold a short form, cities
    ("犹豫不决", ()),
    ("鲁迅故居", ()),
    ("晋江的鞋业", ()),
    ("鄂尔多斯的煤炭", ()),
    ("苏州和深圳", ()),
    # national
    ("国务院2024年的赤字率是多少", (NATION,)),
    ("中央政府的部署", (NATION,)),
    ("全国人大审议的报告", (NATION,)),
    ("国家今年的GDP目标", (NATION,)),
    ("我国去年GDP增长了多少", (NATION,)),
    ("中国经济增长预期目标", (NATION,)),
    ("全国领先的指标有哪些", (NATION,)),
    ("上海有哪些国家战略任务", (SH,)),
    ("上海GDP增速居全国前列吗", (SH,)),
    ("上海在全国率先实施了哪些改革", (SH,)),
    ("上海占全国GDP的比重", (SH,)),
    ("上海在全国首个推出了什么", (SH,)),
    ("上海全国人大代表的建议", (SH,)),
    ("全国性政策上海如何落实", (SH,)),
    ("全国和上海的目标", (NATION, SH)),
    ("国家级新区有哪些", ()),
    ("对发展中国家的援助", ()),
    # English
    ("What was Shanghai's GDP growth target in 2019?", (SH,)),
    ("BEIJING and guangdong", (BJ, "广东省")),
    ("Inner Mongolia targets", ("内蒙古自治区",)),
    ("Hong Kong and Macau", ("香港特别行政区", "澳门特别行政区")),
    ("What did the State Council plan for 2025?", (NATION,)),
    ("China's growth target", (NATION,)),
    ("national targets", (NATION,)),
    ("What is Shanghai's national strategy task?", (SH,)),
    ("Shanghainese food", ()),  # word-bounded
]


@pytest.mark.parametrize(("question", "regions"), REGIONS)
def test_regions(question: str, regions: tuple[str, ...]) -> None:
    assert facets(question).regions == regions


COMPARISON = [
    ("2017年和2019年上海的目标", True),
    ("上海和北京的GDP", True),
    ("上海GDP与上年相比", True),
    ("2019年上海GDP的变化", True),
    ("上海各区分别的目标", True),
    ("两份报告有何异同", True),
    ("How did Beijing's targets compare with Shanghai's?", True),
    ("Shanghai versus the national target", True),
    ("2019年上海GDP增长目标", False),
    ("应对气候变化的目标", False),
    ("What is China's plan on climate change?", False),
]


@pytest.mark.parametrize(("question", "comparison"), COMPARISON)
def test_comparison(question: str, comparison: bool) -> None:
    assert facets(question).comparison is comparison


def test_year_mentions_give_offsets() -> None:
    text = "上海2021年到2023年的GDP增长目标，和今年比"
    assert year_mentions(text, TODAY) == (
        YearMention(2021, 2, 7),
        YearMention(2023, 8, 13),
        YearMention(2026, 23, 25),
    )
    assert text[2:7] == "2021年" and text[23:25] == "今年"
    assert year_mentions("2035年远景目标", TODAY) == (YearMention(2035, 0, 5),)
    assert year_mentions("收入2019亿元", TODAY) == ()


def test_regions_in_still_reads_full_names_only() -> None:
    assert [r.name for r in regions_in("沪苏浙皖和上海、内蒙古")] == [SH, "内蒙古自治区"]


@pytest.mark.parametrize(
    ("question", "years", "period"),
    [
        ("2013到2017年这五年全国GDP年均增长多少", tuple(range(2013, 2018)), True),
        ("“十三五”期间上海GDP从多少增加到了多少？", tuple(range(2016, 2021)), True),
        ("上海2017年到2022年这五年公园从多少座增加到多少座", tuple(range(2017, 2023)), True),
        # Year by year, not one span: each year's report.
        ("上海2021年到2023年的GDP增长目标", (2021, 2022, 2023), False),
        ("2019年和2020年上海的GDP增长目标", (2019, 2020), False),
    ],
)
def test_periods_asked_about_as_a_whole(question: str, years: tuple[int, ...], period: bool):
    facets = read_facets(question, TODAY)
    assert (facets.years, facets.period) == (years, period)
    assert facets.comparison is not period


def test_a_quantity_without_a_year_says_nothing_of_plan_or_review() -> None:
    assert (facets("新增多少张养老床位").intent, facets("2019年新增多少张养老床位").intent) == (
        "any",
        "results",
    )
