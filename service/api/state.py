"""What the app holds: settings, the loaded Runtime (retriever and asker), or why not."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from indexer.encoders.threads import SEARCHES
from indexer.errors import IndexLoadError, ReportQAError
from indexer.store import FIX
from service import runtime
from service.answers import Asker
from service.query import understand
from service.reindex import Reindexer
from service.retrieval import Retriever
from service.runtime import Runtime
from service.settings import Settings

from .admission import Bounds
from .observability import Metrics

log = logging.getLogger("service.api")

# Loads jieba's dictionary and the model's kernels at start-up instead of on a user's query.
WARM_UP_QUERY = "政府工作报告的主要任务"

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class AppState:
    """The service's state; `retriever` is None until an index is loaded."""

    settings: Settings
    runtime: Runtime | None = None
    load_error: ReportQAError | None = None
    metrics: Metrics = field(default_factory=Metrics)
    threads: int = 1
    # Searches that may run at once (the rest wait on the event loop).
    slots: int = 1
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)
    _swap_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    reindexer: Reindexer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.reindexer = Reindexer(self.settings)
        self.threads = self.settings.threads
        # One more than the cores hold: a search is ready to run the moment one finishes,
        # instead of waiting for the event loop to hand it over (c8: ~100 vs ~90 rps).
        self.slots = max(1, (os.cpu_count() or 1) // self.threads) + 1

    def bounds(self) -> Bounds:
        """What each search route may hold (Settings.max_in_flight, max_queued, queue_timeout_s;
        by default sized from the searches the cores run at once)."""
        s = self.settings
        in_flight = s.max_in_flight or self.slots
        queued = 8 * in_flight if s.max_queued < 0 else s.max_queued
        return Bounds(in_flight, queued, s.queue_timeout_s)

    def follow(self) -> str | None:
        """Serve the version INDEX_DIR links to now, if it is a new one (service.reindex);
        a version that fails to load is logged and kept in GET /index's last_error."""
        current = self.runtime
        if current is None:
            return None
        try:
            version = self.reindexer.follow(current, self.serve)
        except Exception:
            log.exception("the new index version cannot be served; still on %s", current.version)
            return None
        if version is not None:
            log.info("serving index version %s (was %s)", version, current.version)
        return version

    def attach(self, retriever: Retriever, asker: Asker | None = None) -> None:
        """Serve this retriever (and asker)."""
        self.serve(runtime.attach(self.settings, retriever, asker))

    def serve(self, loaded: Runtime) -> None:
        """Serve this runtime from the next request on.

        A request takes the runtime once (deps.get_loaded) and keeps it: requests in flight
        finish on the one they started with, which is released when the last of them ends.
        """
        with self._swap_lock:
            self.runtime = loaded
            self.load_error = None

    def load(self) -> None:
        """Load from the settings; on failure keep the reason for /readyz and 503s."""
        try:
            loaded = runtime.load(self.settings)
        except ReportQAError as exc:
            log.error("index not loaded: %s", exc)
            self.load_error = exc
        except Exception as exc:  # a damaged file can fail in ways the loader does not know
            log.exception("index not loaded")
            self.load_error = IndexLoadError(
                f"the index at {self.settings.index_dir} cannot be loaded "
                f"({type(exc).__name__}: {exc}): {FIX}"
            )
        else:
            self.serve(loaded)
            log.info(
                "loaded %s: %d passages, model %s",
                self.settings.index_dir,
                len(loaded.index.passages),
                loaded.index.model,
            )

    def warm_up(self) -> None:
        """Run one search so the first user does not pay for lazy loading (jieba, torch)."""
        if self.runtime is None:
            return
        try:
            self.runtime.retriever.search(understand(WARM_UP_QUERY, 1, resolve_refs=False))
        except Exception:  # a failed warm-up must not stop the service from starting
            log.exception("warm-up search failed")

    def unavailable(self) -> ReportQAError:
        """The error a request gets while no index is loaded (a fresh instance each time)."""
        if self.load_error is None:
            return IndexLoadError(f"no index is loaded: {FIX}")
        return type(self.load_error)(str(self.load_error))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU work (encoding, search, composing) in a worker thread, off the event loop.

        At most `slots` run at once; the rest wait on the event loop, not in blocked threads.
        """
        if self._limiter is None:  # made here: anyio needs a running event loop
            self._limiter = anyio.CapacityLimiter(self.slots)
        with SEARCHES.running():  # counted while waiting too: the encoders adapt to it
            return await anyio.to_thread.run_sync(
                functools.partial(fn, *args, **kwargs), limiter=self._limiter
            )
