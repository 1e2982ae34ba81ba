"""Conversations over the Shanghai 2019 and 2020 reports (fake embedder, BM25 answers) on a
live server: follow-up questions through the `openai` client and LangChain's ChatOpenAI, a
second, independent client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from api_helpers import settings
from chat_helpers import SH2019, SH2020, live, shanghai_index
from fakes import HashEmbedder
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from service.api import create_app
from service.retrieval import Retriever

FIRST = "2019年上海GDP增长目标是多少？"
FIRST_ANSWER_START = "全市生产总值增长6%-6.5%[1]。《2019年上海市政府工作报告》指出："
FOLLOW_UP = "那2020年呢？"
RESOLVED = "2020年上海GDP增长目标是多少？"
# /ask's mode, as OpenAI clients send extra fields: BM25 finds the targets with a fake embedder.
BM25 = {"mode": "bm25"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = shanghai_index(tmp_path_factory.mktemp("shanghai"))
    with live(create_app(settings(), Retriever(index, HashEmbedder()))) as url:
        yield url


@pytest.fixture(scope="module")
def oa(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)


def ask(base: str, question: str) -> dict[str, Any]:
    r = httpx.post(f"{base}/ask", json={"question": question, **BM25})
    assert r.status_code == 200, r.text
    return dict(r.json())


def conversation(*turns: str) -> Any:
    """User and assistant turns alternating, the user's first."""
    roles = ("user", "assistant")
    return [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]


def test_a_follow_up_takes_the_earlier_question(oa: openai.OpenAI, base: str) -> None:
    first: Any = oa.chat.completions.create(
        model="report-qa", messages=conversation(FIRST), extra_body=BM25
    )
    answer = first.choices[0].message.content
    assert answer.startswith(FIRST_ANSWER_START)
    assert {r["doc_id"] for r in first.choices[0].message.references} == {SH2019}

    done: Any = oa.chat.completions.create(
        model="report-qa",
        messages=conversation(FIRST, answer, FOLLOW_UP),
        extra_body=BM25,
    )
    message = done.choices[0].message
    expected = ask(base, RESOLVED)
    assert message.conversation == {
        "question": RESOLVED,
        "asked": FOLLOW_UP,
        "follow_up": True,
        "earlier": FIRST,
        "carried": ["topic", "region"],
        "changed": ["year"],
        "note": f"按上一问“{FIRST}”理解为“{RESOLVED}”："
        "沿用其话题，年份改为2020年，沿用其地区（上海）",
        "system_messages": 0,
    }
    assert message.content == expected["answer"]
    assert message.content.startswith(
        "全市生产总值增长6%左右[2]。《2020年上海市政府工作报告》指出："
    )
    assert message.references == expected["citations"]
    assert {r["doc_id"] for r in message.references} == {SH2020}
    assert message.resolved["doc_ids"] == [SH2020]
    assert (
        message.resolved["reason"] == "2020年的目标和任务见2020年报告：《2020年上海市政府工作报告》"
    )
    short = message.short_answer
    assert (short["text"], short["n"]) == ("6%左右", 2)
    text = httpx.get(f"{base}/documents/{SH2020}/text").text
    assert text[short["start"] : short["end"]] == "6%左右"


def test_a_follow_up_streamed(oa: openai.OpenAI, base: str) -> None:
    chunks = list(
        oa.chat.completions.create(
            model="report-qa-extractive",
            messages=conversation(FIRST, "…", FOLLOW_UP),
            stream=True,
            extra_body=BM25,
        )
    )
    expected = ask(base, RESOLVED)
    opening: Any = chunks[0].choices[0].delta
    closing: Any = chunks[-1].choices[0].delta
    assert opening.references == closing.references == expected["citations"]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected["answer"]
    assert closing.conversation["question"] == RESOLVED


def test_a_chain_of_follow_ups_keeps_what_the_first_set(oa: openai.OpenAI) -> None:
    done: Any = oa.chat.completions.create(
        model="report-qa",
        messages=conversation(FIRST, "…", FOLLOW_UP, "…", "北京呢？"),
        extra_body=BM25,
    )
    message = done.choices[0].message
    assert message.conversation["question"] == "2020年北京GDP增长目标是多少？"
    assert (message.conversation["carried"], message.conversation["changed"]) == (
        ["topic", "year"],
        ["region"],
    )
    # The corpus holds no Beijing report: a refusal that says so, as /ask gives it.
    assert message.content == "无法回答：语料库中没有北京市的政府工作报告（现有上海市的报告）。"
    assert (message.answerable, message.references) == (False, [])
    assert message.resolved["missing"] == ["语料库中没有北京市的政府工作报告（现有上海市的报告）"]


def test_a_pronoun_names_the_earlier_report(oa: openai.OpenAI, base: str) -> None:
    done: Any = oa.chat.completions.create(
        model="report-qa",
        messages=conversation("2019年上海市政府工作报告讲了什么？", "…", "它的主要任务有哪些？"),
        extra_body=BM25,
    )
    message = done.choices[0].message
    question = "2019年上海市政府工作报告的主要任务有哪些？"
    assert message.conversation["question"] == question
    assert message.conversation["carried"] == ["report"]
    assert message.resolved["doc_ids"] == [SH2019]
    assert message.content == ask(base, question)["answer"]


def test_a_new_question_is_asked_as_it_is(oa: openai.OpenAI) -> None:
    done: Any = oa.chat.completions.create(
        model="report-qa",
        messages=conversation(FIRST, "…", RESOLVED),
        extra_body=BM25,
    )
    conv = done.choices[0].message.conversation
    assert (conv["question"], conv["follow_up"], conv["note"]) == (RESOLVED, False, "")


def test_langchain_chat_openai_answers(base: str) -> None:
    llm = ChatOpenAI(
        base_url=f"{base}/v1",
        api_key="unused",
        model="report-qa",
        max_retries=0,
        extra_body=BM25,
    )
    reply = llm.invoke(FIRST)
    expected = ask(base, FIRST)
    assert isinstance(reply, AIMessage)
    assert reply.content == expected["answer"]
    assert reply.response_metadata["model_name"] == "report-qa"
    assert reply.response_metadata["finish_reason"] == "stop"
    # 2019 · 年 · 上 · 海 · GDP · 增 · 长 · 目 · 标 · 是 · 多 · 少 · ？
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] == 13

    follow = llm.invoke(
        [
            SystemMessage("你是一个乐于助人的助手。"),
            HumanMessage(FIRST),
            AIMessage(str(reply.content)),
            HumanMessage(FOLLOW_UP),
        ]
    )
    assert follow.content == ask(base, RESOLVED)["answer"]

    streamed = "".join(str(chunk.content) for chunk in llm.stream(FIRST))
    assert streamed == expected["answer"]
