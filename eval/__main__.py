"""python -m eval run | tune: score the retrievers and answers on the gold set.

python -m eval run [--questions eval/questions.jsonl] [--index var/index]
                   [--retrievers bm25,dense,hybrid,naive-dense-500,naive-bm25-500]
                   [--answers] [--url http://127.0.0.1:8000] [--out eval/results]
python -m eval run --answers --backend openai [--questions eval/llm_subset.jsonl] [--limit n]
python -m eval tune chunks|fusion|threshold|all [--sizes 120,160,200,300,500]
                   [--alphas 0.3,0.4,0.5,0.6,0.7] [--ml-weights 0,0.25,0.5,0.75,1]
                   [--folds 5] [--seed 0] [--max-refused 0,0.05,0.1]
python -m eval tune verifier [--folds 5] [--seed 0] [--target-recall 0.9]
                   [--max-false-refusal 0.03] [--features all|a,b,...] [--ablate]
                   [--verifier-out service/answers/verifier.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from indexer.errors import ReportQAError

from .errors import EvalError

if TYPE_CHECKING:
    from indexer.encoders import Embedder

    from .gold import Question

DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
# Where `--backend openai` finds a model when OPENAI_BASE_URL is unset: `make llm-serve`.
LOCAL_LLM = "http://127.0.0.1:8765/v1"
T = TypeVar("T")


def _list(kind: Callable[[str], T], what: str) -> Callable[[str], list[T]]:
    def parse(text: str) -> list[T]:
        try:
            values = [kind(part) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{what}: {exc}") from exc
        if not values:
            raise argparse.ArgumentTypeError(f"{what}: give at least one value")
        return values

    return parse


def parser() -> argparse.ArgumentParser:
    from service.settings import get_settings

    from .retrievers import ALL

    settings = get_settings()
    top = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="gold set (default: eval/questions.jsonl; with --backend: eval/llm_subset.jsonl)",
    )
    common.add_argument("--index", type=Path, default=settings.index_dir)
    common.add_argument(
        "--source",
        type=Path,
        default=None,
        help="folder of the source reports (default: the files the index manifest names, "
        "under SOURCE_DIR)",
    )
    common.add_argument("--out", type=Path, default=Path("eval/results"))
    run = sub.add_parser("run", parents=[common], help="score retrievers (and answers)")
    run.add_argument(
        "--retrievers", default=",".join(ALL), help=f"comma-separated, from {','.join(ALL)}"
    )
    run.add_argument("--answers", action="store_true", help="also score /ask answers")
    run.add_argument(
        "--url",
        default=None,
        help="score a running service (POST /search and /ask) instead of the index in-process",
    )
    run.add_argument(
        "--backend",
        choices=["openai"],
        default=None,
        help="with --answers: generated answers from an OpenAI-compatible server "
        f"(OPENAI_BASE_URL, default {LOCAL_LLM}; ANSWER_JUDGE) beside the composed ones, "
        "on the fixed subset eval/llm_subset.jsonl; writes generated.json and generated.md",
    )
    run.add_argument("--limit", type=int, default=None, help="score the first n questions only")
    run.add_argument(
        "--budget-minutes",
        type=float,
        default=None,
        help="with --backend: ask no further question after this long (the subset's order is "
        "a seeded shuffle, so the questions answered are a random sample)",
    )
    tune = sub.add_parser(
        "tune", parents=[common], help="window size, fusion, answer threshold, verifier"
    )
    tune.add_argument(
        "study",
        choices=["chunks", "fusion", "threshold", "verifier", "all"],
        help="all: chunks, fusion and threshold (verifier writes the package's coefficients)",
    )
    tune.add_argument("--sizes", type=_list(int, "--sizes"), default=[120, 160, 200, 300, 500])
    tune.add_argument("--alphas", type=_list(float, "--alphas"), default=[0.3, 0.4, 0.5, 0.6, 0.7])
    tune.add_argument(
        "--ml-weights",
        type=_list(float, "--ml-weights"),
        default=[0.0, 0.25, 0.5, 0.75, 1.0],
        help="fusion: weights of the multilingual ranking for Chinese questions",
    )
    tune.add_argument(
        "--max-refused",
        type=_list(float, "--max-refused"),
        default=[0.0, 0.05, 0.10],
        help="shares of answerable questions the threshold may refuse",
    )
    tune.add_argument(
        "--folds", type=int, default=5, help="fusion, verifier: cross-validation folds"
    )
    tune.add_argument("--seed", type=int, default=0, help="fusion, verifier: fold assignment seed")
    tune.add_argument("--target-recall", type=float, default=0.9, help="verifier: refusal goal")
    tune.add_argument(
        "--max-false-refusal",
        type=float,
        default=0.03,
        help="verifier: share of answerable questions it may refuse",
    )
    tune.add_argument(
        "--features",
        default=None,
        help="verifier: comma-separated signals, or 'all' (default: the kept ones)",
    )
    tune.add_argument(
        "--ablate", action="store_true", help="verifier: also score each signal left out"
    )
    tune.add_argument(
        "--verifier-out",
        type=Path,
        default=None,
        help="verifier: where to write the coefficients (default: the package's verifier.json)",
    )
    return top


def _run(args: argparse.Namespace, embedder: Embedder | None) -> int:
    from service.settings import get_settings

    from .report import render_text, write_outputs
    from .retrievers import parse_names
    from .runner import RunConfig, run

    if args.backend is not None:
        return _run_backend(args, embedder)
    cfg = RunConfig(
        questions=args.questions or DEFAULT_QUESTIONS,
        index=args.index,
        retrievers=tuple(parse_names(args.retrievers)),
        answers=args.answers,
        url=args.url,
        out=args.out,
        source=args.source,
        limit=args.limit,
    )
    summary = run(cfg, embedder, settings=get_settings())
    print(render_text(summary))
    for path in write_outputs(summary, cfg.out):
        print(f"wrote {path}")
    return 0


def _run_backend(args: argparse.Namespace, embedder: Embedder | None) -> int:
    """`run --answers --backend openai`: generated answers beside the composed ones."""
    from service.settings import get_settings

    from .generated import render
    from .llm_subset import SUBSET
    from .runner import RunConfig, run_generated

    if not args.answers:
        raise EvalError("--backend scores answers: add --answers")
    if args.url:
        raise EvalError("--backend runs the answers in-process: drop --url")
    base = get_settings()
    settings = base.model_copy(
        update={
            "answer_backend": args.backend,
            "openai_base_url": base.openai_base_url or LOCAL_LLM,
            "openai_model": base.openai_model or "local",
        }
    )
    cfg = RunConfig(
        questions=args.questions or SUBSET,
        index=args.index,
        retrievers=(),
        answers=True,
        out=args.out,
        source=args.source,
        backend=args.backend,
        limit=args.limit,
        budget_s=None if args.budget_minutes is None else args.budget_minutes * 60,
    )
    result = run_generated(cfg, embedder, settings=settings)
    table = render(result)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"generated-{settings.answer_judge}"
    (args.out / f"{stem}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (args.out / f"{stem}.md").write_text(table + "\n", encoding="utf-8")
    print(f"wrote {args.out / stem}.json and .md")
    return 0


def _tune(args: argparse.Namespace, embedder: Embedder | None) -> int:
    from service.settings import get_settings

    from . import tune
    from .gold import load_questions, locate_evidence
    from .runner import index_embedder, load_sources

    settings = get_settings()
    questions = load_questions(args.questions or DEFAULT_QUESTIONS)
    sources = load_sources(args.index, args.source, settings)
    spans = locate_evidence(questions, sources)
    embedder = embedder or index_embedder(args.index, settings)
    ml = None
    if settings.multilingual:
        from indexer.encoders import load_multilingual

        ml = load_multilingual(settings.multilingual_model, **settings.encoder_options(threads=0))
    studies = ["chunks", "fusion", "threshold"] if args.study == "all" else [args.study]
    args.out.mkdir(parents=True, exist_ok=True)
    for study in studies:
        if study == "chunks":
            source_dir = args.source or settings.source_dir
            data, table = tune.chunks(
                questions,
                spans,
                source_dir,
                embedder,
                args.sizes,
                multilingual=ml,
                ml_cache_dir=settings.multilingual_cache_dir,
            )
        elif study == "fusion":
            data, table = tune.fusion(
                questions,
                spans,
                args.index,
                embedder,
                args.alphas,
                args.ml_weights,
                multilingual=ml,
                n_folds=args.folds,
                seed=args.seed,
            )
        elif study == "verifier":
            data, table = _verifier(args, tune, questions, embedder, settings.default_k, ml)
        else:
            data, table = tune.threshold(
                questions,
                spans,
                args.index,
                embedder,
                settings.default_k,
                args.max_refused,
                multilingual=ml,
            )
        path = args.out / f"tune-{study}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"## {study}\n\n{table}\n\nwrote {path}\n")
    return 0


def _verifier(
    args: argparse.Namespace,
    tune: Any,
    questions: list[Question],
    embedder: Embedder,
    k: int,
    ml: Embedder | None,
) -> tuple[dict[str, Any], str]:
    """Collect the signals, fit and score the verifier, write its coefficients."""
    from service.answers.verifier import PACKAGED

    from .fit_verifier import FEATURES

    data = tune.verifier_data(questions, args.index, embedder, k, multilingual=ml)
    if args.features != "all":
        names = FEATURES if args.features is None else args.features.split(",")
        unknown = sorted(set(names) - set(data.names))
        if unknown:
            raise EvalError(f"--features: unknown {', '.join(unknown)}; known: {data.names}")
        data = dataclasses.replace(data, names=names)
    study, table, stored = tune.verifier(
        data, args.folds, args.seed, args.target_recall, args.max_false_refusal, args.ablate
    )
    stored["fitted"].update(gold=(args.questions or DEFAULT_QUESTIONS).name, index=str(args.index))
    out = args.verifier_out or PACKAGED
    out.write_text(json.dumps(stored, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return study, table + f"\n\nwrote {out}"


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    """Entry point; `embedder` replaces the index's model (tests). Returns the exit code."""
    args = parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, embedder)
        return _tune(args, embedder)
    except (ReportQAError, EvalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
