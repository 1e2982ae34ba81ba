"""Tuning studies behind the defaults: passage window size, fusion method, answer threshold,
and the answer verifier.

`python -m eval tune chunks|fusion|threshold|verifier|all` prints Markdown tables and writes
tune-<study>.json into --out. Each study reuses the gold set and the relevance rule of
`python -m eval run`; `verifier` also writes the verifier's coefficients (by default into
the package, service/answers/verifier.json).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.build import build
from indexer.encoders import CachedEmbedder, Embedder
from indexer.store import LoadedIndex, load_index

from . import fit_fusion, fit_verifier
from .answers import AnswerRecord, score_answers
from .gold import Question, Span
from .metrics import CHARS, per_question, score_retriever
from .report import md_table
from .retrievers import IndexRetriever
from .runner import answer_all, log, retrieve_all

if TYPE_CHECKING:
    from service.answers.signals import Signals
    from service.answers.verifier import Judgement

SIZES = (120, 160, 200, 300, 500)
STUDY_METRICS = ("recall@1", "recall@5", "mrr@10")


def _brief(scores: dict[str, Any]) -> dict[str, Any]:
    """recall@1, recall@5, MRR@10 and mean chars, overall and by language."""
    keep = (*STUDY_METRICS, CHARS)
    return {
        **{m: scores[m] for m in keep},
        "by_lang": {lang: {m: s[m] for m in keep} for lang, s in scores["by_lang"].items()},
    }


def _row(label: Sequence[str], s: dict[str, Any]) -> list[str]:
    cells = [*label, *(f"{s[m]:.3f}" for m in STUDY_METRICS), f"{s[CHARS]:.0f}"]
    for lang in ("zh", "en"):
        part = s["by_lang"].get(lang)
        cells += [f"{part[m]:.3f}" for m in STUDY_METRICS] if part else ["-"] * 3
    return cells


def _header(label: Sequence[str]) -> list[str]:
    names = ["R@1", "R@5", "MRR@10"]
    return [*label, *names, "chars", *(f"{n} zh" for n in names), *(f"{n} en" for n in names)]


def _ml(index: LoadedIndex, encoder: Embedder | None) -> Embedder | None:
    """The multilingual encoder where the index has multilingual vectors."""
    return encoder if index.multilingual is not None else None


def chunks(
    questions: Sequence[Question],
    spans: dict[str, list[Span]],
    source_dir: Path,
    embedder: Embedder,
    sizes: Sequence[int] = SIZES,
    modes: Sequence[str] = ("hybrid", "dense", "bm25"),
    multilingual: Embedder | None = None,
    ml_cache_dir: Path | None = None,
) -> tuple[dict[str, Any], str]:
    """Build a throw-away index per window size and score each mode on it.

    `multilingual` (with its vector cache `ml_cache_dir`) is built into each index and
    answers English questions, as in the service.
    """
    from service.retrieval import Retriever

    results: dict[str, Any] = {}
    body = []
    shared = CachedEmbedder(embedder)  # query vectors do not depend on the index
    with tempfile.TemporaryDirectory(prefix="eval-chunks-") as tmp:
        for size in sizes:
            out = Path(tmp) / f"idx-{size}"
            built = build(
                source_dir,
                out,
                embedder,
                chunk_size=size,
                progress=False,
                multilingual_encoder=multilingual,
                ml_cache_dir=ml_cache_dir,
            )
            retriever = Retriever(load_index(out), shared, multilingual=multilingual)
            entry: dict[str, Any] = {"passages": built.passages}
            for mode in modes:
                ranked = retrieve_all(IndexRetriever(retriever, mode), questions)
                entry[mode] = _brief(score_retriever(questions, ranked, spans))
                body.append(_row([str(size), mode], entry[mode]))
            results[str(size)] = entry
            log(f"chunk size {size}: {built.passages} passages scored")
    table = md_table(_header(["window", "mode"]), body)
    return {"sizes": results}, table


def fusion(
    questions: Sequence[Question],
    spans: dict[str, list[Span]],
    index_dir: Path,
    embedder: Embedder,
    alphas: Sequence[float] = fit_fusion.ALPHAS,
    weights: Sequence[float] = fit_fusion.ML_WEIGHTS,
    multilingual: Embedder | None = None,
    n_folds: int = 5,
    seed: int = 0,
) -> tuple[dict[str, Any], str]:
    """Every fusion of the grid (eval.fit_fusion) on every answerable question, the choice
    cross-validated, and BM25 and dense alone beside them."""
    from service.retrieval import FusionConfig, Retriever

    index = load_index(index_dir)
    shared = CachedEmbedder(embedder)  # query vectors are the same for every fusion
    ml = _ml(index, multilingual)
    ml = CachedEmbedder(ml) if ml is not None else None
    candidates = fit_fusion.grid(alphas, weights if ml is not None else (0.0,))
    answerable = [q for q in questions if q.answerable]
    runs: dict[str, Any] = {}
    plain = Retriever(index, shared, multilingual=ml)
    for mode in ("bm25", "dense"):
        ranked = retrieve_all(IndexRetriever(plain, mode), answerable)
        runs[mode] = per_question(answerable, ranked, spans)
    for c in candidates:
        cfg = FusionConfig(c.method, alpha=c.alpha, zh_ml_weight=c.ml_weight)
        retriever = Retriever(index, shared, cfg, multilingual=ml)
        ranked = retrieve_all(IndexRetriever(retriever, "hybrid"), answerable)
        runs[c.label] = per_question(answerable, ranked, spans)
        log(f"fusion: {c.label}")
    fused = {c.label: runs[c.label] for c in candidates}
    cv = fit_fusion.cross_validate(fused, answerable, n_folds, seed)
    summaries = {label: fit_fusion.summarise(rows, answerable) for label, rows in runs.items()}
    table = fit_fusion.table(summaries, cv)
    return {"configs": summaries, "cross_validation": cv}, table


def at_threshold(record: AnswerRecord, threshold: float) -> AnswerRecord:
    """The answer the Asker gives when min_score is threshold (from a min_score=0 answer)."""
    score = record.evidence_score or 0.0
    if record.answerable and score >= threshold:
        return record
    return replace(record, text=None, answerable=False, cited=())


def _refusal_stats(scores: np.ndarray, unanswerable: np.ndarray, t: float) -> dict[str, float]:
    refused = scores < t
    tp = int(np.sum(refused & unanswerable))
    precision = tp / int(refused.sum()) if refused.any() else 0.0
    recall = tp / int(unanswerable.sum()) if unanswerable.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    answerable_refused = int(np.sum(refused & ~unanswerable))
    return {
        "threshold": t,
        "refusal_precision": precision,
        "refusal_recall": recall,
        "refusal_f1": f1,
        "answerable_refused": answerable_refused,
        "answerable_refused_share": answerable_refused / max(1, int((~unanswerable).sum())),
    }


def choose_threshold(
    scores: np.ndarray, unanswerable: np.ndarray, max_refused: float
) -> dict[str, float]:
    """The threshold with the best refusal F1 among those refusing at most max_refused of the
    answerable questions; candidates are midpoints between neighbouring scores."""
    distinct = np.unique(scores)
    candidates = [float(distinct[0]) - 0.01]
    candidates += [float(a + b) / 2 for a, b in itertools.pairwise(distinct)]
    candidates.append(float(distinct[-1]) + 0.01)
    best: dict[str, float] | None = None
    best_key: tuple[float, ...] = ()
    for t in candidates:
        stats = _refusal_stats(scores, unanswerable, round(t, 3))
        if stats["answerable_refused_share"] > max_refused:
            continue
        # Best F1; then fewer answerable questions refused; then the lower threshold.
        key = (stats["refusal_f1"], -stats["answerable_refused"], -stats["threshold"])
        if best is None or key > best_key:
            best, best_key = stats, key
    return best or _refusal_stats(scores, unanswerable, candidates[0])


def _spread(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"n": 0}
    return {
        "n": int(values.size),
        "min": float(values.min()),
        "p10": float(np.percentile(values, 10)),
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": float(values.max()),
    }


def threshold(
    questions: Sequence[Question],
    spans: dict[str, list[Span]],
    index_dir: Path,
    embedder: Embedder,
    k: int = 5,
    max_refused: Sequence[float] = (0.0, 0.05, 0.10),
    multilingual: Embedder | None = None,
) -> tuple[dict[str, Any], str]:
    """Evidence scores of extractive answers (min_score=0) and the refusal threshold they imply."""
    from service.answers import DEFAULT_MIN_SCORE, Asker
    from service.retrieval import Retriever

    from .answers import InProcessAnswerer

    index = load_index(index_dir)
    asker = Asker(Retriever(index, embedder, multilingual=_ml(index, multilingual)), min_score=0.0)
    records = answer_all(InProcessAnswerer(asker, k), questions)
    scores = np.array([records[q.id].evidence_score or 0.0 for q in questions])
    unanswerable = np.array([not q.answerable for q in questions])
    langs = np.array([q.lang for q in questions])
    spread = {
        "answerable": _spread(scores[~unanswerable]),
        "unanswerable": _spread(scores[unanswerable]),
        **{
            f"{group} {lang}": _spread(scores[mask & (langs == lang)])
            for lang in ("zh", "en")
            for group, mask in (("answerable", ~unanswerable), ("unanswerable", unanswerable))
        },
    }
    choices: list[dict[str, Any]] = []
    for budget in max_refused:
        stats = choose_threshold(scores, unanswerable, budget)
        at = {qid: at_threshold(r, stats["threshold"]) for qid, r in records.items()}
        choices.append({"max_refused": budget, **stats, **score_answers(questions, at, spans)})
    current = {qid: at_threshold(r, DEFAULT_MIN_SCORE) for qid, r in records.items()}
    current_stats: dict[str, Any] = {
        "max_refused": None,
        **_refusal_stats(scores, unanswerable, DEFAULT_MIN_SCORE),
        **score_answers(questions, current, spans),
    }
    dist_table = md_table(
        ["group", "n", "min", "p10", "median", "p90", "max"],
        [
            [g, str(s["n"]), *(f"{s[m]:.3f}" for m in ("min", "p10", "median", "p90", "max"))]
            for g, s in spread.items()
            if s["n"]
        ],
    )
    cols = [
        "threshold",
        "answerable_refused",
        "refusal_precision",
        "refusal_recall",
        "refusal_f1",
        "answer_contains",
        "citation_hit",
    ]
    body = [
        [
            "current" if c["max_refused"] is None else f"<= {c['max_refused']:.0%} refused",
            *(str(c[m]) if m == "answerable_refused" else f"{c[m]:.3f}" for m in cols),
        ]
        for c in [*choices, current_stats]
    ]
    table = dist_table + "\n\n" + md_table(["choice", *cols], body)
    data = {
        "scores": {q.id: float(records[q.id].evidence_score or 0.0) for q in questions},
        "distribution": spread,
        "choices": choices,
        "current": current_stats,
    }
    return data, table


class _Recorder:
    """A Judge that answers everything and keeps the signals it is shown."""

    def __init__(self) -> None:
        self.seen: list[Signals] = []

    def judge(self, signals: Signals, where: str | None = None) -> Judgement:
        from service.answers.verifier import Judgement

        self.seen.append(signals)
        return Judgement(True, 1.0)


def verifier_data(
    questions: Sequence[Question],
    index_dir: Path,
    embedder: Embedder,
    k: int = 5,
    multilingual: Embedder | None = None,
) -> fit_verifier.Data:
    """Every gold question's evidence signals as the composed answer sees them (one row per
    report of a comparison); a question the rules decide (a year or place the reports never
    mention, a section) is kept with the rules' decision. Missing-report questions are left
    out: the scope refuses them before any evidence is looked at."""
    from service.answers import Asker
    from service.retrieval import Retriever

    from .retrievers import understand_question

    index = load_index(index_dir)
    retriever = Retriever(index, embedder, multilingual=_ml(index, multilingual))
    recorder = _Recorder()
    asker = Asker(retriever, verifier=recorder)
    rows: list[fit_verifier.Row] = []
    ruled: list[fit_verifier.Ruled] = []
    for q in questions:
        if q.kind == "missing-report":
            continue
        recorder.seen.clear()
        answer = asker.ask(understand_question(q, k, "hybrid", retriever))
        kind = q.kind or "report"
        rows += [
            fit_verifier.Row(q.id, q.lang, kind, q.answerable, dict(s.features))
            for s in recorder.seen
        ]
        if not recorder.seen:
            ruled.append(fit_verifier.Ruled(q.id, q.lang, kind, q.answerable, answer.answerable))
    names = list(rows[0].features) if rows else []
    return fit_verifier.Data(rows, ruled, names)


def verifier(
    data: fit_verifier.Data,
    folds: int = fit_verifier.FOLDS,
    seed: int = fit_verifier.SEED,
    target: float = fit_verifier.TARGET_RECALL,
    budget: float = fit_verifier.MAX_FALSE_REFUSAL,
    ablate: bool = False,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Fit the verifier on `data` (its `names` are the features used) and score it by nested
    cross-validation. Returns the study's data, its tables, and the verifier.json object."""
    model, thresholds, scored = fit_verifier.fit_and_score(data, folds, seed, target, budget)
    how = {
        "command": "python -m eval tune verifier",
        "model": "logistic regression, L2, C=1, balanced class weights, standardised features",
        "rows": len(data.rows),
        "questions": len(data.questions()),
        "ruled": len(data.ruled),
        "folds": folds,
        "seed": seed,
        "target_recall": target,
        "max_false_refusal": budget,
        "thresholds": "per language, on out-of-fold probabilities of all questions",
        "cv": {k: scored[k] for k in ("overall", "by_lang", "by_kind", "auc")},
    }
    stored = {
        "features": list(data.names),
        "mean": model.mean.tolist(),
        "scale": model.scale.tolist(),
        "coef": model.coef.tolist(),
        "intercept": model.intercept,
        "thresholds": thresholds,
        "fitted": how,
    }
    cols = ["questions", "unanswerable", "refused"]
    rates = ["refusal_precision", "refusal_recall", "false_refusal_rate"]
    groups = {"overall": scored["overall"], **scored["by_lang"], **scored["by_kind"]}
    body = [
        [g, *(str(s[c]) for c in cols), *(f"{s[r]:.3f}" for r in rates)] for g, s in groups.items()
    ]
    table = md_table(["nested CV", *cols, *rates], body)
    weights = md_table(
        ["feature", "coef (standardised)", "mean", "scale"],
        [
            [n, f"{c:+.3f}", f"{m:.3f}", f"{s:.3f}"]
            for n, c, m, s in zip(data.names, model.coef, model.mean, model.scale, strict=True)
        ],
    )
    table += "\n\n" + weights + f"\n\nthresholds: {thresholds}; AUC {scored['auc']:.3f}"
    study: dict[str, Any] = {"verifier": stored, **scored}
    if ablate:
        ablation = fit_verifier.ablation(data, folds, target=target, budget=budget)
        study["ablation"] = ablation
        metrics = list(next(iter(ablation.values())))
        table += "\n\n" + md_table(
            ["features", *metrics],
            [[name, *(f"{v[m]:.3f}" for m in metrics)] for name, v in ablation.items()],
        )
    return study, table, stored
