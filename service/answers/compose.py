"""Composed (extractive) answers: quote the sentences that answer, with [n] markers.

Nothing in an answer's quotes is written by us: every quoted sentence is an exact
slice of a cited passage, and the framing words around the quotes are fixed templates.
Whether to answer at all is the verifier's call (verifier.py, over signals.py), or with no
verifier a threshold on the best sentence's score; a refusal says why and still cites the
nearest passages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from indexer.encoders import Embedder
from indexer.types import Hit

from ..catalogue import Report
from ..scope import Scope
from .refusals import (
    NOT_FOUND_EN,
    NOT_FOUND_ZH,
    missing_reason,
    not_found,
    refusal_text,
    weak_reason,
)
from .sentences import Sentence, score_sentences, sentences
from .short import ShortAnswer, opening
from .signals import Evidence
from .verifier import WEAK, Decider, Judge, Judgement
from .verify import DEFAULT_MIN_SCORE

# Sentences within this margin of the best one are quoted too (at most MAX_QUOTES).
MARGIN = 0.06
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 260
# Searched report by report (a comparison), each report is quoted this much at most.
MAX_QUOTES_PER_REPORT = 2
MAX_QUOTE_CHARS_PER_REPORT = 160


@dataclass(frozen=True, slots=True)
class Citation:
    """A cited hit, its marker number, the answering sentences' absolute spans, and the
    report it comes from (None when the corpus does not know it)."""

    n: int
    hit: Hit
    highlights: tuple[tuple[int, int], ...] = ()
    report: Report | None = None


@dataclass(frozen=True, slots=True)
class Compared:
    """One report's evidence in a comparison: its best quote, that quote's citation, and the
    short answer its quotes hold (service.answers.short), if any."""

    report: Report
    quote: str
    citation: int
    short: ShortAnswer | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer with its citations; `text` is None when generation was not asked for.

    `comparison` lists each report's evidence when the question was answered report by
    report (several years or regions), in the answer's order. `confidence` is how likely
    the cited evidence answers the question (the verifier's probability; 1 or 0 under a
    plain threshold, 0 for a refusal the rules make); `reason` says why it was refused.
    `short` is the figure, name, date or short list asked for, as a span of a quoted
    sentence (service.answers.short), when the answer leads with one.
    """

    text: str | None
    answerable: bool
    citations: list[Citation]
    backend: str = "extractive"
    grounded: bool = True
    warning: str | None = None
    lang: str = "zh"
    evidence_score: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
    comparison: tuple[Compared, ...] = ()
    confidence: float = 0.0
    reason: str | None = None
    short: ShortAnswer | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Which report each passage comes from, and how the answer names them.

    Attributes:
        reports: the corpus's reports by doc_id.
        named: every quote names its report (the corpus holds more than one).
        scope: the reports the question was resolved to (service.scope), if known.
    """

    reports: Mapping[str, Report]
    named: bool = False
    scope: Scope | None = None

    def report(self, hit: Hit) -> Report | None:
        return self.reports.get(hit.passage.doc_id)

    def cite(self, n: int, hit: Hit, highlights: tuple[tuple[int, int], ...] = ()) -> Citation:
        return Citation(n, hit, highlights, self.report(hit))


_NO_ATTRIBUTION = Attribution({})


def _label(sentence: Sentence, hit: Hit, attribution: Attribution) -> bool:
    """A line that only names: the report's title, or a heading of the passage that is no
    sentence (一、2024年工作回顾). It answers nothing (“2025年北京市政府工作报告”) and is
    not quoted."""
    report = attribution.report(hit)
    if report is not None and sentence.text == report.title:
        return True
    return sentence.text in hit.passage.heading_path and sentence.text[-1] not in "。！？；"


def _quote(text: str) -> str:
    return f"“{text}”"


def unavailable(scope: Scope, lang: str) -> Answer:
    """The answer when none of the reports asked about is in the corpus: what is missing."""
    if lang == "en":
        text = "This cannot be answered from the corpus: " + "; ".join(scope.missing) + "."
    else:
        text = "无法回答：" + "；".join(scope.missing) + "。"
    return Answer(text, False, [], lang=lang, extra={"missing": list(scope.missing)}, reason=text)


def _lead(label: str | None, lang: str) -> str:
    """The words before a report's quotes."""
    if lang == "en":
        return (
            f"According to {label} (quoted in Chinese): "
            if label
            else "According to the report (quoted in Chinese): "
        )
    return f"{label or '报告'}指出："


def _pick(
    sents: list[Sentence], scores: np.ndarray, rows: list[int], quotes: int, chars: int
) -> list[int]:
    """The best sentences among `rows`, within MARGIN of the best, in citation order."""
    if not rows:
        return []
    best = max(float(scores[i]) for i in rows)
    chosen: list[int] = []
    total = 0
    for i in sorted(rows, key=lambda i: -float(scores[i])):
        if scores[i] < best - MARGIN or len(chosen) >= quotes:
            break
        if chosen and total + len(sents[i].text) > chars:
            continue
        chosen.append(i)
        total += len(sents[i].text)
    return sorted(chosen, key=lambda i: (sents[i].citation, sents[i].start))


def _citations(
    hits: list[Hit], sents: list[Sentence], chosen: list[int], attribution: Attribution
) -> list[Citation]:
    highlights: dict[int, list[tuple[int, int]]] = {}
    for i in chosen:
        highlights.setdefault(sents[i].citation, []).append((sents[i].start, sents[i].end))
    return [attribution.cite(i + 1, h, tuple(highlights.get(i, ()))) for i, h in enumerate(hits)]


def _prefix(attribution: Attribution, lang: str) -> str:
    """What the answer says first about how the reports were chosen (no year named)."""
    scope = attribution.scope
    if scope is None or not attribution.named:
        return ""
    en = lang == "en"
    said = [c[0].upper() + c[1:] + "." if en else c + "。" for c in scope.caveats]
    if scope.latest:
        said.append(
            "No year was named, so the latest report is used."
            if en
            else "问题没有指明年份，按最新的报告回答。"
        )
    return (" ".join(said) + " ") if en and said else "".join(said)


def _suffix(attribution: Attribution, lang: str) -> str:
    """What the answer says last: the reports asked about that the corpus lacks."""
    scope = attribution.scope
    if scope is None or not scope.missing:
        return ""
    if lang == "en":
        return " (" + "; ".join(scope.missing) + ".)"
    return "（" + "；".join(scope.missing) + "。）"


def compose(
    question: str,
    hits: list[Hit],
    qvec: np.ndarray,
    embedder: Embedder,
    min_score: float = DEFAULT_MIN_SCORE,
    lang: str = "zh",
    section_ref: str | None = None,
    missing: list[str] | None = None,
    attribution: Attribution = _NO_ATTRIBUTION,
    verifier: Judge | None = None,
    evidence: Evidence | None = None,
    asked: str | None = None,
) -> Answer:
    """Quote the best sentences of the hits; refuse when the evidence does not answer.

    Args:
        question: the user's question (with the query's terms: sentences are scored on them).
        hits: retrieved passages, in rank order; they become citations [1]..[k].
        qvec: the question's embedding (normalised).
        embedder: used to embed the candidate sentences.
        min_score: without a verifier, the best-sentence score below which the answer is
            "not in the report".
        lang: "zh" or "en", the language of the framing words.
        section_ref: set when the query named a section: the answer outlines it.
        missing: what the question asks about that the report never mentions (see
            unsupported_terms): the answer then says so instead of quoting other sentences.
        attribution: the reports of the hits; when `named`, every quote names its report,
            and a scope searched per report is answered report by report (a comparison).
        verifier: judges from the evidence signals whether to answer, reading `evidence`
            besides the hits (the question as asked, the text searched, the corpus
            statistics); None decides by min_score alone.
        asked: the question as the user asked it: an answer from one report leads with its
            short answer, when the quotes hold one; None = no short answer.
    """
    scope = attribution.scope
    if scope is not None and scope.empty:
        return unavailable(scope, lang)
    if not hits:
        text = NOT_FOUND_EN if lang == "en" else NOT_FOUND_ZH
        return Answer(text, False, [], lang=lang, reason=weak_reason(lang, None))
    if section_ref is not None:
        return _outline(hits, section_ref, lang, attribution)
    sents = [s for s in sentences(hits) if not _label(s, hits[s.citation], attribution)]
    scores = score_sentences(question, qvec, sents, embedder)
    decide = Decider(min_score, lang, verifier, evidence)
    if scope is not None and scope.per_report:
        return _per_report(hits, sents, scores, decide, missing, attribution, asked)
    best = float(scores.max()) if scores.size else 0.0
    only = scope.reports[0] if scope is not None and len(scope.reports) == 1 else None
    where = only.label if only is not None and attribution.named else None
    if missing:
        judgement = Judgement(False, 0.0, missing_reason(lang, missing, where), "missing")
        text = not_found(lang, missing, where)
    else:
        judgement = decide(hits, [s.text for s in sents], scores, where)
        text = refusal_text(lang, judgement.reason, judgement.cause, where)
    if not judgement.answerable:
        return Answer(
            text + _suffix(attribution, lang),
            False,
            [attribution.cite(i + 1, h) for i, h in enumerate(hits)],
            lang=lang,
            evidence_score=best,
            confidence=judgement.confidence,
            reason=judgement.reason or weak_reason(lang, where),
        )
    chosen = _pick(sents, scores, list(range(len(sents))), MAX_QUOTES, MAX_QUOTE_CHARS)
    citations = _citations(hits, sents, chosen, attribution)
    short, opener = _opening(asked, sents, scores, chosen, lang)
    # Quotes grouped by report, each group led by the report's name (when named).
    by_report: dict[str, list[int]] = {}
    for i in chosen:
        by_report.setdefault(hits[sents[i].citation].passage.doc_id, []).append(i)
    pieces = []
    for doc_id, rows in by_report.items():
        report = attribution.reports.get(doc_id)
        label = report.label if report is not None and attribution.named else None
        quotes = "".join(f"{_quote(sents[i].text)}[{sents[i].citation + 1}]" for i in rows)
        pieces.append(_lead(label, lang) + quotes)
    text = ("; " if lang == "en" else "；").join(pieces)
    text = _prefix(attribution, lang) + opener + text + _suffix(attribution, lang)
    return Answer(
        text,
        True,
        citations,
        lang=lang,
        evidence_score=best,
        confidence=judgement.confidence,
        short=short,
    )


def _opening(
    asked: str | None, sents: list[Sentence], scores: np.ndarray, chosen: list[int], lang: str
) -> tuple[ShortAnswer | None, str]:
    """The short answer among the chosen sentences (best first) and the lead-in to open with;
    (None, "") without a question to read it from."""
    if not asked:
        return None, ""
    best_first = sorted(chosen, key=lambda i: -float(scores[i]))
    return opening(
        asked, [(sents[i].citation + 1, sents[i].start, sents[i].text) for i in best_first], lang
    )


def _per_report(
    hits: list[Hit],
    sents: list[Sentence],
    scores: np.ndarray,
    decide: Decider,
    missing: list[str] | None,
    attribution: Attribution,
    asked: str | None = None,
) -> Answer:
    """Each report of the scope answered on its own line, oldest first, labelled; each
    report's evidence is judged on its own."""
    scope = attribution.scope
    lang = decide.lang
    reports = scope.reports if scope is not None else ()
    lines: list[str] = []
    chosen_all: list[int] = []
    compared: list[Compared] = []
    confidences: list[float] = []
    reasons: list[str] = []
    best_all = float(scores.max()) if scores.size else 0.0
    for report in reports:
        rows = [i for i, s in enumerate(sents) if hits[s.citation].passage.doc_id == report.doc_id]
        own = [h for h in hits if h.passage.doc_id == report.doc_id]
        judgement = (
            WEAK
            if not rows or missing
            else decide(own, [sents[i].text for i in rows], scores[rows], report.label, report)
        )
        confidences.append(judgement.confidence)
        if not judgement.answerable:
            said = judgement.reason if judgement.cause in ("missing", "unheld") else None
            reasons.extend([said] if said else [])
            lines.append(said or weak_reason(lang, report.label))
            continue
        chosen = _pick(sents, scores, rows, MAX_QUOTES_PER_REPORT, MAX_QUOTE_CHARS_PER_REPORT)
        chosen_all.extend(chosen)
        short, opener = _opening(asked, sents, scores, chosen, lang)
        quotes = "".join(f"{_quote(sents[i].text)}[{sents[i].citation + 1}]" for i in chosen)
        lines.append(_lead(report.label, lang) + opener + quotes)
        top = max(chosen, key=lambda i: float(scores[i]))
        compared.append(Compared(report, sents[top].text, sents[top].citation + 1, short))
    citations = _citations(hits, sents, chosen_all, attribution)
    answerable = bool(compared)
    text = _prefix(attribution, lang) + "\n".join(lines) + _suffix(attribution, lang)
    reason = None if answerable else " ".join(reasons) or weak_reason(lang, None)
    if not answerable and missing:
        text = not_found(lang, missing) + _suffix(attribution, lang)
        reason = missing_reason(lang, missing, None)
    return Answer(
        text,
        answerable,
        citations,
        lang=lang,
        evidence_score=best_all,
        comparison=tuple(compared),
        confidence=max(confidences, default=0.0),
        reason=reason,
    )


def _outline(hits: list[Hit], ref: str, lang: str, attribution: Attribution) -> Answer:
    """A section's outline: its title, then the first sentence of each passage."""
    title = hits[0].passage.heading_path[-1] if hits[0].passage.heading_path else ref
    parts = []
    citations = []
    seen_paragraphs: set[int] = set()
    for i, h in enumerate(hits):
        first = next(iter(sentences([h])), None)
        span: tuple[tuple[int, int], ...] = ()
        if first is not None and h.passage.paragraph not in seen_paragraphs:
            seen_paragraphs.add(h.passage.paragraph)
            parts.append(f"{_quote(first.text)}[{i + 1}]")
            span = ((first.start, first.end),)
        citations.append(attribution.cite(i + 1, h, span))
    report = attribution.report(hits[0]) if attribution.named else None
    if lang == "en":
        where = report.label if report is not None else "the report"
        text = f"Section {ref} of {where}, {_quote(title)}, covers: " + "".join(parts)
    else:
        where = report.label if report is not None else "报告"
        text = f"{where}{ref}{_quote(title)}的主要内容：" + "".join(parts)
    return Answer(text, True, citations, lang=lang, evidence_score=1.0, confidence=1.0)
