"""What every answer backend shares: the Generator protocol, its error, wall-clock bounds.

Every backend turns its own failures (timeouts, refused connections, HTTP errors, malformed
replies, a model that will not load) into GenerationError with a short reason; the asker turns
that into the composed answer plus a warning. `call_within` and `iterate_within` bound a
backend call by wall-clock time, whatever the backend does, so a request never waits much
longer than `GENERATION_TIMEOUT_S`.
"""

from __future__ import annotations

import collections.abc
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from indexer.errors import ReportQAError

from ..compose import Citation

T = TypeVar("T")


class GenerationError(ReportQAError):
    """An answer backend failed or is misconfigured; the message says what happened."""

    code = "generation_failed"


class Generator(Protocol):
    """A backend that writes an answer from a question and its numbered passages."""

    name: str  # the `backend` reported with the answer: "openai", "transformers"
    timeout_s: float  # wall-clock budget of one answer

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str:
        """The whole answer text. Raises GenerationError."""
        ...

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        """The answer text in chunks as they are produced. Raises GenerationError."""
        ...


def timeout_reason(timeout_s: float) -> str:
    """The warning's wording for a timeout."""
    return f"timeout after {timeout_s:g}s"


# ---- wall-clock bounds ------------------------------------------------------------------


def call_within(fn: Callable[[], T], timeout_s: float) -> T:
    """Run fn in a daemon thread; raise GenerationError if it has not returned in timeout_s.

    An abandoned call keeps running until the backend's own timeout ends it.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="generate", daemon=True).start()
    if not done.wait(timeout_s):
        raise GenerationError(timeout_reason(timeout_s))
    if "error" in box:
        raise box["error"]
    return box["value"]


def iterate_within(
    factory: Callable[[], Iterator[str]], timeout_s: float
) -> collections.abc.Generator[str, None, None]:
    """Chunks of factory() as they arrive, produced in a daemon thread, within timeout_s in all.

    The consumer may run in any thread (a web framework's worker threads, one after another).
    Raises GenerationError at the deadline; closing this iterator asks the producer to stop.
    """
    chunks: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancel = threading.Event()

    def produce() -> None:
        it: Iterator[str] | None = None
        try:
            it = factory()
            for chunk in it:
                if cancel.is_set():
                    break
                chunks.put(("chunk", chunk))
            chunks.put(("end", None))
        except BaseException as exc:
            chunks.put(("error", exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    deadline = time.monotonic() + timeout_s
    threading.Thread(target=produce, name="generate-stream", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GenerationError(timeout_reason(timeout_s))
            try:
                kind, value = chunks.get(timeout=remaining)
            except queue.Empty:
                raise GenerationError(timeout_reason(timeout_s)) from None
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        cancel.set()


# ---- reasoning blocks -------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S)


def strip_reasoning(text: str) -> str:
    """Drop <think>…</think> blocks that reasoning models (Qwen3, DeepSeek-R1) write first."""
    return _THINK.sub("", text)


def without_reasoning(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks with <think>…</think> blocks left out, even when a tag is split across chunks."""
    try:
        yield from _reasoning_filter(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # the backend's own clean-up (closing the HTTP stream, stopping generate)


def _reasoning_filter(chunks: Iterator[str]) -> Iterator[str]:
    buf = ""
    inside = False
    for chunk in chunks:
        buf += chunk
        out = []
        while buf:
            tag = "</think>" if inside else "<think>"
            i = buf.find(tag)
            if i >= 0:
                if not inside:
                    out.append(buf[:i])
                buf = buf[i + len(tag) :]
                inside = not inside
                continue
            # Hold back a tail that may be the start of a split tag.
            keep = next((n for n in range(len(tag) - 1, 0, -1) if buf.endswith(tag[:n])), 0)
            if not inside:
                out.append(buf[: len(buf) - keep])
            buf = buf[len(buf) - keep :]
            break
        text = "".join(out)
        if text:
            yield text
    if buf and not inside:
        yield buf
