"""The bench's questions: the eval set's (or the report's sentences), varied so none repeats,
and for the whole corpus, questions that name a region and a year."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.regions import NATIONAL, region
from indexer.types import DocumentMeta

QUESTIONS = Path(__file__).resolve().parent.parent / "questions.jsonl"
SEED = 20180123
# Variations that make every query of a run distinct, so no cache answers for the encoder.
PREFIXES = ("", "请问", "我想知道", "麻烦问一下，", "想了解：", "问：", "请告诉我", "Q: ")
SUFFIXES = ("", "？", "呢", "。", " 谢谢", "（2018年）")
# A question that names its region and year keeps them: no suffix adds another year.
SCOPED_SUFFIXES = ("", "？", "呢", "。", " 谢谢")
# Pairs of regions compared per year, at most.
MAX_PAIRS = 5


def report_sentences(text: str, min_chars: int = 6) -> list[str]:
    """The distinct sentences of a report, in order (split at 。！？； and line ends)."""
    pieces = (s.strip() for s in re.split(r"(?<=[。！？；!?;])|\n", text))
    return list(dict.fromkeys(s for s in pieces if len(s) >= min_chars))


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, filter(None, lines)) if row.get("question")]


def load_questions(path: Path, fallback_text: str, doc_id: str | None = None) -> list[str]:
    """The eval set's questions (those about `doc_id` only, when given), or the report's
    sentences when the set has none."""
    rows = [r for r in _rows(path) if doc_id is None or r.get("doc_id") == doc_id]
    questions = [str(r["question"]) for r in rows]
    if questions:
        return list(dict.fromkeys(questions))
    return report_sentences(fallback_text)


def other_questions(path: Path, doc_id: str) -> list[str]:
    """The eval set's questions that are not about `doc_id`: about other reports, or about
    the corpus (no doc_id), which name their regions and years."""
    questions = [str(r["question"]) for r in _rows(path) if r.get("doc_id") != doc_id]
    return list(dict.fromkeys(questions))


def _short(name: str) -> str:
    """How a question names a region: 上海 for 上海市, 全国 for the State Council."""
    found = region(name)
    if found is None:
        return name
    if found.name == NATIONAL:
        return NATIONAL
    return found.aliases[0] if found.aliases else found.name


def scoped_questions(documents: Sequence[DocumentMeta]) -> list[str]:
    """Questions that name the corpus's regions and years, as people ask them: a report's
    targets by region and year, a region's current targets (今年), a region over its first
    and latest years, and two regions in one year."""
    by_region: dict[str, list[int]] = {}
    by_year: dict[int, list[str]] = {}
    out: list[str] = []
    for d in documents:
        name = _short(d.region) if d.region else None
        if name and d.year:
            out += [
                f"{d.year}年{name}的GDP增长目标",
                f"{name}{d.year}年城镇新增就业目标是多少",
                f"{d.year}年{name}政府工作报告提出了哪些主要任务",
            ]
        elif d.year:
            out.append(f"{d.year}年的GDP增长目标")
        if name:
            by_region.setdefault(name, []).extend([d.year] if d.year else [])
        if name and d.year:
            by_year.setdefault(d.year, []).append(name)
    for name, years in by_region.items():
        out += [f"{name}今年的就业目标", f"{name}的GDP增长目标是多少"]
        if len(set(years)) > 1:
            out.append(f"{name}{min(years)}年和{max(years)}年的经济增长目标有什么不同")
    for year, names in sorted(by_year.items()):
        distinct = list(dict.fromkeys(names))
        for a, b in list(itertools.pairwise(distinct))[:MAX_PAIRS]:
            out.append(f"{year}年{a}和{b}的GDP增长目标")
    return list(dict.fromkeys(out))


def query_pool(
    questions: Sequence[str],
    seed: int = SEED,
    prefixes: Sequence[str] = PREFIXES,
    suffixes: Sequence[str] = SUFFIXES,
) -> list[str]:
    """Every question with every prefix and suffix, no repeats, shuffled with a fixed seed.

    Shuffled so that the floor and every load run draw from the same mix of short, long,
    Chinese and English questions: consecutive slices are comparable samples.
    """
    pool = (p + q + s for p, s in itertools.product(prefixes, suffixes) for q in questions)
    distinct = list(dict.fromkeys(pool))
    random.Random(seed).shuffle(distinct)
    return distinct


def interleave(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """One of each in turn while both last, then the rest of the longer; no repeats."""
    mixed = (q for pair in itertools.zip_longest(first, second) for q in pair if q is not None)
    return list(dict.fromkeys(mixed))
