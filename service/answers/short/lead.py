"""The sentence an answer leads with: the clause holding the short answer; in English, a
fixed template with the figure rendered, then the clause quoted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from .figures import NUM, QUALIFIERS, RATE_UNITS, UNITS, unit_of
from .question import EN_FUTURE, asked
from .spans import ShortAnswer, short_answer
from .words import LEAD_END, clause


def _span_in(short: ShortAnswer, quote: str, quote_start: int | None) -> int:
    if quote_start is not None:
        at = short.start - quote_start
        if quote[at : at + len(short.text)] == short.text:
            return at
        raise ValueError(
            f"the short answer {short.text!r} is not at offset {at} of the quote: pass the "
            "quote it was taken from and that quote's start"
        )
    at = quote.find(short.text)
    if at < 0:
        raise ValueError(f"the short answer {short.text!r} is not in the quote {quote!r}")
    return at


_EN_UNIT_WORDS = {
    "%": "%",
    "个百分点": " percentage points",
    "百分点": " percentage points",
    "公里": " km",
    "千米": " km",
    "米": " m",
    "平方公里": " square kilometres",
    "平方千米": " square kilometres",
    "平方米": " square metres",
    "立方米": " cubic metres",
    "公顷": " hectares",
    "亩": " mu",
    "吨": " tonnes",
    "斤": " jin",
    "元": " yuan",
    "美元": " US dollars",
    "人": " people",
    "户": " households",
    "岁": " years",
    "年": " years",
    "天": " days",
    "小时": " hours",
    "分钟": " minutes",
    "个月": " months",
    "倍": " times",
    "微克/立方米": " µg/m³",
}
_EN_QUALIFIER = {
    "左右": "about {}",
    "上下": "about {}",
    "以上": "{} or more",
    "以下": "{} or less",
    "以内": "within {}",
    "之内": "within {}",
}
_MAGNITUDE = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_ONE_PARTS = re.compile(rf"^(?P<num>{NUM})(?P<approx>[多余]?)(?P<mag>[十百千万亿]*)(?P<unit>.*)$")
_SCALES = ((10**12, " trillion"), (10**9, " billion"), (10**6, " million"))


def _en_amount(num: str, mag: str) -> str:
    value = Decimal(num.replace(",", ""))
    for ch in mag:
        value *= _MAGNITUDE[ch]
    if not mag:
        return num
    for scale, word in _SCALES:
        if value >= scale:
            return f"{(value / scale).normalize():f}{word}"
    return f"{value.normalize():,f}"


def english_figure(text: str) -> str | None:
    """A figure in English words (4.9万张 → 49,000; 6.5%左右 → about 6.5%), or None.

    Only the number, its magnitude (万, 亿), the unit and the qualifier are rendered;
    measure words that count things (个, 张, 家) are left off, since the quote shows them.
    """
    qualifier = next((q for q in QUALIFIERS if text.endswith(q)), "")
    body = text[: len(text) - len(qualifier)]
    parts = re.split(r"——|[－\-—–~～至到]", body)
    if not 1 <= len(parts) <= 2:
        return None
    rendered = []
    for part in parts:
        m = _ONE_PARTS.match(part)
        if m is None:
            return None
        unit = "%" if m.group("unit") in ("%", "％") else m.group("unit")
        if unit and unit not in _EN_UNIT_WORDS and unit not in UNITS:
            return None
        try:
            amount = _en_amount(m.group("num"), m.group("mag"))
        except (InvalidOperation, KeyError):
            return None
        word = _EN_UNIT_WORDS.get(unit, "")
        rendered.append(("over " if m.group("approx") else "") + amount + word)
    figure = "–".join(rendered)
    return _EN_QUALIFIER[qualifier].format(figure) if qualifier else figure


_EN_MONTH_TEXT = (
    "January February March April May June July August September October November December"
)
_EN_MONTHS = _EN_MONTH_TEXT.split()
_DIGIT_DATE = re.compile(r"^(?P<y>\d{4})年(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?)?$")


def english_date(text: str) -> str | None:
    """A date written in digits in English (2018年1月23日 → 23 January 2018), or None."""
    m = _DIGIT_DATE.match(text)
    if m is None or (m.group("m") and not 1 <= int(m.group("m")) <= 12):
        return None
    out = m.group("y")
    if m.group("m"):
        out = f"{_EN_MONTHS[int(m.group('m')) - 1]} {out}"
        if m.group("d"):
            out = f"{int(m.group('d'))} {out}"
    return out


def lead_in(
    question: str, short: ShortAnswer, quote: str, lang: str, quote_start: int | None = None
) -> str:
    """The sentence an answer opens with: the clause that holds the short answer.

    Chinese: that clause of the quote, word for word, with its marker
    (`今年开办20个社区幼儿托管点[1]。`). English: a fixed template with the figure, then the
    clause quoted (`The report plans 20 [1]: “…开办20个社区幼儿托管点…”`); when the figure
    cannot be rendered, `The report gives 20个 [1]: “…”`.

    Args:
        question: the question (its tense picks the English template).
        short: the short answer, from `short_answer`.
        quote: the sentence the short answer was taken from.
        lang: "zh" or "en".
        quote_start: the quote's absolute start offset; when given the span is placed
            exactly, else it is the first occurrence of the short answer in the quote.

    Raises:
        ValueError: the short answer is not in the quote.
    """
    at = _span_in(short, quote, quote_start)
    a, _ = clause(quote, at, LEAD_END)
    _, b = clause(quote, at + len(short.text), LEAD_END)
    lead = quote[a:b].strip()
    marker = f"[{short.n}]"
    if lang != "en":
        return f"{lead}{marker}。"
    whole = quote.strip()
    end_punct = re.sub(r"[。！？；!?;，,：:]+$", "", whole)
    excerpt = ("" if lead == whole or whole.startswith(lead) else "…") + lead
    excerpt += "" if lead in (whole, end_punct) or end_punct.endswith(lead) else "…"
    want = asked(question, "en")
    kind = want.kind if want is not None else "number"
    future = bool(EN_FUTURE.search(question.lower()))
    if kind == "name":
        head = f"The report names {short.text}"
    elif kind == "list":
        head = f"The report lists {short.text}"
    elif kind == "date":
        head = f"The date given is {english_date(short.text) or short.text}"
    else:
        figure = english_figure(short.text)
        if figure is None:
            head = f"The report gives {short.text}"
        elif future and unit_of(short.text)[0] in RATE_UNITS:
            head = f"The report's target is {figure}"
        elif future:
            head = f"The report plans {figure}"
        else:
            head = f"The report gives {figure}"
    return f"{head} {marker}: “{excerpt}”"


def opening(
    question: str, quoted: Sequence[tuple[int, int, str]], lang: str
) -> tuple[ShortAnswer | None, str]:
    """The short answer among the quoted sentences and the lead-in an answer opens with.

    Args:
        question: the question as the user asked it.
        quoted: (citation n, absolute start offset, text) of the sentences the answer
            quotes, best first.
        lang: "zh" or "en".

    Returns:
        (short answer, lead-in followed by the separator before the quotes), or (None, "")
        when the question asks for no short answer or no quoted sentence holds one.
    """
    short = short_answer(question, quoted, lang)
    if short is None:
        return None, ""
    _, start, text = next(
        q
        for q in quoted
        if q[0] == short.n and q[1] <= short.start and short.end <= q[1] + len(q[2])
    )
    return short, lead_in(question, short, text, lang, start) + (" " if lang == "en" else "")
