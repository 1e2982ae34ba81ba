"""The bench's questions: the eval set's (or the report's sentences), varied so none repeats."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent.parent / "questions.jsonl"
SEED = 20180123
# Variations that make every query of a run distinct, so no cache answers for the encoder.
PREFIXES = ("", "请问", "我想知道", "麻烦问一下，", "想了解：", "问：", "请告诉我", "Q: ")
SUFFIXES = ("", "？", "呢", "。", " 谢谢", "（2018年）")


def report_sentences(text: str, min_chars: int = 6) -> list[str]:
    """The distinct sentences of a report, in order (split at 。！？； and line ends)."""
    pieces = (s.strip() for s in re.split(r"(?<=[。！？；!?;])|\n", text))
    return list(dict.fromkeys(s for s in pieces if len(s) >= min_chars))


def load_questions(path: Path, fallback_text: str) -> list[str]:
    """The eval set's questions, or the report's sentences when there is no eval set."""
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        questions = [str(r["question"]) for r in rows if r.get("question")]
        if questions:
            return list(dict.fromkeys(questions))
    return report_sentences(fallback_text)


def query_pool(questions: Sequence[str], seed: int = SEED) -> list[str]:
    """Every question with every prefix and suffix, no repeats, shuffled with a fixed seed.

    Shuffled so that the floor and every load run draw from the same mix of short, long,
    Chinese and English questions: consecutive slices are comparable samples.
    """
    pool = (p + q + s for p, s in itertools.product(PREFIXES, SUFFIXES) for q in questions)
    distinct = list(dict.fromkeys(pool))
    random.Random(seed).shuffle(distinct)
    return distinct
