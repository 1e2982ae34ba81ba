"""The sentences of retrieved passages, with their absolute offsets, and how well each
answers a question: what a composed answer quotes from."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from indexer.encoders import Embedder
from indexer.lexical import tokenize
from indexer.sentences import split
from indexer.types import Hit

_NUMERIC_Q = re.compile(
    r"多少|几|比例|比重|百分|增长|下降|how (many|much)|percent|rate|number", re.I
)
_DIGIT = re.compile(r"\d")


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
        for at, text in split(p.text):
            start = p.start + at
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
