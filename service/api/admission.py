"""Bounded work per search route: a burst is answered 503 with Retry-After, not queued forever.

Each bounded route (/search, /ask, /v1/chat/completions) serves at most `in_flight` requests
at once; up to `queued` more wait for a turn, each at most `timeout_s`; a request beyond that,
or one whose wait runs out, gets 503 with `Retry-After` (OpenAI's error shape under /v1).
A request holds its turn until its response has been sent, a streamed one included. Other
routes (/healthz, /readyz, /metrics, look-ups) pass straight through, so a probe is never held
behind searches.

The CPU work inside an admitted request still waits for a worker (AppState.run's limiter):
this bound is on the requests the service holds, that one on the threads it runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response
from .observability import Metrics

BOUNDED = ("/search", "/ask", "/v1/chat/completions")


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much a bounded route holds: requests served at once, waiting, and the wait."""

    in_flight: int
    queued: int
    timeout_s: float

    @property
    def retry_after(self) -> int:
        """Seconds a shed client should wait (whole, at least 1, as Retry-After takes)."""
        return max(1, math.ceil(self.timeout_s))


class _Gate:
    """One route's turns: a semaphore and a count of those waiting for it."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.waiting = 0
        self._turns: anyio.Semaphore | None = None

    @property
    def turns(self) -> anyio.Semaphore:
        if self._turns is None:  # made here: anyio needs a running event loop
            self._turns = anyio.Semaphore(self.bounds.in_flight)
        return self._turns

    async def enter(self) -> bool:
        """Take a turn (True), or False when the queue is full or the wait ran out."""
        turns = self.turns
        if turns.value > 0 and self.waiting == 0:
            await turns.acquire()
            return True
        if self.waiting >= self.bounds.queued:
            return False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.bounds.timeout_s):
                await turns.acquire()
                return True
            return False
        finally:
            self.waiting -= 1

    def leave(self) -> None:
        self.turns.release()


class Admission:
    """ASGI middleware bounding the requests each search route holds (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        bounds: Bounds,
        metrics: Metrics,
        routes: Iterable[str] = BOUNDED,
    ) -> None:
        self.app = app
        self.bounds = bounds
        self.gates = {route: _Gate(bounds) for route in routes}
        self.shed = Counter(
            "http_requests_shed",
            "Requests answered 503 because their route held all it may (admission).",
            ["route"],
            registry=metrics.registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.gates.get(scope["path"]) if scope["type"] == "http" else None
        if gate is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if not await gate.enter():
            self.shed.labels(scope["path"]).inc()
            await self._overloaded(scope["path"])(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()

    def _overloaded(self, path: str) -> ASGIApp:
        b = self.bounds
        return error_response(
            503,
            "overloaded",
            f"the service is answering {b.in_flight} requests on {path} with {b.queued} "
            f"waiting: retry in {b.retry_after} s (the Retry-After header)",
            headers={"Retry-After": str(b.retry_after)},
            path=path,
        )
