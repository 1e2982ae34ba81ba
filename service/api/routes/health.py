"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..deps import StateDep
from ..schemas import Health, Ready
from .common import errors

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (always 200, with or without an index)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=errors(503))
async def readyz(state: StateDep) -> Ready:
    """200 when the index is loaded; 503 with the reason and the fix otherwise."""
    if state.runtime is None:
        raise state.unavailable()
    index = state.runtime.index
    return Ready(
        status="ready",
        index=str(index.folder),
        model=index.model,
        documents=len(index.documents),
        passages=len(index.passages),
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep) -> Response:
    """Prometheus text format: request counts and latency histograms by route and status."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
