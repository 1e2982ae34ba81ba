"""BM25 over jieba tokens (bm25s), with a stop list that lets questions match statements."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import jieba
import numpy as np

# bm25s imports numba whenever it is installed (ranx, for the eval, installs it): about 0.2 s
# of every start-up and build for a backend this project never selects (bm25s' default,
# numpy, scores). Imported with numba hidden, which stays importable for whoever needs it.
_HIDE_NUMBA = "numba" not in sys.modules and "bm25s" not in sys.modules
if _HIDE_NUMBA:
    sys.modules["numba"] = None  # type: ignore[assignment]
try:
    import bm25s
finally:
    if _HIDE_NUMBA:
        del sys.modules["numba"]

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


# The per-document indexes, inside the lexical index's folder.
PARTS = "parts"


class LexicalIndex:
    """A bm25s index whose rows line up with the passage list, and one per document.

    A question asked of one report is scored with that report's own term statistics (how
    rare a word is in it), as if it were the only one indexed: adding reports does not
    change how one report's passages rank. Without a document, the whole corpus's are used.
    """

    def __init__(
        self,
        retriever: bm25s.BM25,
        size: int,
        parts: dict[str, tuple[bm25s.BM25, np.ndarray]] | None = None,
    ) -> None:
        self.retriever = retriever
        self.size = size
        self.parts = parts or {}

    @classmethod
    def build(cls, texts: list[str], groups: Sequence[str] | None = None) -> LexicalIndex:
        """The index of texts; `groups` (one document id per text) adds one per document."""
        tokens = [tokenize(t) for t in texts]
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        parts: dict[str, tuple[bm25s.BM25, np.ndarray]] = {}
        if groups is not None:
            rows_of: dict[str, list[int]] = {}
            for row, group in enumerate(groups):
                rows_of.setdefault(group, []).append(row)
            for group, rows in rows_of.items():
                part = bm25s.BM25()
                part.index([tokens[r] for r in rows], show_progress=False)
                parts[group] = (part, np.array(rows, dtype=np.int64))
        return cls(retriever, len(texts), parts)

    @staticmethod
    def _scores(retriever: bm25s.BM25, query: str, size: int) -> np.ndarray:
        vocab = retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(size, dtype=np.float32)
        return np.asarray(retriever.get_scores(tokens), dtype=np.float32)

    def scores(self, query: str, doc_id: str | None = None) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term is known); with
        doc_id, that document's passages scored within it and every other passage 0."""
        part = self.parts.get(doc_id) if doc_id is not None else None
        if part is None:
            return self._scores(self.retriever, query, self.size)
        retriever, rows = part
        out = np.zeros(self.size, dtype=np.float32)
        out[rows] = self._scores(retriever, query, len(rows))
        return out

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)
        if not self.parts:
            return
        listing = []
        for i, (group, (part, rows)) in enumerate(sorted(self.parts.items())):
            part.save(str(folder / PARTS / f"{i:04d}"), show_progress=False)
            listing.append({"doc_id": group, "folder": f"{i:04d}", "rows": rows.tolist()})
        (folder / PARTS / "parts.json").write_text(json.dumps(listing), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int, mmap: bool = False) -> LexicalIndex:
        """`mmap`: map the score matrices instead of reading them (see store.load_index)."""
        retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
        parts: dict[str, tuple[bm25s.BM25, np.ndarray]] = {}
        listing = folder / PARTS / "parts.json"
        if listing.exists():  # an index built before per-document parts has none
            for entry in json.loads(listing.read_text(encoding="utf-8")):
                part = bm25s.BM25.load(
                    str(folder / PARTS / entry["folder"]), mmap=mmap, show_progress=False
                )
                parts[entry["doc_id"]] = (part, np.array(entry["rows"], dtype=np.int64))
        return cls(retriever, size, parts)
