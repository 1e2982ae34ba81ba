"""The words residents use for what the reports call otherwise: GDP → 生产总值, 物价 → 居民消费价格.

`formal_terms` gives the report's words for the colloquial ones a question uses; they are
added to the lexical query and to the terms a quoted sentence is scored on, not to the text
that is embedded. The glossary is data (colloquial_zh.tsv), one pair a line.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

GLOSSARY = Path(__file__).with_name("colloquial_zh.tsv")


@cache
def _glossary() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """(pattern of the colloquial word, the report's words) pairs from GLOSSARY."""
    pairs = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, formal = line.split("\t")
        if word.isascii():
            pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", re.I)
        else:
            pattern = re.compile(re.escape(word))
        pairs.append((pattern, tuple(formal.split())))
    return tuple(pairs)


def formal_terms(text: str) -> tuple[str, ...]:
    """The report's words for the colloquial words in text, those it does not already hold."""
    out: dict[str, None] = {}
    for pattern, formal in _glossary():
        if pattern.search(text):
            out.update((f, None) for f in formal if f not in text)
    return tuple(out)
