"""Evidence signals: how well the retrieved evidence covers what a question asks.

Pure feature extraction for the verifier (verifier.py): from the question, its terms, the
hits with their scored sentences, the text of the reports searched and the corpus's term
statistics. No model is called; the sentences' scores are the ones compose computed.

Each signal is a float (`Signals.features`); the verifier's coefficients say which it uses
(`python -m eval tune verifier` measures each one's worth by cross-validation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import jieba.posseg as pseg
import numpy as np

from indexer.lexical import STOPWORDS
from indexer.types import Hit

from ..colloquial import formal_terms
from .asked import Kind, holds, wanted

if TYPE_CHECKING:
    import bm25s

    from ..retrieval.translate import TermGroup

# Words of a question that carry no subject: question words, modal and vague words.
_QUESTION_TEXT = """
    要 能 会 可以 可 打算 准备 计划 一共 总共 共 现在 目前 大概 大约 具体 多长 多大 多久
    多远 多高 第几 以后 之后 建好 需要 达到 是否 应该 知道 分别 哪天 哪年 哪一年 哪些 哪个
    哪家 哪儿 哪里 什么时候 何时 谁 哪位 怎么 这份 该 本 全市 全国 城市 地方 东西 情况
    开始 已经 还有 一个 一年 一月 每年 每月 每个 每人 平均 多少钱 是多少 有多少 多少 几
    提高 增加 大家 老百姓 咱们 专门 这类 那种 这种 一趟 左右 最 里面 以上 以下 能够
"""
_QUESTION_WORDS = STOPWORDS | frozenset(_QUESTION_TEXT.split())
# jieba's part-of-speech tags of content words: nouns, verbs, adjectives, idioms, Latin.
_CONTENT_TAGS = ("n", "v", "a", "eng", "j", "l", "i")
_NOUN_TAGS = ("n", "eng", "j", "vn")
_PROPER_TAGS = ("ns", "nr", "nt", "nz", "eng")
_COMPARES = re.compile(
    r"比.{0,12}(?:高|低|多|少|大|小|快|慢|长|短)(?:还是|多少|几)|哪个(?:更)?(?:高|低|多|少|大|快)|排第几|排名"
    r"|\b(?:higher|lower|more|less|longer|shorter|bigger|larger|faster|slower) than\b"
    r"|\bcompared (?:with|to)\b|\brank(?:s|ed)?\b"
)
# The words that ask (a focus is the noun they ask about), and where a clause ends.
_ASKING = ("多少", "几", "第几", "谁", "哪", "什么", "何时", "多长", "多大", "多久", "多远", "多高")
_CLAUSE_END = frozenset("，。？！、,?!；;")
_EN_ASKING = re.compile(
    r"\bhow (many|much)\b|\bwhat (percentage|share|proportion|rate) of\b|\bwho\b"
    r"|\bwhen\b|\bwhat(?: is|'s| was| are)? the\b|\bwhich\b"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


@dataclass(frozen=True, slots=True)
class TermStats:
    """Document frequencies of the corpus's passages (BM25 tokens), for IDF weights."""

    df: Mapping[str, int]
    n: int

    @classmethod
    def from_bm25(cls, index: bm25s.BM25) -> TermStats:
        """The frequencies a bm25s index holds: one score column per token, one row per
        passage that has it."""
        indptr = np.asarray(index.scores["indptr"])
        counts = np.diff(indptr)
        df = {t: int(counts[i]) for t, i in index.vocab_dict.items() if t and i < counts.size}
        return cls(df, int(index.scores["num_docs"]))

    def idf(self, term: str) -> float:
        """BM25's IDF, ln(1 + (N - df + 0.5) / (df + 0.5)) (Robertson & Zaragoza 2009)."""
        df = self.df.get(term.lower(), 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class Term:
    """A salient word of the question: as asked, what counts as the report saying it, its
    weight (IDF), whether it is a noun (what a reason names first) and a proper name."""

    word: str
    forms: tuple[str, ...]
    weight: float
    noun: bool = True
    proper: bool = False

    def in_text(self, text: str) -> bool:
        return any(f in text for f in self.forms)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the signals read beyond the hits: the question, the text searched, the corpus.

    Attributes:
        question: the question as asked.
        lang: "zh" or "en".
        searched: the text of the reports searched (headings included).
        stats: the corpus's term statistics.
        groups: an English question's Chinese term groups (service.retrieval.translate).
        texts: each report's text by doc_id, for judging a report's evidence on its own.
    """

    question: str
    lang: str
    searched: str
    stats: TermStats
    groups: tuple[TermGroup, ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)

    def within(self, doc_id: str) -> Evidence:
        """The same question, searched in one report."""
        return replace(self, searched=self.texts.get(doc_id, self.searched))


@dataclass(frozen=True, slots=True)
class Signals:
    """The features of one question's evidence, and what a reason would name.

    `features` maps each signal's name to its value; `missing` is the most salient term the
    searched reports never mention (a proper name first, then a noun); `focus` the noun
    the question asks about; `subject` its noun phrase; `asked` the kind of answer wanted
    (None: no particular kind); `best_holds` whether the best sentence holds one.
    """

    features: Mapping[str, float]
    lang: str = "zh"
    missing: str | None = None
    focus: str | None = None
    subject: str | None = None
    asked: Kind | None = None
    best_holds: bool = True

    def vector(self, names: Sequence[str]) -> np.ndarray:
        return np.array([self.features[n] for n in names], dtype=np.float64)


@lru_cache(maxsize=1024)
def _cut(question: str) -> tuple[tuple[str, str], ...]:
    """jieba's words of a question with their part-of-speech tags (cut once per question)."""
    return tuple((w, f) for w, f in pseg.cut(question))


def _is_content(word: str, flag: str) -> bool:
    if word in _QUESTION_WORDS or not flag.startswith(_CONTENT_TAGS):
        return False
    if _CJK.search(word):
        return len(word) >= 2
    return len(word) >= 2 and not word.isdigit()


def terms_zh(question: str, stats: TermStats) -> list[Term]:
    """The question's content words (jieba), each with the report's words for it
    (service.colloquial) and its IDF."""
    out: dict[str, Term] = {}
    for word, flag in _cut(question):
        word = word.strip()
        if word in out or not _is_content(word, flag):
            continue
        forms = (word, *formal_terms(word))
        if not _CJK.search(word):
            forms = (*forms, word.lower(), word.upper())
        noun = flag.startswith(_NOUN_TAGS)
        out[word] = Term(word, forms, stats.idf(word), noun, flag.startswith(_PROPER_TAGS))
    return list(out.values())


def terms_en(question: str, groups: Sequence[TermGroup], stats: TermStats) -> list[Term]:
    """An English question's translated units (any of a unit's Chinese terms counts), each
    weighted by the mean IDF of its terms; figures carried over are left out."""
    out = []
    for g in groups:
        if any(ch.isdigit() for ch in g.source):
            continue
        weight = sum(stats.idf(t) for t in g.terms) / len(g.terms)
        out.append(Term(g.source, g.terms, weight, proper=_capitalised(question, g.source)))
    covered = {w.lower() for g in groups for w in g.source.split()}
    for word in _LATIN_WORD.findall(question.replace("’", "'")):
        if word.lower() not in covered and _capitalised(question, word):
            out.append(Term(word, (), stats.idf(word), proper=True))
    return out


def _capitalised(question: str, words: str) -> bool:
    """A proper name in an English question: capitalised, not where the question starts."""
    from ..retrieval.translate import EN_STOPWORDS

    at = question.find(words)
    return at > 0 and words[:1].isupper() and words.lower().removesuffix("'s") not in EN_STOPWORDS


def focus_zh(question: str) -> str | None:
    """The noun a Chinese question asks about: the last content noun after its question word
    in the same clause (多少张养老床位 → 床位), else the nearest one before it (起步价是多少)."""
    words = _cut(question)
    at = next((i for i, (w, _) in enumerate(words) if w.startswith(_ASKING)), None)
    if at is None:
        return None

    def noun(w: str, f: str) -> bool:
        return (f.startswith(_NOUN_TAGS) or f == "b") and f != "ns" and _is_content(w, "n")

    after: list[str] = []
    for w, f in words[at + 1 :]:
        if w in _CLAUSE_END:
            break
        if noun(w, f):
            after.append(w)
    if after:
        return after[-1]
    return next((w for w, f in reversed(words[:at]) if noun(w, f)), None)


def focus_en(question: str, groups: Sequence[TermGroup]) -> str | None:
    """The unit an English question asks about: the first term group after its question
    phrase (how many universities → universities)."""
    q = question.lower().replace("’", "'")
    m = _EN_ASKING.search(q)
    if m is None:
        return None
    for g in groups:
        at = q.find(g.source.lower(), m.end())
        if at >= 0 and not any(ch.isdigit() for ch in g.source):
            return g.source
    return None


def _share(terms: Sequence[Term], present: Sequence[bool]) -> float:
    """Weighted share of the terms that are present (1.0 when there are none)."""
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 1.0
    return sum(t.weight for t, p in zip(terms, present, strict=True) if p) / total


def _subject(question: str, focus: str | None, stats: TermStats) -> str | None:
    """The question's noun phrase a reason names: the run of adjacent nouns that holds the
    focus (出租车起步价), else the one with the largest IDF."""
    runs: list[list[str]] = []
    current: list[str] = []
    for word, flag in _cut(question):
        if flag.startswith((*_NOUN_TAGS, "b")) and flag != "ns" and word not in _QUESTION_WORDS:
            current.append(word)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    with_focus = [run for run in runs if focus in run]
    if with_focus:
        return "".join(with_focus[0])
    return "".join(max(runs, key=lambda run: sum(stats.idf(w) for w in run))) if runs else None


def extract(
    evidence: Evidence,
    hits: Sequence[Hit],
    texts: Sequence[str],
    scores: np.ndarray,
) -> Signals:
    """The signals of one question's evidence.

    Args:
        evidence: the question, the text searched and the corpus statistics.
        hits: the retrieved passages, best first (the answer's citations).
        texts: the hits' sentences, as compose split them.
        scores: each sentence's score (sentences.score_sentences), best first when sorted.

    Returns:
        Signals with these features:
        `missing_cited`, the IDF-weighted share of the question's terms that the cited
        passages never mention; `missing_proper`, whether a proper name it asks about
        (jieba's ns/nr/nt/nz, a capitalised English word) is missing from the reports
        searched; `focus_unheld`, whether no sentence holds both the noun it asks about
        and an answer of the kind asked (多少张 → N张, 谁 → a name); `together`, the largest
        weighted share of its terms in one sentence that holds such an answer; `compares`,
        whether it compares with something else (比…高还是低, higher than); `dense`, the
        best passage's cosine (NaN when the hits carry none); `english`. Beside them: the
        most salient term the reports never mention, the focus, the subject and the kind
        asked, for the reason.
    """
    en = evidence.lang == "en"
    stats = evidence.stats
    terms = (
        terms_en(evidence.question, evidence.groups, stats)
        if en
        else terms_zh(evidence.question, stats)
    )
    want = wanted(evidence.question, evidence.lang)
    cited = "\n".join(t for h in hits for t in (*h.passage.heading_path, h.passage.text))
    in_searched = [t.in_text(evidence.searched) for t in terms]
    absent = [t for t, p in zip(terms, in_searched, strict=True) if not p]
    word = focus_en(evidence.question, evidence.groups) if en else focus_zh(evidence.question)
    focus = next((t for t in terms if t.word == word), None)
    if focus is None and word is not None:
        focus = Term(word, (word, *formal_terms(word)), stats.idf(word))

    together = 0.0
    focus_held = False
    for text in texts:
        if holds(text, want):
            together = max(together, _share(terms, [t.in_text(text) for t in terms]))
            focus_held = focus_held or (focus is not None and focus.in_text(text))
    best = int(np.argmax(scores)) if len(texts) else None
    features = {
        "missing_cited": 1.0 - _share(terms, [t.in_text(cited) for t in terms]),
        "missing_proper": float(any(t.proper for t in absent)),
        "focus_unheld": float(focus is not None and not focus_held),
        "together": together if terms else 1.0,
        "compares": float(bool(_COMPARES.search(evidence.question.lower()))),
        # Not measured (BM25 mode, a passage looked up by id): NaN, which counts as average.
        "dense": max((float(h.dense) for h in hits if h.dense is not None), default=math.nan),
        "english": float(en),
    }
    named = sorted(absent, key=lambda t: (not t.proper, not t.noun, -t.weight))
    return Signals(
        features,
        evidence.lang,
        missing=named[0].word if named else None,
        focus=word,
        subject=None if en else _subject(evidence.question, word, stats),
        asked=want.kind if want is not None else None,
        best_holds=best is not None and holds(texts[best], want),
    )
