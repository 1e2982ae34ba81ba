"""Answer backends that write text: OpenAI-compatible servers and local transformers models."""

from .base import GenerationError, Generator, call_within, iterate_within
from .choose import make_generator
from .judge import JudgedGenerator
from .openai import OpenAIGenerator
from .transformers import TransformersGenerator

__all__ = [
    "GenerationError",
    "Generator",
    "JudgedGenerator",
    "OpenAIGenerator",
    "TransformersGenerator",
    "call_within",
    "iterate_within",
    "make_generator",
]
