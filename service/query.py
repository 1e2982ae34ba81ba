"""A question understood once: its text, language, section reference, filters, k and mode.

`understand` is the first step of every search and answer (service.runtime, the API, eval):
it checks the input against the service's limits, detects the language and finds a
section reference, so that no later stage re-derives them. Later stages read the Query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from .errors import InvalidQueryError
from .lang import detect_lang
from .limits import Limits
from .refs import RefMatch, find_section_ref, normalise_ref

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid")
Lang = Literal["zh", "en"]

_DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Query:
    """What a question asks for, as every stage after `understand` sees it.

    Attributes:
        text: the question, stripped.
        lang: "en" or "zh", detected once from the text.
        k: how many passages to retrieve (and cite).
        mode: "hybrid", "dense" or "bm25".
        doc_id: only this document.
        section: only passages inside this section reference (normalised: 三（四）).
        ref: the section reference the text itself names, if any (三（四）讲了什么).
        resolve_refs: False searches the text as it is (no passage ids, no references).
        generate: False asks for the citations only (no answer text).
    """

    text: str
    lang: Lang = "zh"
    k: int = 5
    mode: Mode = "hybrid"
    doc_id: str | None = None
    section: str | None = None
    ref: RefMatch | None = None
    resolve_refs: bool = True
    generate: bool = True

    @property
    def english(self) -> bool:
        return self.lang == "en"


def understand(
    text: str,
    k: int | None = None,
    mode: str = "hybrid",
    doc_id: str | None = None,
    section: str | None = None,
    *,
    resolve_refs: bool = True,
    generate: bool = True,
    limits: Limits = _DEFAULT_LIMITS,
    field: str = "query",
) -> Query:
    """Check a question against the limits and understand it into a Query.

    Args:
        text: the question, a section reference or a passage id.
        k: passages wanted, 1..limits.max_k; None takes limits.default_k.
        mode: "hybrid", "dense" or "bm25".
        doc_id: only this document; section: only this section reference (三, 三（四）).
        resolve_refs: set False to search the text as it is.
        generate: set False for citations without an answer text.
        limits: the service's input limits.
        field: the request field the text came from, as error messages name it.

    Raises:
        InvalidQueryError: empty or over-long text, k out of range, unknown mode.
    """
    text = text.strip()
    if not text:
        raise InvalidQueryError(f"the {field} is empty: type a question or a section reference")
    if len(text) > limits.max_question_chars:
        raise InvalidQueryError(
            f"the {field} has {len(text)} characters; the limit is {limits.max_question_chars} "
            "(MAX_QUESTION_CHARS): shorten it"
        )
    if k is None:
        k = limits.default_k
    if not 1 <= k <= limits.max_k:
        raise InvalidQueryError(f"k must be an integer between 1 and {limits.max_k}, got {k}")
    if mode not in MODES:
        raise InvalidQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return Query(
        text=text,
        lang=cast(Lang, detect_lang(text)),
        k=k,
        mode=cast(Mode, mode),
        doc_id=doc_id,
        section=normalise_ref(section) if section is not None else None,
        ref=find_section_ref(text) if resolve_refs else None,
        resolve_refs=resolve_refs,
        generate=generate,
    )
