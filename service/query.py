"""A question understood once: its text, language, section reference, the reports it is
about (region and year, from the request's filters or the question), k and mode.

`understand` is the first step of every search and answer (service.runtime, the API, eval):
it checks the input against the service's limits, detects the language, finds a section
reference and resolves the reports asked about (service.scope), so that no later stage
re-derives them. Later stages read the Query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from .catalogue import Catalogue
from .colloquial import formal_terms
from .errors import InvalidQueryError
from .facets import Facets, read_facets
from .lang import detect_lang
from .limits import Limits
from .refs import RefMatch, find_section_ref, normalise_ref
from .scope import Scope, resolve

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
        doc_ids: only these documents (the request's doc_id filter).
        section: only passages inside this section reference (normalised: 三（四）).
        ref: the section reference the text itself names, if any (三（四）讲了什么).
        resolve_refs: False searches the text as it is (no passage ids, no references).
        generate: False asks for the citations only (no answer text).
        facets: the regions, years and kind of year the text names (service.facets).
        scope: the reports to search (service.scope); None searches every passage (a
            Query made without a catalogue).
        terms: the reports' words for colloquial ones in the text (GDP → 生产总值), added to
            the lexical query and to the words quoted sentences are scored on.
    """

    text: str
    lang: Lang = "zh"
    k: int = 5
    mode: Mode = "hybrid"
    doc_ids: tuple[str, ...] = ()
    section: str | None = None
    ref: RefMatch | None = None
    resolve_refs: bool = True
    generate: bool = True
    facets: Facets | None = None
    scope: Scope | None = None
    terms: tuple[str, ...] = ()

    @property
    def english(self) -> bool:
        return self.lang == "en"

    @property
    def doc_id(self) -> str | None:
        """The one document searched, when there is exactly one (section look-ups use it)."""
        ids = self.scope.doc_ids if self.scope is not None else self.doc_ids
        return ids[0] if len(ids) == 1 else None

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """The documents searched (None: all of them)."""
        if self.scope is not None:
            return None if self.scope.source == "corpus" else self.scope.doc_ids
        return self.doc_ids or None


T = TypeVar("T", str, int)


def _many(value: T | Sequence[T] | None) -> tuple[T, ...]:
    """A filter given as one value, a list of them, or nothing, as a tuple."""
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (value,)
    return tuple(value)


def understand(
    text: str,
    k: int | None = None,
    mode: str = "hybrid",
    doc_id: str | Sequence[str] | None = None,
    section: str | None = None,
    *,
    region: str | Sequence[str] | None = None,
    year: int | Sequence[int] | None = None,
    catalogue: Catalogue | None = None,
    today: dt.date | None = None,
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
        doc_id: only this document (or these); section: only this section reference.
        region, year: only reports of these regions (any name: 上海, 上海市, shanghai) and
            delivery years; unset, they are read from the text.
        catalogue: the corpus's reports; with it the Query gets its scope (the reports
            searched), without it every passage (or doc_id's) is searched.
        today: the date 今年/去年 count from (default: the real date).
        resolve_refs: set False to search the text as it is.
        generate: set False for citations without an answer text.
        limits: the service's input limits.
        field: the request field the text came from, as error messages name it.

    Raises:
        InvalidQueryError: empty or over-long text, k out of range, unknown mode or
            region. NotFoundError: an unknown doc_id.
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
    lang = cast(Lang, detect_lang(text))
    doc_ids = _many(doc_id)
    # A passage id names its report: nothing in it is a region or a year.
    passage = catalogue.of_passage(text) if catalogue is not None and resolve_refs else None
    facets = Facets() if passage is not None else read_facets(text, today or dt.date.today())
    scope = None
    if passage is not None and not doc_ids and region is None and year is None:
        reason = (
            f"the passage id names its report: {passage.title}"
            if lang == "en"
            else f"段落编号所属的报告：{passage.label}"
        )
        scope = Scope((passage,), reason=reason, source="request")
    elif catalogue is not None:
        scope = resolve(
            catalogue, facets, doc_ids=doc_ids, regions=_many(region), years=_many(year), lang=lang
        )
    elif region is not None or year is not None:
        raise InvalidQueryError("region and year filters need the corpus's catalogue")
    return Query(
        text=text,
        lang=lang,
        k=k,
        mode=cast(Mode, mode),
        doc_ids=doc_ids,
        section=normalise_ref(section) if section is not None else None,
        ref=find_section_ref(text) if resolve_refs else None,
        resolve_refs=resolve_refs,
        generate=generate,
        facets=facets,
        scope=scope,
        terms=formal_terms(text) if lang == "zh" else (),
    )
