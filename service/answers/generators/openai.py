"""Answers written by any OpenAI-compatible chat-completions server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..compose import Citation
from ..prompt import build_messages
from .base import GenerationError, strip_reasoning, timeout_reason, without_reasoning


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
        temperature: float | None = 0.0,
    ) -> None:
        """Args:
        model: the model name the server serves (vLLM: the --served-model-name).
        base_url: e.g. http://127.0.0.1:8000/v1; None = the OpenAI API.
        api_key: None for local servers that do not check it.
        timeout_s: connect and read timeout of each request, and the answer's budget.
        max_tokens: cap on the answer's length in tokens.
        temperature: sampling temperature; 0 (the default) answers the same question the
            same way; None leaves the server's default.
        """
        from openai import OpenAI

        self.model = model
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.temperature = temperature
        # Local servers ignore the key, but the client insists on one.
        self.client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )
        self.base_url = str(self.client.base_url).rstrip("/")

    def _request(
        self, messages: list[dict[str, str]], max_tokens: int | None = None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        if max_tokens or self.max_tokens:
            request["max_tokens"] = max_tokens or self.max_tokens
        if self.temperature is not None:
            request["temperature"] = self.temperature
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
        return self.complete(build_messages(question, citations, lang))

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> str:
        """The reply to any chat messages (the relevance judge's too), reasoning removed."""
        try:
            reply = self.client.chat.completions.create(**self._request(messages, max_tokens))
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
                **self._request(build_messages(question, citations, lang)), stream=True
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
