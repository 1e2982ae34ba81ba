"""`python -m eval run --answers --backend openai`: the subset, the scores of generated answers
beside composed ones, the judge against the verifier, and the command line's refusals."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main
from eval.answers import AnswerRecord
from eval.generated import Timed, judge_vs_verifier, markers_hold, render, table
from eval.gold import Question
from eval.llm_subset import SUBSET, pick
from indexer.types import Passage


def _q(qid: str, answer: tuple[str, ...], answerable: bool = True) -> Question:
    return Question(qid, f"question {qid}", (), answer, answerable, "zh", ())


def _p(pid: str, text: str) -> Passage:
    return Passage(pid, "doc", (), None, 0, 0, len(text), text)


def _t(qid, answerable, cited=(), text="", backend="openai", warning=None, first=1.0, deltas=10):
    record = AnswerRecord(qid, text, answerable, tuple(cited), backend)
    return Timed(record, (), warning is None, warning, first, first + deltas / 20, deltas)


QUESTIONS = [
    _q("a", ("6.0%",)),
    _q("b", ("1200亿元",)),
    _q("c", ("应勇",)),
    _q("u", (), answerable=False),
]
HOLDS, OTHER = _p("p1", "增长6.0%，达到1200亿元"), _p("p2", "其他")
ANSWERS = {
    "a": _t("a", True, [HOLDS], "增长6.0%[1]。"),
    "b": _t("b", True, [HOLDS, OTHER], "1200亿元[1][2]。", first=3.0, deltas=40),
    "c": _t(
        "c", True, [], "应勇", backend="extractive", warning="x (not grounded: 1963 ...)", deltas=0
    ),
    "u": _t("u", False, [], "所给段落中没有这个问题的答案。"),
}


def test_scores_of_generated_answers():
    t = table(QUESTIONS, ANSWERS, {q.id: [] for q in QUESTIONS})
    assert (t["answer_contains"], t["refusal_precision"], t["refusal_recall"]) == (1.0, 1.0, 1.0)
    # a cites only passages holding 6.0%; b also cites one that does not; c cites nothing.
    assert markers_hold(QUESTIONS, ANSWERS) == 0.5
    # Model answers a and b passed; c was replaced for being ungrounded; u is a refusal.
    assert t["grounded"] == pytest.approx(2 / 3)
    assert t["fallbacks"] == {"ungrounded": 1}
    assert t["first_s_p50"] == 1.0
    assert t["deltas_per_s"] == 20.0
    assert "| every [n] names a passage holding the answer | 0.500 | 0.500 |" in render(
        {
            "questions": 4,
            "unanswerable": 1,
            "judge": "none",
            "model": "local",
            "generated": t,
            "composed": t,
        }
    )


def test_judge_against_the_verifier():
    composed = {q.id: _t(q.id, q.id in ("a", "b")) for q in QUESTIONS}  # refuses c and u
    verdicts = {"a": (1,), "b": (), "c": (2,), "u": ()}  # refuses b and u
    scores = judge_vs_verifier(QUESTIONS, composed, verdicts)
    assert scores["verifier"] == {
        "refusal_precision": 0.5,
        "refusal_recall": 1.0,
        "false_refusal_rate": pytest.approx(1 / 3),
    }
    assert scores["judge"] == scores["verifier"]
    assert scores["both"]["refusal_precision"] == 1.0
    assert scores["either"]["false_refusal_rate"] == pytest.approx(2 / 3)


def test_the_subset_is_a_fixed_seeded_draw():
    rows = [json.loads(line) for line in SUBSET.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 80 and sum(not r["answerable"] for r in rows) == 20
    gold = SUBSET.with_name("questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [r["id"] for r in pick([json.loads(line) for line in gold])] == [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--backend", "openai"], "--backend scores answers: add --answers"),
        (
            ["run", "--answers", "--backend", "openai", "--url", "http://x"],
            "--backend runs the answers in-process: drop --url",
        ),
    ],
)
def test_backend_option_refuses_what_it_cannot_do(argv, message, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
