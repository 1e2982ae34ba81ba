"""The relevance judge (ANSWER_JUDGE=llm) with a scripted backend: which passages the answer is
written from, the refusal when none is relevant, and how the settings choose it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from generate_helpers import QUESTION, events, expected_citations
from generate_helpers import _join_generation_threads as _join_generation_threads
from generate_helpers import retriever as retriever

from service.answers import Asker
from service.answers.compose import Citation
from service.answers.generators import (
    GenerationError,
    JudgedGenerator,
    OpenAIGenerator,
    make_generator,
)
from service.answers.prompt import NOT_IN_PASSAGES_ZH, judge_messages
from service.query import understand
from service.settings import Settings


class Scripted:
    """A backend that judges with a fixed reply and answers citing every passage it is given."""

    name = "openai"
    timeout_s = 5.0

    def __init__(self, verdict: str) -> None:
        self.verdict = verdict
        self.judged: list[list[dict[str, str]]] = []
        self.answered: list[list[int]] = []

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> str:
        self.judged.append(messages)
        self.max_tokens = max_tokens
        return self.verdict

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str:
        self.answered.append([c.n for c in citations])
        return "增长6.0%" + "".join(f"[{c.n}]" for c in citations) + "。"

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        return iter([self.generate(question, citations, lang)])


def test_the_answer_is_written_from_the_passages_judged_relevant(retriever):
    inner = Scripted("[1] no\n[2] yes\n[3] no\n[4] no\n[5] no")
    seen: list[tuple[str, tuple[int, ...] | None]] = []
    judge = JudgedGenerator(inner, on_verdict=lambda q, ns: seen.append((q, ns)))
    answer = Asker(retriever, generator=judge).ask(understand(QUESTION))
    citations = expected_citations(retriever, QUESTION)
    assert inner.judged == [judge_messages(QUESTION, citations)]
    assert inner.max_tokens == 6 * 5 + 8
    assert inner.answered == [[2]]
    assert seen == [(QUESTION, (2,))]
    # Every retrieved passage is still returned as a citation, numbered as retrieved.
    assert (answer.text, answer.backend, answer.grounded) == ("增长6.0%[2]。", "openai", True)
    assert answer.citations == citations


def test_no_passage_judged_relevant_is_a_refusal(retriever):
    inner = Scripted("[1] no\n[2] no\n[3] no\n[4] no\n[5] no")
    asker = Asker(retriever, generator=JudgedGenerator(inner))
    answer = asker.ask(understand(QUESTION))
    assert inner.answered == []
    assert (answer.text, answer.answerable, answer.backend) == (NOT_IN_PASSAGES_ZH, False, "openai")
    _, deltas, done = events(asker, QUESTION)
    assert (deltas, done.text, done.answerable) == ([NOT_IN_PASSAGES_ZH], NOT_IN_PASSAGES_ZH, False)


def test_an_unreadable_judgement_keeps_every_passage(retriever):
    inner = Scripted("Passage two, probably.")
    seen: list[tuple[int, ...] | None] = []
    judge = JudgedGenerator(inner, on_verdict=lambda _q, ns: seen.append(ns))
    _, deltas, done = events(Asker(retriever, generator=judge), QUESTION)
    assert inner.answered == [[1, 2, 3, 4, 5]]
    assert seen == [None]
    assert done.text == "增长6.0%[1][2][3][4][5]。" == "".join(deltas)


def test_settings_choose_the_judge():
    base = {"answer_backend": "openai", "openai_model": "m", "openai_base_url": "http://x/v1"}
    judged = make_generator(Settings(**base, answer_judge="llm"))
    assert isinstance(judged, JudgedGenerator) and isinstance(judged.inner, OpenAIGenerator)
    assert (judged.name, judged.timeout_s) == ("openai", 30.0)
    assert isinstance(make_generator(Settings(**base)), OpenAIGenerator)
    with pytest.raises(GenerationError, match="ANSWER_JUDGE=llm needs ANSWER_BACKEND=openai"):
        make_generator(
            Settings(answer_backend="transformers", generator_model="m", answer_judge="llm")
        )


def test_settings_read_the_judge_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANSWER_JUDGE", "llm")
    monkeypatch.setenv("ANSWER_KEEP_UNGROUNDED", "true")
    s = Settings()
    assert (s.answer_judge, s.answer_keep_ungrounded) == ("llm", True)
    monkeypatch.setenv("ANSWER_JUDGE", "maybe")
    with pytest.raises(ValueError, match="'none' or 'llm'"):
        Settings()
