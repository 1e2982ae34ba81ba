"""BM25 over jieba tokens (bm25s), with a stop list that lets questions match statements."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bm25s
import jieba
import numpy as np

jieba.setLogLevel(logging.WARNING)

# Question words and function words: they carry no evidence, and a statement lacks them.
STOPWORDS = frozenset(
    [
        "什么",
        "什么样",
        "哪些",
        "哪个",
        "哪里",
        "哪儿",
        "哪",
        "多少",
        "几",
        "几个",
        "怎么",
        "怎样",
        "怎么样",
        "如何",
        "为什么",
        "为何",
        "是否",
        "有没有",
        "是不是",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "请问",
        "请",
        "问",
        "告诉",
        "一下",
        "介绍",
        "说说",
        "讲讲",
        "讲",
        "说",
        "提到",
        "提出",
        "报告",
        "中",
        "里",
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "以及",
        "或",
        "对",
        "把",
        "被",
        "将",
        "从",
        "到",
        "为",
        "有",
        "也",
        "都",
        "就",
        "又",
        "还",
        "等",
        "之",
        "其",
        "这",
        "那",
        "这些",
        "那些",
        "这个",
        "那个",
        "我们",
        "我",
        "你",
        "他",
        "她",
        "它",
        "上海",
        "上海市",
        "政府",
        "工作",
        "今年",
        "今后",
        "方面",
        "主要",
        "哪方面",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "to",
        "for",
        "and",
        "or",
        "about",
        "by",
        "with",
        "from",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "be",
        "been",
        "any",
        "many",
        "much",
    ]
)

_TOKEN_OK = re.compile(r"\w", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens, lower-cased, without punctuation and stop words."""
    tokens = []
    for tok in jieba.cut_for_search(text):
        tok = tok.strip().lower()
        if tok and _TOKEN_OK.search(tok) and tok not in STOPWORDS:
            tokens.append(tok)
    return tokens


class LexicalIndex:
    """A bm25s index whose rows line up with the passage list."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index([tokenize(t) for t in texts], show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term is known)."""
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(retriever, size)
