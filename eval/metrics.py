"""Retrieval metrics: recall@1/3/5/10, MRR@10 and nDCG@10 with ranx, and all@5/10; overall,
by lang, by tag, by kind, and over the questions with several evidence spans.

Relevance follows eval.gold (a passage covering at least half of an evidence span). The
judged units are the evidence spans, not the passages: a passage that covers an evidence
span already covered by a better-ranked passage counts as not relevant (a duplicate), so
overlapping chunkings are neither rewarded nor punished for returning the same evidence
twice. A passage covering several new spans is one item per span, in span order. recall@k is
ranx's recall over the first k passages, so it is the share of a question's evidence spans
found in its top k; MRR@10 is 1 / the rank of the first relevant passage; nDCG@10 has binary
gains over the items of the first 10 passages.

all@k is 1 when every evidence span of the question is covered by the first k passages and
0 otherwise (ranx has no such metric: it is counted from the covered spans). It is what a
comparison needs, every part found; for a question with one span it equals recall@k.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from indexer.types import Passage

from .gold import Question, Span, covered_spans

CUTOFFS = (1, 3, 5, 10)
DEPTH = 10
ALL_CUTOFFS = (5, 10)
METRICS = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    *(f"all@{k}" for k in ALL_CUTOFFS),
)
CHARS = "mean_passage_chars"
# The summary's group of the questions with more than one evidence span.
SEVERAL = "several_evidence"


def unit_id(qid: str, i: int) -> str:
    return f"{qid}#e{i}"


def judged(qid: str, passages: Sequence[Passage], spans: Sequence[Span]) -> list[str]:
    """The ranked item ids of one question: evidence unit ids, or the passage's own id."""
    items: list[str] = []
    found: set[int] = set()
    for rank, p in enumerate(passages, start=1):
        new = [i for i in covered_spans(p.doc_id, p.start, p.end, spans) if i not in found]
        if new:
            items.extend(unit_id(qid, i) for i in new)
            found.update(new)
        else:
            items.append(f"{rank}:{p.id}")
    return items


def all_found(passages: Sequence[Passage], spans: Sequence[Span]) -> bool:
    """True when the passages together cover every evidence span (the relevance rule)."""
    found = {i for p in passages for i in covered_spans(p.doc_id, p.start, p.end, spans)}
    return len(found) == len(spans)


def _ranx_scores(
    qrels: dict[str, dict[str, int]], runs: dict[str, list[str]], metrics: list[str]
) -> dict[str, dict[str, float]]:
    """Per-question ranx scores: metric -> question id -> score."""
    from ranx import Qrels, Run, evaluate

    # Strictly decreasing scores, so ranx ranks the items exactly in the retriever's order;
    # ranx cannot hold an empty ranking, so "no results" is one unjudged item.
    runs = {qid: items or ["-"] for qid, items in runs.items()}
    run = Run.from_dict(
        {
            qid: {item: float(len(items) - j) for j, item in enumerate(items)}
            for qid, items in runs.items()
        }
    )
    evaluate(Qrels.from_dict(qrels), run, metrics, make_comparable=True)
    return {m: {qid: float(s) for qid, s in run.scores[m].items()} for m in metrics}


def per_question(
    questions: Iterable[Question],
    results: Mapping[str, Sequence[Passage]],
    spans: Mapping[str, Sequence[Span]],
) -> dict[str, dict[str, float]]:
    """Every metric of every answerable question: question id -> metric -> value.

    Besides the metrics, `chars` and `passages` hold the total length and the number of the
    passages returned in the top 10.
    """
    answerable = [q for q in questions if q.answerable]
    if not answerable:
        return {}
    qrels = {q.id: {unit_id(q.id, i): 1 for i in range(len(spans[q.id]))} for q in answerable}
    out: dict[str, dict[str, float]] = {q.id: {} for q in answerable}
    for k in CUTOFFS:
        runs = {q.id: judged(q.id, results.get(q.id, [])[:k], spans[q.id]) for q in answerable}
        for qid, value in _ranx_scores(qrels, runs, ["recall"])["recall"].items():
            out[qid][f"recall@{k}"] = value
    runs = {q.id: judged(q.id, results.get(q.id, [])[:DEPTH], spans[q.id]) for q in answerable}
    scores = _ranx_scores(qrels, runs, ["mrr", "ndcg"])
    for q in answerable:
        out[q.id]["mrr@10"] = scores["mrr"][q.id]
        out[q.id]["ndcg@10"] = scores["ndcg"][q.id]
        for k in ALL_CUTOFFS:
            out[q.id][f"all@{k}"] = float(all_found(results.get(q.id, [])[:k], spans[q.id]))
        lengths = [p.end - p.start for p in results.get(q.id, [])[:DEPTH]]
        out[q.id]["chars"] = float(sum(lengths))
        out[q.id]["passages"] = float(len(lengths))
    return out


def aggregate(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Metric means over questions; mean length over all returned passages (top 10)."""
    summary = {m: float(np.mean([r[m] for r in rows])) for m in METRICS}
    count = sum(r["passages"] for r in rows)
    summary[CHARS] = sum(r["chars"] for r in rows) / count if count else 0.0
    return summary


def score_retriever(
    questions: Sequence[Question],
    results: Mapping[str, Sequence[Passage]],
    spans: Mapping[str, Sequence[Span]],
) -> dict[str, Any]:
    """The summary.json entry of one retriever.

    Args:
        questions: the gold set; only answerable questions are scored.
        results: ranked passages (at least 10 when available) by question id.
        spans: evidence spans by question id (eval.gold.locate_evidence).

    Returns:
        The metrics and mean passage length overall, plus `by_lang`, `by_tag`, `by_kind`
        (questions without a kind are in none) and `several_evidence` (the questions with
        more than one evidence span; null when there is none).
    """
    rows = per_question(questions, results, spans)
    answerable = [q for q in questions if q.answerable]
    if not answerable:
        return {
            **{m: 0.0 for m in (*METRICS, CHARS)},
            "by_lang": {},
            "by_tag": {},
            "by_kind": {},
            SEVERAL: None,
        }
    by_lang = {
        lang: aggregate([rows[q.id] for q in answerable if q.lang == lang])
        for lang in sorted({q.lang for q in answerable})
    }
    by_tag = {
        tag: aggregate([rows[q.id] for q in answerable if tag in q.tags])
        for tag in sorted({t for q in answerable for t in q.tags})
    }
    by_kind = {
        kind: aggregate([rows[q.id] for q in answerable if q.kind == kind])
        for kind in sorted({q.kind for q in answerable if q.kind is not None})
    }
    several = [rows[q.id] for q in answerable if len(spans[q.id]) > 1]
    return {
        **aggregate([rows[q.id] for q in answerable]),
        "by_lang": by_lang,
        "by_tag": by_tag,
        "by_kind": by_kind,
        SEVERAL: aggregate(several) if several else None,
    }
