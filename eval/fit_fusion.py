"""Hybrid fusion chosen by cross-validation: α (the dense weight of weighted min-max fusion,
Chinese questions) and the weight of the multilingual dense ranking as a third signal for
Chinese questions, against reciprocal rank fusion.

Every configuration of the grid ranks every answerable gold question once; the questions are
then split into folds (stratified by kind, so each fold holds its share of everyday-words and
of multi-report questions). For each fold the configuration with the best mean MRR@10 on the
other folds is scored on it, so the cross-validated numbers come from questions the choice
never saw. The configuration chosen on all questions is the one to ship; the CV numbers are
what to expect of it on new questions.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .gold import Question
from .report import md_table

ALPHAS = (0.3, 0.4, 0.5, 0.6, 0.7)
ML_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
OBJECTIVE = "mrr@10"
REPORTED = ("recall@1", "recall@5", "mrr@10")
# Rows of the per-question metrics: question id -> metric -> value.
PerQuestion = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fusion configuration of the grid."""

    label: str
    method: Literal["rrf", "weighted"]
    alpha: float = 0.5
    ml_weight: float = 0.0


def grid(
    alphas: Sequence[float] = ALPHAS, weights: Sequence[float] = ML_WEIGHTS
) -> list[Candidate]:
    """Weighted fusion at every (α, multilingual weight), and RRF (k = 60) without it."""
    out = [Candidate("rrf", "rrf")]
    for a, w in itertools.product(alphas, weights):
        out.append(Candidate(f"weighted α={a} ml={w}", "weighted", a, w))
    return out


def mean(rows: PerQuestion, ids: Sequence[str], metric: str) -> float:
    return float(np.mean([rows[i][metric] for i in ids])) if ids else 0.0


def stratum(q: Question) -> str:
    """What the folds are stratified by: the kind, or the report set for kindless ones."""
    return q.kind or ("shanghai-2018" if q.doc_id else "other")


def folds(questions: Sequence[Question], n: int, seed: int) -> list[list[str]]:
    """The question ids of each of n folds, stratified by `stratum`."""
    from sklearn.model_selection import StratifiedKFold

    ids = np.array([q.id for q in questions])
    labels = [stratum(q) for q in questions]
    # A stratum with fewer questions than folds joins the largest one.
    counts = {s: labels.count(s) for s in set(labels)}
    largest = max(counts, key=lambda s: counts[s])
    labels = [s if counts[s] >= n else largest for s in labels]
    splitter = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    return [ids[test].tolist() for _, test in splitter.split(ids, labels)]


def best(runs: Mapping[str, PerQuestion], ids: Sequence[str], order: Sequence[str]) -> str:
    """The configuration with the highest mean OBJECTIVE over ids (the earlier in `order`
    on a tie: the grid lists simpler configurations first)."""
    return max(order, key=lambda label: (mean(runs[label], ids, OBJECTIVE), -order.index(label)))


def cross_validate(
    runs: Mapping[str, PerQuestion],
    questions: Sequence[Question],
    n_folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Choose on n-1 folds, score on the held-out one; the held-out rows of every fold
    together give the cross-validated metrics, overall and by kind.

    Returns:
        chosen (the configuration chosen on all questions), per-fold choices, `cv` (held-out
        means of REPORTED overall and by kind) and `chosen_in_sample` (the chosen
        configuration's means on all questions, for contrast).
    """
    order = list(runs)
    answerable = [q for q in questions if q.answerable]
    held_out: dict[str, Mapping[str, float]] = {}
    per_fold = []
    for test in folds(answerable, n_folds, seed):
        train = [q.id for q in answerable if q.id not in set(test)]
        label = best(runs, train, order)
        per_fold.append({"chosen": label, "questions": len(test)})
        held_out.update({i: runs[label][i] for i in test})
    all_ids = [q.id for q in answerable]
    chosen = best(runs, all_ids, order)
    return {
        "folds": n_folds,
        "seed": seed,
        "objective": OBJECTIVE,
        "chosen": chosen,
        "per_fold": per_fold,
        "cv": summarise(held_out, answerable),
        "chosen_in_sample": summarise(runs[chosen], answerable),
    }


def summarise(rows: PerQuestion, questions: Sequence[Question]) -> dict[str, Any]:
    """Means of REPORTED over the questions, and by kind (kindless ones as "unkinded")."""
    ids = [q.id for q in questions]
    kinds: dict[str, list[str]] = {}
    for q in questions:
        kinds.setdefault(q.kind or "unkinded", []).append(q.id)
    return {
        **{m: mean(rows, ids, m) for m in REPORTED},
        "by_kind": {k: {m: mean(rows, v, m) for m in REPORTED} for k, v in sorted(kinds.items())},
    }


def table(summaries: Mapping[str, dict[str, Any]], cv: dict[str, Any]) -> str:
    """The study's Markdown: every ranking's means, the cross-validated row, the choices."""
    header = ["ranking", "R@1", "R@5", "MRR@10", "everyday R@5", "everyday MRR@10"]

    def cells(s: dict[str, Any]) -> list[str]:
        every = s["by_kind"].get("everyday", {"recall@5": 0.0, "mrr@10": 0.0})
        return [
            *(f"{s[m]:.3f}" for m in REPORTED),
            f"{every['recall@5']:.3f}",
            f"{every['mrr@10']:.3f}",
        ]

    body = [[label, *cells(s)] for label, s in summaries.items()]
    body.append([f"cross-validated ({cv['folds']} folds): chosen per fold", *cells(cv["cv"])])
    chosen = ", ".join(f["chosen"] for f in cv["per_fold"])
    return (
        md_table(header, body) + f"\n\nChosen on all questions: {cv['chosen']}; per fold: {chosen}"
    )
