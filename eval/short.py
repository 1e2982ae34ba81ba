"""Short answers against the gold set: exact match, and the extractor alone on gold sentences.

The rule (`exact_match`): a short answer matches when its text equals the gold answer
string, both compared after NFKC normalisation, case folding and removing white space (as
eval.answers compares strings: "6％左右" equals "6%左右", "李　强" equals "李强"). A gold answer
with several parts (a comparison, or a list written part by part) is matched by any one part.
A short answer that is a list (items joined by 、, the last one perhaps two joined by 和 or
及) also matches when one of its items equals the gold answer or one of its parts: the gold
set names one item a list answer must hold (q019: "C919大型客机" for
"C919大型客机、蛟龙号载人潜水器、墨子号量子卫星"). Nothing else is
forgiven: "6.5%左右" does not match a gold "6.5%", since the short answer is the span as the
report writes it; a gold answer that leaves out a qualifier the text has counts as a miss
(the summary counts those apart, as `+qualifier`). No short answer (None) matches nothing.

`python -m eval.short` runs the extractor on the sentence holding each question's evidence
(the sentence retrieval would ideally quote) and prints the exact-match rate by tag, the
misses, and how many questions got a short answer at all.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from service.answers.short import asked, short_answer

from .gold import Question, Span, load_questions, locate_evidence, sources_from_folder

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]")


def normalise(text: str) -> str:
    """NFKC, case-folded, without whitespace (as eval.answers compares strings)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


def exact_match(gold_answer: str | tuple[str, ...], short: str | None) -> bool:
    """True when the short answer equals the gold answer, or one of its parts, or when a
    short list holds the gold answer (or a part) as one of its items (see the module doc)."""
    if short is None:
        return False
    parts = [gold_answer] if isinstance(gold_answer, str) else list(gold_answer)
    wanted = {normalise(p) for p in parts} - {""}
    got = normalise(short)
    items: set[str] = set()
    if "、" in short:
        parts_of = short.split("、")
        items = {normalise(i) for i in parts_of}
        items |= {normalise(i) for i in re.split("和|及", parts_of[-1])}
    return bool(got) and (got in wanted or bool(items & wanted))


def exact_match_all(gold_answer: str | tuple[str, ...], shorts: tuple[str, ...]) -> bool:
    """One short answer: `exact_match`. Several (a comparison, one per report): every part
    of the gold answer matches one of them."""
    if len(shorts) <= 1:
        return exact_match(gold_answer, shorts[0] if shorts else None)
    parts = [gold_answer] if isinstance(gold_answer, str) else list(gold_answer)
    return all(any(exact_match(part, s) for s in shorts) for part in parts)


def asks_short(question: Question) -> bool:
    """Whether the question asks for a figure, name, date or short list (the questions the
    harness scores short answers on)."""
    return asked(question.question, question.lang) is not None


def bare(text: str) -> str:
    """A figure without its qualifiers (6.5%左右 → 6.5%, 100多项 → 100项): for the summary's
    second count only, never for exact_match."""
    for q in ("左右", "以上", "以下", "以内", "之内", "上下"):
        text = text.removesuffix(q)
    return re.sub(r"(?<=\d)[多余]", "", text)


@dataclass(frozen=True, slots=True)
class ShortRecord:
    """What one question's gold sentences gave: the kind asked, the short answer, the verdict."""

    qid: str
    question: str
    gold: tuple[str, ...]
    kind: str | None
    short: str | None
    match: bool
    tags: tuple[str, ...]


def sentence_around(text: str, span: Span) -> tuple[int, str]:
    """The sentence (or sentences) of `text` that hold the span: (start offset, text)."""
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, span.start):
        start = m.end()
    stop = _SENTENCE_END.search(text, max(span.end - 1, span.start))
    end = stop.end() if stop else len(text)
    while start < end and text[start].isspace():
        start += 1
    return start, text[start:end].rstrip()


def oracle(questions: Iterable[Question], sources: Mapping[str, str]) -> list[ShortRecord]:
    """Short answers from each answerable question's evidence sentences, numbered [1]...."""
    questions = [q for q in questions if q.answerable]
    spans = locate_evidence(questions, sources)
    records = []
    for q in questions:
        sentences = []
        for n, span in enumerate(spans[q.id], start=1):
            start, text = sentence_around(sources[span.doc_id], span)
            sentences.append((n, start, text))
        want = asked(q.question, q.lang)
        short = short_answer(q.question, sentences, q.lang)
        got = short.text if short else None
        kind = want.kind if want else None
        records.append(
            ShortRecord(q.id, q.question, q.answer, kind, got, exact_match(q.answer, got), q.tags)
        )
    return records


def summary(records: list[ShortRecord]) -> str:
    """Exact match by tag, over every question and over those that got a short answer."""
    lines = ["tag            questions  answered  exact  +qualifier  exact/answered"]
    tags = Counter(t for r in records for t in r.tags)
    rows = [("all", records)]
    rows += [(t, [r for r in records if t in r.tags]) for t, _ in tags.most_common()]
    for tag, rs in rows:
        answered = [r for r in rs if r.short is not None]
        exact = sum(r.match for r in rs)
        loose = sum(
            not r.match and r.short is not None and exact_match(r.gold, bare(r.short)) for r in rs
        )
        rate = exact / len(answered) if answered else 0.0
        lines.append(
            f"{tag:<14} {len(rs):>9}  {len(answered):>8}  {exact:>5}  {loose:>10}  {rate:>14.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.short", description=__doc__)
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--source", type=Path, default=Path("seeds"))
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    records = oracle(load_questions(args.questions), sources_from_folder(args.source))
    print(summary(records))
    if args.misses:
        for r in records:
            if r.short is not None and not r.match:
                print(f"{r.qid} [{r.kind}] {r.question} | gold {list(r.gold)} | got {r.short!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
