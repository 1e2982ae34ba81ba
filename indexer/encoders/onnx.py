"""Encoding with ONNX Runtime: a sentence-transformers model exported once, then run without torch.

Why: a query is a handful of tokens, so PyTorch spends most of its time in Python between
small kernels, holding the GIL, and two searches cannot encode at once. ONNX Runtime runs
the whole graph in one call that releases the GIL, in about half the time on one thread
(README, Benchmark). The exported graph is the model's own module pipeline (transformer,
pooling, dense layers, normalisation) and the tokenizer is the model's own Rust tokenizer,
so the vectors match sentence-transformers' to ~1e-7 (tested).

sentence-transformers' own `backend="onnx"` needs optimum, which does not work with
transformers 5; hence this small exporter on `torch.onnx.export`.

An export is a folder (model.onnx, tokenizer.json, encoder.json) in `ONNX_CACHE_DIR`
(default var/cache/onnx), named by a hash of the model's files: the first load exports
(a few seconds, needs PyTorch), later loads need only onnxruntime and tokenizers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .base import QueryPrecision, choose_prompts, resolve_model
from .quantise import QuantisationUnavailable, int8_session

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

OPSET = 17
OUTPUT = "sentence_embedding"
# Part of every export's name: bumped when the export changes, so old folders are not reused.
EXPORT_VERSION = "1"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
# Other backends' copies inside a model folder are not part of the model's identity.
SKIPPED_FOLDERS = {"onnx", "openvino", ".git", ".cache"}


class OnnxUnavailable(ModelError):
    """This model cannot run in ONNX Runtime here (the caller falls back to PyTorch)."""


def model_folder(name: str) -> Path | None:
    """The local folder of a model name: a path, the bundled m3e-small, or a cached hub model."""
    location = resolve_model(name)
    path = Path(location)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(location, local_files_only=True))
    except Exception:  # not cached, or not a hub id: the caller says so
        return None


def cache_root(cache_dir: Path | None) -> Path:
    """Where exports are kept: ONNX_CACHE_DIR, or a folder in the temporary directory."""
    return cache_dir or Path(tempfile.gettempdir()) / "report-qa-onnx"


def content_key(salt: str, files: Iterable[tuple[str, Path]]) -> str:
    """A hash of the salt and of each (name, file)'s name and contents: an export's folder name."""
    h = hashlib.sha256(salt.encode())
    for name, path in files:
        h.update(name.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:24]


def folder_key(folder: Path) -> str:
    """A hash of every file of a model folder (names and contents) and of the export format."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not SKIPPED_FOLDERS.intersection(relative.parts[:-1]):
            files.append((str(relative), path))
    return content_key(f"export {EXPORT_VERSION} opset {OPSET}", files)


def unsupported(model: SentenceTransformer) -> str | None:
    """Why this model cannot go through the exporter, or None when it can."""
    if type(model[0]).__name__ != "Transformer":
        return f"its first module is {type(model[0]).__name__}, not a Transformer"
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None or not getattr(tokenizer, "is_fast", False):
        return "it has no fast (Rust) tokenizer"
    for module in model:
        if getattr(module, "include_prompt", True) is False:
            return "its pooling leaves the prompt out, which needs the prompt length at run time"
    return None


def _export_graph(model: SentenceTransformer, path: Path) -> None:
    """Write the model's pipeline (token ids in, sentence embedding out) as ONNX."""
    import torch

    names = list(model.tokenizer.model_input_names)

    class Pipeline(torch.nn.Module):
        def __init__(self, st: SentenceTransformer) -> None:
            super().__init__()
            self.st = st

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            features = dict(zip(names, inputs, strict=True))
            return self.st(features)[OUTPUT]

    # Two texts of different lengths, so that padding and the attention mask are traced.
    sample = model.tokenizer(["上海市政府工作报告", "好"], padding=True, return_tensors="pt")
    dynamic = {n: {0: "batch", 1: "tokens"} for n in names} | {OUTPUT: {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes fixed at trace time
        torch.onnx.export(
            Pipeline(model).eval(),
            tuple(sample[n] for n in names),
            str(path),
            input_names=names,
            output_names=[OUTPUT],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def export_bundle(name: str, folder: Path, bundle: Path) -> None:
    """Export the model in `folder` into the folder `bundle` (written whole, then renamed)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    reason = unsupported(model)
    if reason:
        raise OnnxUnavailable(f"{name} cannot be exported to ONNX: {reason}")
    tokenizer = model.tokenizer
    get_dim: Any = getattr(model, "get_embedding_dimension", None) or (
        model.get_sentence_embedding_dimension
    )
    config = {
        "model": name,
        "export_version": EXPORT_VERSION,
        "dim": int(get_dim()),
        # sentence-transformers truncates at max_seq_length; None means the tokenizer's limit.
        "max_length": int(model.max_seq_length or min(tokenizer.model_max_length, 8192)),
        "lowercase": bool(getattr(model[0], "do_lower_case", False)),
        "input_names": list(tokenizer.model_input_names),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "prompts": dict(getattr(model, "prompts", {}) or {}),
    }

    def write(tmp: Path) -> None:
        _export_graph(model, tmp / MODEL_FILE)
        tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=1))

    publish(bundle, write, done=CONFIG_FILE)


def publish(folder: Path, write: Callable[[Path], None], done: str) -> None:
    """Make `folder` whole or not at all: `write` fills a temporary folder beside it, which
    is then renamed. If another process published the folder meanwhile (its file `done`
    exists), its copy stays."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        write(tmp)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / done).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OnnxEmbedder:
    """An exported model in an ONNX Runtime session: texts → L2-normalised float32 vectors.

    Safe to call from several threads at once: each call runs on the calling thread with
    `threads` intra-op threads and without the GIL.
    """

    def __init__(
        self,
        bundle: Path,
        name: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
        threads: int = 0,
        query_precision: QueryPrecision = "fp32",
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((bundle / CONFIG_FILE).read_text(encoding="utf-8"))
        self.name = name
        self.bundle = bundle
        self.dim = int(config["dim"])
        self.batch_size = batch_size
        self.lowercase = bool(config["lowercase"])
        self.input_names: list[str] = list(config["input_names"])
        self.query_prompt, self.passage_prompt = choose_prompts(
            name, config["prompts"], query_prompt, passage_prompt
        )
        self.tokenizer = Tokenizer.from_file(str(bundle / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length=int(config["max_length"]))
        self.tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        self._options = ort.SessionOptions()
        self._options.intra_op_num_threads = threads
        self._options.inter_op_num_threads = 1
        self._options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session: Any = None
        self._lock = threading.Lock()
        self.query_precision: QueryPrecision = "fp32"
        if query_precision == "int8":
            try:
                self.query_session: Any = int8_session(bundle / MODEL_FILE, self._options)
                self.query_precision = "int8"
            except QuantisationUnavailable as exc:
                log.warning("%s: encoding %s's queries in fp32", exc, name)
        if self.query_precision == "fp32":
            self.query_session = self.session  # fp32 for both, made now (checks the file)

    @property
    def session(self) -> Any:
        """The fp32 session (passages; queries too in fp32), made on first use when queries
        are int8: a server whose passage vectors are in the index never needs it."""
        if self._session is None:
            import onnxruntime as ort

            with self._lock:
                if self._session is None:
                    self._session = ort.InferenceSession(
                        str(self.bundle / MODEL_FILE),
                        self._options,
                        providers=["CPUExecutionProvider"],
                    )
        return self._session

    @classmethod
    def load(
        cls,
        name: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
        threads: int = 0,
        cache_dir: Path | None = None,
        query_precision: QueryPrecision = "fp32",
    ) -> OnnxEmbedder:
        """The model's export from the cache, exported first when missing or damaged.

        Raises:
            ModelError: no such model.
            OnnxUnavailable: onnxruntime is missing, the model cannot be exported, or the
                cache cannot be written.
        """
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
        except ImportError as exc:
            raise OnnxUnavailable(
                f"onnxruntime is not installed ({exc}): run `make install`"
            ) from exc
        folder = model_folder(name)
        if folder is None:
            raise OnnxUnavailable(f"{name} is not in this machine's model cache")
        cache = cache_root(cache_dir)
        bundle = cache / folder_key(folder)
        args = (name, query_prompt, passage_prompt, batch_size, threads, query_precision)
        if (bundle / CONFIG_FILE).is_file():
            try:
                return cls(bundle, *args)
            except Exception as exc:  # onnxruntime raises its own types for a damaged file
                log.warning("ONNX export %s is unreadable (%s): exporting again", bundle, exc)
                shutil.rmtree(bundle, ignore_errors=True)
        log.info("exporting %s to ONNX (once): %s", name, bundle)
        try:
            export_bundle(name, folder, bundle)
            return cls(bundle, *args)
        except OnnxUnavailable:
            raise
        except OSError as exc:
            raise OnnxUnavailable(
                f"cannot write the ONNX export to {cache} ({exc}); set ONNX_CACHE_DIR to a "
                "writable folder"
            ) from exc
        except Exception as exc:
            raise OnnxUnavailable(
                f"exporting {name} to ONNX failed ({type(exc).__name__}: {exc})"
            ) from exc

    def _features(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        return {n: np.asarray(columns[n], dtype=np.int64) for n in self.input_names}

    def _encode(
        self, texts: list[str], prompt: str, session: Any, progress: bool = False
    ) -> np.ndarray:
        """Vectors of `prompt + text` for each text, in the order of `texts`.

        Batches go longest first (as in sentence-transformers) so that a batch pads little.
        """
        from tqdm.auto import tqdm

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        bar = tqdm(total=len(texts), desc=self.name, unit="passage", disable=not progress)
        with bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = [prompt + texts[i] for i in rows]
                if self.lowercase:
                    batch = [t.lower() for t in batch]
                out: Any = session.run([OUTPUT], self._features(batch))[0]
                vectors[rows] = out
                bar.update(len(rows))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prompt, self.query_session)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt, self.session, progress)
