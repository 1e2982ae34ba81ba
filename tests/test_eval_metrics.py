"""The eval harness's scoring: metric plumbing on a hand-worked case, the relevance rule at its
edges and how evidence is located, answer scoring and the refusal threshold."""

from __future__ import annotations

import numpy as np
import pytest

from eval.answers import AnswerRecord, cited_passages, contains, score_answers
from eval.errors import EvalError
from eval.gold import Question, Span, covers, is_relevant, locate_evidence
from eval.metrics import score_retriever
from eval.tune import choose_threshold
from indexer.types import Passage


def passage(pid: str, start: int, end: int, doc_id: str = "d") -> Passage:
    return Passage(pid, doc_id, (), None, 0, start, end, "x" * (end - start))


def question(qid: str, lang: str = "zh", tags: tuple[str, ...] = (), answerable: bool = True):
    evidence = ("e",) if answerable else ()
    return Question(qid, "?", evidence, "a" if answerable else "", answerable, lang, tags, "d")


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
    overall = {k: v for k, v in s.items() if k not in ("by_lang", "by_tag")}
    # Means over the three questions; chars pooled: (140 + 200 + 19) / (3 + 6 + 2) = 359 / 11.
    assert overall == pytest.approx(
        {
            "recall@1": (0 + 0.5 + 0) / 3,  # 0.166667
            "recall@3": (1 + 0.5 + 0) / 3,  # 0.5
            "recall@5": (1 + 0.5 + 0) / 3,  # 0.5
            "recall@10": (1 + 1 + 0) / 3,  # 0.666667
            "mrr@10": (0.5 + 1 + 0) / 3,  # 0.5
            "ndcg@10": (0.630930 + 0.831555 + 0) / 3,  # 0.487495
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
            "mean_passage_chars": 340 / 9,
        },
        abs=1e-6,
    )
    zeros = {m: 0.0 for m in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10")}
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
            "mean_passage_chars": 159 / 5,
        },
        abs=1e-6,
    )
    assert s["by_tag"]["list"]["ndcg@10"] == pytest.approx(0.831555, abs=1e-6)
    assert s["by_tag"]["english"] == s["by_lang"]["en"]


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
    q = Question("q7", "?", ("戊己庚",), "戊", True, "zh", (), None)
    assert locate_evidence([q], sources) == {"q7": [Span("d", 5, 8)]}


def test_evidence_not_found_names_the_question():
    q = Question("q7", "?", ("不存在的句子",), "x", True, "zh", (), "d")
    with pytest.raises(EvalError) as exc:
        locate_evidence([q], {"d": "甲乙丙丁"})
    assert str(exc.value) == (
        "question q7: evidence '不存在的句子' is not in d: copy it verbatim from the source text"
    )


def test_evidence_found_twice_names_the_question():
    q = Question("q8", "?", ("甲乙丙丁",), "x", True, "zh", (), "d")
    with pytest.raises(EvalError) as exc:
        locate_evidence([q], {"d": "甲乙丙丁。戊己。甲乙丙丁"})
    assert str(exc.value) == (
        "question q8: evidence '甲乙丙丁' occurs 2 times in d (at 0, 8): "
        "lengthen it until it is unique"
    )
    # Overlapping occurrences count too: "啊啊" is twice in "啊啊啊".
    q2 = Question("q9", "?", ("啊啊",), "x", True, "zh", (), "d")
    with pytest.raises(EvalError, match="question q9: .* occurs 2 times"):
        locate_evidence([q2], {"d": "啊啊啊"})


def test_unknown_document_and_missing_doc_id():
    q = Question("q1", "?", ("甲",), "x", True, "zh", (), "nope")
    with pytest.raises(
        EvalError, match=r"question q1 names document 'nope'.*known documents are a, b"
    ):
        locate_evidence([q], {"a": "甲", "b": "乙"})
    q = Question("q2", "?", ("甲",), "x", True, "zh", (), None)
    with pytest.raises(EvalError, match="question q2 has no doc_id but there are 2 documents"):
        locate_evidence([q], {"a": "甲", "b": "乙"})


# ---- answers --------------------------------------------------------------------------------


def test_answer_scoring_on_a_hand_worked_case():
    questions = [
        question("a1"),
        question("a2"),
        question("u1", answerable=False),
        question("u2", answerable=False),
    ]
    questions[0] = Question("a1", "?", ("e",), "１２亿美元", True, "zh", (), "d")
    spans = {"a1": [Span("d", 10, 20)], "a2": [Span("d", 50, 60)]}
    records = {
        # answered, holds the answer (full-width digits match), cites [2] which is relevant
        "a1": AnswerRecord(
            "a1",
            "报告指出：“实际利用外资12亿美元。”[2]",
            True,
            (passage("p2", 5, 25),),
            "extractive",
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
    }


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
