"""int8 query encoders: ONNX Runtime's dynamic quantisation of an fp32 export.

A query is a few dozen tokens, so encoding it reads every weight of the model once for very
little arithmetic: fp32 weights (m3e-small 50 MB, multilingual-e5-small 85 MB) are read from
memory on every question. int8 weights (a quarter of the bytes) with int8 arithmetic
(VNNI) make a query two to three times faster (README, Benchmark). Only queries go through
the int8 model; passages, and so the index, stay fp32.

The variant is the most accurate of those measured at the same speed: weights QInt8 per
output channel, every MatMul with a constant weight quantised, activations quantised per
call (dynamic, uint8), embeddings, layer norms, attention scores and pooling kept fp32.
`reduce_range` (7-bit weights) keeps the u8×s8 products from saturating on cores without
VNNI, and cost nothing measurable in accuracy here.

The int8 model is made once from the fp32 export, beside it, under its own name
(`INT8_FILE`): making it needs the `onnx` package (a few seconds); loading it later needs
only onnxruntime.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ModelError

log = logging.getLogger(__name__)

# Part of the file name: bumped when the quantisation changes, so old files are not reused.
QUANT_VERSION = "1"
INT8_FILE = f"model.int8-v{QUANT_VERSION}.onnx"
QUANT_OPTIONS: dict[str, Any] = {"per_channel": True, "reduce_range": True}


class QuantisationUnavailable(ModelError):
    """No int8 model can be made or read here (the caller encodes in fp32 instead)."""


def int8_path(fp32_model: Path) -> Path:
    """Where the int8 model of an fp32 export is kept: beside it, under its own name."""
    return fp32_model.with_name(INT8_FILE)


def gemm_to_matmul(model: Any) -> Any:
    """The model with each Gemm (a torch Linear on 2-D input) written as MatMul + Add: ONNX
    Runtime's dynamic quantisation knows MatMul, not Gemm."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {w.name: w for w in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type != "Gemm":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        a, b, *c = node.input
        plain = attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0
        if attrs.get("transA", 0) or not plain or b not in weights:
            nodes.append(node)
            continue
        if attrs.get("transB", 0):
            w = weights.pop(b)
            graph.initializer.remove(w)
            transposed = numpy_helper.from_array(numpy_helper.to_array(w).T.copy(), b + "_t")
            graph.initializer.append(transposed)
            b = transposed.name
        product = node.output[0] + "_matmul" if c else node.output[0]
        nodes.append(helper.make_node("MatMul", [a, b], [product], name=node.name + "_matmul"))
        if c:
            nodes.append(helper.make_node("Add", [product, c[0]], [node.output[0]], name=node.name))
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def make_int8(fp32_model: Path, target: Path) -> None:
    """Quantise `fp32_model` into `target` (written to a temporary file beside it, then
    renamed, so a reader sees the whole file or none)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise QuantisationUnavailable(f"cannot quantise: {exc}") from exc
    model = gemm_to_matmul(onnx.load(str(fp32_model)))
    fd, tmp_name = tempfile.mkstemp(prefix=".int8-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # The quantiser logs a suggestion to pre-process the model, on every call.
    quant_log = logging.getLogger()
    level = quant_log.level
    try:
        quant_log.setLevel(max(level, logging.ERROR))
        quantize_dynamic(
            model,
            tmp,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
            **QUANT_OPTIONS,
        )
        os.chmod(tmp, 0o644)  # as the export's own files (mkstemp makes it 0600)
        os.replace(tmp, target)
    finally:
        quant_log.setLevel(level)
        tmp.unlink(missing_ok=True)


def int8_session(fp32_model: Path, options: Any) -> Any:
    """An ONNX Runtime session of the int8 model of `fp32_model`, made first when missing;
    a damaged one is made again once.

    Raises:
        QuantisationUnavailable: it cannot be made or loaded (the caller stays in fp32).
    """
    import onnxruntime as ort

    target = int8_path(fp32_model)
    for attempt in range(2):
        if not target.is_file():
            log.info("quantising %s to int8 (once): %s", fp32_model.parent.name, target)
            try:
                make_int8(fp32_model, target)
            except QuantisationUnavailable:
                raise
            except Exception as exc:
                raise QuantisationUnavailable(
                    f"quantising {fp32_model} failed ({type(exc).__name__}: {exc})"
                ) from exc
        try:
            return ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            if attempt:
                raise QuantisationUnavailable(f"the int8 model {target} is unreadable") from exc
            log.warning("int8 model %s is unreadable (%s): quantising again", target, exc)
            target.unlink(missing_ok=True)
    raise AssertionError("unreachable")
