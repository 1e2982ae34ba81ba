"""The fusion choice by cross-validation (eval.fit_fusion): folds stratified and reproducible,
each fold scored with the configuration chosen on the others, ties to the simpler one."""

from __future__ import annotations

import pytest

from eval.fit_fusion import Candidate, best, cross_validate, folds, grid, summarise, table
from eval.gold import Question


def question(qid: str, kind: str | None = None, answerable: bool = True) -> Question:
    return Question(qid, "问题", (), ("答案",), answerable, "zh", (), kind=kind)


QUESTIONS = [question(f"e{i}", "everyday") for i in range(10)] + [
    question(f"r{i}") for i in range(10)
]


def rows(values: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per-question metrics where every metric of a question has the same value."""
    return {q: {"recall@1": v, "recall@5": v, "mrr@10": v} for q, v in values.items()}


def test_the_grid_lists_rrf_then_every_weighted_configuration():
    g = grid((0.4, 0.5), (0.0, 0.75))
    assert g[0] == Candidate("rrf", "rrf")
    assert [(c.alpha, c.ml_weight) for c in g[1:]] == [
        (0.4, 0.0),
        (0.4, 0.75),
        (0.5, 0.0),
        (0.5, 0.75),
    ]
    assert g[2].label == "weighted α=0.4 ml=0.75"


def test_folds_are_stratified_reproducible_and_partition_the_questions():
    first = folds(QUESTIONS, 5, seed=0)
    assert folds(QUESTIONS, 5, seed=0) == first
    assert folds(QUESTIONS, 5, seed=1) != first
    assert sorted(i for f in first for i in f) == sorted(q.id for q in QUESTIONS)
    # Ten everyday-words questions over five folds: two in each.
    assert [sum(i.startswith("e") for i in f) for f in first] == [2, 2, 2, 2, 2]


def test_best_takes_the_highest_mean_and_the_earlier_on_a_tie():
    ids = ["e0", "e1"]
    runs = {
        "a": rows({"e0": 1.0, "e1": 0.0}),
        "b": rows({"e0": 0.5, "e1": 0.5}),
        "c": rows({"e0": 0.0, "e1": 0.9}),
    }
    assert best(runs, ids, ["a", "b", "c"]) == "a"  # 0.5 and 0.5 tie with b; c has 0.45
    assert best(runs, ids, ["b", "a", "c"]) == "b"
    assert best(runs, ["e1"], ["a", "b", "c"]) == "c"


def test_each_fold_is_scored_with_the_choice_made_without_it():
    # "good" wins on every question but one: every fold chooses it, and the CV numbers are
    # its own. "lucky" is perfect on r0 alone.
    good = {q.id: 1.0 for q in QUESTIONS} | {"r0": 0.0}
    lucky = {q.id: 0.0 for q in QUESTIONS} | {"r0": 1.0}
    runs = {"lucky": rows(lucky), "good": rows(good)}
    cv = cross_validate(runs, QUESTIONS, n_folds=5, seed=0)
    assert cv["chosen"] == "good"
    assert [f["chosen"] for f in cv["per_fold"]] == ["good"] * 5
    assert [f["questions"] for f in cv["per_fold"]] == [4] * 5
    assert cv["cv"]["mrr@10"] == pytest.approx(19 / 20)
    assert cv["cv"]["by_kind"]["everyday"]["recall@5"] == 1.0
    assert cv["cv"]["by_kind"]["unkinded"]["recall@1"] == pytest.approx(0.9)
    assert cv["chosen_in_sample"] == summarise(runs["good"], QUESTIONS)
    rendered = table({"good": summarise(runs["good"], QUESTIONS)}, cv).splitlines()
    assert rendered[2] == "| good | 0.950 | 0.950 | 0.950 | 1.000 | 1.000 |"
    assert (
        rendered[3]
        == "| cross-validated (5 folds): chosen per fold | 0.950 | 0.950 | 0.950 | 1.000 | 1.000 |"
    )
    assert rendered[-1] == "Chosen on all questions: good; per fold: good, good, good, good, good"


def test_the_cv_estimate_is_below_the_in_sample_best_when_the_choice_overfits():
    # Two configurations, each perfect on half the everyday questions and on nothing else
    # apart: whichever a fold's training questions favour scores worse on the held-out ones.
    half = {f"e{i}" for i in range(5)}
    a = {q.id: (1.0 if q.id in half or q.id.startswith("r") else 0.0) for q in QUESTIONS}
    b = {q.id: (0.0 if q.id in half else 1.0) for q in QUESTIONS}
    runs = {"a": rows(a), "b": rows(b)}
    cv = cross_validate(runs, QUESTIONS, n_folds=5, seed=0)
    in_sample = cv["chosen_in_sample"]["mrr@10"]
    assert in_sample == 0.75
    # The folds of seed 0 (reproducible): four choose a, one b; 13 of 20 held-out rows score 1.
    assert [f["chosen"] for f in cv["per_fold"]] == ["a", "a", "a", "a", "b"]
    assert cv["cv"]["mrr@10"] == pytest.approx(0.65) and in_sample > 0.65


def test_unanswerable_questions_are_left_out():
    runs = {"a": rows({q.id: 1.0 for q in QUESTIONS})}
    extra = [*QUESTIONS, question("n0", "near-miss", answerable=False)]
    cv = cross_validate(runs, extra, n_folds=5, seed=0)
    assert sum(f["questions"] for f in cv["per_fold"]) == 20
    assert "near-miss" not in cv["cv"]["by_kind"]
