"""The gold set: loading and validating questions, and the relevance rule.

The relevance rule is a contract shared with other tools: an evidence string is located by
exact substring search in its document's source text, and a passage `(doc_id, [start, end))`
is relevant to a question when it covers at least half of the characters of one of the
question's evidence spans (`overlap * 2 >= len(span)`). Evidence that is missing, or found
more than once, stops the run with an error naming the question.

One line of the gold set is a JSON object:

    id, question, lang ("zh" | "en"), answerable (bool)    required
    evidence   list of evidence: a string, found in the question's doc_id, or an object
               {"doc_id": ..., "text": ...} naming its own document (required when the
               question has no doc_id); empty when the question is unanswerable
    answer     a string, or a list of strings that must all appear (a comparison)
    doc_id     optional: the question is asked only within this document
    today      optional "YYYY-MM-DD": the day the question is asked on (今年, 去年)
    kind       optional, one of KINDS (what the question tests; reported by kind)
    tags       optional list of strings (reported by tag)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from indexer.errors import ReportQAError
from indexer.sources import read_sources
from indexer.store import read_manifest

from .errors import EvalError

LANGS = ("zh", "en")
# What a question tests, for the by-kind tables:
#   year-target     year Y's target, found in report Y
#   year-result     year Y's outcome, found in report Y+1's review of the year
#   term-review     a government term's outcome, found in a first report of the next term
#   latest          no year given: the latest report of the region answers
#   comparison      several years or regions: one evidence per report, all needed
#   missing-report  the report the question needs is not in the corpus (unanswerable)
#   docx            a question on a report read from a Word document
#   region          the region alone picks the report (one report of that region)
#   near-miss       the report covers the topic but not the fact asked (unanswerable):
#                   a number, name, date or finer detail it does not give, or a comparison
#                   it does not make
#   everyday        asked in everyday words, with little overlap with the report's wording
KINDS = (
    "year-target",
    "year-result",
    "term-review",
    "latest",
    "comparison",
    "missing-report",
    "docx",
    "region",
    "near-miss",
    "everyday",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One evidence string and the document it is in (None: the question's doc_id)."""

    text: str
    doc_id: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One line of the gold set.

    `answer` holds the parts an answer must contain (one for most questions, several for a
    comparison, none for an unanswerable question).
    """

    id: str
    question: str
    evidence: tuple[Evidence, ...]
    answer: tuple[str, ...]
    answerable: bool
    lang: str
    tags: tuple[str, ...]
    doc_id: str | None = None
    today: date | None = None
    kind: str | None = None


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


def _evidence(item: object, doc_id: str | None, n: int, where: str) -> Evidence:
    """One evidence item of a line: a string in the question's doc_id, or an object."""
    if isinstance(item, str) and item:
        if doc_id is None:
            raise EvalError(
                f"{where}: evidence {n} is a plain string but the question has no doc_id: "
                'write it as {"doc_id": "...", "text": "..."}'
            )
        return Evidence(item)
    if isinstance(item, dict):
        text, doc = item.get("text"), item.get("doc_id")
        extra = sorted(set(item) - {"text", "doc_id"})
        if extra:
            raise EvalError(
                f"{where}: evidence {n} has unknown field {', '.join(map(repr, extra))}: "
                "an evidence object holds only 'doc_id' and 'text'"
            )
        if not isinstance(text, str) or not text or not isinstance(doc, str) or not doc:
            raise EvalError(
                f"{where}: evidence {n} must have a non-empty 'doc_id' and 'text', got {item!r}"
            )
        if doc_id is not None and doc != doc_id:
            raise EvalError(
                f"{where}: evidence {n} is in {doc!r} but the question is asked within "
                f"doc_id {doc_id!r}: drop the question's doc_id or fix the evidence's"
            )
        return Evidence(text, doc)
    raise EvalError(
        f"{where}: evidence {n} must be a non-empty string or an object "
        f'{{"doc_id": "...", "text": "..."}}, got {item!r}'
    )


def _answer(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list) and all(isinstance(a, str) and a for a in value):
        return tuple(value)
    raise EvalError(
        f"{where}: field 'answer' must be a string or a list of non-empty strings, got {value!r}"
    )


def _today(value: object, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise EvalError(f"{where}: 'today' must be a date written YYYY-MM-DD, got {value!r}")


def parse_question(row: object, where: str) -> Question:
    """Validate one decoded JSON line; `where` names it in error messages."""
    if not isinstance(row, dict):
        raise EvalError(f"{where}: expected a JSON object")
    qid = _field(row, "id", str, where)
    where = f"{where} (question {qid})"
    text = _field(row, "question", str, where)
    items = _field(row, "evidence", list, where)
    if "answer" not in row:
        raise EvalError(f"{where}: field 'answer' is missing")
    answer = _answer(row["answer"], where)
    answerable = _field(row, "answerable", bool, where)
    lang = _field(row, "lang", str, where)
    tags = row.get("tags", [])
    doc_id = row.get("doc_id")
    kind = row.get("kind")
    if not qid.strip() or not text.strip():
        raise EvalError(f"{where}: 'id' and 'question' must not be empty")
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise EvalError(f"{where}: 'tags' must be a list of non-empty strings")
    if doc_id is not None and (not isinstance(doc_id, str) or not doc_id):
        raise EvalError(f"{where}: 'doc_id' must be a non-empty string when given")
    if lang not in LANGS:
        raise EvalError(f"{where}: 'lang' must be one of {', '.join(LANGS)}, got {lang!r}")
    if kind is not None and kind not in KINDS:
        raise EvalError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    today = _today(row.get("today"), where)
    evidence = tuple(_evidence(e, doc_id, n, where) for n, e in enumerate(items, start=1))
    if answerable and (not evidence or not answer):
        raise EvalError(f"{where}: an answerable question needs 'evidence' and 'answer'")
    if not answerable and evidence:
        raise EvalError(f"{where}: an unanswerable question must have empty 'evidence'")
    if kind == "missing-report" and answerable:
        raise EvalError(f"{where}: a missing-report question must have answerable false")
    if kind == "comparison" and len(evidence) < 2:
        raise EvalError(f"{where}: a comparison question needs an evidence item per report")
    return Question(qid, text, evidence, answer, answerable, lang, tuple(tags), doc_id, today, kind)


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


TEXTS = "texts"


def _indexed_text(index_dir: Path, doc: Mapping[str, Any], files: Mapping[str, str]) -> str:
    """The text the index holds for one document (`texts/<doc_id>.txt`), checked."""
    name = f"{TEXTS}/{doc['doc_id']}.txt"
    path = Path(index_dir) / name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EvalError(f"index file {path} cannot be read ({exc}): run `make index`") from exc
    if name in files and _sha256(raw) != files[name]:
        raise EvalError(
            f"index file {path} is damaged (its sha256 differs from the manifest): run `make index`"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvalError(f"index file {path} is not UTF-8: run `make index`") from exc


def _source_text(index_dir: Path, source_dir: Path, doc: Mapping[str, Any]) -> str:
    """A .txt document's text from its source file, checked against the manifest."""
    path = Path(source_dir) / doc["source"]
    if path.suffix != ".txt":
        raise EvalError(
            f"the index at {index_dir} does not hold the text of {doc['doc_id']!r} "
            f"({TEXTS}/{doc['doc_id']}.txt) and its source {path} is not a .txt file: "
            "rebuild the index with `make index`, or pass --source with the report folder"
        )
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
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvalError(f"source {path} is not UTF-8: run `make index`") from exc


def sources_from_index(index_dir: Path, source_dir: Path) -> dict[str, str]:
    """The texts of the documents an index was built from, as the index read them.

    A document's text is `<index>/texts/<doc_id>.txt` where the index holds it (checked
    against the manifest's sha256 when the manifest lists the file); otherwise, for a .txt
    source only, the source file under source_dir, checked against the document's sha256.

    Raises:
        EvalError: a text or source file is missing, damaged or changed since the index was
            built, or a .docx document has no text in the index.
        IndexLoadError: the index manifest is missing or damaged.
    """
    manifest = read_manifest(Path(index_dir))
    files = manifest.get("files") or {}
    texts: dict[str, str] = {}
    for doc in manifest.get("documents", []):
        if (Path(index_dir) / TEXTS / f"{doc['doc_id']}.txt").is_file():
            texts[doc["doc_id"]] = _indexed_text(index_dir, doc, files)
        else:
            texts[doc["doc_id"]] = _source_text(index_dir, source_dir, doc)
    if not texts:
        raise EvalError(f"the index at {index_dir} lists no documents: run `make index`")
    return texts


def sources_from_folder(source_dir: Path) -> dict[str, str]:
    """The texts of every .txt and .docx report under a folder, as the indexer reads them,
    by the indexer's doc ids."""
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

    An evidence item is looked for in its own doc_id, else in the question's.

    Raises:
        EvalError: evidence naming no document or an unknown one, or evidence found zero
            or several times; the message names the question.
    """
    spans: dict[str, list[Span]] = {}
    for q in questions:
        if not q.answerable:
            continue
        located = []
        for evidence in q.evidence:
            doc_id = evidence.doc_id or q.doc_id
            if doc_id is None:
                raise EvalError(
                    f"question {q.id}: evidence {evidence.text!r} names no document and the "
                    "question has no doc_id: give the evidence's doc_id"
                )
            if doc_id not in sources:
                raise EvalError(
                    f"question {q.id} names document {doc_id!r}, which is not indexed: "
                    f"known documents are {', '.join(sorted(sources))}"
                )
            hits = find_all(sources[doc_id], evidence.text)
            if not hits:
                raise EvalError(
                    f"question {q.id}: evidence {evidence.text!r} is not in {doc_id}: "
                    "copy it verbatim from the source text"
                )
            if len(hits) > 1:
                raise EvalError(
                    f"question {q.id}: evidence {evidence.text!r} occurs {len(hits)} times in "
                    f"{doc_id} (at {', '.join(map(str, hits))}): lengthen it until it is unique"
                )
            located.append(Span(doc_id, hits[0], hits[0] + len(evidence.text)))
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
