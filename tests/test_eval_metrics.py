"""The eval harness's scoring: metric plumbing on a hand-worked case, all@k and the by-kind
groups, the relevance rule at its edges and how evidence is located, answer scoring (list
answers, missing reports) and the refusal threshold."""

from __future__ import annotations

import numpy as np
import pytest

from eval.answers import AnswerRecord, cited_passages, contains, score_answers
from eval.errors import EvalError
from eval.gold import Evidence, Question, Span, covers, is_relevant, locate_evidence
from eval.metrics import all_found, score_retriever
from eval.tune import choose_threshold
from indexer.types import Passage


def passage(pid: str, start: int, end: int, doc_id: str = "d") -> Passage:
    return Passage(pid, doc_id, (), None, 0, start, end, "x" * (end - start))


def question(
    qid: str,
    lang: str = "zh",
    tags: tuple[str, ...] = (),
    answerable: bool = True,
    kind: str | None = None,
    answer: tuple[str, ...] = ("a",),
):
    evidence = (Evidence("e"),) if answerable else ()
    answer = answer if answerable else ()
    return Question(qid, "?", evidence, answer, answerable, lang, tags, "d", None, kind)


# ---- metric plumbing: three answerable questions worked by hand --------------------------


def test_metrics_match_a_hand_worked_case():
    questions = [
        question("q1", "zh", ("numeric",)),
        question("q2", "zh", ("list",)),
        question("q3", "en", ("numeric", "english")),
        question("q4", "zh", ("unanswerable",), answerable=False),  # never scored
    ]
    spans = {
        "q1": [Span("d", 100, 120)],
        "q2": [Span("d", 200, 210), Span("d", 300, 320)],
        "q3": [Span("d", 400, 410)],
    }
    results = {
        # q1: rank 2 covers the only span. recall@1 = 0, @3 = @5 = @10 = 1; MRR = 1/2;
        # nDCG@10 = (1/log2(3)) / 1 = 0.630930. Lengths 50 + 30 + 60 = 140 over 3 passages.
        "q1": [passage("a", 0, 50), passage("b", 95, 125), passage("c", 200, 260)],
        # q2: two spans B = [200,210), C = [300,320). Rank 1 covers B; rank 3 covers exactly
        # half of B (5 of 10 chars, relevant) but B is already found, so it is a duplicate;
        # rank 6 covers C. recall@1 = @3 = @5 = 1/2, @10 = 2/2; MRR = 1/1;
        # DCG = 1/log2(2) + 1/log2(7) = 1 + 0.356207 = 1.356207,
        # IDCG = 1 + 1/log2(3) = 1.630930, nDCG@10 = 0.831555.
        # Lengths 20 + 50 + 20 + 40 + 40 + 30 = 200 over 6 passages.
        "q2": [
            passage("e", 195, 215),
            passage("a", 0, 50),
            passage("f", 205, 225),
            passage("g", 500, 540),
            passage("h", 600, 640),
            passage("i", 300, 330),
        ],
        # q3: span [400,410). [395,404) covers 4 of 10 chars (< half); [410,420) only touches
        # it. Every metric is 0. Lengths 9 + 10 = 19 over 2 passages.
        "q3": [passage("j", 395, 404), passage("k", 410, 420)],
    }
    s = score_retriever(questions, results, spans)
    groups = ("by_lang", "by_tag", "by_kind", "several_evidence")
    overall = {k: v for k, v in s.items() if k not in groups}
    # Means over the three questions; chars pooled: (140 + 200 + 19) / (3 + 6 + 2) = 359 / 11.
    # all@5: q1 has its one span in the top 5, q2 only B (C is at rank 6), q3 none: 1/3;
    # all@10: q1 and q2: 2/3.
    assert overall == pytest.approx(
        {
            "recall@1": (0 + 0.5 + 0) / 3,  # 0.166667
            "recall@3": (1 + 0.5 + 0) / 3,  # 0.5
            "recall@5": (1 + 0.5 + 0) / 3,  # 0.5
            "recall@10": (1 + 1 + 0) / 3,  # 0.666667
            "mrr@10": (0.5 + 1 + 0) / 3,  # 0.5
            "ndcg@10": (0.630930 + 0.831555 + 0) / 3,  # 0.487495
            "all@5": 1 / 3,
            "all@10": 2 / 3,
            "mean_passage_chars": 359 / 11,  # 32.636364
        },
        abs=1e-6,
    )
    assert sorted(s["by_lang"]) == ["en", "zh"]
    # zh = q1 and q2; chars (140 + 200) / 9.
    assert s["by_lang"]["zh"] == pytest.approx(
        {
            "recall@1": 0.25,
            "recall@3": 0.75,
            "recall@5": 0.75,
            "recall@10": 1.0,
            "mrr@10": 0.75,
            "ndcg@10": (0.630930 + 0.831555) / 2,  # 0.731242
            "all@5": 0.5,
            "all@10": 1.0,
            "mean_passage_chars": 340 / 9,
        },
        abs=1e-6,
    )
    zeros = {
        m: 0.0
        for m in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "all@5", "all@10")
    }
    assert s["by_lang"]["en"] == pytest.approx({**zeros, "ndcg@10": 0.0, "mean_passage_chars": 9.5})
    # The unanswerable tag has no answerable question, so it has no entry.
    assert sorted(s["by_tag"]) == ["english", "list", "numeric"]
    # numeric = q1 and q3; chars (140 + 19) / 5.
    assert s["by_tag"]["numeric"] == pytest.approx(
        {
            "recall@1": 0.0,
            "recall@3": 0.5,
            "recall@5": 0.5,
            "recall@10": 0.5,
            "mrr@10": 0.25,
            "ndcg@10": 0.630930 / 2,
            "all@5": 0.5,
            "all@10": 0.5,
            "mean_passage_chars": 159 / 5,
        },
        abs=1e-6,
    )
    assert s["by_tag"]["list"]["ndcg@10"] == pytest.approx(0.831555, abs=1e-6)
    assert s["by_tag"]["english"] == s["by_lang"]["en"]
    # No question has a kind; q2 is the only one with several evidence spans.
    assert s["by_kind"] == {}
    assert s["several_evidence"] == s["by_tag"]["list"]


def test_a_passage_covering_two_spans_counts_both_at_its_rank():
    q = question("q1")
    spans = {"q1": [Span("d", 10, 20), Span("d", 30, 40)]}
    # One passage [0,50) covers both spans: recall@1 = 2/2, MRR = 1.
    s = score_retriever([q], {"q1": [passage("a", 0, 50)]}, spans)
    assert (s["recall@1"], s["mrr@10"], s["ndcg@10"]) == (1.0, 1.0, 1.0)


def test_no_results_score_zero_and_no_length():
    s = score_retriever([question("q1")], {"q1": []}, {"q1": [Span("d", 0, 4)]})
    assert s["recall@10"] == 0.0
    assert s["mean_passage_chars"] == 0.0
    assert (s["all@5"], s["all@10"], s["several_evidence"]) == (0.0, 0.0, None)


def test_all_at_k_needs_every_span_of_a_comparison_on_a_hand_worked_case():
    # c1 compares two reports: spans A = [10,20) of "y2019" and B = [50,60) of "y2020".
    # c2 has three spans in one report: C = [0,10), D = [100,110), E = [200,210).
    # t1 is one span F = [30,40) of "y2020".
    questions = [
        question("c1", kind="comparison"),
        question("c2", kind="comparison"),
        question("t1", kind="year-target"),
        question("m1", kind="missing-report", answerable=False),  # never scored
    ]
    spans = {
        "c1": [Span("y2019", 10, 20), Span("y2020", 50, 60)],
        "c2": [Span("y2020", 0, 10), Span("y2020", 100, 110), Span("y2020", 200, 210)],
        "t1": [Span("y2020", 30, 40)],
    }
    results = {
        # Rank 1 covers B; rank 2 has A's offsets in the wrong report; A is at rank 7.
        # all@5 = 0, all@10 = 1; recall@5 = 1/2, recall@10 = 1.
        "c1": [
            passage("b", 45, 60, "y2020"),
            passage("x", 10, 20, "y2020"),
            *[passage(f"f{i}", 300 + 10 * i, 305 + 10 * i, "y2019") for i in range(4)],
            passage("a", 0, 30, "y2019"),
        ],
        # Rank 1 covers C and D at once ([0,105) holds all of C and half of D); E is never
        # found: all@5 = all@10 = 0, recall@5 = recall@10 = 2/3.
        "c2": [passage("cd", 0, 105, "y2020"), passage("z", 400, 450, "y2020")],
        # One span at rank 3: all@5 = all@10 = recall@5 = 1.
        "t1": [
            passage("p", 0, 5, "y2020"),
            passage("q", 5, 9, "y2020"),
            passage("f", 30, 40, "y2020"),
        ],
    }
    assert all_found(results["c1"][:7], spans["c1"])
    assert not all_found(results["c1"][:6], spans["c1"])
    assert not all_found(results["c2"], spans["c2"])
    s = score_retriever(questions, results, spans)
    assert (s["all@5"], s["all@10"]) == pytest.approx((1 / 3, 2 / 3))
    assert (s["recall@5"], s["recall@10"]) == pytest.approx(
        ((1 / 2 + 2 / 3 + 1) / 3, (1 + 2 / 3 + 1) / 3)
    )
    assert sorted(s["by_kind"]) == ["comparison", "year-target"]
    comparison = s["by_kind"]["comparison"]
    assert (comparison["all@5"], comparison["all@10"]) == (0.0, 0.5)
    assert comparison["recall@10"] == pytest.approx((1 + 2 / 3) / 2)
    assert (s["by_kind"]["year-target"]["all@5"], s["by_kind"]["year-target"]["mrr@10"]) == (
        1.0,
        pytest.approx(1 / 3),
    )
    # The questions with several spans are the two comparisons.
    assert s["several_evidence"] == comparison
    # all@k is recall@k == 1 question by question: ranx's recall agrees.
    for qid in ("c1", "c2", "t1"):
        one = score_retriever([q for q in questions if q.id == qid], results, spans)
        for k in (5, 10):
            assert one[f"all@{k}"] == float(one[f"recall@{k}"] == 1.0)


# ---- the relevance rule ---------------------------------------------------------------------


def test_relevance_rule_at_its_edges():
    span = Span("d", 10, 20)  # 10 characters
    assert covers("d", 15, 30, span)  # exactly half (5 of 10) counts
    assert covers("d", 0, 15, span)  # half from the other side
    assert not covers("d", 16, 30, span)  # one char short (4 of 10) does not
    assert not covers("d", 0, 14, span)
    assert not covers("d", 0, 10, span)  # touches the start, no overlap
    assert not covers("d", 20, 30, span)  # touches the end, no overlap
    assert covers("d", 12, 18, span)  # 6 of 10, inside the span
    assert not covers("other", 10, 20, span)  # same offsets, another document
    odd = Span("d", 10, 21)  # 11 characters: half is 5.5, so 6 are needed
    assert not covers("d", 16, 30, odd)
    assert covers("d", 15, 30, odd)
    assert is_relevant("d", 16, 30, [span, Span("d", 25, 29)])
    assert not is_relevant("d", 16, 30, [span])


def test_evidence_is_located_exactly_once():
    sources = {"d": "甲乙丙丁。戊己庚辛。甲乙丙丁再一次。"}
    q = Question("q7", "?", (Evidence("戊己庚", "d"),), ("戊",), True, "zh", (), None)
    assert locate_evidence([q], sources) == {"q7": [Span("d", 5, 8)]}


def test_evidence_not_found_names_the_question():
    q = Question("q7", "?", (Evidence("不存在的句子"),), ("x",), True, "zh", (), "d")
    with pytest.raises(EvalError) as exc:
        locate_evidence([q], {"d": "甲乙丙丁"})
    assert str(exc.value) == (
        "question q7: evidence '不存在的句子' is not in d: copy it verbatim from the source text"
    )


def test_evidence_found_twice_names_the_question():
    q = Question("q8", "?", (Evidence("甲乙丙丁"),), ("x",), True, "zh", (), "d")
    with pytest.raises(EvalError) as exc:
        locate_evidence([q], {"d": "甲乙丙丁。戊己。甲乙丙丁"})
    assert str(exc.value) == (
        "question q8: evidence '甲乙丙丁' occurs 2 times in d (at 0, 8): "
        "lengthen it until it is unique"
    )
    # Overlapping occurrences count too: "啊啊" is twice in "啊啊啊".
    q2 = Question("q9", "?", (Evidence("啊啊"),), ("x",), True, "zh", (), "d")
    with pytest.raises(EvalError, match="question q9: .* occurs 2 times"):
        locate_evidence([q2], {"d": "啊啊啊"})


def test_unknown_document_and_missing_doc_id():
    q = Question("q1", "?", (Evidence("甲"),), ("x",), True, "zh", (), "nope")
    with pytest.raises(
        EvalError, match=r"question q1 names document 'nope'.*known documents are a, b"
    ):
        locate_evidence([q], {"a": "甲", "b": "乙"})
    q = Question("q2", "?", (Evidence("甲"),), ("x",), True, "zh", (), None)
    with pytest.raises(EvalError, match="question q2: evidence '甲' names no document"):
        locate_evidence([q], {"a": "甲", "b": "乙"})


# ---- answers --------------------------------------------------------------------------------


def test_answer_scoring_on_a_hand_worked_case():
    questions = [
        question("a1"),
        question("a2"),
        question("u1", answerable=False),
        question("u2", answerable=False),
    ]
    questions[0] = Question(
        "a1", "实际利用外资多少？", (Evidence("e"),), ("１２亿美元",), True, "zh", (), "d"
    )
    spans = {"a1": [Span("d", 10, 20)], "a2": [Span("d", 50, 60)]}
    records = {
        # answered, holds the answer (full-width digits match), cites [2] which is relevant
        "a1": AnswerRecord(
            "a1",
            "报告指出：“实际利用外资12亿美元。”[2]",
            True,
            (passage("p2", 5, 25),),
            "extractive",
            short=("12亿美元",),  # the short answer matches after NFKC
        ),
        # wrongly refused
        "a2": AnswerRecord("a2", "报告中没有找到", False, (), "extractive"),
        # rightly refused
        "u1": AnswerRecord("u1", "报告中没有找到", False, (), "extractive"),
        # wrongly answered
        "u2": AnswerRecord("u2", "报告指出：“……”[1]", True, (passage("p1", 0, 4),), "extractive"),
    }
    assert score_answers(questions, records, spans) == {
        "backend": "extractive",
        "answer_contains": 0.5,  # a1 of (a1, a2)
        "citation_hit": 0.5,  # a1 of (a1, a2)
        "refusal_precision": 0.5,  # refused a2, u1: u1 is right
        "refusal_recall": 0.5,  # unanswerable u1, u2: u1 refused
        "false_refusal_rate": 0.5,  # answerable a1, a2: a2 refused
        "short_exact": 1.0,  # a1 asks 多少 and its short answer matches; a2 asks nothing
        "short_asked": 1,
        "by_kind": {},  # no question has a kind
    }


def test_list_answers_need_every_part_and_missing_reports_a_refusal():
    questions = [
        question("c1", kind="comparison", answer=("6%", "1.7%")),
        question("c2", kind="comparison", answer=("６％", "1.7%")),
        question("m1", kind="missing-report", answerable=False),
        question("m2", kind="missing-report", answerable=False),
        question("m3", kind="missing-report", answerable=False),
    ]
    spans = {"c1": [Span("d", 0, 10), Span("d", 20, 30)], "c2": [Span("d", 40, 50)]}
    cited = (passage("p", 20, 30),)
    records = {
        # Both parts, and a relevant citation.
        "c1": AnswerRecord("c1", "2019年增长6%，2020年增长1.7%。[1]", True, cited, "extractive"),
        # Only one of the two parts (full-width ６％ matches 6%), no relevant citation.
        "c2": AnswerRecord("c2", "增长6%。[1]", True, cited, "extractive"),
        # m1 and m2 refused, as expected; m3 answered from a report of another year.
        "m1": AnswerRecord("m1", None, False, (), "extractive"),
        "m2": AnswerRecord("m2", "报告中没有找到", False, (), "extractive"),
        "m3": AnswerRecord("m3", "增长5%左右。[1]", True, cited, "extractive"),
    }
    scores = score_answers(questions, records, spans)
    assert scores["answer_contains"] == 0.5
    assert scores["citation_hit"] == 0.5
    assert (scores["refusal_precision"], scores["refusal_recall"]) == (1.0, pytest.approx(2 / 3))
    assert scores["by_kind"] == {
        "comparison": {
            "questions": 2,
            "right_call": 1.0,
            "answer_contains": 0.5,
            "citation_hit": 0.5,
            "false_refusal_rate": 0.0,
            "refusal_recall": None,
            "short_exact": None,  # "?" asks for no short answer
        },
        "missing-report": {
            "questions": 3,
            "right_call": pytest.approx(2 / 3),
            "answer_contains": None,
            "citation_hit": None,
            "false_refusal_rate": None,
            "refusal_recall": pytest.approx(2 / 3),
            "short_exact": None,
        },
    }
    assert contains("增长6%和1.7%", ["6%", "1.7%"]) and not contains("增长6%", ("6%", "1.7%"))
    assert not contains("任何文字", [])


def test_cited_passages_follow_the_markers():
    by_n = {1: passage("p1", 0, 4), 2: passage("p2", 5, 9), 3: passage("p3", 9, 12)}
    assert [p.id for p in cited_passages("“甲”[3]“乙”[1]“丙”[3]", by_n)] == ["p3", "p1"]
    assert cited_passages(None, by_n) == ()
    assert contains("Ａｂ 12", "ab12") and not contains(None, "x")


def test_threshold_choice_maximises_refusal_f1_within_the_budget():
    scores = np.array([0.9, 0.8, 0.7, 0.55, 0.5, 0.6, 0.4])
    unanswerable = np.array([False, False, False, False, True, True, True])
    # With no answerable question refused, the threshold must stay <= 0.55: refusing
    # below (0.5 + 0.55) / 2 = 0.525 refuses 0.5 and 0.4 (P = 1, R = 2/3, F1 = 0.8).
    best = choose_threshold(scores, unanswerable, 0.0)
    assert best["threshold"] == 0.525
    assert best["refusal_f1"] == pytest.approx(0.8)
    # Allowing one of four answerable refused: below (0.6 + 0.7) / 2 = 0.65 refuses all three
    # unanswerable and 0.55 (P = 3/4, R = 1, F1 = 6/7).
    best = choose_threshold(scores, unanswerable, 0.25)
    assert best["threshold"] == 0.65
    assert best["refusal_f1"] == pytest.approx(6 / 7)
    assert best["answerable_refused"] == 1
