"""The benchmark of the service (`python -m eval.bench`; see eval.bench.cli).

machine: the machine and memory; queries: the questions; floor: retrieval in-process;
server: the service in a subprocess and the load on it; corpus: the whole corpus beside the
one report, built and served; synthetic and scale: a large synthetic corpus, served;
targets: the issue's targets; report: the table; cli: the run.
"""

from .cli import REPORT, main, pick_report, run
from .context import Context
from .corpus import (
    REPORT_KIND,
    SCOPED_KIND,
    build_corpus,
    build_summary,
    corpus_documents,
    corpus_queries,
    measure_corpus,
)
from .floor import FLOOR_PARTS, load_floor, measure_floor
from .machine import MIB, folder_mb, machine_info, peak_rss_mb, proc_status_mb, rss_mb
from .queries import (
    PREFIXES,
    QUESTIONS,
    SCOPED_SUFFIXES,
    SEED,
    SUFFIXES,
    interleave,
    load_questions,
    other_questions,
    query_pool,
    report_sentences,
    scoped_questions,
)
from .report import render
from .scale import measure_scale, recall_at_10
from .server import (
    CONCURRENCY,
    HOST,
    READY_TIMEOUT_S,
    WARMUP_REQUESTS,
    Server,
    by_label,
    by_language,
    first_requests,
    free_port,
    load_run,
    measure_service,
)
from .synthetic import (
    DenseIndex,
    lexical_from_sentences,
    mean_vectors,
    remove_index,
    synthetic_passages,
    write_scale_index,
)
from .targets import (
    MAX_COLD_START_S,
    MAX_CORPUS_TO_REPORT,
    MAX_P99_TO_P50,
    MAX_RSS_MB,
    MAX_SCALE_TO_REPORT,
    MAX_SEARCH_TO_FLOOR,
    MIN_C8_TO_C1_RPS,
    MIN_RECALL,
    targets,
)

__all__ = [
    "CONCURRENCY",
    "FLOOR_PARTS",
    "HOST",
    "MAX_COLD_START_S",
    "MAX_CORPUS_TO_REPORT",
    "MAX_P99_TO_P50",
    "MAX_RSS_MB",
    "MAX_SCALE_TO_REPORT",
    "MAX_SEARCH_TO_FLOOR",
    "MIB",
    "MIN_C8_TO_C1_RPS",
    "MIN_RECALL",
    "PREFIXES",
    "QUESTIONS",
    "READY_TIMEOUT_S",
    "REPORT",
    "REPORT_KIND",
    "SCOPED_KIND",
    "SCOPED_SUFFIXES",
    "SEED",
    "SUFFIXES",
    "WARMUP_REQUESTS",
    "Context",
    "DenseIndex",
    "Server",
    "build_corpus",
    "build_summary",
    "by_label",
    "by_language",
    "corpus_documents",
    "corpus_queries",
    "first_requests",
    "folder_mb",
    "free_port",
    "interleave",
    "lexical_from_sentences",
    "load_floor",
    "load_questions",
    "load_run",
    "machine_info",
    "main",
    "mean_vectors",
    "measure_corpus",
    "measure_floor",
    "measure_scale",
    "measure_service",
    "other_questions",
    "peak_rss_mb",
    "pick_report",
    "proc_status_mb",
    "query_pool",
    "recall_at_10",
    "remove_index",
    "render",
    "report_sentences",
    "rss_mb",
    "run",
    "scoped_questions",
    "synthetic_passages",
    "targets",
    "write_scale_index",
]
