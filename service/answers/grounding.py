"""Checks on a generated answer: only markers for supplied passages, cited or flagged, refusals.

A marker is `[n]` (also `【n】`, `[1, 2]`, `[1][2]`). Markers for passages the model was not
given are removed; the answer is grounded when at least one valid marker is left and every
figure it writes occurs in the passages it cites (a sentence's figures in the passages that
sentence marks; an unmarked sentence's in any passage the answer cites). An answer
that opens with an uncited sentence saying the passages lack the answer, or that says so
anywhere and cites nothing, is not answerable ("报告中没有具体金额，但指出增长7%[1]。" stays
answerable: it cites what it found).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

_MARKER = re.compile(r"[ \t]*[\[【]\s*(\d{1,4}(?:\s*[,，、]\s*\d{1,4})*)\s*[\]】]")
_OPENING = re.compile(r"[ \t]*[\[【][\s\d,，、]*$")  # what may still become a marker
_SEP = re.compile(r"\s*[,，、]\s*")
_FIRST_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]|\.(?:\s|$)|\n|$)")

_SOURCE_ZH = r"(?:报告|段落|材料|资料|文中|原文|上述|以上|所给|提供的|检索)"
_SOURCE_EN = r"(?:passages?|report|context|sources?|documents?|texts?|excerpts?)"
_REFUSALS = [
    re.compile(
        _SOURCE_ZH + r"[^。！？\n]{0,12}?(?:没有|未|并未|均未|并没有|不)(?:能)?"
        r"(?:提及|提到|包含|涉及|找到|说明|给出|回答|载明|相关|有关)"
    ),
    re.compile(_SOURCE_ZH + r"中?(?:没有|并无|无)"),
    re.compile(r"无法(?:根据|从|依据)[^。！？\n]{0,16}?(?:回答|得出|找到|确定)"),
    re.compile(r"(?:没有|未)找到(?:能|可以)?回答"),
    re.compile(
        r"\b" + _SOURCE_EN + r"\b[^.!?\n]{0,60}?\b(?:do(?:es)?\s+not|don't|doesn't|did\s+not|"
        r"never|fail\s+to)\s+(?:contain|mention|say|include|provide|address|specify|state|"
        r"answer|cover|discuss|give)",
        re.I,
    ),
    re.compile(r"\bno\s+(?:relevant\s+)?information\b", re.I),
    re.compile(r"\bnot\s+(?:mentioned|stated|covered|provided|specified|found)\s+in\b", re.I),
    re.compile(r"\b(?:cannot|can't|unable\s+to)\s+(?:be\s+)?answer", re.I),
]


# A figure as written: digits with decimal points or thousands separators (1,200.5).
_FIGURE = re.compile(r"\d+(?:[.,，]\d+)*")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]|\.(?=\s|$)|$)")


@dataclass(frozen=True, slots=True)
class Checked:
    """A generated answer after the checks."""

    text: str
    grounded: bool
    answerable: bool
    removed: tuple[int, ...] = ()  # marker numbers that named no supplied passage
    unsupported: tuple[str, ...] = ()  # figures the cited passages do not hold


def clean_markers(text: str, k: int) -> tuple[str, tuple[int, ...], bool]:
    """Rewrite markers as `[n]`, dropping numbers outside 1..k.

    Returns:
        The cleaned text, the dropped numbers (in order), and whether a valid marker is left.
    """
    removed: list[int] = []
    kept = False

    def fix(m: re.Match[str]) -> str:
        nonlocal kept
        numbers = [int(x) for x in _SEP.split(m.group(1))]
        valid = [n for n in numbers if 1 <= n <= k]
        removed.extend(n for n in numbers if not 1 <= n <= k)
        if not valid:
            return ""
        kept = True
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip(" \t"))]
        return lead + "".join(f"[{n}]" for n in valid)

    return _MARKER.sub(fix, text), tuple(removed), kept


def clean_stream(chunks: Iterable[str], k: int) -> Iterator[str]:
    """clean_markers over a stream: a possible marker is held back until it is complete.

    The pieces join to clean_markers of the whole text.
    """
    buf = ""
    for chunk in chunks:
        buf += chunk
        m = _OPENING.search(buf)
        cut = m.start() if m else len(buf.rstrip(" \t"))
        if cut:
            text = clean_markers(buf[:cut], k)[0]
            buf = buf[cut:]
            if text:
                yield text
    if buf:
        text = clean_markers(buf, k)[0]
        if text:
            yield text


def is_refusal(text: str) -> bool:
    """True when the text says the passages (or the report) do not hold the answer."""
    return any(p.search(text) for p in _REFUSALS)


def first_sentence(text: str) -> str:
    """The text up to its first sentence end (。！？!? or a period before a space)."""
    m = _FIRST_SENTENCE.match(text.strip())
    return m.group() if m else ""


def _figure(text: str) -> str:
    return re.sub(r"[,，]", "", text)


def unsupported_figures(text: str, passages: Mapping[int, str]) -> tuple[str, ...]:
    """The figures of a (marker-cleaned) answer that the passages it cites do not hold.

    Args:
        text: the answer, its markers already cleaned to `[n]`.
        passages: each marker number's passage text (with its report label and headings).

    Returns:
        The figures as written, in order, each once: a sentence's figures are looked for in
        the passages that sentence marks, an unmarked sentence's in every passage cited.
    """
    cited_all = [n for n in (int(x) for x in re.findall(r"\[(\d+)\]", text)) if n in passages]
    missing: dict[str, None] = {}
    for m in _SENTENCE.finditer(text):
        sentence = m.group()
        ns = [int(x) for x in re.findall(r"\[(\d+)\]", sentence) if int(x) in passages]
        source = _figure("\n".join(passages[n] for n in (ns or cited_all)))
        for fig in _FIGURE.findall(re.sub(r"\[\d+\]", " ", sentence)):
            if _figure(fig) not in source:
                missing[fig] = None
    return tuple(missing)


def check(text: str, k: int, passages: Mapping[int, str] | None = None) -> Checked:
    """Clean the markers of a generated answer and judge it.

    Args:
        text: the model's answer.
        k: how many passages the model was given (valid markers are [1]..[k]).
        passages: each marker number's passage text; given, the answer's figures must occur
            in the passages it cites (unsupported_figures).

    Returns:
        Checked with the cleaned text; grounded is False when no valid marker is left or a
        figure is not in the passages cited; answerable is False when the first sentence is
        an uncited refusal, or a refusal appears anywhere and nothing is cited.
    """
    cleaned, removed, kept = clean_markers(text, k)
    cleaned = cleaned.strip()
    first = first_sentence(cleaned)
    refusal = (is_refusal(first) and not _MARKER.search(first)) or (
        not kept and is_refusal(cleaned)
    )
    unsupported = unsupported_figures(cleaned, passages) if passages and kept else ()
    return Checked(cleaned, kept and not unsupported, not refusal, removed, unsupported)
