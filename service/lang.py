"""Tell Chinese questions from English ones."""

from __future__ import annotations

import re

# A run of Chinese characters: one word or name as far as language detection goes.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# An English word: two letters or more, not glued to digits (PM2.5, C919 and 5G are codes).
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?:['’\-][A-Za-z]+)*(?![A-Za-z0-9])")


def detect_lang(text: str) -> str:
    """Return "en" or "zh" for a question.

    Text without Chinese characters is English when it has an English word, else Chinese
    (a bare number or code). Text with Chinese is English only when English words dominate:
    at least three, and at least twice the number of Chinese runs, so that a name inside an
    English sentence (How big is 张江?) stays English while a Chinese question with Latin
    codes or acronyms (PM2.5年平均浓度是多少, C919大型客机, 上海GDP增长多少) stays Chinese.
    """
    runs = len(_CJK_RUN.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if runs == 0:
        return "en" if words else "zh"
    return "en" if words >= 3 and words >= 2 * runs else "zh"
