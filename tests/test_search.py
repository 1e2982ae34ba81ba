"""The retrieval core on the fixture index (exact ranks) and on the real report."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from service.errors import InvalidQueryError, NotFoundError
from service.query import understand
from service.retrieval import FusionConfig, Retriever, fusion


@pytest.fixture(scope="module")
def retriever(fixture_index, fake_embedder) -> Retriever:
    # The Chinese path alone (dense + BM25); the multilingual one has its own tests.
    return Retriever(fixture_index, fake_embedder, multilingual=None)


@pytest.fixture(scope="module")
def rrf_retriever(fixture_index, fake_embedder) -> Retriever:
    return Retriever(fixture_index, fake_embedder, FusionConfig(method="rrf"), multilingual=None)


def ids(result) -> list[str]:
    return [h.passage.id for h in result.hits]


def test_core_does_not_import_fastapi():
    code = (
        "import sys, indexer, service, service.retrieval, service.answers, service.runtime\n"
        "sys.exit(1 if 'fastapi' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_each_mode_ranks_exactly(retriever, rrf_retriever):
    assert ids(retriever.search(understand("轨道交通总里程", 3, "bm25"))) == ["flat-notes-0002"]
    assert ids(retriever.search(understand("轨道交通总里程", 3, "dense"))) == [
        "flat-notes-0002",
        "demo-2020-0010",
        "demo-2020-0001",
    ]
    hybrid = rrf_retriever.search(understand("养老床位", 3, "hybrid"))
    assert ids(hybrid) == ["demo-2020-0006", "demo-2020-0013", "flat-notes-0001"]
    assert [h.rank for h in hybrid.hits] == [1, 2, 3]
    top = hybrid.hits[0]
    # Ranked first by both lists: RRF score 2 / (60 + 1).
    assert top.score == pytest.approx(2 / 61)
    assert top.lexical is not None and top.lexical > 0 and top.dense is not None


def test_hybrid_matches_brute_force_rrf(rrf_retriever, fixture_index, fake_embedder):
    query = "PM2.5年平均浓度"
    n = len(fixture_index.passages)
    qvec = fake_embedder.encode_queries([query])[0]
    vectors = fixture_index.faiss_index.reconstruct_n(0, n)
    dense_order = list(np.argsort(-(vectors @ qvec), kind="stable"))
    bm25 = fixture_index.lexical.scores(query)
    lex_order = [i for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
    expected: dict[int, float] = {}
    for order in (dense_order, lex_order):
        for rank, row in enumerate(order, start=1):
            expected[int(row)] = expected.get(int(row), 0) + 1 / (60 + rank)
    best = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    got = rrf_retriever.search(understand(query, 5, "hybrid", resolve_refs=False))
    assert [fixture_index.by_id[h.passage.id] for h in got.hits] == [row for row, _ in best]
    assert [h.score for h in got.hits] == pytest.approx([s for _, s in best])


def test_weighted_fusion_scales_both_lists(fixture_index, fake_embedder):
    r = Retriever(
        fixture_index, fake_embedder, FusionConfig(method="weighted", alpha=0.5), multilingual=None
    )
    hits = r.search(understand("轨道交通总里程", 2, "hybrid")).hits
    assert hits[0].passage.id == "flat-notes-0002"
    assert hits[0].score == pytest.approx(1.0)  # best in both lists
    assert fusion.minmax(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]


def test_filters(retriever):
    assert {
        h.passage.doc_id
        for h in retriever.search(understand("增长", 10, "dense", doc_id="demo-2020")).hits
    } == {"demo-2020"}
    # Part 二 of every document: the fixture's 二 and unsafe.txt's 二.
    in_part = retriever.search(understand("增长", 10, "dense", section="二")).hits
    assert sorted(h.passage.id for h in in_part) == [
        "demo-2020-0007",
        "demo-2020-0008",
        "demo-2020-0009",
        "demo-2020-0010",
        "unsafe-0003",
    ]
    in_doc = retriever.search(
        understand("增长", 10, "dense", doc_id="demo-2020", section="二")
    ).hits
    assert sorted(h.passage.id for h in in_doc) == [
        "demo-2020-0007",
        "demo-2020-0008",
        "demo-2020-0009",
        "demo-2020-0010",
    ]
    sub = retriever.search(understand("投资", 5, "bm25", section="二1.（1）")).hits
    assert [h.passage.id for h in sub] == ["demo-2020-0008"]


def test_section_and_passage_references_resolve_directly(retriever):
    part = retriever.search(understand("第二部分", 10))
    assert part.resolved == "section" and part.section == "二"
    assert ids(part) == ["demo-2020-0007", "demo-2020-0008", "demo-2020-0009", "demo-2020-0010"]
    sub = retriever.search(understand("一（二）讲了什么", 10))
    assert (sub.resolved, sub.section, ids(sub)) == ("section", "一（二）", ["demo-2020-0006"])
    exact = retriever.search(understand("二1.（1）", 10))
    assert (exact.resolved, ids(exact)) == ("section", ["demo-2020-0008"])
    one = retriever.search(understand("demo-2020-0004", 5))
    assert (one.resolved, ids(one)) == ("passage", ["demo-2020-0004"])
    # A reference with more words narrows the search to the section.
    narrowed = retriever.search(understand("一（一）跨境电商", 5, "bm25"))
    assert narrowed.resolved == "search" and narrowed.section == "一（一）"
    assert ids(narrowed) == ["demo-2020-0005"]


def test_context_stays_in_the_section(retriever):
    p, before, after = retriever.context("demo-2020-0008", 2)
    assert p.id == "demo-2020-0008" and before == [] and after == []
    p, before, after = retriever.context("demo-2020-0005", 3)
    assert [x.id for x in before] == ["demo-2020-0004"] and after == []


def test_bad_requests_raise_domain_errors(retriever):
    with pytest.raises(InvalidQueryError, match="the query is empty"):
        retriever.search(understand("  \u3000 "))
    with pytest.raises(InvalidQueryError, match="k must be an integer between 1 and 50, got 51"):
        retriever.search(understand("养老", 51))
    with pytest.raises(
        InvalidQueryError, match="unknown mode 'sparse': use one of dense, bm25, hybrid"
    ):
        retriever.search(understand("养老", 5, "sparse"))
    with pytest.raises(NotFoundError, match="no document 'nope': known documents are demo-2020"):
        retriever.search(understand("养老", 5, doc_id="nope"))
    with pytest.raises(NotFoundError, match="no passages in section '九'"):
        retriever.search(understand("养老", 5, section="九"))
    with pytest.raises(NotFoundError, match="no passage with id 'x-1'"):
        retriever.passage("x-1")
    with pytest.raises(NotFoundError, match="no section '五'"):
        retriever.section("五")


def test_query_vectors_are_cached(fixture_index):
    from fakes import HashEmbedder

    emb = HashEmbedder()
    r = Retriever(fixture_index, emb, cache_size=2, multilingual=None)
    r.search(understand("养老床位", 3, "dense"))
    r.search(understand("养老床位", 3, "dense"))
    assert emb.calls == 1


def find(index, needle: str) -> str:
    matches = [p.id for p in index.passages if needle in p.text]
    assert len(matches) == 1, (needle, matches)
    return matches[0]


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("非沪籍应届高校毕业生直接落户多少人？", "非沪籍应届高校毕业生直接落户9.7万人"),
        ("洋山港四期是什么码头？", "洋山港四期自动化码头"),
        ("2018年新增多少张养老床位？", "新增7000张养老床位"),
        ("轨道交通运营线路总长增加到多少公里？", "从468公里增加到666公里"),
    ],
)
@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_real_report_top1(real_index, m3e, question, needle, mode):
    r = Retriever(real_index, m3e)
    assert r.search(understand(question, 5, mode)).hits[0].passage.id == find(real_index, needle)


def test_real_report_section_reference(real_index, m3e):
    r = Retriever(real_index, m3e)
    for query in ("三（四）讲了什么", "第三部分第四节"):
        result = r.search(understand(query, 50))
        assert result.resolved == "section" and result.section == "三（四）"
        section = r.section("三（四）")
        assert ids(result) == list(section.passage_ids)
        assert all(h.passage.section == "三（四）" for h in result.hits)


def test_questions_about_unmentioned_years_and_places_are_refused():
    from service.answers import unsupported_terms

    corpus = "2018年全市生产总值增长6.5%。浦东新区和黄浦江。"
    assert unsupported_terms("北京市2018年的财政预算是多少", corpus) == ["北京市"]
    assert unsupported_terms("北京市2017年的地区生产总值是多少？", corpus) == ["2017年", "北京市"]
    assert unsupported_terms("2018年浦东新区的目标", corpus) == []
    assert unsupported_terms("黄浦区有什么规划", corpus) == ["黄浦区"]
    assert unsupported_terms("What was the population at the end of 2017?", corpus) == ["2017年"]
    assert unsupported_terms("PM2.5浓度下降到多少", corpus) == []
    assert unsupported_terms("上海将与周边地区共同治理哪些环境问题", corpus) == []


def test_questions_about_a_part_title_resolve_to_the_part(retriever):
    result = retriever.search(understand("报告第二部分的标题是什么？", 3))
    assert (result.resolved, result.section) == ("section", "二")
    assert ids(result) == ["demo-2020-0007", "demo-2020-0008", "demo-2020-0009"]
    narrowed = retriever.search(understand("第二部分的重大工程投资", 3, "bm25"))
    assert (narrowed.resolved, narrowed.section) == ("search", "二")


def test_sentence_vectors_are_encoded_once(fixture_index):
    from fakes import HashEmbedder

    from service.answers import Asker

    emb = HashEmbedder()
    # The verifier was fitted on the real model's cosines, not the hash embedder's.
    asker = Asker(Retriever(fixture_index, emb, multilingual=None), verifier=False)
    first = asker.ask(understand("新建养老床位多少张", k=2))
    calls = emb.calls
    second = asker.ask(understand("新建养老床位多少张", k=2))
    assert emb.calls == calls  # query vector and sentence vectors both cached
    assert second.text == first.text
    assert first.text == (
        "新建养老床位800张[1]。"
        "《示范区政府工作报告》指出：“新增就业岗位5万个，新建养老床位800张。”[1]"
    )


def test_a_report_title_or_a_bare_heading_is_never_quoted(fixture_index):
    from fakes import HashEmbedder

    from service.answers import Asker

    asker = Asker(Retriever(fixture_index, HashEmbedder(), multilingual=None), verifier=False)
    answer = asker.ask(understand("示范区政府工作报告是谁作的", k=3, mode="bm25"))
    first = answer.citations[0].hit.passage
    # The passage that opens the report starts with its title line, then the date line.
    assert (first.id, first.text.splitlines()[0]) == ("demo-2020-0001", "示范区政府工作报告")
    assert answer.answerable and "“示范区政府工作报告”" not in (answer.text or "")
    assert "“一、过去一年工作回顾”" not in (answer.text or "")
    quoted = [
        c.hit.passage.text[s - c.hit.passage.start : e - c.hit.passage.start]
        for c in answer.citations
        for s, e in c.highlights
    ]
    assert quoted == ["现在，我代表示范区人民政府向大会报告工作。"]
