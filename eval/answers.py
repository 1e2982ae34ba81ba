"""Answer scoring: does the answer hold the expected strings, cite the evidence, refuse rightly.

Answers come from service.answers.Asker in-process, or from POST /ask of a running service.
A passage counts as cited when the answer text carries its `[n]` marker; a refusal cites
nothing. Strings are compared after NFKC normalisation, case folding and removing spaces; an
answer with several parts (a comparison) must hold every part. An unanswerable question (a
missing-report one among them) expects a refusal (answerable false).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from indexer.types import Passage

from .gold import Question, Span, is_relevant
from .retrievers import passage_from_json, post_json, request_body, understand_question
from .short import asks_short, exact_match_all, normalise

if TYPE_CHECKING:
    import httpx

    from service.answers import Asker

_MARKER = re.compile(r"\[(\d+)\]")
ANSWER_METRICS = (
    "answer_contains",
    "citation_hit",
    "refusal_precision",
    "refusal_recall",
    "false_refusal_rate",
    "short_exact",
)


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """What one question got: the text, whether it was answered, the cited passages."""

    qid: str
    text: str | None
    answerable: bool
    cited: tuple[Passage, ...]
    backend: str
    evidence_score: float | None = None
    # The short answer, or each report's in a comparison; empty: none.
    short: tuple[str, ...] = ()


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
        query = understand_question(question, self.k, self.mode, self.asker.retriever)
        a = self.asker.ask(query)
        by_n = {c.n: c.hit.passage for c in a.citations}
        cited = cited_passages(a.text, by_n) if a.answerable else ()
        shorts = [c.short for c in a.comparison] if a.comparison else [a.short]
        short = tuple(s.text for s in shorts if s is not None) if a.answerable else ()
        return AnswerRecord(
            question.id, a.text, a.answerable, cited, a.backend, a.evidence_score, short
        )


class HttpAnswerer:
    """Answers from POST /ask of a running service."""

    def __init__(self, client: httpx.Client, k: int = 5, mode: str = "hybrid") -> None:
        self.client = client
        self.k = k
        self.mode = mode

    def answer(self, question: Question) -> AnswerRecord:
        body = request_body(
            question,
            {
                "question": question.question,
                "k": self.k,
                "mode": self.mode,
                "generate": True,
                "stream": False,
            },
        )
        data = post_json(self.client, "/ask", body)
        by_n = {
            int(c["n"]): passage_from_json(c, "POST /ask")
            for c in data.get("citations", [])
            if isinstance(c, dict) and "n" in c
        }
        answerable = bool(data.get("answerable"))
        text = data.get("answer")
        cited = cited_passages(text, by_n) if answerable else ()
        compared = data.get("comparison") or []
        shorts = [c.get("short_answer") for c in compared if isinstance(c, dict)]
        if not compared:
            shorts = [data.get("short_answer")]
        got = tuple(str(s["text"]) for s in shorts if isinstance(s, dict)) if answerable else ()
        backend = str(data.get("backend", "unknown"))
        return AnswerRecord(question.id, text, answerable, cited, backend, short=got)


def contains(text: str | None, expected: str | Sequence[str]) -> bool:
    """True when the text holds the expected string, or every one of the expected strings."""
    parts = [expected] if isinstance(expected, str) else list(expected)
    if not text or not parts:
        return False
    have = normalise(text)
    return all(normalise(part) in have for part in parts)


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _counts(
    questions: Sequence[Question],
    records: Mapping[str, AnswerRecord],
    spans: Mapping[str, Sequence[Span]],
) -> dict[str, int]:
    answerable = [q for q in questions if q.answerable]
    return {
        "questions": len(questions),
        "answerable": len(answerable),
        "unanswerable": len(questions) - len(answerable),
        "refused": sum(not records[q.id].answerable for q in questions),
        "right_refusals": sum(not q.answerable and not records[q.id].answerable for q in questions),
        "false_refusals": sum(q.answerable and not records[q.id].answerable for q in questions),
        "right_calls": sum(q.answerable == records[q.id].answerable for q in questions),
        "contains": sum(contains(records[q.id].text, q.answer) for q in answerable),
        "short_asked": sum(asks_short(q) for q in answerable),
        "short_exact": sum(
            asks_short(q) and exact_match_all(q.answer, records[q.id].short) for q in answerable
        ),
        "hits": sum(
            any(is_relevant(p.doc_id, p.start, p.end, spans[q.id]) for p in records[q.id].cited)
            for q in answerable
        ),
    }


def _kind_entry(n: dict[str, int]) -> dict[str, float | int | None]:
    """A kind's answer scores; a score over no question is None."""
    return {
        "questions": n["questions"],
        "right_call": _ratio(n["right_calls"], n["questions"]),
        "answer_contains": _ratio(n["contains"], n["answerable"]) if n["answerable"] else None,
        "citation_hit": _ratio(n["hits"], n["answerable"]) if n["answerable"] else None,
        "false_refusal_rate": _ratio(n["false_refusals"], n["answerable"])
        if n["answerable"]
        else None,
        "refusal_recall": _ratio(n["right_refusals"], n["unanswerable"])
        if n["unanswerable"]
        else None,
        "short_exact": _ratio(n["short_exact"], n["short_asked"]) if n["short_asked"] else None,
    }


def score_answers(
    questions: Sequence[Question],
    records: Mapping[str, AnswerRecord],
    spans: Mapping[str, Sequence[Span]],
) -> dict[str, Any]:
    """The summary.json `answers` entry.

    Args:
        questions: the gold set.
        records: one AnswerRecord per question id.
        spans: evidence spans of the answerable questions (eval.gold.locate_evidence).

    Returns:
        backend; answer_contains (every part of the expected answer) and citation_hit over
        answerable questions; refusal precision (refused questions that are unanswerable),
        recall (unanswerable questions that were refused) and the false-refusal rate
        (answerable questions that were refused); and `by_kind`: per kind, the number of
        questions, right_call (answered when answerable, refused when not: for
        missing-report questions, the share refused), answer_contains, citation_hit and
        false_refusal_rate (None for a kind with no answerable question), and
        refusal_recall (None for a kind with no unanswerable one); short_exact: over the
        answerable questions that ask for a figure, name, date or short list (short_asked of
        them, by service.answers.short.asked), the share whose short answer matches the gold
        answer (eval.short.exact_match_all: a comparison's parts by its reports' short
        answers; no short answer is a miss). A ratio with nothing to
        count is 0.0.
    """
    n = _counts(questions, records, spans)
    backends = Counter(records[q.id].backend for q in questions)
    kinds = sorted({q.kind for q in questions if q.kind is not None})
    return {
        "backend": "+".join(sorted(backends)) if backends else "none",
        "answer_contains": _ratio(n["contains"], n["answerable"]),
        "citation_hit": _ratio(n["hits"], n["answerable"]),
        "refusal_precision": _ratio(n["right_refusals"], n["refused"]),
        "refusal_recall": _ratio(n["right_refusals"], n["unanswerable"]),
        "false_refusal_rate": _ratio(n["false_refusals"], n["answerable"]),
        "short_exact": _ratio(n["short_exact"], n["short_asked"]),
        "short_asked": n["short_asked"],
        "by_kind": {
            kind: _kind_entry(_counts([q for q in questions if q.kind == kind], records, spans))
            for kind in kinds
        },
    }
