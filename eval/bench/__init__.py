"""The benchmark of the service (`python -m eval.bench`; see eval.bench.cli).

machine: the machine and memory; queries: the questions; floor: retrieval in-process;
server: the service in a subprocess and the load on it; synthetic and scale: a large
synthetic corpus, served; targets: the issue's targets; report: the table; cli: the run.
"""

from .cli import main, run
from .context import Context
from .floor import FLOOR_PARTS, load_floor, measure_floor
from .machine import MIB, folder_mb, machine_info, peak_rss_mb, proc_status_mb, rss_mb
from .queries import (
    PREFIXES,
    QUESTIONS,
    SEED,
    SUFFIXES,
    load_questions,
    query_pool,
    report_sentences,
)
from .report import render
from .scale import measure_scale, recall_at_10
from .server import (
    CONCURRENCY,
    HOST,
    READY_TIMEOUT_S,
    WARMUP_REQUESTS,
    Server,
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
    "SEED",
    "SUFFIXES",
    "WARMUP_REQUESTS",
    "Context",
    "DenseIndex",
    "Server",
    "by_language",
    "first_requests",
    "folder_mb",
    "free_port",
    "lexical_from_sentences",
    "load_floor",
    "load_questions",
    "load_run",
    "machine_info",
    "main",
    "mean_vectors",
    "measure_floor",
    "measure_scale",
    "measure_service",
    "peak_rss_mb",
    "proc_status_mb",
    "query_pool",
    "recall_at_10",
    "remove_index",
    "render",
    "report_sentences",
    "rss_mb",
    "run",
    "synthetic_passages",
    "targets",
    "write_scale_index",
]
