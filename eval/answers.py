"""Answer scoring: does the answer hold the expected string, cite the evidence, refuse rightly.

Answers come from service.answers.Asker in-process, or from POST /ask of a running service.
A passage counts as cited when the answer text carries its `[n]` marker; a refusal cites
nothing. Strings are compared after NFKC normalisation, case folding and removing spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from indexer.types import Passage
from service.query import understand

from .gold import Question, Span, is_relevant
from .retrievers import passage_from_json, post_json

if TYPE_CHECKING:
    import httpx

    from service.answers import Asker

_MARKER = re.compile(r"\[(\d+)\]")
_SPACE = re.compile(r"\s+")
ANSWER_METRICS = ("answer_contains", "citation_hit", "refusal_precision", "refusal_recall")


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """What one question got: the text, whether it was answered, the cited passages."""

    qid: str
    text: str | None
    answerable: bool
    cited: tuple[Passage, ...]
    backend: str
    evidence_score: float | None = None


class Answerer(Protocol):
    def answer(self, question: Question) -> AnswerRecord: ...


def cited_passages(text: str | None, by_n: Mapping[int, Passage]) -> tuple[Passage, ...]:
    """The passages whose [n] markers appear in the text, in order of first mention."""
    ns = dict.fromkeys(int(m) for m in _MARKER.findall(text or ""))
    return tuple(by_n[n] for n in ns if n in by_n)


class InProcessAnswerer:
    """Answers from an Asker over the index."""

    def __init__(self, asker: Asker, k: int = 5, mode: str = "hybrid") -> None:
        self.asker = asker
        self.k = k
        self.mode = mode

    def answer(self, question: Question) -> AnswerRecord:
        a = self.asker.ask(understand(question.question, self.k, self.mode, doc_id=question.doc_id))
        by_n = {c.n: c.hit.passage for c in a.citations}
        cited = cited_passages(a.text, by_n) if a.answerable else ()
        return AnswerRecord(question.id, a.text, a.answerable, cited, a.backend, a.evidence_score)


class HttpAnswerer:
    """Answers from POST /ask of a running service."""

    def __init__(self, client: httpx.Client, k: int = 5, mode: str = "hybrid") -> None:
        self.client = client
        self.k = k
        self.mode = mode

    def answer(self, question: Question) -> AnswerRecord:
        body = {
            "question": question.question,
            "k": self.k,
            "mode": self.mode,
            "doc_id": question.doc_id,
            "generate": True,
            "stream": False,
        }
        data = post_json(self.client, "/ask", body)
        by_n = {
            int(c["n"]): passage_from_json(c, "POST /ask")
            for c in data.get("citations", [])
            if isinstance(c, dict) and "n" in c
        }
        answerable = bool(data.get("answerable"))
        text = data.get("answer")
        cited = cited_passages(text, by_n) if answerable else ()
        return AnswerRecord(
            question.id, text, answerable, cited, str(data.get("backend", "unknown"))
        )


def normalise(text: str) -> str:
    """NFKC, case-folded, without whitespace: full-width digits match half-width ones."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


def contains(text: str | None, expected: str) -> bool:
    return bool(text) and normalise(expected) in normalise(text or "")


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def score_answers(
    questions: Sequence[Question],
    records: Mapping[str, AnswerRecord],
    spans: Mapping[str, Sequence[Span]],
) -> dict[str, float | str]:
    """The summary.json `answers` entry.

    Args:
        questions: the gold set.
        records: one AnswerRecord per question id.
        spans: evidence spans of the answerable questions (eval.gold.locate_evidence).

    Returns:
        backend; answer_contains and citation_hit over answerable questions; refusal
        precision (refused questions that are unanswerable) and recall (unanswerable
        questions that were refused). A ratio with nothing to count is 0.0.
    """
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    refused = [q for q in questions if not records[q.id].answerable]
    contains_n = sum(contains(records[q.id].text, q.answer) for q in answerable)
    hit_n = sum(
        any(is_relevant(p.doc_id, p.start, p.end, spans[q.id]) for p in records[q.id].cited)
        for q in answerable
    )
    right_refusals = sum(not q.answerable for q in refused)
    backends = Counter(records[q.id].backend for q in questions)
    return {
        "backend": "+".join(sorted(backends)) if backends else "none",
        "answer_contains": _ratio(contains_n, len(answerable)),
        "citation_hit": _ratio(hit_n, len(answerable)),
        "refusal_precision": _ratio(right_refusals, len(refused)),
        "refusal_recall": _ratio(right_refusals, len(unanswerable)),
    }
