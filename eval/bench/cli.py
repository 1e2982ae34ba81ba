"""python -m eval.bench [--duration 20] [--scale 100000] [--out bench-results]

Latency, throughput, memory and scale of the service over one report (--report, built
alone), measured against the floor (the same retrieval in-process, without HTTP) in the
same run; then the whole corpus (every report in --source) built and served beside it.
Prints a table and writes results.json to --out. Every loop is bounded in count and time;
load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from indexer import metadata, store
from indexer.build import build
from indexer.encoders import load_embedder, load_multilingual
from indexer.encoders.threads import configure_threads
from indexer.errors import SourceError
from indexer.sources import CATALOGUE, SourceDoc, read_sources
from service.settings import get_settings

from .context import Context
from .corpus import corpus_documents, measure_corpus
from .floor import load_floor, measure_floor
from .live import measure_reindex
from .machine import machine_info
from .queries import QUESTIONS, load_questions, other_questions, query_pool
from .report import render
from .scale import measure_scale
from .server import CONCURRENCY, measure_service
from .targets import targets

# The one report the service started with: the figures of one report are of it alone.
REPORT = "shanghai-2018-government-work-report.txt"


def pick_report(sources: list[SourceDoc], name: str) -> SourceDoc:
    """The source file `name` (its path under the source folder, or its doc_id)."""
    for src in sources:
        if name in (src.source, src.doc_id):
            return src
    known = ", ".join(src.source for src in sources)
    raise SystemExit(
        f"error: no report {name!r} in the source folder: pass --report, one of {known}"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = get_settings()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()

    def log(message: str) -> None:
        print(
            f"[bench {time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True
        )

    # The service's threads per search for every engine, before any model loads: the floor
    # must do the work the server does, the way it does it.
    configure_threads(settings.threads)
    results: dict[str, Any] = {"machine": machine_info(settings)}
    source = Path(args.source)
    try:
        sources = read_sources(source, settings.max_source_bytes)
    except SourceError as exc:
        raise SystemExit(f"error: {exc}") from exc
    one = pick_report(sources, args.report)
    report_text = one.text

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        # The one report alone, in a folder of its own, with the catalogue if it describes
        # the report (the build then warns of the entries for the other reports).
        report_source = work / "report-source"
        (report_source / one.source).parent.mkdir(parents=True)
        shutil.copy2(source / one.source, report_source / one.source)
        if one.source in metadata.read_catalogue(source).entries:
            shutil.copy2(source / CATALOGUE, report_source / CATALOGUE)
        t = time.perf_counter()
        embedder = load_embedder(
            settings.embedding_model,
            settings.query_prompt,
            settings.passage_prompt,
            **settings.encoder_options(settings.threads),  # the service's, for a fair floor
        )
        ml_encoder = None
        if settings.multilingual:
            ml_encoder = load_multilingual(
                settings.multilingual_model, **settings.encoder_options(threads=1)
            )
        results["model_load_s"] = round(time.perf_counter() - t, 3)
        log(f"models loaded in {results['model_load_s']:.2f} s; building {one.source} alone")
        built = work / "report-index"
        # An empty vector cache: the build embeds every passage, as a first build does.
        report = build(
            report_source,
            built,
            embedder,
            **{**settings.build_options(), "ml_cache_dir": work / "ml-cache"},
            progress=False,
            multilingual_encoder=ml_encoder,
        )
        results["build_s"] = round(report.total_s, 3)
        results["build_passages"] = report.passages
        results["build_source"] = one.source
        results["multilingual"] = ml_encoder.name if ml_encoder is not None else None
        index_dir = built
        if args.index is not None:
            if (Path(args.index) / store.MANIFEST).is_file():
                index_dir = Path(args.index)
            else:
                log(f"no index at {args.index}: using the one just built from {one.source}")
        results["index"] = str(index_dir)

        pool = query_pool(load_questions(QUESTIONS, report_text, one.doc_id))
        floor_queries = pool[: args.floor_queries]
        rest = pool[args.floor_queries :]
        # A slice for each load run: the service's, the two of the scale test, the corpus's,
        # the stores' over the synthetic corpus.
        runs = 2 * len(CONCURRENCY) + 4
        per_run = max(len(rest) // runs, 1)
        slices = iter([rest[i * per_run : (i + 1) * per_run] for i in range(runs)])
        ctx = Context(
            args,
            settings,
            out,
            work,
            embedder,
            ml_encoder,
            floor_queries,
            report_text,
            log,
            corpus_documents(built)[0],
        )

        floor = load_floor(settings, index_dir, embedder)  # as the service builds it
        results["floor"], query_vecs = measure_floor(floor, floor_queries, settings.default_k)
        results["floor"]["passages"] = len(floor.index.passages)
        log(f"floor over {len(floor_queries)} queries: {results['floor']}")
        del floor

        service = measure_service(ctx, index_dir, slices)
        results.update(service)
        results["ratio_search_c1_p50_to_floor"] = round(
            results["search"]["c1"]["p50_ms"] / max(results["floor"]["total_p50_ms"], 1e-9), 3
        )
        corpus = measure_corpus(
            ctx,
            source,
            report,
            index_dir,
            next(slices),
            other_questions(QUESTIONS, one.doc_id),
            args.fresh_corpus,
        )
        results["corpus"] = corpus
        results["ratio_corpus_search_c1_p50_to_report"] = round(
            corpus["search"]["c1"]["p50_ms"] / max(corpus["report_search"]["c1"]["p50_ms"], 1e-9),
            3,
        )
        results["scale"] = measure_scale(ctx, args.scale, query_vecs, slices)
        other = next(src for src in sources if src.doc_id != one.doc_id)
        log(f"reindex while serving: adding {other.source}, replacing {one.source}")
        results["reindex"] = measure_reindex(
            ctx, built, report_source, source / other.source, floor_queries
        )
        log(f"reindex: {results['reindex']}")
    results["targets"] = targets(results)
    results["bench_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load run")
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic passages")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="measure this index instead of the one built from --report alone",
    )
    parser.add_argument(
        "--source", type=Path, default=None, help="the whole corpus (default: SOURCE_DIR)"
    )
    parser.add_argument(
        "--report",
        default=REPORT,
        help=f"the one report, a file of --source (default: {REPORT})",
    )
    parser.add_argument(
        "--fresh-corpus",
        action="store_true",
        help="embed the whole corpus's multilingual vectors too, instead of taking those "
        "MULTILINGUAL_CACHE_DIR holds (a first build: minutes more)",
    )
    parser.add_argument("--floor-queries", type=int, default=300)
    args = parser.parse_args(argv)
    if args.source is None:
        args.source = get_settings().source_dir
    if args.duration <= 0 or args.scale < 10 or args.floor_queries < 10:
        parser.error("--duration must be positive, --scale and --floor-queries at least 10")
    results = run(args)
    out = Path(args.out) / "results.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(render(results))
    print(f"\nresults written to {out}")
    return 0
