"""Candidate spans by kind, and the best of them over the quoted sentences."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jieba.posseg as pseg

from .figures import CN_DIGITS, RATE_UNITS, Figure, figures
from .question import Asked, asked
from .words import LEAD_END, Terms, clause, overlap, question_terms, respectively, term_score

_TO = re.compile(r"到|至")
_TOTAL_MARK = re.compile(r"累计|总|共|合计")
# A round figure a sentence passes (突破4万亿元大关，达到4.32万亿元) is not the figure.
_THRESHOLD = re.compile(r"(?:突破|超过|跨越|迈上|站上)$")
# What a figure of the kind preferred (a percentage for 增长多少) or the total asked for
# (一共) is worth, in characters of the question's words around it.
PREFERRED = 3.0
# A list longer than this is no short answer.
MAX_ITEMS = 4
# An item longer than this is a clause, not a list item.
MAX_ITEM_CHARS = 20


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    """The span that answers, as written in the source, and where it is.

    Attributes:
        text: the span: "20个", "100公里", "6.5%左右", "应勇", "2018年1月23日".
        n: the citation number of the sentence it comes from.
        start, end: absolute offsets in the document's text, which holds `text` there.
    """

    text: str
    n: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    tier: int  # 0: what was asked; 1: second best (a 倍 for 多少, a figure counted from)
    score: float  # the question's words around it, and what it is said with
    # What would answer were it not too long (a list of six): when it is the best, the
    # answer is None rather than a worse candidate.
    refused: bool = False


def _number_candidates(text: str, want: Asked, terms: Terms) -> list[_Candidate]:
    figs = figures(text)
    aligned = respectively(text, figs, terms)
    out = []
    for f in figs:
        rate = f.unit in RATE_UNITS
        if want.units and (f.unit not in want.units or (f.unit == "" and not f.magnitude)):
            continue
        if want.percent == "only" and not rate:
            continue
        tier = 1 if f.unit == "倍" and not want.times and "倍" not in want.units else 0
        a, b = clause(text, f.start, LEAD_END)
        before, after = text[a : f.start], text[f.end : b]
        # 从468公里增加到666公里: the figure counted from yields to the one reached.
        if "从" in before and _TO.search(after) and not _TO.search(before[before.rfind("从") :]):
            tier = 1
        score = aligned.get(f.start, term_score(text, f.start, terms))
        if want.percent == "prefer":
            score += PREFERRED if rate else 0.0
        elif want.percent == "avoid":
            score -= PREFERRED if rate else 0.0
        near = text[clause(text, f.start)[0] : f.start]
        if want.total and _TOTAL_MARK.search(near):
            score += PREFERRED
        elif want.new and "累计" in near:
            score -= PREFERRED
        if _THRESHOLD.search(text[max(0, f.start - 3) : f.start]) and _passed(text, f, figs):
            score -= PREFERRED
        out.append(_Candidate(f.start, f.end, tier, score))
    return out


def _passed(text: str, f: Figure, figs: Sequence[Figure]) -> bool:
    """A figure the sentence passes on the way to another (突破4万亿元大关，达到4.32万亿元)."""
    if text.startswith(("大关", "关口"), f.end):
        return True
    return any(g.start > f.end and g.unit == f.unit and g.start - f.end <= 12 for g in figs)


def _ordinal_candidates(text: str, want: Asked, terms: Terms) -> list[_Candidate]:
    unit = re.escape(want.ordinal) if want.ordinal else "届|代|轮|批|次|位|名|期"
    pattern = re.compile(rf"第(?:\d+|[{CN_DIGITS}]+)(?:{unit})")
    return [
        _Candidate(m.start(), m.end(), 0, term_score(text, m.start(), terms))
        for m in pattern.finditer(text)
    ]


_YEAR = r"(?:\d{4}|[〇零一二三四五六七八九]{4})年"
_MONTH = r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])月"
_DAY = r"(?:\d{1,2}|[一二]?十[一二三四五六七八九]?|三十一?|[一二三四五六七八九])日"
_DATE = re.compile(
    rf"(?<![\d〇零一二三四五六七八九])(?P<year>{_YEAR})(?P<rest>{_MONTH}(?:{_DAY})?)?"
    rf"|(?<![\d年月])(?P<md>{_MONTH}{_DAY})"
)


def _date_candidates(text: str, want: Asked, terms: Terms) -> list[_Candidate]:
    out = []
    for m in _DATE.finditer(text):
        has_day = bool(re.search(r"日$", m.group()))
        if want.detail == "year":
            if not m.group("year"):
                continue
            start, end = m.span("year")
        else:
            if want.detail == "day" and not has_day:
                continue
            start, end = m.span()
        # The most specific date first when any date will do.
        tier = 0 if want.detail != "any" or m.group("rest") or m.group("md") else 1
        out.append(_Candidate(start, end, tier, term_score(text, start, terms)))
    return out


_TITLE = r"(?:国务院)?(?:代理?)?(?:总理|省长|市长|区长|县长|州长|自治区主席|主席)"
_NAME_AFTER = re.compile(
    rf"{_TITLE}[ \u3000]*(?P<name>[\u4e00-\u9fff](?:[ \u3000]?[\u4e00-\u9fff]){{1,2}}?)"
    r"(?=同志|作(?:政府)?(?:工作)?报告|在|的|[ \u3000]*$|[，。：:；\s（(])"
)
_TITLE_WORD = re.compile(rf"^{_TITLE}$")
_OFFICE = re.compile(
    rf"[\u4e00-\u9fff]{{1,6}}?(?:省|市|自治区|特别行政区)(?:人民政府)?{_TITLE}|国务院总理"
)


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    """jieba's words of a text with their offsets and part-of-speech tags."""
    out = []
    at = 0
    for word, flag in pseg.cut(text):
        out.append((at, at + len(word), word, flag))
        at += len(word)
    return out


def _name_candidates(text: str, want: Asked, terms: Terms) -> list[_Candidate]:
    spans: dict[int, int] = {}
    for m in _NAME_AFTER.finditer(text):
        spans[m.start("name")] = m.end("name")
    # A name jieba knows beside an office title: 龚正市长, 省长 李乐成.
    solid = [t for t in _tokens(text) if t[2].strip()]
    for i, (start, end, word, flag) in enumerate(solid):
        if not flag.startswith("nr") or not 2 <= len(word) <= 3:
            continue
        near = [solid[j][2] for j in (i - 1, i + 1) if 0 <= j < len(solid)]
        if any(_TITLE_WORD.match(w) for w in near):
            spans.setdefault(start, end)
    out = [_Candidate(s, e, 0, term_score(text, s, terms)) for s, e in spans.items()]
    if not out:
        out = [
            _Candidate(m.start(), m.end(), 1, term_score(text, m.start(), terms))
            for m in _OFFICE.finditer(text)
        ]
    return out


_LIST_STOP = re.compile(r'[“”"《》（）()]')
_JOINED = re.compile(r"和|及|与")
# Words after which a list starts (推进北横通道、…), when jieba does not tag them as verbs.
_LEAD_TEXT = (
    "推进 加快 建设 建成 启动 开工 落实 深化 实施 完成 推动 培育 打造 用好 用足 发展 "
    "支持 加强 强化 开展 提升 围绕 包括 聚焦 新建 扩大 办好 创建 实现 举办 承办 布局 "
    "引进 设立 开通 拥有 覆盖 形成 完善 优化 做好 抓好 促进 加大 如 像 让 对 把 以 将"
)
_LEAD_ALTERNATIVES = "|".join(sorted(_LEAD_TEXT.split(), key=len, reverse=True))
_LEAD_WORDS = re.compile(_LEAD_ALTERNATIVES)
_ENDS_WITH_LEAD = re.compile(rf"(?:{_LEAD_ALTERNATIVES})$")
# Words that end the last item of a list without 等 (…、李政道研究所挂牌成立).
_TRAIL_TEXT = (
    "的 挂牌 投入使用 相继 建成 开工 全面 基本 顺利 实现 取得 成为 落户 开园 运营 启动 "
    "联防联控 分别 均 都 已 已经 正式 先后 率先"
)
_TRAIL_WORDS = frozenset(_TRAIL_TEXT.split())
_CLAUSE_LEVEL = ("d", "ad", "v", "vd", "vn", "p", "c", "l", "i", "j", "a", "x")


def _list_start(
    clause: str,
    first: int,
    tokens: list[tuple[int, int, str, str]],
    parallel: bool,
    others: list[str],
) -> int:
    """Where the first item of a list starts (see _list_in)."""
    bounds = {0}
    starts, ends = {t[0] for t in tokens}, {t[1] for t in tokens}
    # A lead word made of whole words (用好), or ending one (圆满完成); not 将 of 将心比心.
    for m in _LEAD_WORDS.finditer(clause, 0, first):
        if m.start() in starts and m.end() in ends:
            bounds.add(m.start() if parallel else m.end())
    verbs = [t for t in tokens if t[1] <= first and t[3] == "v"]
    if parallel and verbs:
        bounds.add(verbs[-1][0])
    for i, (s, e, word, flag) in enumerate(tokens):
        if e > first:
            break
        lead = _ENDS_WITH_LEAD.search(word)
        if lead and len(lead.group()) > 1:
            bounds.add(s + lead.start() if parallel else e)
        elif _LIST_STOP.fullmatch(word):
            bounds.add(e)
        elif flag.startswith("v") and all(t[3].startswith(_CLAUSE_LEVEL) for t in tokens[:i]):
            bounds.add(s if parallel else e)
    ordered = [b for b in sorted(bounds, reverse=True) if clause[b:first].strip()]
    # 围绕服务政府、法治政府、创新政府: a first item that is only the other items' common
    # ending (政府) lost its own word to the verb boundary: start one boundary earlier.
    suffix = _common_suffix(others)
    for b in ordered:
        if not suffix or clause[b:first] != suffix:
            return b
    return 0


def _common_suffix(words: list[str]) -> str:
    if len(words) < 2:
        return ""
    out = words[0]
    for w in words[1:]:
        while out and not w.endswith(out):
            out = out[1:]
    return out


def _list_in(clause: str) -> tuple[int, int, int] | None:
    """The 、-joined run of a clause: (start, end, items), or None.

    The first item starts after the verb that introduces the list (推进, 加快建设) or at the
    clause's start, or at the verb itself when every item is a verb phrase (做强主业、做实创新);
    a first item much shorter than the middle ones starts one word earlier. The last item ends
    at 等, a quote, 的, or the verb that follows the list (…研究所挂牌成立).
    """
    first = clause.find("、")
    last = clause.rfind("、")
    if first <= 0:
        return None
    tokens = _tokens(clause)
    cuts = [i for i, ch in enumerate(clause) if ch == "、"]
    heads = [next((t for t in tokens if t[0] == c + 1), None) for c in cuts]
    parallel = all(h is not None and h[3] == "v" for h in heads)
    others = [clause[a + 1 : b] for a, b in itertools.pairwise(cuts)]
    start = _list_start(clause, first, tokens, parallel, others)
    tail = last + 1
    end = len(clause)
    if (etc := clause.find("等", tail)) > tail:
        end = etc
    else:
        for s, _e, word, flag in [t for t in tokens if t[0] >= tail][1:]:
            if (
                _LIST_STOP.fullmatch(word)
                or word in _TRAIL_WORDS
                or (flag in ("v", "vn") and not parallel)
            ):
                end = s
                break
    if (q := _LIST_STOP.search(clause, tail, end)) is not None:
        end = q.start()
    items = clause[start:end].split("、")
    if any(not i.strip() or len(i) > MAX_ITEM_CHARS for i in items):
        return None
    return start, end, len(items)


def _list_candidates(text: str, want: Asked, terms: Terms) -> list[_Candidate]:
    """Each clause's list; one too long, or not of the count asked, is refused, so that it is
    not passed over for a list the question is not about."""
    out = []
    at = 0
    asked_words = {t: w for t, w in terms.items() if w == 1.0}
    for piece in re.split(r"([，,；;。！？!?：:\n])", text):
        found = _list_in(piece) if "、" in piece else None
        if found is not None:
            start, end, n = found
            span = piece[start:end]
            joined = n + 1 if _JOINED.search(span.rsplit("、", 1)[-1]) else n
            fits = (want.count is None or want.count in (n, joined)) and n <= MAX_ITEMS
            # A list none of whose words the question's own clause uses is another list.
            if not asked_words or overlap(piece, asked_words):
                score = overlap(piece, terms)
                out.append(_Candidate(at + start, at + end, 0, score, refused=not fits))
        at += len(piece)
    return out


_FINDERS = {
    "number": _number_candidates,
    "ordinal": _ordinal_candidates,
    "date": _date_candidates,
    "name": _name_candidates,
    "list": _list_candidates,
}


def short_answer(
    question: str, sentences: Sequence[tuple[int, int, str]], lang: str
) -> ShortAnswer | None:
    """The span of the quoted sentences that answers the question, or None.

    Args:
        question: the user's question.
        sentences: (citation n, absolute start offset in the document's text, sentence
            text) of the quoted sentences, best first.
        lang: "zh" or "en", the question's language.

    Returns:
        The best fitting span as written (qualifiers such as 左右, 以上, 以内 kept), or None
        when the question asks for no figure, name, date or list, or no sentence holds one.
    """
    want = asked(question, lang)
    if want is None:
        return None
    terms = question_terms(question, lang, want.at)
    find = _FINDERS[want.kind]
    guarded = want.kind == "number" and lang != "en"
    best: tuple[tuple[float, ...], ShortAnswer | None] | None = None
    for rank, (n, offset, text) in enumerate(sentences):
        for c in find(text, want, terms):
            # A figure in a sentence that says none of a Chinese question's words answers
            # another question (出租车起步价 is not 全市生产总值年均增长7.1%). Names and
            # dates may not share words (这份报告是谁作的: 上海市市长 应勇), nor may an
            # English question's glossary terms.
            if guarded and not overlap(text, terms):
                continue
            key = (c.tier, -c.score, rank, c.start)
            if best is None or key < best[0]:
                span = text[c.start : c.end]
                found = ShortAnswer(span, n, offset + c.start, offset + c.end)
                best = (key, None if c.refused else found)
    return best[1] if best else None
