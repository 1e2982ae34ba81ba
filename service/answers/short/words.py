"""The words a span is said with: the question's terms, weighted, and how a span's clause
shares them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

from indexer.lexical import tokenize

from ...colloquial import formal_terms
from ...retrieval.translate import Translator
from .figures import Figure

# Where a clause ends, for the words a figure is said with.
_CLAUSE_END = re.compile(r"[，,；;。！？!?、：:\n]")
# 和/及 part two figures' clauses (128万镇保参保人员和478.8万来沪从业人员), not two nouns.
_AND = re.compile(r"和|及")
# Words before a figure that leave its clause without a subject of its own (达到4.32万亿元).
_NO_SUBJECT = re.compile(r"(?:19|20)\d\d年|预计|全年|其中|累计|分别|同比|比上年|共")
# The clause a lead-in quotes: list commas stay inside it.
LEAD_END = re.compile(r"[，,；;。！？!?：:\n]")
# A question's words outside the clause of its question word count this much.
CONTEXT = 0.3
# A clause without the question's words takes the clause before it at this weight.
INHERITED = 0.8
# A character of the question's clause that is no word of it counts this much.
CHARACTER = 0.2
_COMMON_CHARS = frozenset(
    "的了是在有要和与及或把被将从到为也都就还又很更最多少几个今年去明上下这那哪些什么吗呢吧啊能会可以打算计划"
)
_QUESTION_CLAUSE = re.compile(r"[，,；;。？?！!]")
Terms = Mapping[str, float]
_RESPECTIVELY = "分别"


@cache
def _glossary() -> Translator:
    return Translator(use_cedict=False)


def question_terms(question: str, lang: str, at: int = 0) -> dict[str, float]:
    """The question's content words in the report's language (glossary terms for English),
    each weighted: 1 in the question's clause that holds offset `at` (its question word),
    CONTEXT in the others (张江综合性国家科学中心建设中，哪两个研究机构挂牌成立？)."""
    a, b = clause(question, min(at, max(len(question) - 1, 0)), _QUESTION_CLAUSE)
    weights: dict[str, float] = {}
    for part, weight in ((question[a:b], 1.0), (question[:a] + "，" + question[b:], CONTEXT)):
        terms = _glossary().terms(part) if lang == "en" else tokenize(part)
        for t in [*terms, *(formal_terms(part) if lang != "en" else ())]:
            if len(t) >= 2 and not re.fullmatch(r"[\d.%]+", t):
                weights[t] = max(weights.get(t, 0.0), weight)
    # Single characters of the question's own clause, a little each: everyday words share
    # characters with the report's (老人, 老年人; 托管班, 暑托班).
    for ch in question[a:b]:
        if "\u4e00" <= ch <= "\u9fff" and ch not in _COMMON_CHARS:
            weights.setdefault(ch, CHARACTER)
    return weights


def clause(text: str, at: int, boundary: re.Pattern[str] = _CLAUSE_END) -> tuple[int, int]:
    """The clause of `text` that holds offset `at`."""
    start = 0
    for m in boundary.finditer(text, 0, at):
        start = m.end()
    stop = boundary.search(text, at)
    return start, (stop.start() if stop else len(text))


def overlap(text: str, terms: Terms) -> float:
    return sum(len(t) * w for t, w in terms.items() if t in text)


def _figure_clause(text: str, start: int) -> tuple[int, int]:
    """The clause a figure is said in; 和 or 及 part it from another figure's."""
    a, b = clause(text, start)
    for m in _AND.finditer(text, a, start):
        if any(ch.isdigit() for ch in text[a : m.start()]):
            a = m.end()
    after = _AND.search(text, start, b)
    if after is not None and any(ch.isdigit() for ch in text[after.end() : b]):
        b = after.start()
    return a, b


def term_score(text: str, start: int, terms: Terms) -> float:
    """Words of the question in the span's clause (in the clause before it when it has no
    subject of its own: 全市生产总值突破4万亿元大关，达到4.32万亿元), and a little for the
    rest of the sentence."""
    a, b = _figure_clause(text, start)
    own = overlap(text[a:b], terms)
    words = any(len(t) > 1 and t in text[a:b] for t in terms)
    subject = _NO_SUBJECT.sub("", text[a:start])
    if not words and a > 0 and text[a - 1] in "，,、" and len(subject) <= 4:
        p, _ = clause(text, a - 1)
        own = max(own, INHERITED * overlap(text[p : a - 1], terms))
    return own + 0.1 * overlap(text, terms)


def respectively(text: str, figs: Sequence[Figure], terms: Terms) -> dict[int, float]:
    """`A、B分别增长X和Y`: each figure scored by the words of the thing it belongs to (a
    second 分别 with no things of its own, 累计分别达到…, refers to the first's)."""
    scores: dict[int, float] = {}
    previous: list[str] = []
    for m in re.finditer(_RESPECTIVELY, text):
        head_start = 0
        for b in re.finditer(r"[，,；;。：:]", text[: m.start()]):
            head_start = b.end()
        head = text[head_start : m.start()]
        tail_end = re.search(r"[，,；;。]", text[m.end() :])
        stop = m.end() + tail_end.start() if tail_end else len(text)
        after = [f for f in figs if m.end() <= f.start < stop]
        things = head.split("、")
        if len(things) != len(after):
            things = re.split(r"和|与|及", head)
        if len(things) != len(after):
            things = previous
        if len(things) == len(after) > 1:
            previous = things
            for thing, f in zip(things, after, strict=True):
                scores[f.start] = overlap(thing, terms)
    return scores
