"""Questions in, answers with citations out: retrieval, then an answer backend. No HTTP here.

The composed answer is refused when the verifier (verifier.py) judges from the evidence
signals that the passages do not answer, when the question names a year or place the
reports searched never mention (verify.unsupported_terms), or when the reports asked about
are not in the corpus (the scope).

With a generator (answers/generators) the answer is written by a language model from the
retrieved passages and checked (answers/grounding.py); any failure of the model gives the
composed answer instead, with backend "extractive" and a warning. When a stream fails midway,
the deltas already sent were the model's and the done event carries the composed answer: a
client shows the done event's text.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from ..query import Query
from ..retrieval import Retriever, SearchResult
from .compose import Answer, Attribution, Citation, compose
from .generators import GenerationError, Generator, call_within, iterate_within
from .grounding import check, clean_stream
from .signals import Evidence, TermStats
from .verifier import Judge, Verifier
from .verify import DEFAULT_MIN_SCORE, DEFAULT_MIN_SCORE_EN, unsupported_terms

log = logging.getLogger(__name__)

# Streaming the composed answer: the size of each delta, in characters.
DELTA_CHARS = 16


@dataclass(frozen=True, slots=True)
class CitationsEvent:
    citations: list[Citation]


@dataclass(frozen=True, slots=True)
class DeltaEvent:
    text: str


@dataclass(frozen=True, slots=True)
class DoneEvent:
    answer: Answer


Event = CitationsEvent | DeltaEvent | DoneEvent


class Asker:
    """Answer questions over a Retriever: composed answers, or generated ones with a generator."""

    def __init__(
        self,
        retriever: Retriever,
        min_score: float | None = None,
        generator: Generator | None = None,
        verifier: Judge | bool = True,
        keep_ungrounded: bool = False,
    ) -> None:
        """Args:
        retriever: finds the passages.
        min_score: a best-sentence threshold that decides instead of the verifier; None =
            the verifier (or, without one, the calibrated thresholds).
        generator: writes answers from the passages; None = composed (extractive) answers.
        verifier: judges whether the evidence answers: True = the packaged one
            (verifier.json), False = the calibrated best-sentence thresholds alone (the
            behaviour before the verifier), or a Judge of one's own.
        keep_ungrounded: keep a generated answer that is not grounded (no valid marker, or
            a figure its cited passages do not hold); False = the composed answer instead,
            with a warning.
        """
        self.retriever = retriever
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else min_score
        # The multilingual encoder's similarities live on their own scale.
        self.min_score_en = DEFAULT_MIN_SCORE_EN if min_score is None else min_score
        self.generator = generator
        self.keep_ungrounded = keep_ungrounded
        self.verifier: Judge | None = None
        if min_score is None and verifier is not False:
            self.verifier = Verifier.load() if verifier is True else verifier
        self.stats = TermStats.from_bm25(retriever.index.lexical.retriever)
        # Each document's indexed text, headings included: what a question names must
        # occur in the reports it is answered from.
        texts: dict[str, list[str]] = {}
        for p in retriever.passages:
            texts.setdefault(p.doc_id, []).extend((*p.heading_path, p.text))
        self.texts = {d: "\n".join(dict.fromkeys(parts)) for d, parts in texts.items()}
        self.corpus = "\n".join(self.texts.values())

    def _searched_text(self, query: Query) -> str:
        """The text of the reports a query is answered from (all of them by default)."""
        ids = query.allowed
        if ids is None:
            return self.corpus
        return "\n".join(self.texts.get(d, "") for d in ids)

    def attribution(self, query: Query) -> Attribution:
        """The reports of the corpus, and whether answers name them, for this query."""
        catalogue = self.retriever.catalogue
        return Attribution(catalogue.by_id, named=len(catalogue) > 1, scope=query.scope)

    def retrieve(self, query: Query) -> SearchResult:
        return self.retriever.search(query)

    def extractive(self, result: SearchResult) -> Answer:
        """The composed answer from a search result (quotes of the best sentences)."""
        query = result.query
        # Sentences are scored by the encoder that fits the question: the multilingual one
        # for an English question over an index that has it.
        encoder = self.retriever.sentence_encoder_for(query)
        qvec = np.zeros(encoder.dim, dtype=np.float32)
        if result.hits:
            qvec = encoder.encode_query(result.text)
        english = self.retriever.english(query)
        scope, facets = query.scope, query.facets
        # Years that chose the reports are not asked to occur in them.
        chose = facets.years if scope is not None and facets is not None else ()
        if scope is not None and scope.source != "question":
            chose = ()
        searched = self._searched_text(query)
        return compose(
            " ".join((query.text, *query.terms)),
            result.hits,
            qvec,
            encoder,
            self.min_score_en if english else self.min_score,
            lang=query.lang,
            section_ref=result.section if result.resolved == "section" else None,
            missing=unsupported_terms(query.text, searched, ignore_years=chose),
            attribution=self.attribution(query),
            verifier=self.verifier,
            evidence=self.evidence(query, searched),
            asked=query.text,
        )

    def evidence(self, query: Query, searched: str) -> Evidence:
        """What the verifier's signals read besides the hits, for this query."""
        groups = tuple(self.retriever.translator().groups(query.text)) if query.english else ()
        return Evidence(query.text, query.lang, searched, self.stats, groups, self.texts)

    def ask(self, query: Query) -> Answer:
        """Retrieve, then answer (only the citations when query.generate is False).

        Never raises for a failing generator: the composed answer comes back with a warning.
        """
        answer = self.extractive(self.retrieve(query))
        if not query.generate:
            return dataclasses.replace(answer, text=None, citations=_plain(answer.citations))
        generator = self.generator
        if generator is None or not answer.citations:
            return answer
        citations = _plain(answer.citations)
        try:
            text = call_within(
                lambda: generator.generate(query.text, citations, answer.lang),
                generator.timeout_s,
            )
            return self._checked(text, citations, answer, generator)
        except Exception as exc:
            return _fallback(answer, generator, exc)

    def _checked(
        self, text: str, citations: list[Citation], composed: Answer, generator: Generator
    ) -> Answer:
        """The generated text after the grounding checks, as an Answer."""
        checked = check(text, len(citations), _passage_texts(citations))
        if not checked.text:
            raise GenerationError("empty reply")
        if checked.answerable and not checked.grounded and not self.keep_ungrounded:
            raise GenerationError(_ungrounded_reason(checked.unsupported))
        return Answer(
            checked.text,
            checked.answerable,
            citations,
            backend=generator.name,
            grounded=checked.grounded,
            lang=composed.lang,
            evidence_score=composed.evidence_score,
            extra={"removed_markers": list(checked.removed)} if checked.removed else {},
            comparison=composed.comparison,
            confidence=composed.confidence,
            reason=None if checked.answerable else composed.reason,
            short=composed.short if checked.answerable else None,
        )

    def stream(self, query: Query) -> Iterator[Event]:
        """Citations first, then the answer text in deltas, then the final answer.

        With a generator the deltas are the model's chunks as they arrive, with markers for
        passages not supplied already removed (a possible marker is held back until complete),
        so they join to the done event's text (up to surrounding whitespace). If the model
        fails midway, the done event carries the composed answer with a warning, whose text
        differs from the deltas already sent: a client shows the done event's text.
        """
        generator = self.generator
        if query.generate and generator is not None:
            composed = self.extractive(self.retrieve(query))
            if composed.citations:
                yield from self._generated_stream(query.text, composed, generator)
                return
            answer = composed
        else:
            answer = self.ask(query)
        yield CitationsEvent(answer.citations)
        text = answer.text or ""
        for i in range(0, len(text), DELTA_CHARS):
            yield DeltaEvent(text[i : i + DELTA_CHARS])
        yield DoneEvent(answer)

    def _generated_stream(
        self, question: str, composed: Answer, generator: Generator
    ) -> Iterator[Event]:
        citations = _plain(composed.citations)
        yield CitationsEvent(citations)
        parts: list[str] = []
        try:
            chunks = iterate_within(
                lambda: generator.stream(question, citations, composed.lang), generator.timeout_s
            )
            with closing(chunks):
                for text in clean_stream(chunks, len(citations)):
                    parts.append(text)
                    yield DeltaEvent(text)
            answer = self._checked("".join(parts), citations, composed, generator)
        except Exception as exc:
            answer = _fallback(composed, generator, exc)
        yield DoneEvent(answer)


def _passage_texts(citations: list[Citation]) -> dict[int, str]:
    """Each marker's passage as the model saw it: report label, headings, text."""
    out = {}
    for c in citations:
        p = c.hit.passage
        label = [c.report.title, str(c.report.year or "")] if c.report is not None else []
        out[c.n] = "\n".join((*label, *p.heading_path, p.text))
    return out


def _ungrounded_reason(unsupported: tuple[str, ...]) -> str:
    if unsupported:
        return f"not grounded: {', '.join(unsupported[:5])} not in the cited passages"
    return "not grounded: no [n] marker"


def _plain(citations: list[Citation]) -> list[Citation]:
    """The citations without the composed answer's highlights (they mark its quotes)."""
    return [dataclasses.replace(c, highlights=()) for c in citations]


def _fallback(composed: Answer, generator: Generator, exc: Exception) -> Answer:
    """The composed answer, with a warning saying what failed."""
    reason = str(exc) if isinstance(exc, GenerationError) else f"{type(exc).__name__}: {exc}"
    log.warning("%s backend failed: %s", generator.name, reason)
    warning = f"{generator.name} backend failed ({reason}); showing the composed answer"
    return dataclasses.replace(composed, backend="extractive", warning=warning)
