"""Answers written by a local transformers causal language model."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from ..compose import Citation
from ..prompt import build_messages
from .base import GenerationError, strip_reasoning, timeout_reason, without_reasoning


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
