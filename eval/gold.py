"""The gold set: loading and validating questions, and the relevance rule.

The relevance rule is a contract shared with other tools: an evidence string is located by
exact substring search in its document's source text, and a passage `(doc_id, [start, end))`
is relevant to a question when it covers at least half of the characters of one of the
question's evidence spans (`overlap * 2 >= len(span)`). Evidence that is missing, or found
more than once, stops the run with an error naming the question.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.errors import ReportQAError
from indexer.sources import read_sources
from indexer.store import read_manifest

from .errors import EvalError

LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Question:
    """One line of the gold set."""

    id: str
    question: str
    evidence: tuple[str, ...]
    answer: str
    answerable: bool
    lang: str
    tags: tuple[str, ...]
    doc_id: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Where one evidence string lies: `source[start:end]` of document `doc_id`."""

    doc_id: str
    start: int
    end: int


def _field(row: dict[str, Any], name: str, kind: type, where: str) -> Any:
    if name not in row:
        raise EvalError(f"{where}: field {name!r} is missing")
    value = row[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EvalError(f"{where}: field {name!r} must be a {kind.__name__}, got {value!r}")
    return value


def parse_question(row: object, where: str) -> Question:
    """Validate one decoded JSON line; `where` names it in error messages."""
    if not isinstance(row, dict):
        raise EvalError(f"{where}: expected a JSON object")
    qid = _field(row, "id", str, where)
    where = f"{where} (question {qid})"
    text = _field(row, "question", str, where)
    evidence = _field(row, "evidence", list, where)
    answer = _field(row, "answer", str, where)
    answerable = _field(row, "answerable", bool, where)
    lang = _field(row, "lang", str, where)
    tags = row.get("tags", [])
    doc_id = row.get("doc_id")
    if not qid.strip() or not text.strip():
        raise EvalError(f"{where}: 'id' and 'question' must not be empty")
    if not all(isinstance(e, str) and e for e in evidence):
        raise EvalError(f"{where}: 'evidence' must be a list of non-empty strings")
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise EvalError(f"{where}: 'tags' must be a list of non-empty strings")
    if doc_id is not None and (not isinstance(doc_id, str) or not doc_id):
        raise EvalError(f"{where}: 'doc_id' must be a non-empty string when given")
    if lang not in LANGS:
        raise EvalError(f"{where}: 'lang' must be one of {', '.join(LANGS)}, got {lang!r}")
    if answerable and (not evidence or not answer):
        raise EvalError(f"{where}: an answerable question needs 'evidence' and 'answer'")
    if not answerable and evidence:
        raise EvalError(f"{where}: an unanswerable question must have empty 'evidence'")
    return Question(qid, text, tuple(evidence), answer, answerable, lang, tuple(tags), doc_id)


def load_questions(path: Path) -> list[Question]:
    """Read and validate a questions .jsonl file.

    Raises:
        EvalError: the file is unreadable, a line is not valid JSON or breaks the format,
            an id repeats, or the file holds no question.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read questions file {path}: {exc}") from exc
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{where}: not valid JSON ({exc.msg})") from exc
        q = parse_question(row, where)
        if q.id in seen:
            raise EvalError(f"{where}: question id {q.id!r} is used twice")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise EvalError(f"questions file {path} holds no question")
    return questions


def _sha256(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def sources_from_index(index_dir: Path, source_dir: Path) -> dict[str, str]:
    """Source texts of the documents an index was built from, checked against its manifest.

    Raises:
        EvalError: a source file is missing or changed since the index was built.
        IndexLoadError: the index manifest is missing or damaged.
    """
    manifest = read_manifest(Path(index_dir))
    texts: dict[str, str] = {}
    for doc in manifest.get("documents", []):
        path = Path(source_dir) / doc["source"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise EvalError(
                f"source {path} of document {doc['doc_id']!r} cannot be read ({exc}): "
                "set SOURCE_DIR or pass --source"
            ) from exc
        if _sha256(raw) != doc.get("sha256"):
            raise EvalError(
                f"{path} changed since the index at {index_dir} was built, so passage "
                "offsets would be wrong: run `make index`"
            )
        texts[doc["doc_id"]] = raw.decode("utf-8")
    if not texts:
        raise EvalError(f"the index at {index_dir} lists no documents: run `make index`")
    return texts


def sources_from_folder(source_dir: Path) -> dict[str, str]:
    """Source texts of every .txt report under a folder, by the indexer's doc ids."""
    try:
        return {doc.doc_id: doc.text for doc in read_sources(Path(source_dir))}
    except ReportQAError as exc:
        raise EvalError(str(exc)) from exc


def find_all(text: str, needle: str) -> list[int]:
    """Every start offset of needle in text, overlapping occurrences included."""
    found = []
    at = text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def locate_evidence(
    questions: Iterable[Question], sources: Mapping[str, str]
) -> dict[str, list[Span]]:
    """The evidence spans of every answerable question, by question id.

    A question without doc_id refers to the only document; with several documents it
    must name one.

    Raises:
        EvalError: an unknown document, or evidence found zero or several times; the
            message names the question.
    """
    spans: dict[str, list[Span]] = {}
    for q in questions:
        if not q.answerable:
            continue
        doc_id = q.doc_id
        if doc_id is None:
            if len(sources) != 1:
                raise EvalError(
                    f"question {q.id} has no doc_id but there are {len(sources)} documents: "
                    "add a doc_id"
                )
            doc_id = next(iter(sources))
        if doc_id not in sources:
            raise EvalError(
                f"question {q.id} names document {doc_id!r}, which is not indexed: "
                f"known documents are {', '.join(sorted(sources))}"
            )
        text = sources[doc_id]
        located = []
        for evidence in q.evidence:
            hits = find_all(text, evidence)
            if not hits:
                raise EvalError(
                    f"question {q.id}: evidence {evidence!r} is not in {doc_id}: "
                    "copy it verbatim from the source text"
                )
            if len(hits) > 1:
                raise EvalError(
                    f"question {q.id}: evidence {evidence!r} occurs {len(hits)} times in "
                    f"{doc_id} (at {', '.join(map(str, hits))}): lengthen it until it is unique"
                )
            located.append(Span(doc_id, hits[0], hits[0] + len(evidence)))
        spans[q.id] = located
    return spans


def covers(doc_id: str, start: int, end: int, span: Span) -> bool:
    """True when [start, end) of doc_id covers at least half of the span's characters."""
    if doc_id != span.doc_id:
        return False
    overlap = min(end, span.end) - max(start, span.start)
    return overlap > 0 and overlap * 2 >= span.end - span.start


def covered_spans(doc_id: str, start: int, end: int, spans: Iterable[Span]) -> list[int]:
    """Indices of the evidence spans a passage covers by the relevance rule."""
    return [i for i, span in enumerate(spans) if covers(doc_id, start, end, span)]


def is_relevant(doc_id: str, start: int, end: int, spans: Iterable[Span]) -> bool:
    """The relevance rule for one passage and one question's evidence spans."""
    return any(covers(doc_id, start, end, span) for span in spans)
