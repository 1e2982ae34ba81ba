"""Source files: .txt as it is, .docx through python-docx, and each bad source's message."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from conftest import FIXTURE_CORPUS
from fakes import HashEmbedder

from indexer.build import build
from indexer.errors import SourceError
from indexer.sources import read_sources
from indexer.store import load_index

REPORT = [
    "2025年示范市政府工作报告",
    "各位代表：",
    "一、2024年工作回顾",
    "全市生产总值增长5%。",
    "二、2025年主要任务",
    "（一）稳增长",
    "新建养老床位800张。",
]


def write_docx(path: Path, paragraphs: list[str]) -> None:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.add_paragraph("   ")  # an empty paragraph leaves no line
    document.save(str(path))


def test_docx_text_is_its_paragraphs_and_offsets_index_it(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    write_docx(src / "demo-2025.docx", REPORT)
    (doc,) = read_sources(src)
    assert (doc.doc_id, doc.source) == ("demo-2025", "demo-2025.docx")
    assert doc.text == "\n".join(REPORT)
    out = tmp_path / "index"
    build(src, out, HashEmbedder(), progress=False)
    index = load_index(out)
    assert [s.ref for s in index.sections] == ["一", "二", "二（一）"]
    for p in index.passages:
        assert doc.text[p.start : p.end] == p.text
    assert any("新建养老床位800张" in p.text for p in index.passages)


def test_txt_and_docx_sources_build_together(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    write_docx(src / "demo-2025.docx", REPORT)
    docs = read_sources(src)
    assert "demo-2025" in {d.doc_id for d in docs}
    txt = next(d for d in docs if d.source.endswith(".txt"))
    assert txt.text == (src / txt.source).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip file at all", "cannot be read as a Word document"),
        (b"PK\x03\x04 truncated", "cannot be read as a Word document"),
    ],
)
def test_damaged_docx_names_the_file_and_the_fix(tmp_path: Path, content: bytes, message: str):
    src = tmp_path / "src"
    src.mkdir()
    (src / "broken.docx").write_bytes(content)
    with pytest.raises(SourceError, match=message) as err:
        read_sources(src)
    assert "broken.docx" in str(err.value) and "save it again as .docx" in str(err.value)


def test_docx_without_text_is_refused(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    write_docx(src / "blank.docx", [])
    with pytest.raises(SourceError, match=r"blank.docx is empty"):
        read_sources(src)


def test_two_files_with_one_doc_id_are_refused(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "report.txt").write_text("一、总体\n内容。\n", encoding="utf-8")
    write_docx(src / "report.docx", REPORT)
    with pytest.raises(SourceError, match=r"would both be document 'report'"):
        read_sources(src)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.txt").write_text("一、总体\n" + "内容。" * 200, encoding="utf-8")
    with pytest.raises(SourceError, match=r"big.txt is .* over the 0 MB limit"):
        read_sources(src, max_bytes=100)
    assert [d.doc_id for d in read_sources(src)] == ["big"]


def test_a_failed_build_leaves_the_index_as_it_was(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    out = tmp_path / "index"
    build(src, out, HashEmbedder(), progress=False)
    before = [p.id for p in load_index(out).passages]
    (src / "broken.docx").write_bytes(b"not a zip file at all")
    with pytest.raises(SourceError, match="broken.docx"):
        build(src, out, HashEmbedder(), progress=False)
    assert [p.id for p in load_index(out).passages] == before
