"""Answer backends that write text: OpenAI-compatible servers and local transformers models.

Every backend turns its own failures (timeouts, refused connections, HTTP errors, malformed
replies, a model that will not load) into GenerationError with a short reason; ask.py turns
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
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from indexer.errors import ReportQAError

from .answer import Citation
from .prompt import build_messages

if TYPE_CHECKING:
    from indexer.settings import Settings

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


# ---- OpenAI-compatible servers ----------------------------------------------------------


class OpenAIGenerator:
    """Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp, hosted APIs)."""

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_tokens: int | None = None,
    ) -> None:
        """Args:
        model: the model name the server serves (vLLM: the --served-model-name).
        base_url: e.g. http://127.0.0.1:8000/v1; None = the OpenAI API.
        api_key: None for local servers that do not check it.
        timeout_s: connect and read timeout of each request, and the answer's budget.
        max_tokens: cap on the answer's length in tokens.
        """
        from openai import OpenAI

        self.model = model
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        # Local servers ignore the key, but the client insists on one.
        self.client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )
        self.base_url = str(self.client.base_url).rstrip("/")

    def _request(self, question: str, citations: Sequence[Citation], lang: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": build_messages(question, citations, lang),
        }
        if self.max_tokens:
            request["max_tokens"] = self.max_tokens
        return request

    def _failure(self, exc: Exception) -> GenerationError:
        import openai

        if isinstance(exc, GenerationError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            reason = timeout_reason(self.timeout_s)
        elif isinstance(exc, openai.APIConnectionError):
            cause: BaseException = exc
            while cause.__cause__ is not None:
                cause = cause.__cause__
            reason = f"cannot connect to {self.base_url}: {cause}"
        elif isinstance(exc, openai.APIStatusError):
            reason = f"HTTP {exc.status_code} from {self.base_url}"
        else:
            reason = f"malformed reply ({type(exc).__name__}: {str(exc)[:120]})"
        return GenerationError(reason)

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str:
        """One chat-completions request; the first choice's message content."""
        try:
            reply = self.client.chat.completions.create(**self._request(question, citations, lang))
            content = reply.choices[0].message.content
        except Exception as exc:
            raise self._failure(exc) from exc
        if not isinstance(content, str) or not content.strip():
            raise GenerationError("malformed reply (no message content)")
        return strip_reasoning(content)

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        """A streaming chat-completions request (server-sent events); content deltas."""
        return without_reasoning(self._stream(question, citations, lang))

    def _stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        try:
            events = self.client.chat.completions.create(
                **self._request(question, citations, lang), stream=True
            )
        except Exception as exc:
            raise self._failure(exc) from exc
        try:
            for event in events:
                if not event.choices:  # usage-only chunks
                    continue
                delta = event.choices[0].delta.content
                if delta:
                    yield delta
        except Exception as exc:
            raise self._failure(exc) from exc
        finally:
            events.close()


# ---- local transformers models ----------------------------------------------------------


class TransformersGenerator:
    """A local causal language model (hub id or folder), loaded on first use, once."""

    name = "transformers"

    def __init__(self, model: str, max_new_tokens: int = 384, timeout_s: float = 30.0) -> None:
        """Args:
        model: a folder written by save_pretrained, or a hub id (fetched on first load unless
            HF_HUB_OFFLINE=1, then it must be in the local cache).
        max_new_tokens: cap on the answer's length in tokens.
        timeout_s: generation stops, and counts as failed, after this many seconds.
        """
        self.model_id = model
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._load_error: str | None = None

    def load(self) -> tuple[Any, Any]:
        """(tokenizer, model), loaded once; call at startup to keep the first answer fast."""
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            if self._load_error is not None:
                raise GenerationError(self._load_error)
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.model_id)
                model: Any = AutoModelForCausalLM.from_pretrained(self.model_id)  # dtype auto
                if torch.cuda.is_available():
                    model.to("cuda")
                model.eval()
            except Exception as exc:
                self._load_error = f"cannot load model {self.model_id!r}: {str(exc)[:160]}"
                raise GenerationError(self._load_error) from exc
            if not getattr(tokenizer, "chat_template", None):
                self._load_error = f"model {self.model_id!r} has no chat template"
                raise GenerationError(self._load_error)
            self._loaded = (tokenizer, model)
            return self._loaded

    def _inputs(self, question: str, citations: Sequence[Citation], lang: str) -> Any:
        tokenizer, model = self.load()
        messages = build_messages(question, citations, lang)
        kwargs = {"add_generation_prompt": True, "return_dict": True, "return_tensors": "pt"}
        try:
            inputs = tokenizer.apply_chat_template(messages, **kwargs)
        except Exception:
            # Some templates (Gemma's, for one) refuse a system turn: fold it into the user's.
            merged = [
                {
                    "role": "user",
                    "content": messages[0]["content"] + "\n\n" + messages[1]["content"],
                }
            ]
            try:
                inputs = tokenizer.apply_chat_template(merged, **kwargs)
            except Exception as exc:
                raise GenerationError(f"chat template failed: {str(exc)[:160]}") from exc
        return inputs.to(model.device)

    def _options(self, tokenizer: Any, stop: _Stop) -> dict[str, Any]:
        from transformers import StoppingCriteriaList

        options: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "stopping_criteria": StoppingCriteriaList([stop]),
        }
        if tokenizer.pad_token_id is not None:
            options["pad_token_id"] = tokenizer.pad_token_id
        return options

    def generate(self, question: str, citations: Sequence[Citation], lang: str) -> str:
        """model.generate on the chat-templated prompt; the decoded new tokens."""
        import torch

        tokenizer, model = self.load()
        inputs = self._inputs(question, citations, lang)
        stop = _stopper(time.monotonic() + self.timeout_s, threading.Event())
        try:
            with torch.inference_mode():
                out = model.generate(**inputs, **self._options(tokenizer, stop))
        except Exception as exc:
            raise GenerationError(f"generation failed ({type(exc).__name__}: {exc})") from exc
        if stop.timed_out:
            raise GenerationError(timeout_reason(self.timeout_s))
        new = out[0, inputs["input_ids"].shape[1] :]
        return strip_reasoning(tokenizer.decode(new, skip_special_tokens=True))

    def stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        """Generation in a thread feeding a TextIteratorStreamer; text as tokens are decoded."""
        return without_reasoning(self._stream(question, citations, lang))

    def _stream(self, question: str, citations: Sequence[Citation], lang: str) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        tokenizer, model = self.load()
        inputs = self._inputs(question, citations, lang)
        streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s
        )
        cancel = threading.Event()
        stop = _stopper(time.monotonic() + self.timeout_s, cancel)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    model.generate(**inputs, **self._options(tokenizer, stop), streamer=streamer)
            except BaseException as exc:
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, name="transformers-generate", daemon=True)
        thread.start()
        try:
            for text in streamer:
                if text:
                    yield text
        except queue.Empty:
            raise GenerationError(timeout_reason(self.timeout_s)) from None
        finally:
            cancel.set()  # stops generation at the next token when the consumer leaves early
            thread.join()
        if failure:
            exc = failure[0]
            raise GenerationError(f"generation failed ({type(exc).__name__}: {exc})") from exc
        if stop.timed_out:
            raise GenerationError(timeout_reason(self.timeout_s))


class _Stop(Protocol):
    timed_out: bool

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any: ...


def _stopper(deadline: float, cancel: threading.Event) -> _Stop:
    """A transformers StoppingCriteria: stop at the deadline (noted) or when cancelled."""
    import torch
    from transformers import StoppingCriteria

    class Stop(StoppingCriteria):
        def __init__(self) -> None:
            self.timed_out = False

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            if time.monotonic() > deadline:
                self.timed_out = True
            done = self.timed_out or cancel.is_set()
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

    return Stop()


# ---- choosing a backend -----------------------------------------------------------------


def make_generator(settings: Settings) -> Generator | None:
    """The backend named by Settings.answer_backend; None for "extractive".

    Raises:
        GenerationError: the backend's required setting is missing.
    """
    backend = settings.answer_backend
    if backend == "openai":
        if not settings.openai_model:
            raise GenerationError(
                "ANSWER_BACKEND=openai needs OPENAI_MODEL, the model name the server serves "
                "(e.g. Qwen/Qwen2.5-7B-Instruct for vLLM, qwen2.5:7b for Ollama)"
            )
        return OpenAIGenerator(
            settings.openai_model,
            settings.openai_base_url,
            settings.openai_api_key,
            settings.generation_timeout_s,
            settings.generator_max_new_tokens,
        )
    if backend == "transformers":
        if not settings.generator_model:
            raise GenerationError(
                "ANSWER_BACKEND=transformers needs GENERATOR_MODEL, a model folder or hub id "
                "(e.g. Qwen/Qwen2.5-0.5B-Instruct)"
            )
        return TransformersGenerator(
            settings.generator_model,
            settings.generator_max_new_tokens,
            settings.generation_timeout_s,
        )
    return None
