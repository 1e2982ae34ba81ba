"""Serve an index built beside the running service: a check of INDEX_DIR's link every
INDEX_WATCH_S seconds, and at once on SIGHUP (AppState.follow does the swap)."""

from __future__ import annotations

import asyncio
import logging
import signal

import anyio
import anyio.to_thread

from .state import AppState

log = logging.getLogger("service.api")


async def watch_index(state: AppState) -> None:
    """Run until cancelled: follow the index link on an interval and on SIGHUP."""
    poke = asyncio.Event()
    loop = asyncio.get_running_loop()
    hooked = False
    try:
        loop.add_signal_handler(signal.SIGHUP, poke.set)
        hooked = True
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        # Not the main thread (a test client), or no SIGHUP on this platform.
        log.debug("SIGHUP not hooked: the index link is checked on the interval only")
    interval = state.settings.index_watch_s
    try:
        while True:
            with anyio.move_on_after(interval if interval > 0 else None):
                await poke.wait()
            poke.clear()
            await anyio.to_thread.run_sync(state.follow)
    finally:
        if hooked:
            loop.remove_signal_handler(signal.SIGHUP)
