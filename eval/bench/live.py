"""The service while its index changes: a report added and one replaced over HTTP with
/search at concurrency 4 all the while (failed requests, p99 before and during the swaps,
upload-to-searchable time, memory)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from indexer.sources import CATALOGUE

from ..loadgen import LoadResult, percentiles, run_load
from .context import Context
from .machine import proc_status_mb
from .server import Server, _bodies

DURING = 4
SETTLE_S = 4.0  # /search alone before the first write and after the last
SAMPLE_S = 0.05  # memory sampling interval during the writes


def _p99(run: LoadResult, windows: Sequence[tuple[float, float]], inside: bool) -> float:
    """p99 of the requests that started inside (or outside) any of the windows."""
    values = [
        ms
        for ms, t in zip(run.latencies_ms, run.started_s, strict=True)
        if any(a <= t <= b for a, b in windows) == inside
    ]
    return round(percentiles(values)[2], 3) if values else 0.0


class _Memory(threading.Thread):
    """Samples a process's resident memory until stopped; `peak_mb` is the largest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.done = threading.Event()
        self.peak_mb = 0.0

    def run(self) -> None:
        while not self.done.wait(SAMPLE_S):
            self.peak_mb = max(self.peak_mb, proc_status_mb(self.pid, "VmRSS"))


def _searchable(client: httpx.Client, doc_id: str, query: str, deadline_s: float) -> float:
    """Seconds until a search filtered to `doc_id` finds a passage of it (bounded)."""
    t = time.perf_counter()
    while time.perf_counter() - t < deadline_s:
        r = client.post("/search", json={"query": query, "doc_id": doc_id, "k": 1})
        if r.status_code == 200 and r.json()["results"]:
            return time.perf_counter() - t
        time.sleep(0.02)
    return float("nan")


def measure_reindex(
    ctx: Context, report_index: Path, report_source: Path, added: Path, queries: list[str]
) -> dict[str, Any]:
    """Add the report file `added` and replace the one report of `report_source` (whose index
    is `report_index`) over HTTP while /search runs at concurrency DURING."""
    live = ctx.work / "live"
    source = live / "source"
    shutil.copytree(report_source, source)
    version = report_index.resolve()
    index = live / "index"
    shutil.copytree(version, live / f".index.v-0-{time.time_ns()}")
    os.symlink(next(live.glob(".index.v-*")).name, index)
    (one,) = [p for p in source.rglob("*") if p.is_file() and p.name != CATALOGUE]
    env = {"SOURCE_DIR": str(source), "INDEX_DIR": str(index), "ALLOW_OPEN_WRITES": "true"}
    result: dict[str, Any] = {"concurrency": DURING}
    with Server(index, ctx.out / "server-live.log", env=env) as server:
        stop = threading.Event()
        box: dict[str, LoadResult] = {}
        load = threading.Thread(
            target=lambda: box.update(
                run=run_load(
                    server.url, "/search", _bodies("/search", queries), DURING, 600, stop=stop
                )
            )
        )
        memory = _Memory(server.pid)
        rss_before = proc_status_mb(server.pid, "VmRSS")
        start = time.perf_counter()
        load.start()
        windows: list[tuple[float, float]] = []
        with httpx.Client(base_url=server.url, timeout=600) as client:
            time.sleep(SETTLE_S)
            memory.start()
            a = time.perf_counter()
            files = {"file": (added.name, added.read_bytes())}
            # flat: the bench measures the swap, whatever the report's headings look like.
            r = client.post("/documents", files=files, data={"flat": "true"})
            add_s = time.perf_counter() - a
            result["add"] = {"status": r.status_code, "response_s": round(add_s, 3)}
            if r.status_code == 201:
                result["add"] |= {k: r.json()[k] for k in ("passages_added", "embedded")}
            else:
                result["add"]["message"] = r.text[:500]
            doc_id = added.stem
            searchable = _searchable(client, doc_id, queries[0], 60)
            result["add"]["upload_to_searchable_s"] = round(add_s + searchable, 3)
            windows.append((a - start, time.perf_counter() - start))
            b = time.perf_counter()
            text = one.read_text(encoding="utf-8") + "\n\n今年将新建社区食堂一百家。\n"
            r = client.put(f"/documents/{one.stem}", files={"file": (one.name, text.encode())})
            result["replace"] = {
                "status": r.status_code,
                "response_s": round(time.perf_counter() - b, 3),
            }
            if r.status_code == 200:
                result["replace"] |= {k: r.json()[k] for k in ("passages_added", "embedded")}
            else:
                result["replace"]["message"] = r.text[:500]
            windows.append((b - start, time.perf_counter() - start))
            memory.done.set()
            time.sleep(SETTLE_S)
        stop.set()
        load.join(60)
        memory.join(5)
    run = box["run"]
    swaps = [(a, b + 1.0) for a, b in windows]  # the second after: requests on the new one
    result["added"] = added.name
    result |= {
        "requests": run.requests,
        "failed": run.errors,
        "error_samples": run.error_samples,
        "p99_before_ms": _p99(run, [(0.0, windows[0][0])], True),
        "p99_during_ms": _p99(run, swaps, True),
        "p50_ms": round(float(np.median(run.latencies_ms)), 3) if run.latencies_ms else 0.0,
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_during_mb": round(memory.peak_mb, 1),
        "server_peak_rss_mb": round(server.peak_rss_mb, 1),
    }
    return result
