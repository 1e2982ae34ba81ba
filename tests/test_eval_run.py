"""The eval harness's inputs and runs: the gold-set file format, the naive baselines' offsets on
the real report, and end-to-end runs through the CLI, in process and over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURE_CORPUS, REPORT, REPORT_ID, ROOT
from fakes import write_questions

from eval.__main__ import main
from eval.errors import EvalError
from eval.gold import load_questions
from eval.retrievers import ALL, naive_chunks, parse_names
from eval.runner import RunConfig, run

FIXTURE_QUESTIONS = ROOT / "tests" / "fixtures" / "eval_questions.jsonl"


# ---- the gold-set file format ---------------------------------------------------------------


GOOD = {
    "id": "q1",
    "question": "多少？",
    "evidence": ["甲"],
    "answer": "甲",
    "answerable": True,
    "lang": "zh",
    "tags": ["numeric"],
    "doc_id": REPORT_ID,
}


def test_load_questions_reads_the_fixture_file():
    qs = load_questions(FIXTURE_QUESTIONS)
    assert [q.id for q in qs] == ["f01", "f02", "f03", "f04", "f05", "f06"]
    assert [(e.text, e.doc_id) for e in qs[3].evidence] == [
        ("促进消费升级", None),
        ("打造三个商圈", None),
    ]
    assert (qs[3].doc_id, qs[3].answer, qs[3].today, qs[3].kind) == (
        "demo-2020",
        ("促进消费升级",),
        None,
        None,
    )
    assert (qs[5].answerable, qs[5].evidence, qs[5].tags) == (False, (), ("unanswerable",))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["{oops"], r"q\.jsonl:1: not valid JSON"),
        ([{**GOOD, "lang": "fr"}], r"q\.jsonl:1 \(question q1\): 'lang' must be one of zh, en"),
        ([{**GOOD, "evidence": []}], r"question q1\): an answerable question needs 'evidence'"),
        (
            [{**GOOD, "answerable": False}],
            r"question q1\): an unanswerable question must have empty 'evidence'",
        ),
        ([GOOD, GOOD], r"q\.jsonl:2: question id 'q1' is used twice"),
        ([{k: v for k, v in GOOD.items() if k != "answer"}], r"field 'answer' is missing"),
        ([""], r"holds no question"),
    ],
)
def test_load_questions_rejects_bad_lines(tmp_path, rows, message):
    with pytest.raises(EvalError, match=message):
        load_questions(write_questions(tmp_path, *rows))


# ---- the baselines --------------------------------------------------------------------------


def test_naive_chunks_have_exact_offsets_on_the_real_report():
    source = REPORT.read_text(encoding="utf-8")
    chunks = naive_chunks({REPORT_ID: source})
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    expected = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_text(source)
    assert [c.text for c in chunks] == expected
    for c in chunks:
        assert source[c.start : c.start + len(c.text)] == c.text
        assert c.end == c.start + len(c.text)
        assert len(c.text) <= 500
        assert c.doc_id == REPORT_ID
    assert chunks[0].start == 0
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert chunks[0].id == f"{REPORT_ID}-naive500-0001"
    assert len({c.id for c in chunks}) == len(chunks)


def test_parse_names_lists_the_choices():
    assert parse_names("hybrid, bm25,hybrid") == ["hybrid", "bm25"]
    with pytest.raises(EvalError) as exc:
        parse_names("hybrid,splade")
    assert str(exc.value) == (
        "unknown retriever splade: choose from bm25, dense, hybrid, naive-dense-500, naive-bm25-500"
    )


# ---- end to end -----------------------------------------------------------------------------


def test_eval_run_writes_all_three_outputs(tmp_path, fixture_index_dir, fake_embedder, capsys):
    out = tmp_path / "results"
    rc = main(
        [
            "run",
            "--questions", str(FIXTURE_QUESTIONS),
            "--index", str(fixture_index_dir),
            "--source", str(FIXTURE_CORPUS),
            "--answers",
            "--out", str(out),
        ],
        embedder=fake_embedder,
    )  # fmt: skip
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "retrievers.png", "summary.json"]
    assert (out / "retrievers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["questions"], summary["answerable"]) == (6, 5)
    assert list(summary["retrievers"]) == list(ALL)
    metrics = ["recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
    groups = ["by_lang", "by_tag", "by_kind", "several_evidence"]
    for scores in summary["retrievers"].values():
        assert list(scores) == [*metrics, "all@5", "all@10", "mean_passage_chars", *groups]
        assert sorted(scores["by_lang"]) == ["en", "zh"]
        assert sorted(scores["by_tag"]) == ["english", "list", "numeric"]
        assert scores["by_kind"] == {}  # the fixture questions have no kind
        assert scores["several_evidence"] == scores["by_tag"]["list"]  # f04 alone
    # A fixture document is at most a few naive chunks, fewer than k = 10, so naive-dense
    # returns every chunk of the question's document: its mean length is known exactly.
    chunks = naive_chunks(
        {p.stem: p.read_text(encoding="utf-8") for p in sorted(FIXTURE_CORPUS.glob("*.txt"))}
    )
    docs = [q.doc_id for q in load_questions(FIXTURE_QUESTIONS) if q.answerable]
    lengths = [c.end - c.start for d in docs for c in chunks if c.doc_id == d]
    assert len(lengths) < 10 * len(docs)
    naive = summary["retrievers"]["naive-dense-500"]
    assert naive["mean_passage_chars"] == pytest.approx(sum(lengths) / len(lengths))
    assert list(summary["answers"]) == [
        "backend",
        "answer_contains",
        "citation_hit",
        "refusal_precision",
        "refusal_recall",
        "false_refusal_rate",
        "short_exact",
        "short_asked",
        "by_kind",
    ]
    assert summary["answers"]["backend"] == "extractive"
    # f01, f02, f03 (多少, 多少家, 多少公里) and f05 (How many) ask for a figure; f04 does not.
    assert summary["answers"]["short_asked"] == 4
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| naive-bm25-500 |" in report and "![retrievers](retrievers.png)" in report
    assert "## Questions with several evidence spans" in report
    assert "## By tag (recall@5 / MRR@10 / all@10)" in report and "## By kind" not in report
    printed = capsys.readouterr().out
    assert printed.startswith("6 questions, 5 answerable\nretriever")
    assert f"wrote {out / 'summary.json'}" in printed


def test_scoring_over_http_matches_in_process(tmp_path, fixture_index, fake_embedder):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.retrieval import Retriever

    ours = ("bm25", "dense", "hybrid")
    cfg = RunConfig(FIXTURE_QUESTIONS, tmp_path / "none", ours, source=FIXTURE_CORPUS)
    local = run(cfg, fake_embedder, retriever=Retriever(fixture_index, fake_embedder))
    with TestClient(create_app(retriever=Retriever(fixture_index, fake_embedder))) as client:
        remote = run(
            RunConfig(FIXTURE_QUESTIONS, tmp_path / "none", ours, url="http://testserver",
                      source=FIXTURE_CORPUS),
            client=client,
        )  # fmt: skip
    assert remote == local


NEW_QUESTIONS = [
    # Asked without a doc_id: the retriever must find the document; evidence names it.
    {
        "id": "n1",
        "question": "示范区生产总值增长了多少？",
        "evidence": [{"doc_id": "demo-2020", "text": "全区生产总值增长6.0%"}],
        "answer": "6.0%",
        "answerable": True,
        "lang": "zh",
        "tags": ["year-result"],
        "kind": "year-result",
    },
    {
        "id": "n2",
        "question": "新设企业和轨道交通总里程各是多少？",
        "evidence": [
            {"doc_id": "demo-2020", "text": "新设企业3000家"},
            {"doc_id": "flat-notes", "text": "轨道交通总里程达到五百公里"},
        ],
        "answer": ["3000家", "五百公里"],
        "answerable": True,
        "lang": "zh",
        "tags": ["comparison"],
        "kind": "comparison",
    },
    {
        "id": "n3",
        "question": "示范区2030年生产总值目标是多少？",
        "evidence": [],
        "answer": "",
        "answerable": False,
        "lang": "zh",
        "tags": ["missing-report"],
        "kind": "missing-report",
    },
]


def test_questions_without_doc_id_are_asked_of_the_whole_corpus(
    tmp_path, fixture_index, fake_embedder, capsys
):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.retrieval import Retriever

    questions = write_questions(tmp_path, *NEW_QUESTIONS)
    ours = ("bm25", "hybrid")
    cfg = RunConfig(questions, tmp_path / "none", (*ours, "naive-bm25-500"), answers=True,
                    source=FIXTURE_CORPUS, out=tmp_path / "out")  # fmt: skip
    local = run(cfg, fake_embedder, retriever=Retriever(fixture_index, fake_embedder))
    assert (local["questions"], local["answerable"]) == (3, 2)
    for scores in local["retrievers"].values():
        assert sorted(scores["by_kind"]) == ["comparison", "year-result"]
        assert scores["several_evidence"] == scores["by_kind"]["comparison"]
    assert sorted(local["answers"]["by_kind"]) == ["comparison", "missing-report", "year-result"]
    assert local["answers"]["by_kind"]["missing-report"]["answer_contains"] is None
    with TestClient(create_app(retriever=Retriever(fixture_index, fake_embedder))) as client:
        remote = run(
            RunConfig(questions, tmp_path / "none", ours, url="http://testserver",
                      source=FIXTURE_CORPUS),
            client=client,
        )  # fmt: skip
    assert remote["retrievers"] == {name: local["retrievers"][name] for name in ours}
    from eval.report import render_markdown, render_text

    text = render_text(local)
    assert "questions with several evidence spans" in text
    assert "by kind (R@5 / MRR@10 / all@10)" in text
    report = render_markdown(local)
    assert "## By kind (recall@5 / MRR@10 / all@10)" in report
    assert "| missing-report | 1 |" in report


def test_understand_gets_the_catalogue_and_the_questions_date(monkeypatch):
    import datetime as dt

    from eval import retrievers
    from eval.gold import Evidence, Question

    seen: list[dict[str, object]] = []

    def fake(text, k=None, mode="hybrid", doc_id=None, **kwargs):
        seen.append({"text": text, "k": k, "mode": mode, "doc_id": doc_id, **kwargs})

    q = Question(
        "n1", "上海去年GDP涨了多少？", (Evidence("x", "d"),), ("5%",), True, "zh", (), None,
        dt.date(2025, 2, 20),
    )  # fmt: skip
    holder = type("R", (), {"catalogue": "the catalogue"})()
    monkeypatch.setattr(retrievers, "understand", fake)
    retrievers.understand_question(q, 10, "bm25", holder)
    base = {"text": q.question, "k": 10, "mode": "bm25", "doc_id": None}
    assert seen == [{**base, "catalogue": "the catalogue", "today": dt.date(2025, 2, 20)}]
    assert retrievers.request_body(q, {"query": "?"}) == {"query": "?"}


def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys):
    assert main(["run", "--questions", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot read questions file {tmp_path / 'missing.jsonl'}")
    assert main(["run", "--retrievers", "bm25,colbert"]) == 2
    assert capsys.readouterr().err == (
        "error: unknown retriever colbert: choose from bm25, dense, hybrid, naive-dense-500, "
        "naive-bm25-500\n"
    )


def test_cli_error_has_no_traceback(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({**GOOD, "evidence": ["这句话不在报告里"]}), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "eval", "run", "--questions", str(bad), "--source", "seeds"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: question q1: evidence '这句话不在报告里' is not in {REPORT_ID}: "
        "copy it verbatim from the source text"
    )
