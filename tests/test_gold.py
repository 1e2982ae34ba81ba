"""The gold-set format (object evidence, list answers, today, kind), where evidence is looked
for (the index's texts, .docx sources), and the gold set itself checked against seeds/."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from fakes import write_questions

from eval.errors import EvalError
from eval.gold import (
    Evidence,
    Question,
    Span,
    load_questions,
    locate_evidence,
    sources_from_folder,
    sources_from_index,
)
from indexer.sources import read_sources

GOLD = ROOT / "eval" / "questions.jsonl"
OLD_REPORT = "shanghai-2018-government-work-report"


NEW = {
    "id": "n1",
    "question": "2019年和2020年上海GDP分别增长了多少？",
    "evidence": [
        {"doc_id": "sh-2020", "text": "生产总值增长6%"},
        {"doc_id": "sh-2021", "text": "生产总值增长1.7%"},
    ],
    "answer": ["6%", "1.7%"],
    "answerable": True,
    "lang": "zh",
    "tags": ["comparison"],
    "kind": "comparison",
    "today": "2025-03-01",
}


# ---- the format -----------------------------------------------------------------------------


def test_a_new_line_reads_into_typed_fields(tmp_path):
    old = {**NEW, "id": "o1", "evidence": ["生产总值增长6%"], "answer": "6%", "doc_id": "sh-2020"}
    for key in ("kind", "today"):
        old.pop(key)
    new, plain = load_questions(write_questions(tmp_path, NEW, {**old, "tags": []}))
    assert new.evidence == (
        Evidence("生产总值增长6%", "sh-2020"),
        Evidence("生产总值增长1.7%", "sh-2021"),
    )
    assert (new.answer, new.doc_id, new.today, new.kind) == (
        ("6%", "1.7%"),
        None,
        date(2025, 3, 1),
        "comparison",
    )
    # A plain string is evidence in the question's doc_id; a string answer is one part.
    assert (plain.evidence, plain.answer, plain.doc_id, plain.today, plain.kind) == (
        (Evidence("生产总值增长6%"),),
        ("6%",),
        "sh-2020",
        None,
        None,
    )


def test_an_unanswerable_question_has_no_answer_parts(tmp_path):
    row = {**NEW, "evidence": [], "answer": "", "answerable": False, "kind": "missing-report"}
    (q,) = load_questions(write_questions(tmp_path, row))
    assert (q.answer, q.evidence, q.answerable) == ((), (), False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"evidence": ["生产总值增长6%", "生产总值增长1.7%"]},
            r"\(question n1\): evidence 1 is a plain string but the question has no doc_id: "
            r'write it as \{"doc_id": "\.\.\.", "text": "\.\.\."\}',
        ),
        (
            {"evidence": [{"doc_id": "sh-2020", "text": "x"}, {"text": "生产总值增长1.7%"}]},
            r"evidence 2 must have a non-empty 'doc_id' and 'text'",
        ),
        (
            {"evidence": [{"doc_id": "sh-2020", "text": ""}, {"doc_id": "b", "text": "y"}]},
            r"evidence 1 must have a non-empty 'doc_id' and 'text'",
        ),
        (
            {"evidence": [{"doc_id": "a", "text": "x", "page": 3}, {"doc_id": "b", "text": "y"}]},
            r"evidence 1 has unknown field 'page': an evidence object holds only 'doc_id' and "
            r"'text'",
        ),
        ({"evidence": [7, "x"]}, r"evidence 1 must be a non-empty string or an object"),
        (
            {"doc_id": "sh-2020"},
            r"evidence 2 is in 'sh-2021' but the question is asked within doc_id 'sh-2020'",
        ),
        (
            {"answer": ["6%", ""]},
            r"field 'answer' must be a string or a list of non-empty strings, got \['6%', ''\]",
        ),
        ({"answer": 6}, r"field 'answer' must be a string or a list of non-empty strings"),
        ({"answer": []}, r"an answerable question needs 'evidence' and 'answer'"),
        ({"today": "2025-3-1"}, r"'today' must be a date written YYYY-MM-DD, got '2025-3-1'"),
        ({"today": "2025-02-30"}, r"'today' must be a date written YYYY-MM-DD"),
        ({"today": 20250301}, r"'today' must be a date written YYYY-MM-DD"),
        ({"kind": "trivia"}, r"'kind' must be one of year-target, year-result, .*, everyday, got"),
        (
            {"kind": "missing-report"},
            r"a missing-report question must have answerable false",
        ),
        (
            {"evidence": [{"doc_id": "sh-2020", "text": "生产总值增长6%"}]},
            r"a comparison question needs an evidence item per report",
        ),
    ],
)
def test_bad_lines_are_refused_with_the_reason(tmp_path, change, message):
    with pytest.raises(EvalError, match=message):
        load_questions(write_questions(tmp_path, {**NEW, **change}))


# ---- locating evidence ----------------------------------------------------------------------


def _q(qid: str, *evidence: Evidence, doc_id: str | None = None) -> Question:
    return Question(qid, "?", evidence, ("x",), True, "zh", (), doc_id)


def test_each_evidence_is_looked_for_in_its_own_document():
    sources = {"a": "甲乙丙。丁戊。", "b": "丁戊己庚。"}
    q = _q("q1", Evidence("丁戊", "a"), Evidence("丁戊己", "b"))
    assert locate_evidence([q], sources) == {"q1": [Span("a", 4, 6), Span("b", 0, 3)]}
    # A plain evidence falls back to the question's doc_id.
    assert locate_evidence([_q("q2", Evidence("丁戊"), doc_id="b")], sources) == {
        "q2": [Span("b", 0, 2)]
    }


def test_evidence_without_a_document_or_in_an_unknown_one_names_the_question():
    sources = {"a": "甲", "b": "乙"}
    with pytest.raises(EvalError) as exc:
        locate_evidence([_q("q3", Evidence("甲"))], sources)
    assert str(exc.value) == (
        "question q3: evidence '甲' names no document and the question has no doc_id: "
        "give the evidence's doc_id"
    )
    with pytest.raises(
        EvalError, match=r"question q4 names document 'c'.*known documents are a, b"
    ):
        locate_evidence([_q("q4", Evidence("甲", "a"), Evidence("丙", "c"))], sources)
    with pytest.raises(EvalError, match=r"question q5: evidence '乙' is not in a"):
        locate_evidence([_q("q5", Evidence("乙", "a"))], sources)


def _docx(path: Path, paragraphs: list[str]) -> None:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


def test_docx_evidence_is_located_in_the_text_the_indexer_reads(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    _docx(
        folder / "henan-2025.docx",
        ["2025年河南省政府工作报告", "", "  主要预期目标是：粮食产量1300亿斤以上。  ", "各位代表"],
    )
    (folder / "shanghai-2025.txt").write_text("全市生产总值增长5%左右。\n", encoding="utf-8")
    sources = sources_from_folder(folder)
    assert sources == {doc.doc_id: doc.text for doc in read_sources(folder)}
    # Empty paragraphs dropped, the others stripped and joined by newlines.
    assert sources["henan-2025"] == (
        "2025年河南省政府工作报告\n主要预期目标是：粮食产量1300亿斤以上。\n各位代表"
    )
    q = _q(
        "q1",
        Evidence("粮食产量1300亿斤以上", "henan-2025"),
        Evidence("增长5%左右", "shanghai-2025"),
    )
    assert locate_evidence([q], sources) == {
        "q1": [Span("henan-2025", 23, 35), Span("shanghai-2025", 6, 12)]
    }


# ---- sources_from_index: the texts the index holds, or the .txt sources ----------------------


def _index(tmp_path: Path, texts: dict[str, str], sources: dict[str, str], listed: bool) -> Path:
    """A folder with a manifest naming .txt/.docx sources and, for `texts`, texts/<id>.txt."""
    index = tmp_path / "index"
    (index / "texts").mkdir(parents=True)
    files = {}
    for doc_id, text in texts.items():
        raw = text.encode("utf-8")
        (index / "texts" / f"{doc_id}.txt").write_bytes(raw)
        files[f"texts/{doc_id}.txt"] = hashlib.sha256(raw).hexdigest()
    source_dir = tmp_path / "src"
    source_dir.mkdir(exist_ok=True)
    documents = []
    for doc_id, name in sources.items():
        path = source_dir / name
        if not path.exists():
            path.write_text(f"{doc_id} 的原文", encoding="utf-8")
        documents.append(
            {
                "doc_id": doc_id,
                "source": name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    manifest = {"format_version": 1, "documents": documents, "files": files if listed else {}}
    (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return index


def test_sources_from_index_prefer_the_indexed_texts(tmp_path):
    index = _index(
        tmp_path,
        texts={"bj": "北京：城镇新增就业不少于26万人"},
        sources={"bj": "bj.docx", "sh": "sh.txt"},
        listed=True,
    )
    # bj's source file is not even a Word document: its text comes from the index.
    assert sources_from_index(index, tmp_path / "src") == {
        "bj": "北京：城镇新增就业不少于26万人",
        "sh": "sh 的原文",
    }


def test_an_indexed_text_that_differs_from_the_manifest_is_refused(tmp_path):
    index = _index(tmp_path, {"bj": "原来的文本"}, {"bj": "bj.docx"}, listed=True)
    (index / "texts" / "bj.txt").write_text("改过的文本", encoding="utf-8")
    with pytest.raises(EvalError) as exc:
        sources_from_index(index, tmp_path / "src")
    assert str(exc.value) == (
        f"index file {index / 'texts' / 'bj.txt'} is damaged (its sha256 differs from the "
        "manifest): run `make index`"
    )
    # Not listed in the manifest: read as it is.
    index = _index(tmp_path / "unlisted", {"bj": "原来的文本"}, {"bj": "bj.docx"}, listed=False)
    (index / "texts" / "bj.txt").write_text("改过的文本", encoding="utf-8")
    assert sources_from_index(index, tmp_path / "unlisted" / "src") == {"bj": "改过的文本"}


def test_a_docx_document_without_an_indexed_text_is_refused(tmp_path):
    index = _index(tmp_path, {}, {"bj": "bj.docx"}, listed=True)
    with pytest.raises(EvalError) as exc:
        sources_from_index(index, tmp_path / "src")
    assert str(exc.value) == (
        f"the index at {index} does not hold the text of 'bj' (texts/bj.txt) and its source "
        f"{tmp_path / 'src' / 'bj.docx'} is not a .txt file: rebuild the index with "
        "`make index`, or pass --source with the report folder"
    )


def test_a_changed_txt_source_is_refused(tmp_path):
    index = _index(tmp_path, {}, {"sh": "sh.txt"}, listed=True)
    (tmp_path / "src" / "sh.txt").write_text("改过了", encoding="utf-8")
    with pytest.raises(EvalError, match=r"sh\.txt changed since the index at .* was built"):
        sources_from_index(index, tmp_path / "src")


# ---- the gold set itself, against the reports in seeds/ ---------------------------------------


@pytest.fixture(scope="module")
def gold() -> list[Question]:
    return load_questions(GOLD)


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    return {doc.doc_id: doc.text for doc in read_sources(SEEDS)}


def test_every_gold_evidence_is_found_once_in_the_seed_reports(gold, seeds):
    spans = locate_evidence(gold, seeds)
    assert sorted(spans) == sorted(q.id for q in gold if q.answerable)
    for q in gold:
        for span, evidence in zip(spans.get(q.id, []), q.evidence, strict=True):
            assert seeds[span.doc_id][span.start : span.end] == evidence.text


def test_the_gold_set_has_the_kinds_it_promises(gold):
    kinds = Counter(q.kind for q in gold)
    assert kinds[None] == 288  # the hand-written questions on the Shanghai 2018 report
    minimum = {
        "year-target": 15,
        "year-result": 15,
        "latest": 8,
        "comparison": 10,
        "missing-report": 8,
        "docx": 12,
        "near-miss": 60,
        "everyday": 60,
    }
    assert {k: kinds[k] for k in minimum} == {k: max(kinds[k], n) for k, n in minimum.items()}
    assert sum(q.today is not None for q in gold) >= 3
    for q in gold:
        if q.kind is None:
            assert q.doc_id == OLD_REPORT
        elif q.kind in ("near-miss", "everyday"):
            # Asked within the Shanghai 2018 report; a near miss may instead name the
            # region and year of another report. A near miss has no answer in its report.
            assert q.kind in q.tags, q.id
            assert q.answerable == (q.kind == "everyday"), q.id
            assert q.doc_id == OLD_REPORT or (q.kind == "near-miss" and q.doc_id is None), q.id
        else:
            # New questions name no document: the service must find the report.
            assert q.doc_id is None and q.kind in q.tags, q.id
            assert q.answerable == (q.kind != "missing-report"), q.id


def _doc_year(doc_id: str) -> int:
    found = re.search(r"-(\d{4})-", doc_id)
    assert found, doc_id
    return int(found.group(1))


def _asked_year(q: Question) -> int | None:
    """The year a question asks about: written out, or 今年/去年 on its `today`."""
    years = re.findall(r"(20\d{2})", q.question)
    if len(years) == 1:
        return int(years[0])
    if q.today is not None and "今年" in q.question:
        return q.today.year
    if q.today is not None and "去年" in q.question:
        return q.today.year - 1
    return None


def test_the_year_asked_picks_the_report(gold, seeds):
    """A target of year Y is in report Y, an outcome in report Y+1, a latest question in
    its region's newest report, a comparison in several reports, a docx question in a .docx."""
    sources = {doc.doc_id: doc.source for doc in read_sources(SEEDS)}
    newest: dict[str, int] = {}
    for doc_id in seeds:
        region = doc_id.split("-")[0]
        newest[region] = max(newest.get(region, 0), _doc_year(doc_id))
    for q in gold:
        docs = [e.doc_id for e in q.evidence]
        assert all(d is not None for d in docs) or q.doc_id is not None, q.id
        if q.kind in ("year-target", "year-result"):
            year = _asked_year(q)
            assert year is not None, q.id
            want = year if q.kind == "year-target" else year + 1
            assert {_doc_year(d) for d in docs if d} == {want}, q.id
        elif q.kind == "latest":
            assert all(_doc_year(d) == newest[d.split("-")[0]] for d in docs if d), q.id
        elif q.kind == "comparison":
            assert len(set(docs)) == len(docs) >= 2, q.id
        elif q.kind in ("docx", "region"):
            assert all(sources[d].endswith(".docx") for d in docs if d), q.id
