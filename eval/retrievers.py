"""The retrievers compared by the eval: ours (in-process or over HTTP) and two naive baselines.

Ours are `bm25`, `dense` and `hybrid` from the index (service.retrieval.Retriever) or from a
running service (POST /search). The baselines stand for what people build in an afternoon:
LangChain's RecursiveCharacterTextSplitter (500 characters, 50 overlap, start index from the
splitter) with the same embedding model in a flat FAISS inner-product index
(`naive-dense-500`), or BM25 (bm25s over indexer.lexical.tokenize) over the same chunks
(`naive-bm25-500`). Both are built in memory from the source texts.

A question is asked within its doc_id, or of the whole corpus when it has none. In process
it is asked on its `today`; the HTTP API takes no such field, so over `--url` 今年 and 去年
are read on the service's own date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from indexer.encoders import Embedder
from indexer.lexical import LexicalIndex
from indexer.types import Passage
from service.query import Query, understand

from .errors import EvalError
from .gold import Question

if TYPE_CHECKING:
    import httpx

    from service.retrieval import Retriever

OURS = ("bm25", "dense", "hybrid")
NAIVE = ("naive-dense-500", "naive-bm25-500")
ALL = OURS + NAIVE
NAIVE_CHUNK = 500
NAIVE_OVERLAP = 50


def understand_question(question: Question, k: int, mode: str, retriever: Retriever) -> Query:
    """The Query the service would make of a gold question: asked within its doc_id (none:
    the corpus's reports, resolved from the question) on its `today`."""
    return understand(
        question.question,
        k,
        mode,
        doc_id=question.doc_id,
        catalogue=retriever.catalogue,
        today=question.today,
    )


def request_body(gold: Question, fields: dict[str, Any]) -> dict[str, Any]:
    """A POST /search or /ask body for a gold question; doc_id only when it has one."""
    if gold.doc_id is None:
        return fields
    return {**fields, "doc_id": gold.doc_id}


class EvalRetriever(Protocol):
    """Anything that ranks passages for a gold question."""

    name: str

    def search(self, question: Question, k: int) -> list[Passage]: ...


class IndexRetriever:
    """One mode of our Retriever, in-process."""

    def __init__(self, retriever: Retriever, mode: str, name: str | None = None) -> None:
        self.retriever = retriever
        self.mode = mode
        self.name = name or mode

    def search(self, question: Question, k: int) -> list[Passage]:
        query = understand_question(question, k, self.mode, self.retriever)
        result = self.retriever.search(query)
        return [hit.passage for hit in result.hits]


def post_json(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the service; any failure becomes an EvalError that says what to do."""
    import httpx

    try:
        response = client.post(path, json=body)
    except httpx.HTTPError as exc:
        raise EvalError(
            f"cannot reach the service at {client.base_url}{path} ({exc}): start it with "
            "`make serve` or pass the right --url"
        ) from exc
    if response.status_code != 200:
        raise EvalError(
            f"POST {client.base_url}{path} answered {response.status_code}: {response.text[:300]}"
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise EvalError(f"POST {client.base_url}{path} did not answer JSON") from exc
    if not isinstance(data, dict):
        raise EvalError(f"POST {client.base_url}{path} did not answer a JSON object")
    return data


def passage_from_json(data: dict[str, Any], where: str) -> Passage:
    """A passage object of the HTTP API as a Passage."""
    try:
        return Passage.from_dict(
            {
                "heading_path": data.get("heading_path") or [],
                "section": data.get("section"),
                "paragraph": data.get("paragraph") or 0,
                **{key: data[key] for key in ("id", "doc_id", "start", "end", "text")},
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EvalError(f"{where} returned a passage without field {exc}") from exc


class HttpRetriever:
    """One mode of a running service, through POST /search."""

    def __init__(self, client: httpx.Client, mode: str) -> None:
        self.client = client
        self.mode = mode
        self.name = mode

    def search(self, question: Question, k: int) -> list[Passage]:
        body = request_body(question, {"query": question.question, "k": k, "mode": self.mode})
        data = post_json(self.client, "/search", body)
        return [passage_from_json(r, "POST /search") for r in data.get("results", [])]


def naive_chunks(
    sources: Mapping[str, str], chunk_size: int = NAIVE_CHUNK, overlap: int = NAIVE_OVERLAP
) -> list[Passage]:
    """LangChain's default recursive splitter over each source, offsets from its start index."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=overlap, add_start_index=True
    )
    chunks: list[Passage] = []
    for doc_id, text in sources.items():
        for i, doc in enumerate(splitter.create_documents([text]), start=1):
            start = int(doc.metadata["start_index"])
            if start < 0:  # the splitter could not find its own chunk again
                raise EvalError(f"the naive splitter lost chunk {i} of {doc_id}")
            content = doc.page_content
            chunks.append(
                Passage(
                    id=f"{doc_id}-naive{chunk_size}-{i:04d}",
                    doc_id=doc_id,
                    heading_path=(),
                    section=None,
                    paragraph=0,
                    start=start,
                    end=start + len(content),
                    text=content,
                )
            )
    return chunks


def _top(scores: np.ndarray, chunks: Sequence[Passage], doc_id: str | None, k: int) -> list[int]:
    """Rows of the k best chunks (of doc_id, when given), best first, ties by position."""
    allowed = np.array([doc_id is None or c.doc_id == doc_id for c in chunks])
    rows = np.flatnonzero(allowed)
    order = rows[np.argsort(-scores[rows], kind="stable")]
    return order[:k].tolist()


class NaiveDense:
    """Naive chunks, embedded with the same model, in a flat FAISS inner-product index."""

    name = "naive-dense-500"

    def __init__(self, chunks: list[Passage], embedder: Embedder) -> None:
        import faiss

        self.chunks = chunks
        self.embedder = embedder
        vectors = embedder.encode_passages([c.text for c in chunks])
        self.index = faiss.IndexFlatIP(embedder.dim)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, question: Question, k: int) -> list[Passage]:
        qvec = self.embedder.encode_queries([question.question]).astype(np.float32)
        n = self.index.ntotal
        scores, ids = self.index.search(qvec, n)
        full = np.full(n, -np.inf, dtype=np.float32)
        full[ids[0]] = scores[0]
        return [self.chunks[r] for r in _top(full, self.chunks, question.doc_id, k)]


class NaiveBM25:
    """BM25 (bm25s, jieba tokens) over the naive chunks; only chunks with a positive score."""

    name = "naive-bm25-500"

    def __init__(self, chunks: list[Passage]) -> None:
        self.chunks = chunks
        self.lexical = LexicalIndex.build([c.text for c in chunks])

    def search(self, question: Question, k: int) -> list[Passage]:
        scores = self.lexical.scores(question.question)
        rows = _top(scores, self.chunks, question.doc_id, k)
        return [self.chunks[r] for r in rows if scores[r] > 0]


def parse_names(text: str) -> list[str]:
    """The --retrievers list, checked against the known names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown or not names:
        raise EvalError(
            f"unknown retriever {', '.join(unknown) or '(none given)'}: "
            f"choose from {', '.join(ALL)}"
        )
    return list(dict.fromkeys(names))
