"""service.conversation (follow-ups read with the earlier user turns) and service.tokens (the
usage rule), on hand-written conversations with exact results."""

from __future__ import annotations

import datetime as dt

import pytest

from service.conversation import MAX_TURNS, NoQuestionError, resolve_conversation
from service.tokens import count_all, count_tokens

TODAY = dt.date(2025, 6, 1)
GDP_2019 = "2019年上海GDP增长目标是多少？"


def resolved(*turns: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    r = resolve_conversation(list(turns), TODAY)
    return r.question, r.carried, r.changed


@pytest.mark.parametrize(
    ("turns", "question", "carried", "changed"),
    [
        # Elliptical: the earlier question again, with the follow-up's year or region.
        ((GDP_2019, "那2020年呢？"), "2020年上海GDP增长目标是多少？", ("topic", "region"), ("year",)),  # noqa: E501
        ((GDP_2019, "2020年的呢"), "2020年上海GDP增长目标是多少？", ("topic", "region"), ("year",)),
        ((GDP_2019, "北京呢？"), "2019年北京GDP增长目标是多少？", ("topic", "year"), ("region",)),
        ((GDP_2019, "那全国2024年呢？"), "2024年全国GDP增长目标是多少？", ("topic",), ("year", "region")),  # noqa: E501
        ((GDP_2019, "去年呢？"), "去年上海GDP增长目标是多少？", ("topic", "region"), ("year",)),
        ((GDP_2019, "还有呢？"), GDP_2019, ("topic", "year", "region"), ()),
        (("上海GDP增长目标是多少？", "2020年呢？"), "2020年上海GDP增长目标是多少？", ("topic", "region"), ("year",)),  # noqa: E501
        (("2019年和2020年上海GDP目标", "2021年呢"), "2021年上海GDP目标", ("topic", "region"), ("year",)),  # noqa: E501
        (("新建养老床位多少张", "那2020年呢？"), "2020年新建养老床位多少张", ("topic",), ("year",)),
        (("沪2019年GDP目标", "粤呢"), "粤2019年GDP目标", ("topic", "year"), ("region",)),
        # A chain: each turn is read against the one before as it was resolved.
        ((GDP_2019, "那2020年呢？", "北京呢？"), "2020年北京GDP增长目标是多少？", ("topic", "year"), ("region",)),  # noqa: E501
        # A pronoun for the report.
        (("2019年上海市政府工作报告讲了什么？", "它的主要任务有哪些？"), "2019年上海市政府工作报告的主要任务有哪些？", ("report",), ()),  # noqa: E501
        (("2024年全国GDP目标", "该报告提到了哪些风险？"), "2024年国务院政府工作报告提到了哪些风险？", ("report",), ()),  # noqa: E501
        # Its own topic: the region and year it lacks are carried.
        ((GDP_2019, "养老床位新增多少张？"), "上海2019年养老床位新增多少张？", ("region", "year"), ()),  # noqa: E501
        ((GDP_2019, "全国的赤字率是多少？"), "2019年全国的赤字率是多少？", ("year",), ()),
        # Nothing to carry: asked as it is.
        ((GDP_2019, "2024年全国赤字率是多少？"), "2024年全国赤字率是多少？", (), ()),
        (("新建养老床位多少张", "城镇新增就业多少人"), "城镇新增就业多少人", (), ()),
        ((GDP_2019, "shanghai-2019-government-work-report-0064"), "shanghai-2019-government-work-report-0064", (), ()),  # noqa: E501
        ((GDP_2019,), GDP_2019, (), ()),
        # Empty earlier turns are skipped.
        ((GDP_2019, "  ", "那2020年呢？"), "2020年上海GDP增长目标是多少？", ("topic", "region"), ("year",)),  # noqa: E501
    ],
)  # fmt: skip
def test_chinese_follow_ups(
    turns: tuple[str, ...], question: str, carried: tuple[str, ...], changed: tuple[str, ...]
) -> None:
    assert resolved(*turns) == (question, carried, changed)


EN_2019 = "What was Shanghai's GDP growth target for 2019?"


@pytest.mark.parametrize(
    ("turns", "question", "carried"),
    [
        ((EN_2019, "What about 2020?"), "What was Shanghai's GDP growth target for 2020?", ("topic", "region")),  # noqa: E501
        ((EN_2019, "And Beijing?"), "What was Beijing's GDP growth target for 2019?", ("topic", "year")),  # noqa: E501
        ((EN_2019, "How many elderly care beds were added?"), "How many elderly care beds were added? (Shanghai, 2019)", ("region", "year")),  # noqa: E501
        ((EN_2019, "What are the report's main tasks?"), "What are the 2019 Shanghai government work report's main tasks?", ("report",)),  # noqa: E501
    ],
)  # fmt: skip
def test_english_follow_ups(
    turns: tuple[str, ...], question: str, carried: tuple[str, ...]
) -> None:
    assert resolved(*turns)[:2] == (question, carried)


def test_the_note_says_how_it_was_resolved() -> None:
    r = resolve_conversation([GDP_2019, "那2020年呢？"], TODAY)
    assert (r.asked, r.earlier, r.follow_up) == ("那2020年呢？", GDP_2019, True)
    assert r.note == (
        "按上一问“2019年上海GDP增长目标是多少？”理解为“2020年上海GDP增长目标是多少？”："
        "沿用其话题，年份改为2020年，沿用其地区（上海）"
    )
    pronoun = resolve_conversation(
        ["2019年上海市政府工作报告讲了什么？", "它的主要任务有哪些？"], TODAY
    )
    assert pronoun.note.endswith("：“它”指2019年上海市政府工作报告")
    english = resolve_conversation([EN_2019, "What about 2020?"], TODAY)
    assert english.note == (
        f"read with the earlier question “{EN_2019}” as “What was Shanghai's GDP growth target "
        "for 2020?”: its topic kept; the year changed to 2020; its region kept (Shanghai)"
    )
    alone = resolve_conversation([GDP_2019], TODAY)
    assert (alone.earlier, alone.follow_up, alone.note) == (None, False, "")


def test_only_the_last_turns_are_read() -> None:
    # Turns without a topic of their own (还有呢？) keep the earlier question's.
    within = [GDP_2019, *["还有呢？"] * (MAX_TURNS - 2), "那2020年呢？"]
    assert resolved(*within) == ("2020年上海GDP增长目标是多少？", ("topic", "region"), ("year",))
    # One turn more and the question is out of reach: nothing is carried.
    assert resolved(GDP_2019, *within[1:-1], "还有呢？", "那2020年呢？") == ("那2020年呢？", (), ())


def test_an_earlier_message_without_a_topic_gives_none() -> None:
    assert resolved("…", "那2020年呢？") == ("那2020年呢？", (), ())
    assert resolved("2019年", "那2020年呢？") == ("那2020年呢？", (), ())


def test_no_user_message() -> None:
    with pytest.raises(NoQuestionError, match="no user message") as caught:
        resolve_conversation([], TODAY)
    assert caught.value.code == "no_user_message"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("   ", 0),
        ("2019年上海GDP增长目标是多少？", 13),
        ("What was the GDP target in 2019?", 8),
        ("增长6.5%左右", 8),  # 增 长 6 . 5 % 左 右: a dot splits the digits
        ("PM2.5年平均浓度", 8),
        ("[1]。", 4),
    ],
)
def test_the_token_rule(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_tokens_of_a_conversation() -> None:
    assert count_all(["你好", "2019年", ""]) == 4
