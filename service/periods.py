"""Years a question asks about as one period, not year by year: 这五年, “十三五”期间,
2013到2017年年均增长. A report reviews such a period as a whole (the first report of a new
term reviews the five years before it), so the period goes to one report per region.
"""

from __future__ import annotations

import re

# The five-year plans by name: the years they cover.
FIVE_YEAR_PLANS: dict[str, tuple[int, int]] = {
    "十一五": (2006, 2010),
    "十二五": (2011, 2015),
    "十三五": (2016, 2020),
    "十四五": (2021, 2025),
    "十五五": (2026, 2030),
}
_PLAN = re.compile("|".join(FIVE_YEAR_PLANS))
_PERIOD = re.compile(
    r"这[几两三四五六七八九十]年|[几两三四五六七八九十]年来|[几两三四五六七八九十]年间|期间|时期|年均|累计|"
    r"从.{0,16}(?:增加|提高|增长|扩大|上升|下降|减少)到|由.{0,16}(?:增加|提高|增长)到|"
    r"over (?:the|those|these) (?:\w+ )?years|a year on average|annual average",
    re.I,
)
MIN_YEARS = 3


def plan_years(text: str) -> tuple[int, ...]:
    """The years of the five-year plan a text names (“十三五”期间 → 2016..2020), else ()."""
    m = _PLAN.search(text)
    if m is None:
        return ()
    first, last = FIVE_YEAR_PLANS[m.group()]
    return tuple(range(first, last + 1))


def is_period(text: str, years: tuple[int, ...]) -> bool:
    """Whether the years are one period asked about as a whole: at least MIN_YEARS years
    in a row, with words that speak of the span (这五年, 期间, 年均, 从…增加到)."""
    if len(years) < MIN_YEARS or list(years) != list(range(years[0], years[-1] + 1)):
        return False
    return _PLAN.search(text) is not None or _PERIOD.search(text) is not None
