"""Short answers: the figure, name, date or short list a question asks for, as written.

A question that asks for a figure (多少张, 几个, how many), a percentage (增长多少, 比例, what
share), a person (谁, who), a date (哪一天, 哪一年, when) or a short list (哪些, which ... are)
is answered first by that span of one of its quoted sentences, exactly as the report writes
it: "6.5%左右", "4.9万张", "6%－6.5%", "应勇", "2018年1月23日", "张江实验室、李政道研究所".
The span comes with the citation it is quoted under and its offsets in the document's text,
so `text[start:end] == span` holds as it does for passages.

Nothing is computed or guessed: a question of another kind, or quoted sentences that hold
nothing of the kind asked (no figure with the unit asked, no name beside an office, no date,
no list of at most MAX_ITEMS items), get None. The English lead-in uses fixed templates and
the figure only: the quote that follows it is the report's own words.

`short_answer` takes the quoted sentences best first and picks, among the spans that fit the
kind asked, the best fit (a figure in the unit asked, a percentage for a rate), then the one
whose clause shares most words with the question (in `新增就业岗位5万个，新建养老床位800张`,
`养老床位新增多少` gets `800张`), then the earliest. A figure the sentence counts from
(`从468公里增加到666公里`) yields to the one it reaches.
"""

from __future__ import annotations

from .figures import Figure, figures
from .lead import english_date, english_figure, lead_in, opening
from .question import Asked, asked
from .spans import MAX_ITEM_CHARS, MAX_ITEMS, ShortAnswer, short_answer
from .words import question_terms

__all__ = [
    "MAX_ITEMS",
    "MAX_ITEM_CHARS",
    "Asked",
    "Figure",
    "ShortAnswer",
    "asked",
    "english_date",
    "english_figure",
    "figures",
    "lead_in",
    "opening",
    "question_terms",
    "short_answer",
]
