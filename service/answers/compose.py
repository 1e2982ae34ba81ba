"""Composed (extractive) answers: quote the sentences that answer, with [n] markers.

Nothing in an answer's quotes is written by us: every quoted sentence is an exact
slice of a cited passage, and the framing words around the quotes are fixed templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from indexer.encoders import Embedder
from indexer.lexical import tokenize
from indexer.types import Hit

from .verify import DEFAULT_MIN_SCORE

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_NUMERIC_Q = re.compile(
    r"多少|几|比例|比重|百分|增长|下降|how (many|much)|percent|rate|number", re.I
)
_DIGIT = re.compile(r"\d")

# Sentences within this margin of the best one are quoted too (at most MAX_QUOTES).
MARGIN = 0.06
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 260

NOT_FOUND_ZH = "报告中没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考。"
NOT_FOUND_EN = (
    "The report does not appear to answer this question. "
    "The closest passages are listed below for reference."
)


@dataclass(frozen=True, slots=True)
class Citation:
    """A cited hit, its marker number, and the answering sentences' absolute spans."""

    n: int
    hit: Hit
    highlights: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer with its citations; `text` is None when generation was not asked for."""

    text: str | None
    answerable: bool
    citations: list[Citation]
    backend: str = "extractive"
    grounded: bool = True
    warning: str | None = None
    lang: str = "zh"
    evidence_score: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sentence:
    citation: int  # index into the hits list
    start: int  # absolute offsets in the source
    end: int
    text: str


def sentences(hits: list[Hit]) -> list[Sentence]:
    """Every sentence of every hit, with absolute offsets, in citation order."""
    out = []
    for i, hit in enumerate(hits):
        p = hit.passage
        for m in _SENTENCE.finditer(p.text):
            text = m.group().strip()
            if len(text) < 4:
                continue
            start = p.start + m.start() + (len(m.group()) - len(m.group().lstrip()))
            out.append(Sentence(i, start, start + len(text), text))
    return out


def score_sentences(
    question: str, qvec: np.ndarray, sents: list[Sentence], embedder: Embedder
) -> np.ndarray:
    """Cosine similarity to the question plus a bonus for shared terms and asked-for numbers."""
    if not sents:
        return np.zeros(0, dtype=np.float32)
    vecs = embedder.encode_passages([s.text for s in sents])
    scores = vecs @ qvec
    q_terms = set(tokenize(question))
    numeric = bool(_NUMERIC_Q.search(question))
    for i, s in enumerate(sents):
        if q_terms:
            overlap = len(q_terms & set(tokenize(s.text))) / len(q_terms)
            scores[i] += 0.25 * overlap
        if numeric and _DIGIT.search(s.text):
            scores[i] += 0.05
    return scores.astype(np.float32)


def _not_found(lang: str, missing: list[str]) -> str:
    if missing:
        if lang == "en":
            return (
                f"The report does not mention {', '.join(m.removesuffix('年') for m in missing)}, "
                "so it cannot answer this. "
                "The closest passages are listed below for reference."
            )
        listed = "、".join(missing)
        return f"报告中没有提到{listed}，无法回答这个问题。以下是最接近的段落，仅供参考。"
    return NOT_FOUND_EN if lang == "en" else NOT_FOUND_ZH


def _quote(text: str) -> str:
    return f"“{text}”"


def compose(
    question: str,
    hits: list[Hit],
    qvec: np.ndarray,
    embedder: Embedder,
    min_score: float = DEFAULT_MIN_SCORE,
    lang: str = "zh",
    section_ref: str | None = None,
    missing: list[str] | None = None,
) -> Answer:
    """Quote the best sentences of the hits; refuse when even the best is too weak.

    Args:
        question: the user's question.
        hits: retrieved passages, in rank order; they become citations [1]..[k].
        qvec: the question's embedding (normalised).
        embedder: used to embed the candidate sentences.
        min_score: best-sentence score below which the answer is "not in the report".
        lang: "zh" or "en", the language of the framing words.
        section_ref: set when the query named a section: the answer outlines it.
        missing: what the question asks about that the report never mentions (see
            unsupported_terms): the answer then says so instead of quoting other sentences.
    """
    if not hits:
        text = NOT_FOUND_EN if lang == "en" else NOT_FOUND_ZH
        return Answer(text, False, [], lang=lang)
    if section_ref is not None:
        return _outline(hits, section_ref, lang)
    sents = sentences(hits)
    scores = score_sentences(question, qvec, sents, embedder)
    best = float(scores.max()) if scores.size else 0.0
    if best < min_score or missing:
        text = _not_found(lang, missing or [])
        return Answer(
            text,
            False,
            [Citation(i + 1, h) for i, h in enumerate(hits)],
            lang=lang,
            evidence_score=best,
        )
    order = np.argsort(-scores, kind="stable")
    chosen: list[int] = []
    total = 0
    for i in order:
        if scores[i] < best - MARGIN or len(chosen) >= MAX_QUOTES:
            break
        if chosen and total + len(sents[i].text) > MAX_QUOTE_CHARS:
            continue
        chosen.append(int(i))
        total += len(sents[i].text)
    chosen.sort(key=lambda i: (sents[i].citation, sents[i].start))
    highlights: dict[int, list[tuple[int, int]]] = {}
    for i in chosen:
        highlights.setdefault(sents[i].citation, []).append((sents[i].start, sents[i].end))
    citations = [Citation(i + 1, h, tuple(highlights.get(i, ()))) for i, h in enumerate(hits)]
    quotes = "".join(f"{_quote(sents[i].text)}[{sents[i].citation + 1}]" for i in chosen)
    lead = "According to the report (quoted in Chinese): " if lang == "en" else "报告指出："
    return Answer(lead + quotes, True, citations, lang=lang, evidence_score=best)


def _outline(hits: list[Hit], ref: str, lang: str) -> Answer:
    """A section's outline: its title, then the first sentence of each passage."""
    title = hits[0].passage.heading_path[-1] if hits[0].passage.heading_path else ref
    parts = []
    citations = []
    seen_paragraphs: set[int] = set()
    for i, h in enumerate(hits):
        first = next(iter(sentences([h])), None)
        span: tuple[tuple[int, int], ...] = ()
        if first is not None and h.passage.paragraph not in seen_paragraphs:
            seen_paragraphs.add(h.passage.paragraph)
            parts.append(f"{_quote(first.text)}[{i + 1}]")
            span = ((first.start, first.end),)
        citations.append(Citation(i + 1, h, span))
    if lang == "en":
        text = f"Section {ref} of the report, {_quote(title)}, covers: " + "".join(parts)
    else:
        text = f"报告{ref}{_quote(title)}的主要内容：" + "".join(parts)
    return Answer(text, True, citations, lang=lang, evidence_score=1.0)
