"""The heading hierarchy, passages and offsets of the real report and of small fixtures."""

from __future__ import annotations

import logging

from conftest import FIXTURE_CORPUS, REPORT

from indexer.chunk import chunk_document
from indexer.parse import match_heading, parse, ref_within

PARTS = [
    ("一", "一、过去五年工作回顾"),
    ("二", "二、今后五年工作的总体要求和主要目标"),
    ("三", "三、2018年主要任务"),
    ("四", "四、全面加强政府自身建设"),
]
SECTION_REFS = (
    [f"一（{n}）" for n in "一二三四五六"]
    + [f"三（{n}）" for n in "一二三四五六七八"]
    + [f"四（{n}）" for n in "一二三四"]
)


def report_text() -> str:
    return REPORT.read_text(encoding="utf-8")


def test_report_has_exactly_four_parts_with_their_titles():
    doc = parse(report_text())
    parts = [(h.ref, h.title) for h in doc.headings if h.level == 1]
    assert parts == PARTS


def test_report_has_the_eighteen_numbered_sections():
    doc = parse(report_text())
    sections = [h for h in doc.headings if h.level == 2]
    assert [h.ref for h in sections] == SECTION_REFS
    by_ref = {h.ref: h for h in sections}
    # Part 一: headings stand on their own line, without a full stop.
    assert by_ref["一（一）"].title == (
        "（一）坚持制度创新、先行先试，率先建设自由贸易试验区，全面深化改革开放实现重大突破"
    )
    assert not by_ref["一（一）"].inline
    # Parts 三 and 四: the heading is the paragraph's first sentence.
    assert by_ref["三（四）"].title == "（四）完善基本民生制度，持续增进民生福祉。"
    assert by_ref["三（四）"].inline
    assert by_ref["四（四）"].title == "（四）加强政府作风建设。"
    assert by_ref["三（四）"].path == (
        "三、2018年主要任务",
        "（四）完善基本民生制度，持续增进民生福祉。",
    )
    assert not [h for h in doc.headings if h.level > 2]


def test_report_metadata_comes_from_the_title_block():
    meta = parse(report_text()).meta
    assert meta == {
        "title": "政府工作报告",
        "date": "2018-01-23",
        "year": 2018,
        "venue": "上海市第十五届人民代表大会第一次会议",
        "speaker": "应勇",
        "speaker_role": "上海市市长",
        "region": "上海",
    }


def test_every_passage_offset_is_exact_and_trimmed():
    text = report_text()
    passages = chunk_document("r", parse(text), 160)
    assert passages
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip()
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    assert len({p.id for p in passages}) == len(passages)


def test_every_body_character_lies_in_a_passage_or_a_heading():
    text = report_text()
    doc = parse(text)
    covered = bytearray(len(text))
    for p in chunk_document("r", doc, 160):
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    for h in doc.headings:
        covered[h.start : h.end] = b"\x01" * (h.end - h.start)
    missing = [i for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    assert missing == []


def test_first_passage_under_a_heading_starts_with_it():
    text = report_text()
    passages = chunk_document("r", parse(text), 160)
    heading = "（四）完善基本民生制度，持续增进民生福祉。"
    first = next(p for p in passages if p.section == "三（四）")
    assert first.paragraph == 1
    assert first.heading_path == ("三、2018年主要任务", heading)
    # Inline heading: the paragraph's own first sentence stays in its first passage.
    assert first.text.startswith(heading + "坚持尽力而为、量力而行")
    assert text.find(heading) == first.start
    second = next(p for p in passages if p.section == "三（四）" and p.paragraph == 2)
    assert second.text.startswith("提高就业质量和市民收入水平。")
    # Heading on its own line: the passage spans the line break to the paragraph it opens.
    part = next(p for p in passages if p.section == "二")
    assert part.text.startswith(
        "二、今后五年工作的总体要求和主要目标\n\n\u3000\u3000中国特色社会主义"
    )
    # Every heading starts exactly one passage.
    starts = {p.start for p in passages}
    assert all(h.start in starts for h in parse(text).headings)


def test_address_to_delegates_closes_the_numbered_section():
    passages = chunk_document("r", parse(report_text()), 160)
    talent = next(p for p in passages if p.text.startswith("各位代表，人才是第一资源"))
    assert talent.section == "三"
    assert talent.heading_path == ("三、2018年主要任务",)
    opening = next(p for p in passages if p.text.startswith("各位代表："))
    assert opening.section is None and opening.heading_path == ()
    assert "现在，我代表上海市人民政府" in opening.text


def test_long_paragraphs_become_windows_of_whole_sentences():
    text = report_text()
    passages = chunk_document("r", parse(text), 160)
    headings = {h.start: h for h in parse(text).headings}

    def body_chars(p) -> int:
        # The heading a first window starts with is not counted in the window size.
        h = headings.get(p.start)
        return len(text[h.end : p.end].strip()) if h else len(p.text)

    assert max(body_chars(p) for p in passages) <= 160
    sentence_ends = tuple("。！？；，")
    for p in passages:
        nxt = text[p.end : p.end + 1]
        # A window ends at a sentence (or, for over-long sentences, clause) end or at the line end.
        assert p.text.endswith(sentence_ends) or nxt in ("\n", "") or p.text.endswith("”")


FIXTURE = (FIXTURE_CORPUS / "demo-2020.txt").read_text(encoding="utf-8")


def test_fixture_inline_missing_and_deeper_levels():
    doc = parse(FIXTURE)
    assert [(h.level, h.ref, h.title, h.inline) for h in doc.headings] == [
        (1, "一", "一、过去一年工作回顾", False),
        (2, "一（一）", "（一）推进改革开放。", True),
        (2, "一（二）", "（二）改善民生福祉。", True),
        (1, "二", "二、2020年主要任务", False),
        (4, "二1.", "1.稳定经济增长。", True),  # level 2 and 3 missing
        (5, "二1.（1）", "（1）扩大有效投资。", True),
        (5, "二1.（2）", "（2）促进消费升级。", True),
        (4, "二2.", "2.建设生态城区。", True),
        (1, "三", "三、加强政府自身建设", False),
        (3, "三第一", "第一，依法行政。", True),
        (3, "三第二", "第二，廉洁从政。", True),
    ]
    passages = chunk_document("demo", doc, 160)
    deep = next(p for p in passages if p.section == "二1.（1）")
    assert deep.heading_path == ("二、2020年主要任务", "1.稳定经济增长。", "（1）扩大有效投资。")
    assert deep.text == "（1）扩大有效投资。重大工程投资不低于300亿元。"
    assert (deep.id, deep.paragraph, deep.start, deep.end) == ("demo-0008", 1, 273, 298)
    assert FIXTURE[deep.start : deep.end] == deep.text
    closing = passages[-1]
    assert (closing.section, closing.text[:5]) == ("三", "各位代表，")


def test_fixture_title_block_metadata():
    assert parse(FIXTURE).meta == {
        "title": "示范区政府工作报告",
        "date": "2020-02-03",
        "year": 2020,
        "venue": "示范区第一届人民代表大会第二次会议",
        "speaker": "李明",
        "speaker_role": "示范区区长",
    }


def test_document_without_headings_gives_flat_paragraphs_and_a_warning(caplog):
    text = (FIXTURE_CORPUS / "flat-notes.txt").read_text(encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        doc = parse(text, "flat-notes.txt")
    assert "flat-notes.txt: no headings found" in caplog.text
    passages = chunk_document("flat", doc, 160)
    assert [(p.section, p.paragraph, p.heading_path) for p in passages] == [
        (None, 1, ()),
        (None, 2, ()),
        (None, 3, ()),
    ]
    assert passages[1].text == "地铁新线开通运营，轨道交通总里程达到五百公里。"


def test_byte_order_mark_and_crlf_do_not_shift_offsets():
    text = "\ufeff测试报告\r\n\r\n　　一、总体情况\r\n\r\n　　今年完成投资100亿元。\r\n"
    doc = parse(text)
    passages = chunk_document("t", doc, 160)
    assert doc.meta["title"] == "测试报告"
    body = passages[-1]
    assert (
        text[body.start : body.end] == "一、总体情况\r\n\r\n　　今年完成投资100亿元。" == body.text
    )
    assert body.section == "一"


def test_heading_patterns_and_reference_containment():
    assert match_heading("一、过去五年") == (1, "一")
    assert match_heading("（十二）加强") == (2, "十二")
    assert match_heading("第三，加强") == (3, "三")
    assert match_heading("3.加强") == (4, "3")
    assert match_heading("1.2万亿元的投资") is None  # a decimal number is no heading
    assert match_heading("一是经济保持平稳增长") is None
    assert ref_within("三（四）", "三")
    assert ref_within("三（四）", "三（四）")
    assert not ref_within("十一", "十")
    assert not ref_within("三（十四）", "三（十")
    assert not ref_within(None, "三")


def test_an_annex_after_the_report_keeps_its_items_out_of_the_parts() -> None:
    text = (
        "一、2024年工作回顾\n过去一年成绩显著。\n二、2025年工作安排\n今年要稳增长。\n"
        "各位代表！让我们团结奋斗。\n附件1\n2025年省十件民生实事\n一、为老年人提供服务。\n"
        "二、提升兜底保障。\n附件2\n1.名词：解释。\n"
    )
    doc = parse(text)
    assert [(h.level, h.ref, h.title) for h in doc.headings] == [
        (1, "一", "一、2024年工作回顾"),
        (1, "二", "二、2025年工作安排"),
        (0, "附件1", "附件1"),
        (0, "附件2", "附件2"),
    ]
    annex = [b for b in doc.blocks if b.section == "附件1"]
    assert [text[b.start : b.end] for b in annex] == [
        "2025年省十件民生实事",
        "一、为老年人提供服务。",
        "二、提升兜底保障。",
    ]


def test_unnumbered_part_titles_are_parts_when_no_part_is_numbered() -> None:
    text = (
        "各位代表：\n2024年工作回顾\n一年来成绩显著。\n（一）巩固经济。增长5%。\n"
        "2025年工作安排建议\n（一）扩大内需。稳住大盘。\n加强政府自身建设\n（一）树牢政绩观。要实干。\n"
    )
    doc = parse(text)
    assert [(h.level, h.ref, h.title) for h in doc.headings] == [
        (1, "一", "2024年工作回顾"),
        (2, "一（一）", "（一）巩固经济。"),
        (1, "二", "2025年工作安排建议"),
        (2, "二（一）", "（一）扩大内需。"),
        (1, "三", "加强政府自身建设"),
        (2, "三（一）", "（一）树牢政绩观。"),
    ]
    # With numbered parts, the same line is a paragraph.
    numbered = parse("一、2024年工作回顾\n成绩显著。\n2025年工作安排建议\n")
    assert [h.title for h in numbered.headings] == ["一、2024年工作回顾"]
