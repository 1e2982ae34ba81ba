"""The two stores side by side: the same index folder served from its own files (FAISS +
bm25s, VECTOR_STORE=faiss) and from a Milvus Lite collection (VECTOR_STORE=milvus), with
/search at concurrency 1 and 8, cold start, the server's peak memory and what the Milvus
step of a build takes.

Milvus Lite runs inside the process that opens its `.db` folder and locks it, so the
bench releases its own writer's instance before a server opens the folder. A Milvus
server or cluster runs elsewhere: its memory is not the service's (the README says so).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from indexer.milvus_store import MilvusTarget

from .context import Context
from .machine import folder_mb
from .server import CONCURRENCY, Server, load_run, summarise

STORES = ("faiss", "milvus")
T = TypeVar("T")


def release_lite(uri: str) -> None:
    """Stop this process's Milvus Lite instance of the `.db` folder `uri`, so that another
    process (the served service) may open it."""
    with contextlib.suppress(ImportError):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def store_env(store: str, target: MilvusTarget) -> dict[str, str]:
    """The service's variables for one store (the Milvus URI and alias when it is Milvus)."""
    if store == "faiss":
        return {"VECTOR_STORE": "faiss"}
    return {"VECTOR_STORE": "milvus", "MILVUS_URI": target.uri, "MILVUS_ALIAS": target.alias}


def timed_build(
    write: Callable[[], T], target: MilvusTarget | None = None
) -> tuple[T, dict[str, Any]]:
    """Run `write` (a build; into Milvus at `target` when given), timed: what it returned,
    and its time. With a target, the writer's Milvus Lite is released after and the size of
    its folder on disk recorded."""
    t = time.perf_counter()
    result = write()
    out: dict[str, Any] = {"build_s": round(time.perf_counter() - t, 3)}
    if target is not None:
        release_lite(target.uri)
        out["milvus_folder_mb"] = round(folder_mb(Path(target.uri)), 1)
    return result, out


def rotations(queries: Sequence[str], concurrency: Sequence[int]) -> dict[int, list[str]]:
    """The queries of each concurrency's run: the list started at an even share further on
    for each run, so that a run does not begin with the vectors the run before it cached."""
    step = len(queries) // max(len(concurrency), 1)
    return {c: [*queries[i * step :], *queries[: i * step]] for i, c in enumerate(concurrency)}


def serve_stores(
    ctx: Context,
    index: Path,
    target: MilvusTarget,
    queries: Sequence[str],
    name: str,
    concurrency: Sequence[int] = CONCURRENCY,
) -> dict[str, Any]:
    """/search at each concurrency, cold start and peak RSS of the server, once per store,
    over the same index folder, with the same queries for both stores (see rotations)."""
    runs = rotations(queries, concurrency)
    out: dict[str, Any] = {}
    for store in STORES:
        entry: dict[str, Any] = {}
        log = ctx.out / f"server-{name}-{store}.log"
        with Server(index, log, env=store_env(store, target)) as server:
            entry["cold_start_s"] = round(server.cold_start_s, 3)
            for c in concurrency:
                run = load_run(server, "/search", runs[c], c, ctx.args.duration)
                entry[f"c{c}"] = summarise(run, runs[c])
        entry["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
        ctx.log(f"{name} with {store}: {entry}")
        out[store] = entry
    return out
