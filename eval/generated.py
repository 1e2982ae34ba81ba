"""Generated answers against the composed ones, on the same questions (`--backend openai`).

Each question is asked twice through one runtime: the composed answer (Asker without a
generator) and the generated one, streamed as /ask streams it, timed to its first delta and
to its end. Both get the answer table of eval.answers (answer_contains, citation_hit,
refusals) plus: markers_hold, the share of answered answerable questions whose every `[n]`
names a passage holding (a part of) the gold answer; grounded, the share of the model's
non-refusals that passed the grounding checks (the rest were replaced by the composed
answer); fallbacks by reason; time to first delta and deltas per second (llama.cpp streams a
token a delta). With ANSWER_JUDGE=llm the judge's verdicts are scored as refusals beside the
verifier's, alone and combined.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .answers import AnswerRecord, cited_passages, score_answers
from .gold import Question, Span
from .retrievers import understand_question
from .short import normalise

if TYPE_CHECKING:
    from service.answers import Asker
    from service.answers.compose import Answer, Citation


@dataclass(frozen=True, slots=True)
class Timed:
    """One answer with how long it took."""

    record: AnswerRecord
    citations: tuple[Citation, ...]
    grounded: bool
    warning: str | None
    first_s: float  # until the first delta (the whole answer for a composed one)
    total_s: float
    deltas: int


def _record(q: Question, a: Answer) -> AnswerRecord:
    by_n = {c.n: c.hit.passage for c in a.citations}
    cited = cited_passages(a.text, by_n) if a.answerable else ()
    return AnswerRecord(q.id, a.text, a.answerable, cited, a.backend, a.evidence_score)


def composed(asker: Asker, q: Question, k: int) -> Timed:
    """The composed answer (no generator), timed."""
    t0 = time.perf_counter()
    query = understand_question(q, k, "hybrid", asker.retriever)
    a = asker.extractive(asker.retrieve(query))
    dt = time.perf_counter() - t0
    return Timed(_record(q, a), tuple(a.citations), a.grounded, a.warning, dt, dt, 0)


def generated(asker: Asker, q: Question, k: int) -> Timed:
    """The generated answer, streamed: time to the first delta and to the done event."""
    from service.answers import DeltaEvent, DoneEvent

    t0 = time.perf_counter()
    first: float | None = None
    deltas = 0
    done: Answer | None = None
    for event in asker.stream(understand_question(q, k, "hybrid", asker.retriever)):
        if isinstance(event, DeltaEvent):
            deltas += 1
            if first is None:
                first = time.perf_counter() - t0
        elif isinstance(event, DoneEvent):
            done = event.answer
    total = time.perf_counter() - t0
    if done is None:  # the stream always ends with a done event
        raise RuntimeError(f"{q.id}: the stream ended without a done event")
    return Timed(
        _record(q, done),
        tuple(done.citations),
        done.grounded,
        done.warning,
        first or total,
        total,
        deltas,
    )


def markers_hold(questions: Sequence[Question], answers: Mapping[str, Timed]) -> float:
    """Of the answered answerable questions that cite, the share whose every cited passage
    holds a part of the gold answer."""
    good = n = 0
    for q in questions:
        r = answers[q.id].record
        if not q.answerable or not r.answerable or not r.cited:
            continue
        parts = [q.answer] if isinstance(q.answer, str) else list(q.answer)
        n += 1
        good += all(any(normalise(x) in normalise(p.text) for x in parts) for p in r.cited)
    return good / n if n else 0.0


def _reason(warning: str | None) -> str:
    if warning is None:
        return "none"
    if "not grounded" in warning:
        return "ungrounded"
    if "timeout" in warning:
        return "timeout"
    return "error"


def table(
    questions: Sequence[Question], answers: Mapping[str, Timed], spans: Mapping[str, Sequence[Span]]
) -> dict[str, Any]:
    """The scores of one backend's answers on the questions."""
    records = {qid: t.record for qid, t in answers.items()}
    base = score_answers(questions, records, spans)
    reasons = Counter(_reason(answers[q.id].warning) for q in questions)
    model_answered = [
        q for q in questions if records[q.id].answerable and records[q.id].backend != "extractive"
    ]
    fell_ungrounded = reasons.get("ungrounded", 0)
    attempted = len(model_answered) + fell_ungrounded
    timed = [answers[q.id] for q in questions if answers[q.id].deltas]
    rates = [t.deltas / (t.total_s - t.first_s) for t in timed if t.total_s > t.first_s]
    firsts = [answers[q.id].first_s for q in questions]
    return {
        "backend": base["backend"],
        "questions": len(questions),
        "answer_contains": base["answer_contains"],
        "citation_hit": base["citation_hit"],
        "markers_hold": markers_hold(questions, answers),
        "grounded": (len(model_answered) / attempted) if attempted else 1.0,
        "refusal_precision": base["refusal_precision"],
        "refusal_recall": base["refusal_recall"],
        "false_refusal_rate": base["false_refusal_rate"],
        "fallbacks": {k: v for k, v in sorted(reasons.items()) if k != "none"},
        "first_s_p50": statistics.median(firsts) if firsts else 0.0,
        "first_s_p90": statistics.quantiles(firsts, n=10)[-1] if len(firsts) > 1 else 0.0,
        "total_s_mean": statistics.fmean(t.total_s for t in answers.values()) if answers else 0.0,
        "deltas_per_s": statistics.median(rates) if rates else None,
    }


def refusal_scores(questions: Sequence[Question], refused: Mapping[str, bool]) -> dict[str, float]:
    """Refusal precision and recall, and the false-refusal rate, of one refusal rule."""
    unans = [q for q in questions if not q.answerable]
    ans = [q for q in questions if q.answerable]
    right = sum(refused[q.id] for q in unans)
    n_refused = sum(refused[q.id] for q in questions)
    return {
        "refusal_precision": right / n_refused if n_refused else 0.0,
        "refusal_recall": right / len(unans) if unans else 0.0,
        "false_refusal_rate": sum(refused[q.id] for q in ans) / len(ans) if ans else 0.0,
    }


def judge_vs_verifier(
    questions: Sequence[Question],
    composed_answers: Mapping[str, Timed],
    verdicts: Mapping[str, tuple[int, ...] | None],
) -> dict[str, dict[str, float]]:
    """Refusals by the offline verifier (the composed answer's), by the judge (no passage
    judged relevant), and by the two combined (either refuses; both refuse)."""
    questions = [q for q in questions if q.id in verdicts]
    verifier = {q.id: not composed_answers[q.id].record.answerable for q in questions}
    judge = {q.id: verdicts.get(q.id) == () for q in questions}
    return {
        "verifier": refusal_scores(questions, verifier),
        "judge": refusal_scores(questions, judge),
        "either": refusal_scores(questions, {i: verifier[i] or judge[i] for i in verifier}),
        "both": refusal_scores(questions, {i: verifier[i] and judge[i] for i in verifier}),
    }


ROWS = (
    ("answer_contains", "answer contains the gold string"),
    ("citation_hit", "cites the evidence passage"),
    ("markers_hold", "every [n] names a passage holding the answer"),
    ("grounded", "model answers passing the grounding checks"),
    ("refusal_precision", "refusal precision"),
    ("refusal_recall", "refusal recall"),
    ("false_refusal_rate", "false refusals (answerable refused)"),
    ("first_s_p50", "time to first delta, p50 (s)"),
    ("first_s_p90", "time to first delta, p90 (s)"),
    ("total_s_mean", "time per answer, mean (s)"),
    ("deltas_per_s", "tokens/s while streaming (median)"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def render(result: dict[str, Any]) -> str:
    """The markdown tables of a --backend run: generated beside composed, then the judge."""
    gen, comp = result["generated"], result["composed"]
    lines = [
        f"{result['questions']} questions ({result['unanswerable']} unanswerable), "
        f"judge: {result['judge']}, model: {result['model']}",
        "",
        "| | generated | composed |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {_cell(gen[key])} | {_cell(comp[key])} |" for key, label in ROWS]
    fb = ", ".join(f"{k} {v}" for k, v in gen["fallbacks"].items()) or "none"
    lines += ["", f"generated answers replaced by the composed one: {fb}"]
    if "judge_vs_verifier" in result:
        lines += [
            "",
            "| refusal rule | precision | recall | false refusals |",
            "|---|---|---|---|",
        ]
        for name, s in result["judge_vs_verifier"].items():
            lines.append(
                f"| {name} | {s['refusal_precision']:.3f} | {s['refusal_recall']:.3f} "
                f"| {s['false_refusal_rate']:.3f} |"
            )
    return "\n".join(lines)
