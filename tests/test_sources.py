"""Source files: .txt as it is, .docx through python-docx, and each bad source's message."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import docx
import pytest
from conftest import FIXTURE_CORPUS, SEEDS
from fakes import HashEmbedder

from indexer.build import build
from indexer.chunk import chunk_document
from indexer.errors import SourceError
from indexer.parse import parse
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


@pytest.mark.parametrize(
    "name", ["old.doc", "scan.pdf", "a.wps", "a.rtf", "a.odt", "a.html", "a.HTM", "a.xls",
             "a.xlsx", "a.pages", "31省区市政府工作报告.zip"]
)  # fmt: skip
def test_a_format_that_cannot_be_read_is_refused(tmp_path: Path, name: str):
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    (src / name).write_bytes(b"%PDF-1.4 or whatever")
    with pytest.raises(SourceError) as err:
        read_sources(src)
    fix = "extract the reports in it" if name.endswith(".zip") else "save it as .docx or as a UTF-8"
    assert str(err.value).startswith(f"{src / name} is a {Path(name).suffix.lower()} file")
    assert fix in str(err.value) and f"or move it out of {src}" in str(err.value)


def test_hidden_files_lock_files_notes_and_the_catalogue_are_not_reports(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "report.TXT").write_text("一、总体\n内容。\n", encoding="utf-8")
    (src / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (src / ".git").mkdir()
    (src / ".git" / "notes.txt").write_text("not a report", encoding="utf-8")
    (src / "~$report.docx").write_bytes(b"\x0cWPS user")  # Word's lock file of an open report
    (src / "README.md").write_text("# 说明", encoding="utf-8")
    (src / "catalogue.toml").write_text('["report.TXT"]\nyear = 2019\n', encoding="utf-8")
    assert [(d.doc_id, d.source) for d in read_sources(src)] == [("report", "report.TXT")]


def test_an_encrypted_docx_says_so(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    # Word encrypts a .docx with a password into an OLE compound file (as an old .doc is).
    (src / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(SourceError) as err:
        read_sources(src)
    assert str(err.value).startswith(f"{src / 'locked.docx'} is not a .docx inside but an OLE")
    assert "remove any password, and save it as .docx" in str(err.value)


def _add(name: str, content: bytes | list[str]):
    def spoil(src: Path) -> None:
        if isinstance(content, list):
            write_docx(src / name, content)
        else:
            (src / name).write_bytes(content)

    return spoil


SPOILERS = {
    "damaged docx": (_add("broken.docx", b"PK\x03\x04 truncated"), "broken.docx"),
    "not a zip": (_add("renamed.docx", b"<html>saved as web page</html>"), "renamed.docx"),
    "encrypted": (_add("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)), "locked"),
    "no text": (_add("blank.docx", []), "blank.docx is empty"),
    "over the limit": (_add("big.txt", "内容。\n".encode() * 60_000), "big.txt is 0.6 MB"),
    "not UTF-8": (_add("gbk.txt", "上海".encode("gbk")), "gbk.txt is not UTF-8"),
    "unsupported": (_add("report.pdf", b"%PDF-1.7"), "report.pdf is a .pdf file"),
    "one doc_id twice": (_add("demo-2020.docx", REPORT), "would both be document 'demo-2020'"),
    "malformed catalogue": (_add("catalogue.toml", b'["a.txt"]\nyear = "x"\n'), "catalogue.toml"),
}


@pytest.mark.parametrize("case", sorted(SPOILERS))
def test_a_bad_source_leaves_the_existing_index_untouched(tmp_path: Path, case: str):
    spoil, named = SPOILERS[case]
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    out = tmp_path / "index"
    build(src, out, HashEmbedder(), progress=False)
    before = os.readlink(out), (out / "manifest.json").read_bytes()
    spoil(src)
    with pytest.raises(SourceError, match=re.escape(named)):
        build(src, out, HashEmbedder(), progress=False, max_source_bytes=2**19)
    assert (os.readlink(out), (out / "manifest.json").read_bytes()) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    load_index(out)


def test_every_passage_of_every_seed_indexes_its_text():
    """Offsets are exact for .docx sources too: they index the text read (SourceDoc.text)."""
    docs = read_sources(SEEDS)
    assert sum(d.source.endswith(".docx") for d in docs) == 10
    for doc in docs:
        passages = chunk_document(doc.doc_id, parse(doc.text, doc.source), 160)
        assert passages, doc.source
        for p in passages:
            assert doc.text[p.start : p.end] == p.text, (doc.source, p.id)
        if doc.source.endswith(".txt"):
            assert doc.text == (SEEDS / doc.source).read_bytes().decode("utf-8")


def test_a_docx_that_would_unpack_past_the_bound_is_refused(tmp_path: Path):
    import zipfile

    from indexer.sources import MAX_DOCX_UNPACKED_BYTES, docx_text

    good = tmp_path / "demo-2025.docx"
    write_docx(good, REPORT)
    with zipfile.ZipFile(good) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    assert docx_text(good, max_unpacked=unpacked).splitlines()[0] == REPORT[0]
    with pytest.raises(SourceError) as err:
        docx_text(good, max_unpacked=unpacked - 1)
    assert "demo-2025.docx would unpack to" in str(err.value) and "zip bomb" in str(err.value)
    # A real bomb: a few hundred KB that unpack to more than the default bound.
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (MAX_DOCX_UNPACKED_BYTES + 1))
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(SourceError, match="would unpack to 100 MB, over the 100 MB"):
        docx_text(bomb)
