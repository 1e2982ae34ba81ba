"""The FastAPI application: a thin HTTP adapter over the retrieval core."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from indexer.encoders.threads import configure_threads
from service.answers import Asker
from service.retrieval import Retriever
from service.settings import Settings, get_settings

from . import auth, errors, widget
from .admission import Admission
from .limits import BodyLimit
from .observability import Observability
from .requests import request_models
from .routes import browse, chat, documents_write, health, search
from .state import AppState
from .watch import watch_index

log = logging.getLogger("service.api")

# Requests are small JSON objects; anything larger is refused with 413 before parsing.
MAX_BODY_BYTES = 64 * 1024

DESCRIPTION = """\
Semantic search and cited question answering over government work reports, offline.

Every error is `{"error": {"code", "message"}}`; the message says what to change. Under
`/v1` (the OpenAI-compatible chat API) errors take OpenAI's shape, `{"error": {"message",
"type", "code"}}`, and need `Authorization: Bearer <key>` when API_KEYS is set.
"""


def create_app(
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    asker: Asker | None = None,
) -> FastAPI:
    """Build the app.

    Args:
        settings: configuration; read from the environment when None.
        retriever: serve this retriever instead of loading Settings.index_dir at start-up.
        asker: answer with this asker (default: an Asker over the retriever).

    Returns:
        The app. Without a retriever it loads the index and the model once, at start-up;
        if that fails it still starts and answers 503 with the reason until restarted.
    """
    settings = settings or get_settings()
    state = AppState(settings)
    if retriever is None and asker is not None:
        retriever = asker.retriever
    if retriever is not None:
        state.attach(retriever, asker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.runtime is None:
            await anyio.to_thread.run_sync(state.load)
        configure_threads(state.threads)
        await anyio.to_thread.run_sync(state.warm_up)
        # What is loaded now (index, models, modules) lives as long as the process: moved out
        # of the collector's generations, a full collection no longer walks it mid-request.
        gc.collect()
        gc.freeze()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch_index, state)
            yield
            tasks.cancel_scope.cancel()

    app = _fastapi(
        title="Report QA",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.api = state
    auth.install(app, settings)
    errors.install(app, settings, MAX_BODY_BYTES)
    app.include_router(search.make_router(request_models(settings.limits)))
    app.include_router(browse.router)
    app.include_router(health.router)
    app.include_router(widget.router)
    app.include_router(chat.router)
    app.include_router(documents_write.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Content-Type", "X-Request-ID", "Authorization"],
            expose_headers=["X-Request-ID", "Server-Timing"],
        )
    # A report upload may be as large as a source may be, plus the multipart framing.
    app.add_middleware(
        BodyLimit,
        max_bytes=MAX_BODY_BYTES,
        upload_max_bytes=settings.max_source_bytes + MAX_BODY_BYTES,
        upload_prefix="/documents",
    )
    app.add_middleware(Admission, bounds=state.bounds(), metrics=state.metrics)
    # Added last, so outermost: every request is counted and logged, preflights included.
    app.add_middleware(Observability, metrics=state.metrics)

    return app


def _fastapi(**kwargs: Any) -> FastAPI:
    """FastAPI whose /docs and /redoc load Swagger UI and ReDoc from a package, not a CDN."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:
        log.warning("fastapi-offline is not installed: /docs will load Swagger UI from a CDN")
        return FastAPI(**kwargs)
    return FastAPIOffline(**kwargs)
