"""Token counts for the chat API's `usage`, by one stated rule (no model tokenizer).

A token is a run of ASCII letters and digits (`GDP`, `2019`, `report`), or any other single
character that is not white space: each Chinese character, each punctuation mark, each
symbol. So `2019年上海GDP增长目标是多少？` is 13 tokens (2019 · 年 · 上 · 海 · GDP · 增 · 长 ·
目 · 标 · 是 · 多 · 少 · ？). The answer backends share no tokenizer (the extractive one has
none), so the service counts the text itself: `prompt_tokens` over the content of every
message sent, `completion_tokens` over the answer's content, `total_tokens` their sum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")


def count_tokens(text: str) -> int:
    """Tokens in a text by the module's rule.

    >>> count_tokens("2019年上海GDP增长目标是多少？")
    13
    >>> count_tokens("What was the GDP target in 2019?")
    8
    """
    return len(_TOKEN.findall(text))


def count_all(texts: Iterable[str]) -> int:
    """Tokens in several texts together (a conversation's messages)."""
    return sum(count_tokens(t) for t in texts)
