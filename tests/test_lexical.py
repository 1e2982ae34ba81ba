"""BM25 per document: a report's passages score as if it were the only report indexed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.lexical import LexicalIndex

TEXTS = [
    "全市生产总值增长6.5%左右",
    "新增就业岗位50万个",
    "养老床位新增7000张",
    "全国国内生产总值增长6%－6.5%",
    "城镇新增就业1100万人以上",
]
GROUPS = ["sh", "sh", "sh", "cn", "cn"]


def test_a_documents_scores_are_those_of_an_index_of_it_alone(tmp_path: Path) -> None:
    both = LexicalIndex.build(TEXTS, GROUPS)
    alone = LexicalIndex.build(TEXTS[:3])
    for query in ("生产总值增长", "新增就业岗位", "养老床位"):
        scores = both.scores(query, "sh")
        assert np.allclose(scores[:3], alone.scores(query))
        assert not scores[3:].any()
    # Without a document, or with one it does not know, the corpus's statistics.
    corpus = LexicalIndex.build(TEXTS)
    assert np.allclose(both.scores("生产总值增长"), corpus.scores("生产总值增长"))
    assert np.allclose(both.scores("生产总值增长", "nope"), corpus.scores("生产总值增长"))
    # IDF differs between the two: the corpus holds 生产总值 twice, the report once.
    assert not np.allclose(both.scores("生产总值增长", "sh")[:3], corpus.scores("生产总值增长")[:3])


def test_the_parts_survive_a_save_and_a_load(tmp_path: Path) -> None:
    built = LexicalIndex.build(TEXTS, GROUPS)
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(TEXTS))
    assert sorted(loaded.parts) == ["cn", "sh"]
    assert np.array_equal(loaded.parts["cn"][1], np.array([3, 4]))
    for doc in ("sh", "cn", None):
        assert np.allclose(loaded.scores("新增就业", doc), built.scores("新增就业", doc))
    # An index saved without parts loads with none.
    LexicalIndex.build(TEXTS).save(tmp_path / "old")
    assert LexicalIndex.load(tmp_path / "old", len(TEXTS)).parts == {}


def test_bm25s_is_imported_without_numba_and_scores_the_same() -> None:
    """bm25s is imported with numba hidden (start-up time); numba stays importable after it,
    and the scores are those of a bm25s that saw numba."""
    pytest.importorskip("numba")
    code = (
        "import sys, json\n"
        "if sys.argv[1] == 'numba': import numba\n"
        "import indexer.lexical as L\n"
        "print(json.dumps([L.bm25s.NUMBA_AVAILABLE, 'numba' in sys.modules]))\n"
        "ix = L.LexicalIndex.build(['上海新建养老床位七千张', '生产总值增长', '地铁新线'])\n"
        "print(json.dumps(ix.scores('养老床位', None).tolist()))\n"
        "import numba\n"
    )
    runs = {}
    for mode in ("numba", "none"):
        proc = subprocess.run(
            [sys.executable, "-c", code, mode], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[mode] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert runs["none"][0] == [False, False]
    assert runs["numba"][0] == [True, True]
    assert runs["none"][1] == runs["numba"][1] and runs["none"][1][0] > 0
