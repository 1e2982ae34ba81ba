"""Questions in, answers with citations out: retrieval, then an answer backend. No HTTP here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .answer import DEFAULT_MIN_SCORE, Answer, Citation, compose
from .lang import detect_lang
from .search import Retriever, SearchResult

# Streaming the composed answer: the size of each delta, in characters.
DELTA_CHARS = 16


@dataclass(frozen=True, slots=True)
class CitationsEvent:
    citations: list[Citation]


@dataclass(frozen=True, slots=True)
class DeltaEvent:
    text: str


@dataclass(frozen=True, slots=True)
class DoneEvent:
    answer: Answer


Event = CitationsEvent | DeltaEvent | DoneEvent


class Asker:
    """Answer questions over a Retriever with the composed (extractive) answer."""

    def __init__(self, retriever: Retriever, min_score: float | None = None) -> None:
        self.retriever = retriever
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else min_score

    def retrieve(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        doc_id: str | None = None,
        section: str | None = None,
    ) -> SearchResult:
        return self.retriever.search(question, k, mode, doc_id, section)

    def extractive(self, question: str, result: SearchResult) -> Answer:
        lang = detect_lang(question)
        qvec = (
            self.retriever.encode(result.query)
            if result.hits
            else np.zeros(self.retriever.embedder.dim, dtype=np.float32)
        )
        return compose(
            question,
            result.hits,
            qvec,
            self.retriever.embedder,
            self.min_score,
            lang=lang,
            section_ref=result.section if result.resolved == "section" else None,
        )

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        doc_id: str | None = None,
        section: str | None = None,
        generate: bool = True,
    ) -> Answer:
        """Retrieve, then compose an answer (or only the citations when generate is False)."""
        result = self.retrieve(question, k, mode, doc_id, section)
        answer = self.extractive(question, result)
        if not generate:
            return Answer(
                None,
                answer.answerable,
                [Citation(c.n, c.hit) for c in answer.citations],
                backend=answer.backend,
                lang=answer.lang,
                evidence_score=answer.evidence_score,
            )
        return answer

    def stream(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        doc_id: str | None = None,
        section: str | None = None,
        generate: bool = True,
    ) -> Iterator[Event]:
        """Citations first, then the answer text in deltas, then the final answer."""
        answer = self.ask(question, k, mode, doc_id, section, generate)
        yield CitationsEvent(answer.citations)
        text = answer.text or ""
        for i in range(0, len(text), DELTA_CHARS):
            yield DeltaEvent(text[i : i + DELTA_CHARS])
        yield DoneEvent(answer)
