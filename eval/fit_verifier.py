"""Fitting the answer verifier: logistic regression over evidence signals, cross-validated.

`python -m eval tune verifier` collects each gold question's signals (eval.tune.verifier)
and calls `fit_and_score` here: scikit-learn's LogisticRegression on standardised features,
stratified group k-fold cross-validation (a comparison's reports stay in one fold), and the
decision threshold of each language chosen on out-of-fold probabilities. The scores reported
are nested: each outer fold's threshold is chosen on its training questions' own
out-of-fold probabilities, so no question is scored by a model or threshold fitted on it.

scikit-learn is imported here only (fitting); the service applies the coefficients with
numpy (service.answers.verifier).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

# The signals the verifier reads: each left out lowered the nested cross-validated AUC or
# refusal recall (`--ablate`). Measured and dropped, as adding nothing beyond noise: the
# best sentence's score and its margin to the second, the top hit's fused score, dense and
# BM25 top-3 agreement, terms missing from the searched reports (all, nouns, the focus),
# whether the best three or any cited sentence holds the kind of answer asked.
FEATURES = [
    "missing_cited",
    "missing_proper",
    "focus_unheld",
    "together",
    "compares",
    "dense",
    "english",
]
C = 1.0
FOLDS = 5
SEED = 0
TARGET_RECALL = 0.9
MAX_FALSE_REFUSAL = 0.03


@dataclass(frozen=True, slots=True)
class Row:
    """One judgement the verifier makes: a question's evidence (a comparison has one row
    per report), its features, and whether the question is answerable."""

    qid: str
    lang: str
    kind: str
    answerable: bool
    features: dict[str, float]


@dataclass(frozen=True, slots=True)
class Ruled:
    """A question the rules decide before the verifier (a year or place the reports never
    mention, a section outline): whether it was answered."""

    qid: str
    lang: str
    kind: str
    answerable: bool
    answered: bool


@dataclass(frozen=True, slots=True)
class Model:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept))))


def fit(x: np.ndarray, y: np.ndarray, c: float = C) -> Model:
    """Standardise, then fit an L2 logistic regression with balanced class weights (lbfgs:
    deterministic, so the same data give the same coefficients)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    model.fit((x - mean) / scale, y)
    return Model(mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def _folds(
    y: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def out_of_fold(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int, seed: int, c: float = C
) -> np.ndarray:
    """Each row's probability from the model fitted without its fold."""
    p = np.zeros(len(y))
    for train, test in _folds(y, groups, folds, seed):
        p[test] = fit(x[train], y[train], c).probability(x[test])
    return p


def _by_question(rows: Sequence[Row], p: np.ndarray) -> dict[str, float]:
    """A question's probability: its best report's (a comparison answers when one does)."""
    out: dict[str, float] = {}
    for row, value in zip(rows, p, strict=True):
        out[row.qid] = max(out.get(row.qid, 0.0), float(value))
    return out


def refusal_scores(refused: np.ndarray, unanswerable: np.ndarray) -> dict[str, float | int]:
    """Refusal precision and recall, and the false-refusal rate (answerable ones refused)."""
    right = int(np.sum(refused & unanswerable))
    answerable = int(np.sum(~unanswerable))
    return {
        "questions": int(refused.size),
        "unanswerable": int(unanswerable.sum()),
        "refused": int(refused.sum()),
        "refusal_precision": right / int(refused.sum()) if refused.any() else 0.0,
        "refusal_recall": right / int(unanswerable.sum()) if unanswerable.any() else 0.0,
        "false_refusal_rate": int(np.sum(refused & ~unanswerable)) / answerable
        if answerable
        else 0.0,
    }


def choose_threshold(
    p: np.ndarray,
    unanswerable: np.ndarray,
    target_recall: float = TARGET_RECALL,
    max_false_refusal: float = MAX_FALSE_REFUSAL,
) -> float:
    """The probability below which to refuse: the lowest that reaches target_recall within
    the false-refusal budget, else the one with the best recall within it (fewer false
    refusals on a tie). Candidates are midpoints between neighbouring probabilities."""
    values = np.unique(p)
    candidates = [0.0, *((a + b) / 2 for a, b in itertools.pairwise(values))]
    best: tuple[float, float, float] | None = None
    for t in candidates:
        s = refusal_scores(p < t, unanswerable)
        if s["false_refusal_rate"] > max_false_refusal:
            continue
        recall = float(s["refusal_recall"])
        if recall >= target_recall:
            return float(t)
        key = (recall, -float(s["false_refusal_rate"]), -t)
        if best is None or key > best:
            best = key
    return -best[2] if best is not None else 0.0


@dataclass(frozen=True, slots=True)
class Data:
    """The rows and ruled questions, with the feature matrix of the named features."""

    rows: Sequence[Row]
    ruled: Sequence[Ruled]
    names: Sequence[str]

    @property
    def x(self) -> np.ndarray:
        return np.array([[r.features[n] for n in self.names] for r in self.rows], dtype=float)

    @property
    def y(self) -> np.ndarray:
        return np.array([r.answerable for r in self.rows], dtype=int)

    @property
    def groups(self) -> np.ndarray:
        ids = {qid: i for i, qid in enumerate(dict.fromkeys(r.qid for r in self.rows))}
        return np.array([ids[r.qid] for r in self.rows])

    def questions(self) -> list[tuple[str, str, str, bool]]:
        """(qid, lang, kind, answerable) of every question, rows' first, in order."""
        seen: dict[str, tuple[str, str, str, bool]] = {}
        for r in self.rows:
            seen.setdefault(r.qid, (r.qid, r.lang, r.kind, r.answerable))
        for q in self.ruled:
            seen.setdefault(q.qid, (q.qid, q.lang, q.kind, q.answerable))
        return list(seen.values())


def thresholds_for(
    data: Data, p_rows: np.ndarray, target: float, budget: float
) -> dict[str, float]:
    """Per language, the threshold chosen on these (out-of-fold) row probabilities."""
    by_q = _by_question(data.rows, p_rows)
    out = {}
    for lang in ("zh", "en"):
        qs = [q for q in data.questions() if q[1] == lang and q[0] in by_q]
        if not qs:
            continue
        p = np.array([by_q[q[0]] for q in qs])
        out[lang] = float(choose_threshold(p, np.array([not q[3] for q in qs]), target, budget))
    return out


def decisions(
    data: Data, p_rows: np.ndarray, thresholds: dict[str, float]
) -> dict[str, tuple[bool, float]]:
    """Each question's (refused, probability): ruled questions as the rules decided."""
    by_q = _by_question(data.rows, p_rows)
    out: dict[str, tuple[bool, float]] = {}
    for qid, lang, _, _ in data.questions():
        if qid in by_q:
            out[qid] = (by_q[qid] < thresholds.get(lang, thresholds.get("zh", 0.5)), by_q[qid])
    for r in data.ruled:
        out[r.qid] = (not r.answered, 1.0 if r.answered else 0.0)
    return out


def nested(
    data: Data, folds: int, seed: int, target: float, budget: float, c: float = C
) -> tuple[dict[str, tuple[bool, float]], np.ndarray]:
    """Honest decisions: per outer fold, thresholds from the training part's own
    out-of-fold probabilities, the model from the training part, applied to the fold.
    Returns the decisions and the outer out-of-fold row probabilities."""
    x, y, groups = data.x, data.y, data.groups
    p = np.zeros(len(y))
    refused: dict[str, tuple[bool, float]] = {}
    for i, (train, test) in enumerate(_folds(y, groups, folds, seed)):
        inner = out_of_fold(x[train], y[train], groups[train], folds, seed + 1 + i, c)
        part = replace(data, rows=[data.rows[j] for j in train], ruled=[])
        thresholds = thresholds_for(part, inner, target, budget)
        p[test] = fit(x[train], y[train], c).probability(x[test])
        held = replace(data, rows=[data.rows[j] for j in test], ruled=[])
        refused.update(decisions(held, p[test], thresholds))
    for r in data.ruled:
        refused[r.qid] = (not r.answered, 1.0 if r.answered else 0.0)
    return refused, p


def report(data: Data, refused: dict[str, tuple[bool, float]]) -> dict[str, Any]:
    """Refusal precision, recall and false-refusal rate: overall, per language, per kind."""
    qs = data.questions()

    def scores(selected: list[tuple[str, str, str, bool]]) -> dict[str, float | int]:
        r = np.array([refused[q[0]][0] for q in selected], dtype=bool)
        u = np.array([not q[3] for q in selected], dtype=bool)
        return refusal_scores(r, u)

    return {
        "overall": scores(qs),
        "by_lang": {lang: scores([q for q in qs if q[1] == lang]) for lang in ("zh", "en")},
        "by_kind": {k: scores([q for q in qs if q[2] == k]) for k in sorted({q[2] for q in qs})},
    }


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of row probabilities against answerable (1)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def fit_and_score(
    data: Data,
    folds: int = FOLDS,
    seed: int = SEED,
    target: float = TARGET_RECALL,
    budget: float = MAX_FALSE_REFUSAL,
    c: float = C,
) -> tuple[Model, dict[str, float], dict[str, Any]]:
    """The final model (all rows), its thresholds (on all rows' out-of-fold probabilities),
    and the nested cross-validated scores with each question's probability."""
    x, y, groups = data.x, data.y, data.groups
    model = fit(x, y, c)
    thresholds = thresholds_for(data, out_of_fold(x, y, groups, folds, seed, c), target, budget)
    refused, p = nested(data, folds, seed, target, budget, c)
    scored = report(data, refused)
    scored["auc"] = auc(p, y)
    scored["probability"] = {qid: round(v[1], 4) for qid, v in refused.items()}
    return model, thresholds, scored


def ablation(
    data: Data,
    folds: int = FOLDS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    target: float = TARGET_RECALL,
    budget: float = MAX_FALSE_REFUSAL,
) -> dict[str, dict[str, float]]:
    """Nested cross-validated scores with all features and with each one left out, each
    the mean over several seeds' fold assignments."""
    out: dict[str, dict[str, float]] = {}
    for left_out in [None, *data.names]:
        names = [n for n in data.names if n != left_out]
        part = replace(data, names=names)
        runs = []
        for seed in seeds:
            refused, p = nested(part, folds, seed, target, budget)
            s = report(part, refused)
            runs.append(
                {
                    "auc": auc(p, part.y),
                    "refusal_recall": float(s["overall"]["refusal_recall"]),
                    "false_refusal_rate": float(s["overall"]["false_refusal_rate"]),
                    "refusal_precision": float(s["overall"]["refusal_precision"]),
                    "near_miss_recall": float(
                        s["by_kind"].get("near-miss", {}).get("refusal_recall", 0.0)
                    ),
                    "everyday_false_refusal": float(
                        s["by_kind"].get("everyday", {}).get("false_refusal_rate", 0.0)
                    ),
                }
            )
        out["all" if left_out is None else f"-{left_out}"] = {
            k: float(np.mean([r[k] for r in runs])) for k in runs[0]
        }
    return out
