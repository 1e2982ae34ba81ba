"""Whether the evidence can answer: the calibrated thresholds, and what the corpus never says."""

from __future__ import annotations

import re
from collections.abc import Iterable

import jieba.posseg as pseg

# Below this best-sentence score the report is taken not to answer the question.
# Calibrated with `python -m eval tune threshold` on eval/questions.jsonl (README, "Answer
# threshold"): set where no answerable Chinese question of the gold set falls below.
DEFAULT_MIN_SCORE = 0.655
# The same for English questions, whose sentences are scored by the multilingual encoder:
# at 0.77, 1 of 56 answerable and 4 of 7 unanswerable English gold questions fall below.
DEFAULT_MIN_SCORE_EN = 0.77
# Place words that name no particular place (周边地区, 城区): never taken as unmentioned places.
_GENERIC_PLACE = (
    "地区",
    "城区",
    "市区",
    "郊区",
    "社区",
    "园区",
    "景区",
    "小区",
    "街区",
    "辖区",
    "片区",
    "湾区",
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def years_in(text: str) -> set[str]:
    """Four-digit years (1900-2099) written in a text."""
    return set(_YEAR.findall(text))


def unsupported_terms(question: str, corpus: str, ignore_years: Iterable[int] = ()) -> list[str]:
    """What a question asks about that the documents never mention, so they cannot answer it.

    Two kinds, both checked against the text of the reports searched: a year (2017) and a
    place name with an administrative suffix (北京市, 浦东新区: jieba's `ns` tag ending in
    市省区县州). Similarity alone cannot tell "Beijing's budget" from Shanghai's budget
    sentences. `ignore_years` are years that chose the reports (service.scope): a report
    need not write its own year.
    """
    skip = {str(y) for y in ignore_years}
    missing = [f"{y}年" for y in sorted(years_in(question)) if y not in corpus and y not in skip]
    for word, flag in pseg.cut(question):
        if (
            flag == "ns"
            and len(word) >= 3
            and word[-1] in "市省区县州"
            and not word.endswith(_GENERIC_PLACE)
            and word not in corpus
        ):
            missing.append(word)
    return list(dict.fromkeys(missing))
