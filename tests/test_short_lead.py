"""What a question asks (service.answers.short.asked), the lead-in an answer opens with
(Chinese word for word, English from a template), and eval.short's exact-match rule."""

from __future__ import annotations

import pytest
from short_helpers import answer, quoted

from eval.gold import Span
from eval.short import ShortRecord, bare, exact_match, exact_match_all, sentence_around, summary
from service.answers.short import (
    ShortAnswer,
    asked,
    english_date,
    english_figure,
    lead_in,
    short_answer,
)

# ---- what a question asks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang", "kind"),
    [
        ("过去五年新增了多少张养老床位？", "zh", "number"),
        ("今年开几个托管点？", "zh", "number"),
        ("2018年国家定的GDP增长目标", "zh", "number"),
        ("2018年将启动第几代社保卡的换发工作？", "zh", "ordinal"),
        ("这份报告是由谁作的？", "zh", "name"),
        ("报告是哪一天作的？", "zh", "date"),
        ("2018年要推进哪些重大基础设施建设？", "zh", "list"),
        ("这几年全市一共拆了多少违章搭建？", "zh", "number"),
        ("报告第一部分的标题是什么？", "zh", None),
        ("在药价方面，上海的公立医院做了什么改变？", "zh", None),
        ("How many kilometres of bus lanes did Shanghai add?", "en", "number"),
        ("What share of GDP did Shanghai spend on research?", "en", "number"),
        ("Who delivered Shanghai's 2018 government work report?", "en", "name"),
        ("When was the report delivered?", "en", "date"),
        ("Which key core technologies did Shanghai achieve breakthroughs in?", "en", "list"),
        ("What are the three elements of the reform?", "en", "list"),
        ("Which major theme park opened in Shanghai?", "en", None),
        ("Has the master plan received approval?", "en", None),
    ],
)
def test_the_kind_asked(question: str, lang: str, kind: str | None) -> None:
    got = asked(question, lang)
    assert (got.kind if got else None) == kind


def test_units_and_counts_asked() -> None:
    assert asked("新增多少张养老床位？", "zh").units == frozenset({"张"})  # type: ignore[union-attr]
    assert asked("新增多少名教师？", "zh").units >= {"名", "人"}  # type: ignore[union-attr]
    assert asked("失业率是多少？", "zh").percent == "only"  # type: ignore[union-attr]
    assert asked("GDP增长了多少？", "zh").percent == "prefer"  # type: ignore[union-attr]
    assert asked("哪两个水源地投入使用？", "zh").count == 2  # type: ignore[union-attr]
    assert asked("How many households were covered?", "en").units == {"户"}  # type: ignore[union-attr]
    assert asked("What three kinds of city does it want?", "en").count == 3  # type: ignore[union-attr]


def test_english_questions() -> None:
    assert (
        answer(
            "How many new elderly care beds will Shanghai add in 2018?",
            "新增7000张养老床位。",
            lang="en",
        )
        == "7000张"
    )
    rd = "全社会研发经费支出相当于全市生产总值的比例达到4%以上。"
    assert answer("What R&D intensity target has Shanghai set?", rd, lang="en") == "4%以上"
    lanes = "新增225公里公交专用道，建成61条区区对接道路。"
    assert (
        answer("How many kilometres of dedicated bus lanes did Shanghai add?", lanes, lang="en")
        == "225公里"
    )
    size = "全市生产总值跃升到3万亿元，年均增长7.1%。"
    assert answer("What size did Shanghai's economy reach, in yuan?", size, lang="en") == "3万亿元"
    assert answer("Is the plan approved?", size, lang="en") is None


# ---- lead-ins -------------------------------------------------------------------------------


def test_the_chinese_lead_in_is_the_clause_word_for_word() -> None:
    quote = "今年开办20个社区幼儿托管点，新建和改扩建35所幼儿园。"
    _, sents = quoted(quote)
    short = short_answer("小区里今年能开几个帮忙带娃的托管点？", sents, "zh")
    assert short is not None and short.text == "20个"
    assert lead_in("今年开几个托管点？", short, quote, "zh") == "今年开办20个社区幼儿托管点[1]。"
    start = sents[0][1]
    assert lead_in("", short, quote, "zh", quote_start=start) == "今年开办20个社区幼儿托管点[1]。"
    kinder = short_answer("新建和改扩建多少所幼儿园？", sents, "zh")
    assert kinder is not None
    assert lead_in("", kinder, quote, "zh", start) == "新建和改扩建35所幼儿园[1]。"


def test_the_lead_in_places_a_repeated_span_by_its_offset() -> None:
    quote = "新建50家社区综合为老服务中心，改造50家农村薄弱养老机构。"
    _, sents = quoted(quote)
    short = short_answer("要改造多少家农村薄弱养老机构？", sents, "zh")
    assert short is not None and short.start == sents[0][1] + quote.rindex("50家")
    assert lead_in("", short, quote, "zh", sents[0][1]) == "改造50家农村薄弱养老机构[1]。"
    with pytest.raises(ValueError, match="not at offset"):
        lead_in("", short, quote, "zh", sents[0][1] + 1)
    with pytest.raises(ValueError, match="not in the quote"):
        lead_in("", short, "另一句话。", "zh")


def test_the_english_lead_in_is_a_template_the_figure_and_the_quote() -> None:
    quote = "今年开办20个社区幼儿托管点，新建和改扩建35所幼儿园。"
    short = ShortAnswer("20个", 3, 100 + 4, 100 + 7)
    assert lead_in(
        "How many childcare points will Shanghai open this year?", short, quote, "en", 100
    ) == ("The report plans 20 [3]: “今年开办20个社区幼儿托管点…”")
    assert lead_in("How many childcare points opened?", short, quote, "en", 100) == (
        "The report gives 20 [3]: “今年开办20个社区幼儿托管点…”"
    )
    revenue = "全市生产总值增长6.5%左右，一般公共预算收入增长7%，研发投入保持在3.8%左右。"
    at = revenue.index("7%")
    short = ShortAnswer("7%", 1, at, at + 2)
    assert lead_in(
        "By how much does Shanghai expect its budget revenue to grow?", short, revenue, "en", 0
    ) == ("The report's target is 7% [1]: “…一般公共预算收入增长7%…”")
    beds = "养老床位新增4.9万张。"
    short = ShortAnswer("4.9万张", 2, 6, 11)
    assert lead_in("How many beds were added?", short, beds, "en", 0) == (
        "The report gives 49,000 [2]: “养老床位新增4.9万张”"
    )
    # A figure it cannot render stays as written.
    third = "三分之二的竞争类企业实现整体上市。"
    short = ShortAnswer("三分之二", 1, 0, 4)
    assert lead_in("What share of firms listed?", short, third, "en", 0) == (
        "The report gives 三分之二 [1]: “三分之二的竞争类企业实现整体上市”"
    )
    speaker = "上海市市长 应勇"
    assert lead_in("Who delivered it?", ShortAnswer("应勇", 1, 6, 8), speaker, "en", 0) == (
        "The report names 应勇 [1]: “上海市市长 应勇”"
    )
    venue = "——2018年1月23日在上海市第十五届人民代表大会第一次会议上"
    assert lead_in("When?", ShortAnswer("2018年1月23日", 1, 2, 12), venue, "en", 0) == (
        "The date given is 23 January 2018 [1]: "
        "“——2018年1月23日在上海市第十五届人民代表大会第一次会议上”"
    )


@pytest.mark.parametrize(
    ("figure", "english"),
    [
        ("4.9万张", "49,000"),
        ("3112亿元", "311.2 billion yuan"),
        ("889.3亿美元", "88.93 billion US dollars"),
        ("1.3万亿斤以上", "1.3 trillion jin or more"),
        ("121.9万家", "1.219 million"),
        ("6.5%左右", "about 6.5%"),
        ("6％左右", "about 6%"),
        ("6%－6.5%", "6%–6.5%"),
        ("4.3%以内", "within 4.3%"),
        ("35微克/立方米以下", "35 µg/m³ or less"),
        ("100多项", "over 100"),
        ("666公里", "666 km"),
        ("6.8个百分点", "6.8 percentage points"),
        ("7000张", "7000"),
        ("三分之二", None),
    ],
)
def test_english_figures(figure: str, english: str | None) -> None:
    assert english_figure(figure) == english


def test_english_dates() -> None:
    assert english_date("2018年1月23日") == "23 January 2018"
    assert english_date("2025年3月") == "March 2025"
    assert english_date("2035年") == "2035"
    assert english_date("二〇一八年") is None
    assert english_date("2018年13月") is None


# ---- eval.short: the exact-match rule -------------------------------------------------------


def test_exact_match_is_equality_after_normalising() -> None:
    assert exact_match("6.5%左右", "6.5%左右")
    assert exact_match("6%左右", "6％左右")  # NFKC
    assert exact_match("李强", "李　强")  # white space
    assert not exact_match("6.5%", "6.5%左右")  # the qualifier is part of the span
    assert not exact_match("7.1%", "17.1%")
    assert not exact_match("7.1%", None)
    assert not exact_match("", "")


def test_exact_match_with_parts_and_lists() -> None:
    assert exact_match(("4.72万亿元", "5%"), "5%")  # any part of a gold answer
    assert not exact_match(("4.72万亿元", "5%"), "4.72万亿")
    listed = "C919大型客机、蛟龙号载人潜水器、墨子号量子卫星"
    assert exact_match("C919大型客机", listed)  # an item of a short list
    assert exact_match(listed, listed)
    assert exact_match("食药监", "工商、质监、食药监和物价")  # the last item's two
    assert not exact_match("C919", listed)
    assert not exact_match("6%", "6%和7%")  # 和 alone makes no list


def test_bare_and_the_summary() -> None:
    assert bare("6.5%左右") == "6.5%"
    assert bare("100多项") == "100项"
    records = [
        ShortRecord("q1", "增长多少", ("6.5%",), "number", "6.5%左右", False, ("numeric",)),
        ShortRecord("q2", "多少张", ("800张",), "number", "800张", True, ("numeric",)),
        ShortRecord("q3", "是什么", ("x",), None, None, False, ("names",)),
    ]
    table = summary(records).splitlines()
    assert table[1].split() == ["all", "3", "2", "1", "1", "0.500"]
    assert table[2].split() == ["numeric", "2", "2", "1", "1", "0.500"]


def test_the_sentence_around_an_evidence_span() -> None:
    text = "第一句。全市生产总值增长6.5%左右；一般公共预算收入增长7%。"
    at = text.index("增长6.5%")
    assert sentence_around(text, Span("d", at, at + 4)) == (4, "全市生产总值增长6.5%左右；")


def test_a_comparison_matches_when_every_part_has_a_report_s_short_answer() -> None:
    assert exact_match_all(("7%", "5%"), ("7%", "5%"))
    assert exact_match_all(("7%", "5%"), ("5%", "7%"))
    assert not exact_match_all(("7%", "5%"), ("7%", "6%"))
    assert exact_match_all(("7%", "5%"), ("5%",))  # one short answer: any part, as exact_match
    assert not exact_match_all("6%", ())
