"""Tell Chinese questions from English ones."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_lang(text: str) -> str:
    """Return "zh" for text with Chinese characters (PM2.5 or C919 inside stay "zh"), else "en".

    A question with a single Chinese name inside mostly English words (How big is 张江?)
    is English: English words outnumber Chinese characters three to one.
    """
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0:
        return "en" if words else "zh"
    return "en" if words >= 3 * cjk and words >= 3 else "zh"
