"""The answer backend the settings name (ANSWER_BACKEND)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import GenerationError, Generator
from .judge import JudgedGenerator
from .openai import OpenAIGenerator
from .transformers import TransformersGenerator

if TYPE_CHECKING:
    from service.settings import Settings


def make_generator(settings: Settings) -> Generator | None:
    """The backend named by Settings.answer_backend; None for "extractive". With
    ANSWER_JUDGE=llm the openai backend judges the passages first (JudgedGenerator).

    Raises:
        GenerationError: the backend's required setting is missing, or the judge is asked of
            a backend that cannot judge.
    """
    backend = settings.answer_backend
    if settings.answer_judge == "llm" and backend != "openai":
        raise GenerationError(
            f"ANSWER_JUDGE=llm needs ANSWER_BACKEND=openai (it is {backend}); "
            "unset ANSWER_JUDGE or use the openai backend"
        )
    if backend == "openai":
        if not settings.openai_model:
            raise GenerationError(
                "ANSWER_BACKEND=openai needs OPENAI_MODEL, the model name the server serves "
                "(e.g. Qwen/Qwen2.5-7B-Instruct for vLLM, qwen2.5:7b for Ollama)"
            )
        generator = OpenAIGenerator(
            settings.openai_model,
            settings.openai_base_url,
            settings.openai_api_key,
            settings.generation_timeout_s,
            settings.generator_max_new_tokens,
        )
        return JudgedGenerator(generator) if settings.answer_judge == "llm" else generator
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
