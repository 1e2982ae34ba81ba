"""ONNX Runtime encoding: the same vectors as sentence-transformers, one export per model."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.encoders import SentenceTransformerEmbedder, bundled_m3e_path, load_embedder
from indexer.encoders import onnx as onnx_backend
from indexer.encoders.onnx import OnnxEmbedder, OnnxUnavailable, folder_key

pytestmark = pytest.mark.slow

TEXTS = [
    "上海2018年经济增长的预期目标是多少？",
    "What is Shanghai's GDP growth target for 2018?",
    "请问 Shanghai 的 Free Trade Zone 有什么新举措",
    "",
    "好",
    "推进长三角更高质量一体化发展。" * 60,  # longer than the model's 512 tokens
]


def test_onnx_vectors_match_sentence_transformers(m3e, m3e_torch) -> None:
    assert isinstance(m3e, OnnxEmbedder) and isinstance(m3e_torch, SentenceTransformerEmbedder)
    assert (m3e.dim, m3e.query_prompt, m3e.passage_prompt) == (512, "", "")
    for encode in ("encode_queries", "encode_passages"):
        ours = getattr(m3e, encode)(TEXTS)  # one batch: padded to the longest, truncated
        theirs = getattr(m3e_torch, encode)(TEXTS)
        assert ours.shape == theirs.shape == (len(TEXTS), 512)
        assert ours.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # Alone, each text gets the vector it gets in a padded batch.
    alone = np.vstack([m3e.encode_queries([t]) for t in TEXTS])
    np.testing.assert_allclose(alone, m3e.encode_queries(TEXTS), atol=1e-5)
    assert m3e.encode_queries([]).shape == (0, 512)


def test_configured_prompt_is_prepended(tmp_path: Path, m3e, m3e_torch) -> None:
    prompted = load_embedder(
        "m3e-small", query_prompt="查询：", backend="onnx", onnx_cache_dir=m3e.bundle.parent
    )
    assert isinstance(prompted, OnnxEmbedder) and prompted.query_prompt == "查询："
    expected = m3e.encode_queries(["查询：经济增长目标"])
    np.testing.assert_allclose(prompted.encode_queries(["经济增长目标"]), expected, atol=1e-6)


def test_export_is_made_once_and_a_damaged_one_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "onnx"
    first = OnnxEmbedder.load("m3e-small", cache_dir=cache, threads=1)
    assert [p.name for p in cache.iterdir()] == [first.bundle.name]
    assert first.bundle.name == folder_key(bundled_m3e_path())  # type: ignore[arg-type]
    expected = first.encode_queries(["市政府工作报告"])

    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    with monkeypatch.context() as m:
        m.setattr(onnx_backend, "export_bundle", no_export)
        again = OnnxEmbedder.load("m3e-small", cache_dir=cache, threads=1)
    np.testing.assert_array_equal(again.encode_queries(["市政府工作报告"]), expected)

    model = first.bundle / onnx_backend.MODEL_FILE
    model.write_bytes(model.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING, logger="indexer.encoders.onnx"):
        repaired = OnnxEmbedder.load("m3e-small", cache_dir=cache, threads=1)
    assert "unreadable" in caplog.text and "exporting again" in caplog.text
    np.testing.assert_allclose(repaired.encode_queries(["市政府工作报告"]), expected, atol=1e-6)


def test_unwritable_cache_falls_back_to_pytorch_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(OnnxUnavailable, match="ONNX_CACHE_DIR"):
        OnnxEmbedder.load("m3e-small", cache_dir=not_a_folder)
    with caplog.at_level(logging.WARNING, logger="indexer.encoders.load"):
        embedder = load_embedder("m3e-small", backend="onnx", onnx_cache_dir=not_a_folder)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert "encoding with PyTorch instead" in caplog.text


def test_folder_key_follows_names_and_contents(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    (a / "config.json").write_text("{}")
    (a / "weights.bin").write_bytes(b"\x00\x01")
    key = folder_key(a)
    assert len(key) == 24 and key == folder_key(a)
    (a / "onnx").mkdir()
    (a / "onnx" / "model.onnx").write_bytes(b"other backend")  # not part of the model
    assert folder_key(a) == key
    (a / "weights.bin").write_bytes(b"\x00\x02")
    assert folder_key(a) != key


def test_a_cached_export_runs_without_importing_torch(m3e) -> None:
    cache = str(m3e.bundle.parent)
    code = (
        "import sys; from pathlib import Path; from indexer.encoders import load_embedder; "
        f"e = load_embedder('m3e-small', backend='onnx', onnx_cache_dir=Path({cache!r})); "
        "e.encode_queries(['测试']); print(type(e).__name__, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["OnnxEmbedder", "False"]
