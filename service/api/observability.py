"""Per-request plumbing: request id, Server-Timing, one log line, Prometheus metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import internal_error

log = logging.getLogger("service.access")

REQUEST_ID = "x-request-id"
# A client's request id is echoed only when it is short and plain (it goes into logs).
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# Where routes leave their phase timings (ms) for the Server-Timing header.
TIMINGS_KEY = "server_timing"
UNMATCHED = "<unmatched>"


class Metrics:
    """Request count and latency by route template and status, in the app's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)


def record_timings(scope_state: Any, timings: dict[str, float]) -> None:
    """Add phase timings (ms, keys like encode_ms) for this request's Server-Timing header."""
    current = getattr(scope_state, TIMINGS_KEY, None) or {}
    current.update(timings)
    setattr(scope_state, TIMINGS_KEY, current)


def server_timing(phases: dict[str, float], total_ms: float) -> str:
    """`encode;dur=12.3, faiss;dur=0.2, ..., total;dur=15.0` (durations in ms)."""
    parts = [f"{name.removesuffix('_ms')};dur={ms:.1f}" for name, ms in phases.items()]
    return ", ".join([*parts, f"total;dur={total_ms:.1f}"])


def route_template(scope: Scope) -> str:
    """The matched route's path template (/passages/{passage_id}), not the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class Observability:
    """Pure ASGI middleware: ids, timing headers, an access log line and metrics per request.

    It is also the last resort for an exception no handler mapped: the client gets the
    error body with a 500 and the log gets the traceback.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        given = dict(scope.get("headers") or []).get(REQUEST_ID.encode(), b"").decode("latin-1")
        rid = given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                total_ms = (time.perf_counter() - t0) * 1000
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-request-id", b"server-timing")
                ]
                headers.append((b"x-request-id", rid.encode()))
                timing = server_timing(state.get(TIMINGS_KEY) or {}, total_ms)
                headers.append((b"server-timing", timing.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error on %s %s (id %s)", scope["method"], scope["path"], rid)
            if not started:
                status = 500
                await internal_error(scope["path"])(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - t0
            self.metrics.observe(scope["method"], route_template(scope), status, seconds)
            log.info(
                "%s %s %d %.1fms id=%s", scope["method"], scope["path"], status, seconds * 1000, rid
            )
