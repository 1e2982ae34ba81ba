"""Building, the on-disk format, atomic swaps, load-time checks and bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_CORPUS, ROOT
from fakes import HashEmbedder

from indexer import store
from indexer.build import build
from indexer.errors import IndexLoadError, ModelError, SourceError
from indexer.sources import read_sources
from indexer.store import load_index
from indexer.types import DocumentMeta


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_CORPUS, src)
    return src


def test_manifest_and_files(fixture_index_dir: Path, fixture_index):
    manifest = json.loads((fixture_index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == "fake-hash-64"
    assert manifest["dim"] == 64
    assert manifest["passage_count"] == len(fixture_index.passages) == 19
    docs = {d["doc_id"]: d for d in manifest["documents"]}
    assert sorted(docs) == ["demo-2020", "flat-notes", "unsafe"]
    demo = docs["demo-2020"]
    assert demo["source"] == "demo-2020.txt"
    assert demo["title"] == "示范区政府工作报告"
    assert (demo["date"], demo["year"], demo["speaker"]) == ("2020-02-03", 2020, "李明")
    assert len(demo["sha256"]) == 64
    assert set(manifest["files"]) >= {
        "passages.jsonl",
        "sections.json",
        "dense.faiss",
        "embed_keys.json",
    }
    assert any(name.startswith("bm25/") for name in manifest["files"])
    for name, digest in manifest["files"].items():
        assert store.sha256_file(fixture_index_dir / name) == digest
    row = json.loads(
        (fixture_index_dir / "passages.jsonl").read_text(encoding="utf-8").split("\n")[0]
    )
    assert set(row) == {
        "id",
        "doc_id",
        "heading_path",
        "section",
        "paragraph",
        "start",
        "end",
        "text",
    }


def test_passages_point_into_their_sources(fixture_index):
    texts = {p.stem: p.read_text(encoding="utf-8") for p in FIXTURE_CORPUS.glob("*.txt")}
    for p in fixture_index.passages:
        assert texts[p.doc_id][p.start : p.end] == p.text


def test_sections_span_their_passages(fixture_index):
    by_ref = {(s.doc_id, s.ref): s for s in fixture_index.sections}
    part = by_ref[("demo-2020", "二")]
    assert part.title == "二、2020年主要任务"
    assert part.passage_ids == (
        "demo-2020-0007",
        "demo-2020-0008",
        "demo-2020-0009",
        "demo-2020-0010",
    )
    assert (part.start, part.end) == (228, 364)


def test_rebuild_of_unchanged_sources_embeds_nothing(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    emb = HashEmbedder()
    first = build(corpus, out, emb, progress=False)
    assert (first.embedded, first.reused) == (19, 0)
    calls = emb.calls
    second = build(corpus, out, emb, progress=False)
    assert (second.embedded, second.reused) == (0, 19)
    assert emb.calls == calls
    # One edited paragraph: only its passage is embedded again.
    demo = corpus / "demo-2020.txt"
    demo.write_text(demo.read_text(encoding="utf-8").replace("5万个", "6万个"), encoding="utf-8")
    third = build(corpus, out, emb, progress=False)
    assert (third.embedded, third.reused) == (1, 18)


def test_failed_build_leaves_previous_index(corpus: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    before = load_index(out).manifest["created_at"], os.readlink(out)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "write_jsonl", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build(corpus, out, HashEmbedder(), progress=False)
    assert (load_index(out).manifest["created_at"], os.readlink(out)) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_the_previous_version_stays_and_older_ones_go(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    links = []
    for _ in range(3):
        build(corpus, out, HashEmbedder(), progress=False)
        links.append(os.readlink(out))
    assert len(set(links)) == 3
    versions = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".index.v-"))
    # The serving version and the one before it: a reader of the previous one finds its files.
    assert versions == sorted(links[1:])
    assert len(load_index(tmp_path / links[1]).passages) == len(load_index(out).passages)


KILLED_BUILD = """
import sys, time
sys.path.insert(0, {tests!r})
from fakes import HashEmbedder
from indexer import store
from indexer.build import build
real = store.write_jsonl
def slow(path, rows):
    real(path, rows)
    print("writing", flush=True)
    time.sleep(60)
store.write_jsonl = slow
build({src!r}, {out!r}, HashEmbedder(), progress=False)
"""


def test_build_killed_midway_leaves_previous_index_loadable(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    target = os.readlink(out)
    (corpus / "demo-2020.txt").write_text("　　一、新内容\n\n　　全新的一段。\n", encoding="utf-8")
    code = KILLED_BUILD.format(tests=str(ROOT / "tests"), src=str(corpus), out=str(out))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"  # in the middle of writing
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert os.readlink(out) == target
    index = load_index(out)  # the old index, intact
    assert any(p.text.endswith("新设企业3000家，实际利用外资12亿美元。") for p in index.passages)
    # The next build clears the dead build's temporary folder and succeeds.
    build(corpus, out, HashEmbedder(), progress=False)
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    assert any(p.text.endswith("全新的一段。") for p in load_index(out).passages)


def test_damaged_file_is_refused_with_the_fix(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    with (out / "passages.jsonl").open("a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(IndexLoadError) as err:
        load_index(out)
    assert "passages.jsonl is damaged" in str(err.value)
    assert "make index" in str(err.value)


def test_other_model_is_refused(fixture_index_dir: Path):
    with pytest.raises(ModelError) as err:
        load_index(fixture_index_dir, expected_model="m3e-small")
    msg = str(err.value)
    assert "built with embedding model 'fake-hash-64'" in msg
    assert "EMBEDDING_MODEL is 'm3e-small'" in msg and "make index" in msg
    with pytest.raises(ModelError, match="64-dimensional vectors but the model gives 512"):
        load_index(fixture_index_dir, expected_dim=512)


def test_changed_source_is_refused(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    load_index(out, source_dir=corpus)
    (corpus / "flat-notes.txt").write_text("　　改过的内容。\n", encoding="utf-8")
    with pytest.raises(IndexLoadError, match=r"flat-notes.txt changed since the index was built"):
        load_index(out, source_dir=corpus)


def test_missing_index_and_other_format_version(tmp_path: Path, corpus: Path):
    with pytest.raises(IndexLoadError, match=r"no index at .*manifest.json is missing.*make index"):
        load_index(tmp_path / "nowhere")
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version 99"):
        load_index(out)


def test_not_utf8_names_file_and_byte(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "gbk.txt").write_bytes("　　一、总体\n".encode() + "上海".encode("gbk"))
    with pytest.raises(SourceError) as err:
        read_sources(src)
    # 2 ideographic spaces + 一、总体 = 6 chars of 3 bytes (18), then the newline: byte 19.
    assert "gbk.txt is not UTF-8: byte 19 (0xc9)" in str(err.value)


def test_empty_file_and_missing_folder(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "empty.txt").write_text(" \n\u3000\n", encoding="utf-8")
    with pytest.raises(SourceError, match="empty.txt is empty"):
        read_sources(src)
    with pytest.raises(SourceError, match="does not exist"):
        read_sources(tmp_path / "missing")
    (tmp_path / "none").mkdir()
    with pytest.raises(SourceError, match="has no .txt or .docx files"):
        read_sources(tmp_path / "none")


def test_unknown_model_folder_is_refused():
    from indexer.encoders import load_embedder

    with pytest.raises(ModelError, match="does not exist"):
        load_embedder("./models/no-such-model")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_cli_bad_input_keeps_existing_index(tmp_path: Path, corpus: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    target = os.readlink(out)
    (corpus / "bad.txt").write_bytes(b"\xff\xfe")
    started = time.monotonic()
    result = run_cli("build", "--source", str(corpus), "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert "bad.txt is not UTF-8: byte 0 (0xff)" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.readlink(out) == target
    load_index(out)
    assert time.monotonic() - started < 600  # sanity bound, not a speed target


def test_cli_unknown_model_keeps_existing_index(tmp_path: Path, corpus: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    result = run_cli(
        "build", "--source", str(corpus), "--out", str(out), "--model", "./nope", "--quiet"
    )
    assert result.returncode == 2
    assert "embedding model folder './nope' does not exist" in result.stderr
    load_index(out)


def test_texts_are_stored_as_read_and_listed(fixture_index_dir: Path, fixture_index):
    manifest = json.loads((fixture_index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(n for n in manifest["files"] if n.startswith("texts/")) == [
        "texts/demo-2020.txt",
        "texts/flat-notes.txt",
        "texts/unsafe.txt",
    ]
    for source in sorted(FIXTURE_CORPUS.glob("*.txt")):
        stored = fixture_index_dir / store.TEXTS / source.name
        assert stored.read_bytes() == source.read_bytes()  # a .txt source's text is the file
        assert fixture_index.text(source.stem) == source.read_bytes().decode("utf-8")
    for p in fixture_index.passages:
        assert fixture_index.text(p.doc_id)[p.start : p.end] == p.text


def test_every_passage_of_every_seed_indexes_the_stored_text(tmp_path: Path):
    out = tmp_path / "index"
    report = build(ROOT / "seeds", out, HashEmbedder(), progress=False)
    index = load_index(out)
    assert report.documents == len(index.documents) == 22
    texts = {d.doc_id: d.text for d in read_sources(ROOT / "seeds")}
    assert {d.doc_id: index.text(d.doc_id) for d in index.documents} == texts
    for p in index.passages:
        assert texts[p.doc_id][p.start : p.end] == p.text, p.id
    beijing = index.document("beijing-2025-government-work-report")
    assert beijing is not None and beijing.source.endswith(".docx")
    assert (beijing.title, beijing.region, beijing.level, beijing.year) == (
        "2025年北京市政府工作报告",
        "北京市",
        "provincial",
        2025,
    )
    assert (beijing.extra["parts"], beijing.extra["sections"]) == (2, 11)
    assert report.warnings == []


def test_crlf_and_byte_order_mark_are_kept_exactly(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    raw = "\ufeff测试报告\r\n\r\n　　一、总体情况\r\n\r\n　　今年完成投资100亿元。\r\n".encode()
    (src / "crlf.txt").write_bytes(raw)
    build(src, tmp_path / "index", HashEmbedder(), progress=False)
    index = load_index(tmp_path / "index")
    assert (tmp_path / "index" / "texts" / "crlf.txt").read_bytes() == raw
    assert index.text("crlf") == raw.decode("utf-8")
    for p in index.passages:
        assert index.text("crlf")[p.start : p.end] == p.text


def test_an_index_without_texts_says_to_rebuild(corpus: Path, tmp_path: Path):
    out = tmp_path / "index"
    build(corpus, out, HashEmbedder(), progress=False)
    # As an index built before texts were stored: no texts/ folder, none in the manifest.
    shutil.rmtree(out / "texts")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("texts/")}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = load_index(out)
    with pytest.raises(IndexLoadError) as err:
        index.text("demo-2020")
    assert str(err.value) == (
        f"index at {out} holds no text of 'demo-2020' (texts/demo-2020.txt is missing: the "
        "index was built before texts were stored): run `make index` to rebuild it"
    )
    with pytest.raises(LookupError, match="no document 'nope' in the index: known documents "):
        index.text("nope")


@pytest.mark.parametrize("doc_id", ["", ".", "..", "../manifest", "a/b", "a\\b", "a\0b"])
def test_a_text_path_stays_inside_the_index(tmp_path: Path, doc_id: str):
    with pytest.raises(ValueError, match="cannot name a file"):
        store.text_path(tmp_path, doc_id)


def test_document_meta_round_trip_with_level_and_older_manifests():
    meta = DocumentMeta("d", "d.txt", "0" * 64, "2019年上海市政府工作报告", region="上海市",
                        year=2019, level="provincial", chars=9, extra={"parts": 3})  # fmt: skip
    assert DocumentMeta.from_dict(meta.to_dict()) == meta
    assert meta.to_dict()["level"] == "provincial"
    older = {"doc_id": "d", "source": "d.txt", "sha256": "0" * 64, "title": "政府工作报告",
             "region": "上海", "year": 2018, "speaker_role": "上海市市长"}  # fmt: skip
    loaded = DocumentMeta.from_dict(older)
    assert (loaded.level, loaded.region) == (None, "上海")
    assert loaded.extra == {"speaker_role": "上海市市长"}
