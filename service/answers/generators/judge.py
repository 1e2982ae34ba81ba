"""The relevance judge (ANSWER_JUDGE=llm): the model says which retrieved passages answer the
question, and the answer is written from those alone; none judged relevant is a refusal.

One request lists the passages and asks for `[n] yes|no` per passage; it shares its opening
(system message and passages) with the answer's prompt, so a server that caches a prompt's
prefix reads the passages once. A reply the judge cannot read keeps every passage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from ..compose import Citation
from ..prompt import judge_messages, parse_judgement, refusal_text

# Tokens a judgement needs: "[n] yes\n" is about four tokens a passage.
TOKENS_PER_PASSAGE = 6


class Completer(Protocol):
    """A backend that also answers arbitrary chat messages (OpenAIGenerator)."""

    name: str
    timeout_s: float

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> str: ...

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str: ...

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]: ...


Verdict = Callable[[str, "tuple[int, ...] | None"], None]


class JudgedGenerator:
    """A Generator that judges the passages first, then answers from the relevant ones."""

    def __init__(self, inner: Completer, on_verdict: Verdict | None = None) -> None:
        """Args:
        inner: the backend that judges and writes (its name is the answer's backend).
        on_verdict: called with the question and the passage numbers judged relevant
            (None: the reply could not be read), e.g. by the eval harness.
        """
        self.inner = inner
        self.name = inner.name
        self.timeout_s = inner.timeout_s
        self.on_verdict = on_verdict

    def relevant(self, question: str, citations: Sequence[Citation]) -> tuple[int, ...] | None:
        """The numbers of the passages judged to answer; None when the reply is unreadable."""
        reply = self.inner.complete(
            judge_messages(question, citations), TOKENS_PER_PASSAGE * len(citations) + 8
        )
        return parse_judgement(reply, [c.n for c in citations])

    def _kept(self, question: str, citations: Sequence[Citation]) -> list[Citation]:
        ns = self.relevant(question, citations)
        if self.on_verdict is not None:
            self.on_verdict(question, ns)
        if ns is None:
            return list(citations)
        return [c for c in citations if c.n in ns]

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str:
        """The refusal when no passage is judged relevant, else the answer from those that are."""
        kept = self._kept(question, citations)
        if not kept:
            return refusal_text(lang)
        return self.inner.generate(question, kept, lang)

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        """As generate, in chunks; the judgement comes first (before the first chunk)."""
        kept = self._kept(question, citations)
        if not kept:
            return iter([refusal_text(lang)])
        return self.inner.stream(question, kept, lang)
