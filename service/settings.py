"""The service's configuration: the index's (IndexSettings) plus serving, limits and answers.

Read from the environment only by entry points: `python -m service`, the app factory when
given none, eval and the bench. Everything else takes a Settings (or the values it needs).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from indexer.encoders.threads import thread_count
from indexer.settings import IndexSettings

from .limits import K_CEILING, Limits


class Settings(IndexSettings):
    """Configuration read from environment variables (and an optional `.env` file)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_question_chars: int = Field(500, ge=1)
    default_k: int = Field(5, ge=1, le=K_CEILING)
    max_k: int = Field(K_CEILING, ge=1, le=K_CEILING)
    # One thread per search, as many searches as cores: on 2 cores this gave 1.6x the
    # throughput of 2 threads at concurrency 8, the same latency alone (see README, Benchmark).
    torch_threads: int = Field(1, ge=0, description="Threads per search; 0 = number of CPUs.")
    query_cache_size: int = Field(1024, ge=0)
    cedict_cache_dir: Path | None = Field(
        Path("var/cache/cedict"),
        description="Where the English translator keeps its reversed CC-CEDICT between "
        "starts (2-3 s of start-up); empty: made at every start.",
    )
    today: dt.date | None = Field(
        None,
        description="The date 今年/去年 in questions count from (YYYY-MM-DD); unset: the "
        "real date. For tests and for replaying questions asked on another day.",
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys that /v1/* (and write endpoints) require as Authorization: Bearer: "
        "comma-separated keys, sha256:<hex> digests of keys, or the path of a file of sha256 "
        "hex digests (one a line). Empty: open. See service.api.auth.",
    )
    allow_open_writes: bool = Field(
        False,
        description="Let POST/PUT/DELETE /documents run without API_KEYS (otherwise they are "
        "disabled until keys are set).",
    )
    index_watch_s: float = Field(
        2.0,
        ge=0,
        description="How often (seconds) the service checks whether INDEX_DIR links to a new "
        "version (an index built beside it) and serves it; SIGHUP checks at once; 0: only on "
        "SIGHUP.",
    )
    max_in_flight: int = Field(
        0,
        ge=0,
        description="Requests a search route (/search, /ask, /v1/chat/completions) serves at "
        "once; 0: the searches the cores run at once (cores / TORCH_THREADS + 1).",
    )
    max_queued: int = Field(
        -1,
        ge=-1,
        description="Requests a search route holds waiting beyond MAX_IN_FLIGHT; more are "
        "answered 503 at once; -1: 8 x MAX_IN_FLIGHT.",
    )
    queue_timeout_s: float = Field(
        1.0,
        gt=0,
        description="The most a request waits for its turn before 503 with Retry-After.",
    )
    widget_frame_ancestors: str = Field(
        "*",
        pattern=r"^[^;,\r\n]+$",
        description="CSP frame-ancestors of GET /widget: '*', or e.g. 'self' https://a.example.",
    )

    # Answers
    answer_backend: Literal["extractive", "openai", "transformers"] = "extractive"
    answer_min_score: float | None = Field(
        None,
        description="A best-sentence score threshold that replaces the answer verifier.",
    )
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str | None = None
    generation_timeout_s: float = Field(30.0, gt=0)
    generator_model: str | None = None
    generator_max_new_tokens: int = Field(384, ge=1, le=4096)
    answer_judge: Literal["none", "llm"] = Field(
        "none",
        description="llm: the answer model first says which retrieved passages answer the "
        "question, and writes from those alone (none relevant: a refusal). openai backend only.",
    )
    answer_keep_ungrounded: bool = Field(
        False,
        description="Keep a generated answer that cites nothing or writes figures its cited "
        "passages do not hold (grounded: false); by default the composed answer replaces it, "
        "with a warning.",
    )

    @field_validator("cedict_cache_dir", mode="before")
    @classmethod
    def _no_cache(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def limits(self) -> Limits:
        return Limits(self.max_question_chars, self.default_k, self.max_k)

    @property
    def threads(self) -> int:
        """Threads per search (TORCH_THREADS; 0 = every CPU)."""
        return thread_count(self.torch_threads)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process (entry points only)."""
    return Settings()
