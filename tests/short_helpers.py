"""Hand-written report text for the short-answer tests: sentences numbered [1]..., and a
short answer checked against the document it was cut from."""

from __future__ import annotations

from service.answers.short import short_answer

PREFIX = "各位代表：\n现在，我代表市人民政府，向大会报告工作。\n"


def quoted(*sentences: str) -> tuple[str, list[tuple[int, int, str]]]:
    """A document holding the sentences, and them as (n, start, text), numbered [1]...."""
    doc = PREFIX + "\n".join(sentences) + "\n"
    at = len(PREFIX)
    out = []
    for n, s in enumerate(sentences, start=1):
        out.append((n, at, s))
        at += len(s) + 1
    assert all(doc[start : start + len(s)] == s for _, start, s in out)
    return doc, out


def answer(question: str, *sentences: str, lang: str = "zh") -> str | None:
    """The short answer's text, after checking it is the exact span of the document."""
    doc, sents = quoted(*sentences)
    short = short_answer(question, sents, lang)
    if short is None:
        return None
    assert doc[short.start : short.end] == short.text
    _, start, text = sents[short.n - 1]
    assert start <= short.start and short.end <= start + len(text)
    return short.text
