"""Report metadata (indexer.metadata) and structure of every shipped report, read without a
model; reports the reader was not tuned on; the catalogue and its errors."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import pytest
from conftest import SEEDS
from fakes import HashEmbedder
from test_sources import write_docx

from indexer import metadata
from indexer.build import build
from indexer.errors import SourceError
from indexer.metadata import Catalogue, ReportMeta, describe, read_catalogue
from indexer.parse import parse, parse_title_block
from indexer.sources import SourceDoc, read_sources
from indexer.store import load_index

NAT, PROV = "national", "provincial"
SH15 = "上海市第十五届人民代表大会第一次会议"
BEIJING_DATE_LINE = (
    "2025年1月14日在北京市第十六届人民代表大会第三次会议上北京市市长 殷勇同志作政府工作报告。"
)
NPC14 = "第十四届全国人民代表大会第二次会议"


def _venue(region: str, term: str, session: str) -> str:
    return f"{region}第{term}届人民代表大会第{session}次会议"


# file stem -> title, region, level, year, date, speaker, venue; checked against the texts.
SHIPPED: dict[str, tuple[str, str, str, int, str | None, str, str | None]] = {
    "beijing-2025": ("2025年北京市政府工作报告", "北京市", PROV, 2025, "2025-01-14", "殷勇",
                     _venue("北京市", "十六", "三")),
    "guangdong-2025": ("2025年广东省政府工作报告", "广东省", PROV, 2025, "2025-01-15", "王伟中",
                       _venue("广东省", "十四", "三")),
    "hainan-2025": ("2025年海南省政府工作报告", "海南省", PROV, 2025, "2025-01-14", "刘小明",
                    _venue("海南省", "七", "四")),
    "henan-2025": ("2025年河南省政府工作报告", "河南省", PROV, 2025, "2025-01-18", "王凯",
                   _venue("河南省", "十四", "三")),
    "hubei-2025": ("2025年湖北省政府工作报告", "湖北省", PROV, 2025, "2025-01-16", "李殿勋",
                   _venue("湖北省", "十四", "三")),
    "jiangsu-2025": ("2025年江苏省政府工作报告", "江苏省", PROV, 2025, "2025-01-19", "许昆林",
                     _venue("江苏省", "十四", "三")),
    "liaoning-2025": ("2025年辽宁省政府工作报告", "辽宁省", PROV, 2025, "2025-01-16", "李乐成",
                      _venue("辽宁省", "十四", "三")),
    "sichuan-2025": ("2025年四川省政府工作报告", "四川省", PROV, 2025, "2025-01-20", "施小琳",
                     _venue("四川省", "十四", "四")),
    "tianjin-2025": ("2025年天津市政府工作报告", "天津市", PROV, 2025, "2025-01-14", "张工",
                     _venue("天津市", "十八", "三")),
    "zhejiang-2025": ("2025年浙江省政府工作报告", "浙江省", PROV, 2025, "2025-01-14", "刘捷",
                      _venue("浙江省", "十四", "三")),
    "national-2018": ("2018年国务院政府工作报告", "全国", NAT, 2018, None, "李克强", None),
    "national-2019": ("2019年国务院政府工作报告", "全国", NAT, 2019, None, "李克强", None),
    "national-2024": ("2024年国务院政府工作报告", "全国", NAT, 2024, "2024-03-05", "李强", NPC14),
    "shanghai-2017": ("2017年上海市政府工作报告", "上海市", PROV, 2017, None, "杨雄", None),
    "shanghai-2018": ("2018年上海市政府工作报告", "上海市", PROV, 2018, "2018-01-23", "应勇", SH15),
    "shanghai-2019": ("2019年上海市政府工作报告", "上海市", PROV, 2019, None, "应勇", None),
    "shanghai-2020": ("2020年上海市政府工作报告", "上海市", PROV, 2020, None, "应勇", None),
    "shanghai-2021": ("2021年上海市政府工作报告", "上海市", PROV, 2021, None, "龚正", None),
    "shanghai-2022": ("2022年上海市政府工作报告", "上海市", PROV, 2022, None, "龚正", None),
    "shanghai-2023": ("2023年上海市政府工作报告", "上海市", PROV, 2023, None, "龚正", None),
    "shanghai-2024": ("2024年上海市政府工作报告", "上海市", PROV, 2024, None, "龚正", None),
    "shanghai-2025": ("2025年上海市政府工作报告", "上海市", PROV, 2025, "2025-01-15", "龚正",
                      _venue("上海市", "十六", "三")),
}  # fmt: skip
# Only these speakers come from seeds/catalogue.toml: their texts do not name them.
FROM_CATALOGUE = {"national-2018", "national-2019", "shanghai-2024"}


@cache
def shipped() -> dict[str, SourceDoc]:
    return {s.doc_id.removesuffix("-government-work-report"): s for s in read_sources(SEEDS)}


def meta_of(src: SourceDoc, catalogue: Catalogue, source: str | None = None) -> ReportMeta:
    return describe(source or src.source, src.text, parse(src.text), catalogue)


def test_every_seed_is_listed():
    assert sorted(shipped()) == sorted(SHIPPED)
    assert [name for name, s in sorted(shipped().items()) if s.source.endswith(".docx")] == [
        n for n in sorted(SHIPPED) if n.endswith("-2025") and not n.startswith("shanghai")
    ]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_report_metadata(name: str):
    got = meta_of(shipped()[name], read_catalogue(SEEDS))
    fields = (got.title, got.region, got.level, got.year, got.date, got.speaker, got.venue)
    assert fields == SHIPPED[name]
    assert got.warnings == ()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_text_alone_tells_region_and_year(name: str):
    """Under a file name that says nothing and with no catalogue, as a fresh download."""
    got = meta_of(shipped()[name], Catalogue(SEEDS / "none.toml"), source="download.docx")
    expected = SHIPPED[name]
    assert (got.title, got.region, got.level, got.year, got.date) == expected[:5]
    assert got.venue == expected[6]
    assert got.speaker == (None if name in FROM_CATALOGUE else expected[5])


def test_the_catalogue_holds_only_what_texts_do_not_say():
    entries = read_catalogue(SEEDS).entries
    assert sorted(entries) == sorted(f"{n}-government-work-report.txt" for n in FROM_CATALOGUE)
    assert {e.facts.speaker for e in entries.values()} == {"李克强", "龚正"}
    assert all(e.facts.year is None and e.facts.region is None for e in entries.values())


# file stem -> parts (level-1 headings), sections (level 2), the first part's title; counted
# in the texts. Guangdong's annex (附件1, items 一、…十、) and Sichuan's glossary (名词解释)
# are not parts; Sichuan's parts stand unnumbered (2024年工作回顾).
STRUCTURE: dict[str, tuple[int, int, str]] = {
    "beijing-2025": (2, 11, "一、2024年工作回顾"),
    "guangdong-2025": (2, 12, "一、2024年工作回顾"),
    "hainan-2025": (3, 17, "一、2024年工作回顾"),
    "henan-2025": (3, 18, "一、2024 年工作回顾"),
    "hubei-2025": (3, 16, "一、2024年工作回顾"),
    "jiangsu-2025": (3, 16, "一、2024年工作回顾"),
    "liaoning-2025": (3, 17, "一、2024年工作回顾"),
    "sichuan-2025": (3, 19, "2024年工作回顾"),
    "tianjin-2025": (3, 12, "一、2024年工作回顾"),
    "zhejiang-2025": (2, 22, "一、2024年工作回顾"),
    "national-2018": (3, 18, "一、过去五年工作回顾"),
    "national-2019": (3, 10, "一、2018年工作回顾"),
    "national-2024": (3, 10, "一、2023年工作回顾"),
    "shanghai-2017": (3, 17, "一、2016年工作回顾"),
    "shanghai-2018": (4, 18, "一、过去五年工作回顾"),
    "shanghai-2019": (3, 17, "一、2018年工作回顾"),
    "shanghai-2020": (3, 17, "一、2019年工作回顾"),
    "shanghai-2021": (4, 14, "一、2020年工作回顾"),
    "shanghai-2022": (3, 18, "一、2021年工作回顾"),
    "shanghai-2023": (4, 16, "一、过去五年工作回顾"),
    "shanghai-2024": (3, 19, "一、2023年工作回顾"),
    "shanghai-2025": (3, 19, "一、2024年工作回顾"),
}


@pytest.mark.parametrize(
    "name",
    sorted(STRUCTURE),
)
def test_shipped_report_structure(name: str):
    headings = parse(shipped()[name].text).headings
    parts = [h.title for h in headings if h.level == 1]
    sections = [h for h in headings if h.level == 2]
    assert (len(parts), len(sections), parts[0] if parts else None) == STRUCTURE[name]


def test_beijing_has_thirteen_headings():
    doc = parse(shipped()["beijing-2025"].text)
    assert len(doc.headings) == 13
    assert doc.meta["title"] == "2025年北京市政府工作报告"


# ---- title-block lines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["上海市市长杨雄"],
            {"speaker": "杨雄", "speaker_role": "上海市市长", "region": "上海"},
        ),
        (
            ["上海市市长\u3000龚 正"],
            {"speaker": "龚正", "speaker_role": "上海市市长", "region": "上海"},
        ),
        (
            ["政府工作报告", f"——2024年3月5日在{NPC14}上", "国务院总理\u3000李\u3000强"],
            {"title": "政府工作报告", "date": "2024-03-05", "year": 2024, "venue": NPC14,
             "speaker": "李强", "speaker_role": "国务院总理"},
        ),
        (
            ["——2025年1月16日省长 李乐成在辽宁省第十四届人民代表大会第三次会议上的讲话"],
            {"date": "2025-01-16", "year": 2025, "venue": _venue("辽宁省", "十四", "三"),
             "speaker": "李乐成", "speaker_role": "省长", "region": "辽宁"},
        ),
        (
            ["----2025年1月15日龚正市长在上海市第十六届人民代表大会第三次会议的政府工作报告"],
            {"date": "2025-01-15", "year": 2025, "venue": _venue("上海市", "十六", "三"),
             "speaker": "龚正", "speaker_role": "市长", "region": "上海"},
        ),
        (
            ["2025年北京市政府工作报告", "来源：北京日报", BEIJING_DATE_LINE],
            {"title": "2025年北京市政府工作报告", "date": "2025-01-14", "year": 2025,
             "venue": _venue("北京市", "十六", "三"), "speaker": "殷勇",
             "speaker_role": "北京市市长", "region": "北京"},
        ),
        (
            ["（二〇二三年一月十二日在重庆市第六届人民代表大会第一次会议上）",
             "重庆市市长　胡衡华"],
            {"date": "2023-01-12", "year": 2023, "venue": _venue("重庆市", "六", "一"),
             "speaker": "胡衡华", "speaker_role": "重庆市市长", "region": "重庆"},
        ),
        (
            ["新疆维吾尔自治区主席　阿布都·买买提"],
            {"speaker": "阿布都·买买提", "speaker_role": "新疆维吾尔自治区主席",
             "region": "新疆维吾尔"},
        ),
    ],
)  # fmt: skip
def test_title_block_lines(lines: list[str], expected: dict[str, object]):
    assert parse_title_block(lines) == expected


def test_a_date_line_ending_in_a_full_stop_stays_in_the_title_block():
    text = shipped()["beijing-2025"].text
    doc = parse(text)
    assert [text[s:e] for s, e in doc.title_lines] == [
        "2025年北京市政府工作报告",
        "来源：北京日报",
        BEIJING_DATE_LINE,
    ]


# ---- reports the reader was not tuned on --------------------------------------------

SHANDONG = [
    "2025年山东省政府工作报告",
    "——2025年1月21日在山东省第十四届人民代表大会第三次会议上",
    "山东省省长　赵明远",
    "各位代表：",
    "现在，我代表省人民政府，向大会报告工作，请予审议。",
    "一、2024年工作回顾",
    "全省生产总值增长5.7%。",
    "二、2025年重点工作",
    "（一）扩大有效需求。新开工重点项目600个。",
]
CHONGQING = "各位代表：\n现在，我代表市人民政府，向大会报告工作。\n一、2022年工作回顾\n经济恢复。"


def build_meta(tmp_path: Path, files: dict[str, str | list[str]], catalogue: str | None = None):
    """Build `files` (.txt text or .docx paragraphs) with the fake embedder; the manifest's
    documents by doc_id, and the build report."""
    src = tmp_path / "src"
    src.mkdir()
    for name, content in files.items():
        if isinstance(content, list):
            write_docx(src / name, content)
        else:
            (src / name).write_text(content, encoding="utf-8")
    if catalogue is not None:
        (src / "catalogue.toml").write_text(catalogue, encoding="utf-8")
    report = build(src, tmp_path / "index", HashEmbedder(), progress=False)
    return {d.doc_id: d for d in load_index(tmp_path / "index").documents}, report


def test_unseen_reports_come_out_right(tmp_path: Path):
    docs, report = build_meta(
        tmp_path,
        {
            "download (3).docx": SHANDONG,
            "shandong.txt": "\n".join(SHANDONG[:1] + SHANDONG[3:]),
            "chongqing-2023-government-work-report.txt": CHONGQING,
            "ningxia-2024-government-work-report.txt": "宁夏回族自治区主席 张雨浦\n" + CHONGQING,
        },
    )
    got = {
        k: (d.title, d.region, d.level, d.year, d.date, d.speaker, d.venue) for k, d in docs.items()
    }
    assert got == {
        "download-(3)": ("2025年山东省政府工作报告", "山东省", PROV, 2025, "2025-01-21", "赵明远",
                         _venue("山东省", "十四", "三")),
        "shandong": ("2025年山东省政府工作报告", "山东省", PROV, 2025, None, None, None),
        "chongqing-2023-government-work-report": ("2023年重庆市政府工作报告", "重庆市", PROV,
                                                  2023, None, None, None),
        "ningxia-2024-government-work-report": ("2023年宁夏回族自治区政府工作报告",
                                                "宁夏回族自治区", PROV, 2023, None, "张雨浦",
                                                None),
    }  # fmt: skip
    # The file name says 2024, the report reviews 2022: the text wins, and the build says so.
    assert report.warnings == [
        "ningxia-2024-government-work-report.txt: its file name says year 2024 but the report "
        f"is of 2023: rename the file ({metadata.NAMING}), or correct the reading in "
        f"{tmp_path / 'src' / 'catalogue.toml'}"
    ]


def test_a_report_nothing_describes_is_warned_about(tmp_path: Path, caplog):
    with caplog.at_level(logging.WARNING, logger="indexer.build"):
        docs, report = build_meta(tmp_path, {"notes.txt": CHONGQING.replace("2022年", "过去一年")})
    catalogue = tmp_path / "src" / "catalogue.toml"
    expected = (
        "notes.txt: cannot tell the year and region of this report from its text, "
        f'catalogue.toml or its file name: add it to {catalogue} (["notes.txt"] then e.g. '
        'year = 2025, region = "上海市") or name the file '
        "<region>-<year>-government-work-report.txt (e.g. shanghai-2025-government-work-report.txt)"
    )
    assert report.warnings == [expected]
    assert expected in caplog.text
    assert (docs["notes"].title, docs["notes"].region, docs["notes"].year) == ("notes", None, None)


def test_the_catalogue_fills_in_and_corrects(tmp_path: Path):
    catalogue = """
["notes.txt"]
region = "重庆"
year = 2023
date = 2023-01-12

["shandong.txt"]
speaker = "钱某"  # the text names 赵明远: kept, with a warning

["fixed.txt"]
speaker = "孙某"
corrects = ["speaker"]
"""
    docs, report = build_meta(
        tmp_path,
        {
            "notes.txt": CHONGQING.replace("2022年", "过去一年"),
            "shandong.txt": "\n".join(SHANDONG),
            "fixed.txt": "\n".join(SHANDONG),
        },
        catalogue,
    )
    notes = docs["notes"]
    assert (notes.title, notes.region, notes.level, notes.year, notes.date) == (
        "2023年重庆市政府工作报告",
        "重庆市",
        PROV,
        2023,
        "2023-01-12",
    )
    assert (docs["shandong"].speaker, docs["fixed"].speaker) == ("赵明远", "孙某")
    assert report.warnings == [
        f"shandong.txt: {tmp_path / 'src' / 'catalogue.toml'} gives speaker '钱某' but the text "
        "says '赵明远'; the text is kept: if it is wrong, add corrects = [\"speaker\"] to the "
        "entry, else remove the value"
    ]


def test_a_stale_catalogue_entry_is_warned_about(tmp_path: Path):
    _, report = build_meta(
        tmp_path, {"shandong.txt": "\n".join(SHANDONG)}, '["shandong"]\nspeaker = "赵明远"\n'
    )
    assert report.warnings == [
        f"{tmp_path / 'src' / 'catalogue.toml'} has an entry for 'shandong', which is no file of "
        "the source folder: use the file's name with its suffix (e.g. "
        "shanghai-2024-government-work-report.txt), or remove the entry"
    ]


# ---- a malformed catalogue --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('["a.txt"]\nspeaker = 李克强\n', r"catalogue.toml is not valid TOML \(.*line 2.*\): fix"),
        ('["a.txt"]\n\nspeeker = "李克强"\n', r"catalogue.toml, line 3: entry \[\"a.txt\"\] has "
         r"unknown key 'speeker': use title, region, year, date, speaker, venue or corrects"),
        ('["a.txt"]\nyear = "2019年"\n', r"line 2: entry \[\"a.txt\"\] has a bad year '2019年': "
         r"write the year delivered as a number"),
        ('["a.txt"]\nregion = "火星"\n', r"line 2: .* bad region '火星': not a region"),
        ('["a.txt"]\ndate = "2019-3-5"\n', r"line 2: .* bad date '2019-3-5': write the date as "
         r"YYYY-MM-DD"),
        ('["a.txt"]\nyear = 2019\ndate = 2018-03-05\n', r"gives date 2018-03-05 but year 2019"),
        ('["a.txt"]\ncorrects = ["date"]\n', r"corrects date but gives no value for it"),
        ('[a.txt]\nspeaker = "李克强"\n', r"line 1: entry \[\"a\"\] holds a table 'txt': write "
         r"the file name in quotes, \[\"a.txt\"\]"),
        ('speaker = "李克强"\n', r"entry \[\"speaker\"\] is not a table"),
    ],
)  # fmt: skip
def test_a_malformed_catalogue_names_the_file_the_line_and_the_fix(
    tmp_path: Path, content: str, message: str
):
    (tmp_path / "catalogue.toml").write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as err:
        read_catalogue(tmp_path)
    assert str(err.value).startswith(str(tmp_path / "catalogue.toml"))


def test_no_catalogue_is_an_empty_one(tmp_path: Path):
    assert read_catalogue(tmp_path) == Catalogue(tmp_path / "catalogue.toml")
