"""The answer verifier: each evidence signal on hand-written near misses and their answerable
twins, the kind of answer asked, the judgement and its reason, and a reproducible fit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from indexer.types import Hit, Passage
from service.answers.asked import Wanted, holds, wanted
from service.answers.refusals import explain, refusal_text
from service.answers.signals import Evidence, Signals, TermStats, extract, focus_zh
from service.answers.verifier import Decider, Verifier

# A report in miniature: an old-age care paragraph and a transport one.
CARE = "新增7000张养老床位，改造1000张失智老人照护床位。新建和改扩建35所幼儿园。"
TRANSPORT = "优化公交线网，推进轨道交通建设。一流大学建设成效初显。"
SEARCHED = CARE + "\n" + TRANSPORT + "\n调查失业率控制在5%以内。"
STATS = TermStats({"床位": 3, "养老": 5, "幼儿园": 2, "公交": 4, "大学": 2}, 400)


def hit(text: str, rank: int = 1, dense: float = 0.8) -> Hit:
    p = Passage(f"r-{rank:04d}", "r", ("（四）民生",), "三（四）", rank, 0, len(text), text)
    return Hit(p, rank, 1.0 / rank, dense=dense, lexical=1.0)


def signals(question: str, texts: list[str], lang: str = "zh", dense: float = 0.8) -> Signals:
    """The signals of a question whose cited passage holds exactly `texts` as sentences."""
    hits = [hit("".join(texts), dense=dense)]
    scores = np.linspace(0.9, 0.8, len(texts), dtype=np.float32)
    return extract(Evidence(question, lang, SEARCHED, STATS), hits, texts, scores)


TAXI = "上海的出租车起步价是多少？"
BEDS = "今年新增多少张养老床位？"
CARE_SENTENCES = ["新增7000张养老床位，", "改造1000张失智老人照护床位。"]
TRANSPORT_SENTENCES = ["优化公交线网，推进轨道交通建设。"]


def test_missing_cited_is_the_share_of_terms_the_cited_passages_never_mention():
    assert signals(TAXI, TRANSPORT_SENTENCES).features["missing_cited"] == 1.0
    assert signals(BEDS, CARE_SENTENCES).features["missing_cited"] == 0.0
    # 出租车 is missing and 床位 is there: a share between, weighted by IDF.
    share = signals("出租车和养老床位各有多少？", CARE_SENTENCES).features["missing_cited"]
    assert 0.0 < share < 1.0


def test_missing_proper_names_a_place_the_reports_never_mention():
    assert (
        signals("上海的失业率跟深圳比哪个低？", ["调查失业率控制在5%以内。"]).features[
            "missing_proper"
        ]
        == 1.0
    )
    assert (
        signals("上海的调查失业率是多少？", ["调查失业率控制在5%以内。"]).features["missing_proper"]
        == 0.0
    )


def test_focus_is_the_noun_asked_about():
    assert focus_zh(BEDS) == "床位"
    assert focus_zh(TAXI) == "起步价"
    assert focus_zh("上海一共有多少所大学？") == "大学"
    assert focus_zh("张江实验室的主任是谁？") == "主任"
    assert focus_zh("报告讲了哪些内容") == "内容"
    assert focus_zh("推进改革开放") is None


def test_focus_unheld_when_no_sentence_gives_the_focus_with_the_figure_asked():
    # The report mentions 大学, but no sentence counts them in 所.
    near = signals("上海一共有多少所大学？", ["一流大学建设成效初显。", "新建和改扩建35所幼儿园。"])
    twin = signals("今年新建多少所幼儿园？", ["一流大学建设成效初显。", "新建和改扩建35所幼儿园。"])
    assert (near.features["focus_unheld"], twin.features["focus_unheld"]) == (1.0, 0.0)
    assert near.focus == "大学" and near.asked == "number"


def test_together_is_the_weighted_share_of_terms_beside_a_fitting_answer():
    assert signals(BEDS, CARE_SENTENCES).features["together"] == 1.0
    assert signals(TAXI, TRANSPORT_SENTENCES).features["together"] == 0.0
    # The terms are there, but the figure is in another sentence.
    apart = signals(BEDS, ["推进养老床位建设。", "建成7000张。"]).features["together"]
    assert apart == 0.0


def test_compares_dense_and_english():
    assert signals("上海的失业率跟深圳比哪个低？", TRANSPORT_SENTENCES).features["compares"] == 1.0
    assert signals(BEDS, CARE_SENTENCES).features["compares"] == 0.0
    en = signals("Is life expectancy in Shanghai higher than in Hong Kong?", CARE_SENTENCES, "en")
    assert (en.features["compares"], en.features["english"]) == (1.0, 1.0)
    assert signals(BEDS, CARE_SENTENCES, dense=0.73).features["dense"] == pytest.approx(0.73)


def test_a_signal_not_measured_counts_as_average():
    bm25_only = dataclasses.replace(hit("".join(CARE_SENTENCES)), dense=None)
    s = extract(Evidence(BEDS, "zh", SEARCHED, STATS), [bm25_only], CARE_SENTENCES, np.ones(2))
    assert np.isnan(s.features["dense"])
    mean, scale, coef = np.full(1, 0.7), np.ones(1), np.full(1, 5.0)
    dense_only = Verifier(("dense",), mean, scale, coef, 0.0, {"zh": 0.5})
    assert dense_only.probability(s) == 0.5


def test_english_terms_and_proper_names():
    # No translation groups given: "Hong Kong" is a capitalised name the report lacks.
    en = signals("Is life expectancy in Shanghai higher than in Hong Kong?", CARE_SENTENCES, "en")
    assert en.features["missing_proper"] == 1.0
    assert en.missing in ("Hong", "Kong")


@pytest.mark.parametrize(
    ("question", "lang", "kind", "units"),
    [
        ("新增多少张养老床位", "zh", "number", ("张",)),
        ("轨道交通运营里程多少公里", "zh", "number", ("公里", "千米")),
        ("地铁票价多少钱", "zh", "number", ("元",)),
        ("老年综合津贴一个月能拿多少", "zh", "number", ("元",)),
        ("研发经费占生产总值的比例是多少", "zh", "percent", ()),
        ("生产总值增长多少", "zh", "percent", ()),
        ("这份报告是由谁作的", "zh", "person", ()),
        ("北横通道什么时候能通车", "zh", "date", ()),
        ("浦东足球场哪一年完工", "zh", "date", ()),
        ("How many universities are there in Shanghai?", "en", "number", ()),
        ("How much is the monthly pension?", "en", "number", ("元",)),
        ("By how many kilometres is the metro longer?", "en", "number", ("公里", "千米")),
        ("Who is the director of the institute?", "en", "person", ()),
        ("When is Line 14 scheduled to open?", "en", "date", ()),
    ],
)
def test_the_kind_of_answer_asked(question, lang, kind, units):
    assert wanted(question, lang) == Wanted(kind, units)


def test_no_particular_kind():
    assert wanted("浦东机场新建成了哪几条跑道？") is None
    assert wanted("报告第一部分的标题是什么？") is None
    assert wanted("What does the report say about the environment?", "en") is None


def test_a_sentence_holds_an_answer_of_the_kind_asked():
    assert holds("新增7000张养老床位", wanted("新增多少张养老床位"))
    assert not holds("新增7000张养老床位", wanted("新增多少公里"))
    assert holds("总投资1.2万亿元", wanted("要花多少钱"))
    assert holds("承办重大外事会议和活动1100多场", wanted("承办了多少场会议"))
    assert holds("地区生产总值增长5％左右", wanted("生产总值增长多少"))
    assert holds("上海市市长 应勇", wanted("报告是谁作的"))
    assert holds("2018年底建成通车", wanted("什么时候通车"))
    assert not holds("加快建设北横通道", wanted("什么时候通车"))
    assert holds("任何句子", None)


# A verifier whose only signal is `together`: p = σ(4 · (together − 0.5)).
TOY = Verifier(
    ("together",), np.zeros(1), np.ones(1), np.array([4.0]), -2.0, {"zh": 0.5, "en": 0.4}
)


def test_judgement_is_the_logistic_probability_against_the_threshold():
    twin = TOY.judge(signals(BEDS, CARE_SENTENCES))
    assert twin.answerable and twin.reason is None
    assert twin.confidence == pytest.approx(1 / (1 + np.exp(-2.0)))
    near = TOY.judge(signals(TAXI, TRANSPORT_SENTENCES))
    assert not near.answerable
    assert near.confidence == pytest.approx(1 / (1 + np.exp(2.0)))
    assert near.reason == "报告没有提到“出租车”。" and near.cause == "missing"
    assert TOY.threshold("en") == 0.4 and TOY.threshold("fr") == 0.5


def test_the_shipped_verifier_refuses_near_misses_and_answers_their_twin():
    shipped = Verifier.load()
    assert set(shipped.features) <= set(signals(BEDS, CARE_SENTENCES).features)
    assert shipped.judge(signals(BEDS, CARE_SENTENCES)).answerable
    # The report names 大学 but counts none; it never names 深圳.
    universities = ["一流大学建设成效初显。", "新建和改扩建35所幼儿园。"]
    near = signals("上海一共有多少所大学？", universities, dense=0.72)
    judged = shipped.judge(near)
    assert not judged.answerable and judged.reason == "报告没有给出大学的具体数字。"
    elsewhere = signals("上海的失业率跟深圳比哪个低？", ["调查失业率控制在5%以内。"], dense=0.72)
    assert shipped.judge(elsewhere).reason == "报告没有提到“深圳”。"
    assert shipped.fitted["command"] == "python -m eval tune verifier"
    assert Verifier.from_dict(shipped.to_dict()).probability(near) == shipped.probability(near)


def test_a_malformed_verifier_is_refused():
    with pytest.raises(ValueError, match="features"):
        Verifier(("a", "b"), np.zeros(1), np.ones(1), np.zeros(1), 0.0, {"zh": 0.5})
    with pytest.raises(ValueError, match="malformed"):
        Verifier.from_dict({"features": ["a"]})


def test_reasons_in_the_question_s_language():
    wage = Signals({}, "zh", missing="最低工资")
    assert explain(wage) == ("missing", "报告没有提到“最低工资”。")
    cause, reason = explain(wage)
    assert refusal_text("zh", reason, cause, None) == (
        "报告没有提到“最低工资”，无法回答这个问题。以下是最接近的段落，仅供参考。"
    )
    taxi = Signals({"focus_unheld": 1.0}, "zh", subject="出租车起步价", asked="number")
    assert explain(taxi) == ("unheld", "报告没有给出出租车起步价的具体数字。")
    who = Signals({"focus_unheld": 1.0}, "zh", subject="张江实验室主任", asked="person")
    assert explain(who, "《2018年上海市政府工作报告》")[1] == (
        "《2018年上海市政府工作报告》没有说明张江实验室主任是谁。"
    )
    en = Signals({}, "en", missing="taxi")
    assert explain(en) == ("missing", "The report does not mention “taxi”.")
    assert refusal_text("en", explain(en)[1], "missing", None) == (
        "The report does not mention “taxi”, so it cannot answer this. "
        "The closest passages are listed below for reference."
    )
    weak = Signals({"focus_unheld": 0.0}, "en")
    assert explain(weak) == ("weak", "The report does not appear to answer this question.")
    assert refusal_text("zh", "报告中没有找到能回答这个问题的内容。", "weak", None) == (
        "报告中没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考。"
    )


def test_without_a_verifier_the_best_sentence_threshold_decides():
    decide = Decider(0.85, "zh", None, None)
    hits = [hit("".join(CARE_SENTENCES))]
    assert decide(hits, CARE_SENTENCES, np.array([0.9, 0.8])).answerable
    assert not decide(hits, CARE_SENTENCES, np.array([0.84, 0.8])).answerable
    judged = Decider(0.0, "zh", TOY, Evidence(TAXI, "zh", SEARCHED, STATS))
    assert not judged(hits, TRANSPORT_SENTENCES, np.array([0.99])).answerable


def synthetic(seed: int = 7, n: int = 120):
    """A small gold set of synthetic rows: two signals, answerable when their sum is high."""
    from eval.fit_verifier import Data, Row, Ruled

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, b = rng.normal(size=2)
        answerable = a + 0.5 * b + rng.normal(scale=0.5) > -0.8
        rows.append(
            Row(f"q{i}", "en" if i % 4 == 0 else "zh", "k", bool(answerable), {"a": a, "b": b})
        )
    ruled = [Ruled("r1", "zh", "k", False, False), Ruled("r2", "zh", "k", True, True)]
    return Data(rows, ruled, ["a", "b"])


def test_the_fit_is_reproducible_with_a_seed():
    from eval.fit_verifier import fit_and_score

    data = synthetic()
    first = fit_and_score(data, folds=4, seed=3)
    second = fit_and_score(data, folds=4, seed=3)
    assert first[0].coef.tolist() == second[0].coef.tolist()
    assert first[0].intercept == second[0].intercept
    assert first[1] == second[1]
    assert first[2]["overall"] == second[2]["overall"]
    assert first[2]["overall"]["questions"] == 122  # every row's question and both ruled ones


def test_numpy_probabilities_match_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    from eval.fit_verifier import fit

    data = synthetic()
    x, y = data.x, data.y
    model = fit(x, y)
    z = (x - model.mean) / model.scale
    reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(z, y)
    np.testing.assert_allclose(model.probability(x), reference.predict_proba(z)[:, 1], rtol=1e-9)
    stored = Verifier(("a", "b"), model.mean, model.scale, model.coef, model.intercept, {"zh": 0.5})
    row = data.rows[0]
    assert stored.probability(Signals(row.features)) == pytest.approx(
        float(model.probability(x[:1])[0])
    )


def test_the_threshold_reaches_the_recall_goal_within_the_false_refusal_budget():
    from eval.fit_verifier import choose_threshold, refusal_scores

    p = np.array([0.05, 0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97])
    unanswerable = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    t = choose_threshold(p, unanswerable, target_recall=0.9, max_false_refusal=0.2)
    assert t == pytest.approx(0.45)  # refuses the three unanswerable and one answerable
    s = refusal_scores(p < t, unanswerable)
    assert (s["refusal_recall"], s["false_refusal_rate"]) == (1.0, pytest.approx(1 / 7))
    # With no budget it refuses only below the first answerable one.
    assert choose_threshold(p, unanswerable, 0.9, 0.0) == pytest.approx(0.15)


def test_fit_data_keeps_ruled_questions_out_of_the_model():
    data = synthetic()
    assert len(data.x) == 120 and {q[0] for q in data.questions()} >= {"r1", "r2"}
    only_a = dataclasses.replace(data, names=["a"])
    assert only_a.x.shape == (120, 1)


class Refuser:
    """A Judge that refuses everything, for a missing minimum wage."""

    def __init__(self) -> None:
        self.seen: list[Signals] = []

    def judge(self, signals: Signals, where: str | None = None):
        from service.answers.verifier import Judgement

        self.seen.append(signals)
        return Judgement(False, 0.2, f"{where or '报告'}没有提到“最低工资”。", "missing")


def test_a_refusal_says_why_and_cites_the_nearest_passages(fixture_index, fake_embedder):
    from service.answers import Asker
    from service.query import understand
    from service.retrieval import Retriever

    judge = Refuser()
    asker = Asker(Retriever(fixture_index, fake_embedder, multilingual=None), verifier=judge)
    answer = asker.ask(understand("新建养老床位多少张", k=2))
    assert (answer.answerable, answer.confidence) == (False, 0.2)
    assert answer.reason == "报告没有提到“最低工资”。"
    assert answer.text == "报告没有提到“最低工资”，无法回答这个问题。以下是最接近的段落，仅供参考。"
    assert [c.n for c in answer.citations] == [1, 2]
    assert all(not c.highlights for c in answer.citations)
    (seen,) = judge.seen
    assert seen.focus == "床位" and seen.asked == "number"
    assert seen.features["together"] == 1.0  # 新建养老床位800张


def test_without_the_verifier_the_calibrated_threshold_decides(fixture_index, fake_embedder):
    from service.answers import Asker
    from service.query import understand
    from service.retrieval import Retriever

    retriever = Retriever(fixture_index, fake_embedder, multilingual=None)
    assert Asker(retriever, verifier=False).verifier is None
    assert Asker(retriever, min_score=0.5).verifier is None  # ANSWER_MIN_SCORE overrides it
    assert isinstance(Asker(retriever).verifier, Verifier)
    answer = Asker(retriever, min_score=0.0).ask(understand("新建养老床位多少张", k=2))
    assert (answer.answerable, answer.confidence, answer.reason) == (True, 1.0, None)
    refused = Asker(retriever, min_score=9.0).ask(understand("新建养老床位多少张", k=2))
    assert (refused.answerable, refused.confidence) == (False, 0.0)
    assert refused.reason == "报告中没有找到能回答这个问题的内容。"


FIXTURE_GOLD = [
    ("新设企业多少家？", "新设企业3000家", "3000家"),
    ("实际利用外资多少？", "实际利用外资12亿美元", "12亿美元"),
    ("新增就业岗位多少个？", "新增就业岗位5万个", "5万个"),
    ("新建养老床位多少张？", "新建养老床位800张", "800张"),
    ("全区生产总值增长多少？", "全区生产总值增长6.0%", "6.0%"),
    ("重大工程投资不低于多少？", "重大工程投资不低于300亿元", "300亿元"),
    ("PM2.5年平均浓度控制在多少？", "PM2.5年平均浓度控制在30微克/立方米以下", "30微克"),
    ("夜间消费节要打造几个商圈？", "打造三个商圈", "三个商圈"),
]
FIXTURE_NEAR_MISSES = [
    "出租车起步价是多少？",
    "地铁票价多少钱？",
    "一共有多少所大学？",
    "开放平台的主任是谁？",
    "最低工资标准是多少？",
    "跨境电商交易额跟深圳比哪个高？",
]


def test_tune_verifier_fits_and_writes_the_coefficients(
    tmp_path, fixture_index_dir, fake_embedder, monkeypatch
):
    from fakes import write_questions

    from eval.__main__ import main

    rows = [
        {"id": f"a{i}", "question": q, "evidence": [e], "answer": a, "answerable": True,
         "lang": "zh", "tags": [], "doc_id": "demo-2020"}
        for i, (q, e, a) in enumerate(FIXTURE_GOLD)
    ] + [
        {"id": f"u{i}", "question": q, "evidence": [], "answer": "", "answerable": False,
         "lang": "zh", "tags": [], "doc_id": "demo-2020", "kind": "near-miss"}
        for i, q in enumerate(FIXTURE_NEAR_MISSES)
    ]  # fmt: skip
    questions = write_questions(tmp_path, *rows)
    monkeypatch.setenv("MULTILINGUAL", "false")
    out, study = tmp_path / "verifier.json", tmp_path / "tune"
    args = ["tune", "verifier", "--questions", str(questions), "--index", str(fixture_index_dir),
            "--out", str(study), "--verifier-out", str(out), "--folds", "2"]  # fmt: skip
    assert main(args, embedder=fake_embedder) == 0
    written = Verifier.load(out)
    assert written.features == ("missing_cited", "missing_proper", "focus_unheld", "together",
                                "compares", "dense", "english")  # fmt: skip
    assert written.fitted["folds"] == 2 and written.fitted["questions"] == 14
    assert set(written.fitted["cv"]["by_kind"]) == {"near-miss", "report"}
    assert (study / "tune-verifier.json").exists()
    assert main([*args, "--features", "together,nope"], embedder=fake_embedder) == 2
