"""The index's passages in Milvus: one collection per index version, behind one alias.

A collection holds, per passage: `id` (the passage id, primary key), `row` (its position
in the index folder's passages.jsonl), `doc_id`, `region`, `year`, `section`, `heading_path`
(JSON), `paragraph`, `start`, `end`, `text` (the passage), `indexed` (what BM25 reads: the
innermost heading and the passage, as in the file store), `dense` (the main vectors),
`ml_dense` (the multilingual ones, when built) and `sparse`: Milvus' own BM25 vector,
made by its full-text-search function from `indexed` with the jieba analyzer (search mode,
the file store's stop list plus the corpus's punctuation tokens, so both count the same
terms); `sparse_doc`: each passage's BM25 weights within its own report (the file
store's per-report statistics). `doc_id`, `region` and `year` are scalar fields the
filters use. `indexer.milvus_search.MilvusStore` searches a collection.

A build (`write_collection`) writes a new collection, the index folder's manifest names
it, and `publish` then moves the alias to it with alter_alias and drops all but it and
the one before (as the folder keeps two versions). A loaded index searches the collection
its manifest names, so its rows always match its passages, also while a live rebuild
moves the alias. MILVUS_URI is a local path ending in `.db` (Milvus Lite, in process) or
`http://host:19530` (a Milvus server or cluster), MILVUS_TOKEN its `user:password` or key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import jieba
import numpy as np

from .errors import ReportQAError
from .lexical import STOPWORDS, LexicalIndex
from .types import DocumentMeta, Passage

if TYPE_CHECKING:
    pass

DEFAULT_ALIAS = "report_qa"
# How hybrid mode joins Milvus' rankings: the project's fusion (fusion.fuse) or Milvus' own.
Ranker = Literal["project", "rrf", "weighted"]
# bm25s (method "lucene") and Milvus share k1, b and the IDF; Milvus multiplies each term's
# weight by (k1 + 1), which the store divides out so BM25 scores equal the file store's.
BM25_K1 = 1.5
BM25_B = 0.75
BATCH = 500
UNUSED_TERM = 2**32 - 2  # no token has this id (the vocabulary's ids count from 0)
MAX_TEXT = 65_535
_TOKEN_OK = re.compile(r"\w", re.UNICODE)
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
FIX_MILVUS = "rebuild it with VECTOR_STORE=milvus (`VECTOR_STORE=milvus make index`)"


class MilvusError(ReportQAError):
    """Milvus cannot be reached, or refused a request; the message names the URI."""


@dataclass(frozen=True, slots=True)
class MilvusTarget:
    """Where a build writes its collection: the URI, its token and the alias to move."""

    uri: str
    token: str = ""
    alias: str = DEFAULT_ALIAS


def pymilvus_module() -> Any:
    """pymilvus, imported so that its import-time default connection ignores MILVUS_URI:
    it reads that variable (the same name as ours) and refuses a Milvus Lite path there.
    An empty value makes it skip that connection, which this code never uses."""
    if "pymilvus" in sys.modules:
        return sys.modules["pymilvus"]
    saved = os.environ.get("MILVUS_URI")
    os.environ["MILVUS_URI"] = ""
    try:
        import pymilvus
    finally:
        if saved is None:
            os.environ.pop("MILVUS_URI", None)
        else:
            os.environ["MILVUS_URI"] = saved
    return pymilvus


def _unimplemented(record: logging.LogRecord) -> bool:
    """False for Milvus Lite's gRPC server logging a call it does not implement (pymilvus
    asks for AllocTimestamp while it waits for an index, and goes on without it)."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (isinstance(exc, NotImplementedError) and "not implemented" in str(exc))


def connect(uri: str, token: str = "") -> Any:
    """A MilvusClient for `uri` (a local `.db` path runs Milvus Lite in this process)."""
    if uri.endswith(".db"):
        grpc_log = logging.getLogger("grpc._server")
        if _unimplemented not in grpc_log.filters:
            grpc_log.addFilter(_unimplemented)
    MilvusClient = pymilvus_module().MilvusClient

    if not uri:
        raise MilvusError("MILVUS_URI is empty: set a path ending in .db or http://host:19530")
    try:
        return MilvusClient(uri=uri, token=token)
    except Exception as exc:  # pymilvus raises its own and grpc's errors
        raise MilvusError(f"cannot connect to Milvus at {uri}: {exc}") from exc


def collection_name(alias: str) -> str:
    """A new version's collection name: the alias and a build stamp."""
    if not _NAME_OK.match(alias):
        raise ValueError(
            f"Milvus alias {alias!r} is not a collection name (letters, digits and _, "
            "starting with a letter or _)"
        )
    return f"{alias}_v{time.time_ns()}"


def stop_words(texts: Sequence[str]) -> list[str]:
    """The file store's stop words and every token of `texts` without a letter or digit
    (indexer.lexical.tokenize drops those; Milvus' stop filter is how the analyzer does)."""
    punct = {
        t
        for text in texts
        for tok in jieba.cut_for_search(text)
        if (t := tok.strip().lower()) and not _TOKEN_OK.search(t)
    }
    return sorted(STOPWORDS | punct)


def _schema(client: Any, dim: int, ml_dim: int | None, stops: list[str], per_report: bool) -> Any:
    pm = pymilvus_module()
    DataType, Function, FunctionType = pm.DataType, pm.Function, pm.FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("row", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("region", DataType.VARCHAR, max_length=128)
    schema.add_field("year", DataType.INT64)
    schema.add_field("section", DataType.VARCHAR, max_length=256)
    schema.add_field("heading_path", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("paragraph", DataType.INT64)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field(
        "indexed",
        DataType.VARCHAR,
        max_length=MAX_TEXT,
        enable_analyzer=True,
        # Milvus' "chinese" analyzer is jieba too, but Milvus Lite 3 knows only the
        # tokenizer form; search mode is what the file store's tokenizer cuts with.
        analyzer_params={
            "tokenizer": {"type": "jieba", "mode": "search"},
            "filter": [{"type": "stop", "stop_words": stops}],
        },
    )
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    if ml_dim is not None:
        schema.add_field("ml_dense", DataType.FLOAT_VECTOR, dim=ml_dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    if per_report:
        schema.add_field("sparse_doc", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["indexed"],
            output_field_names=["sparse"],
        )
    )
    return schema


def _index_params(client: Any, ml: bool, kind: str, hnsw_m: int, per_report: bool) -> Any:
    params = client.prepare_index_params()
    for name in ("dense", "ml_dense") if ml else ("dense",):
        if kind == "hnsw":
            params.add_index(
                name,
                index_type="HNSW",
                metric_type="IP",
                params={"M": hnsw_m, "efConstruction": max(40, 2 * hnsw_m)},
            )
        else:
            params.add_index(name, index_type="FLAT", metric_type="IP")
    params.add_index(
        "sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
    )
    if per_report:
        params.add_index("sparse_doc", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return params


def write_collection(
    target: MilvusTarget,
    name: str,
    passages: Sequence[Passage],
    documents: Sequence[DocumentMeta],
    indexed: Sequence[str],
    dense: np.ndarray,
    ml_dense: np.ndarray | None = None,
    index_kind: str = "flat",
    hnsw_m: int = 32,
    ef_search: int = 128,
    per_report: Sequence[dict[int, float]] | None = None,
) -> dict[str, Any]:
    """Write a new collection `name` holding the passages; return the manifest's `store`.

    `per_report` (report_weights) adds `sparse_doc`, the passages' BM25 weights within
    their own report, which a search of one report scores with.

    `indexed` are the texts BM25 reads (chunk.embedding_text), one per passage. The alias
    is not moved (publish does that, once the index folder naming the collection is in
    place). A failure drops the half-written collection.

    Raises:
        MilvusError: Milvus refused or could not be reached.
    """
    client = connect(target.uri, target.token)
    docs = {d.doc_id: d for d in documents}
    ml_dim = None if ml_dense is None else int(ml_dense.shape[1])
    try:
        client.create_collection(
            name,
            schema=_schema(
                client, int(dense.shape[1]), ml_dim, stop_words(indexed), per_report is not None
            ),
            index_params=_index_params(
                client, ml_dense is not None, index_kind, hnsw_m, per_report is not None
            ),
            consistency_level="Strong",
        )
        for lo in range(0, len(passages), BATCH):
            rows = []
            for row in range(lo, min(lo + BATCH, len(passages))):
                p, doc = passages[row], docs.get(passages[row].doc_id)
                entity: dict[str, Any] = {
                    "id": p.id,
                    "row": row,
                    "doc_id": p.doc_id,
                    "region": (doc.region if doc else None) or "",
                    "year": (doc.year if doc else None) or 0,
                    "section": p.section or "",
                    "heading_path": json.dumps(list(p.heading_path), ensure_ascii=False),
                    "paragraph": p.paragraph,
                    "start": p.start,
                    "end": p.end,
                    "text": p.text,
                    "indexed": indexed[row],
                    "dense": dense[row].astype(np.float32).tolist(),
                }
                if ml_dense is not None:
                    entity["ml_dense"] = ml_dense[row].astype(np.float32).tolist()
                if per_report is not None:
                    # An empty sparse row is refused by some Milvus versions: one unused term.
                    entity["sparse_doc"] = per_report[row] or {UNUSED_TERM: 1e-9}
                rows.append(entity)
            client.insert(name, rows)
        # One flush after all rows: Milvus Lite scores BM25 with each segment's statistics,
        # so the whole version goes into one segment (up to 100,000 rows).
        client.flush(name)
    except Exception as exc:
        _drop_quietly(client, name)
        raise MilvusError(
            f"writing collection {name} to Milvus at {target.uri} failed: {exc}"
        ) from exc
    finally:
        client.close()
    return {
        "kind": "milvus",
        "collection": name,
        "alias": target.alias,
        "index": index_kind,
        "ef_search": ef_search,
        "rows": len(passages),
        "multilingual": ml_dense is not None,
        "per_report": per_report is not None,
    }


def report_weights(lexical: LexicalIndex) -> list[dict[int, float]] | None:
    """Each passage's BM25 term weights under its own report's statistics (the file
    store's per-document bm25s indexes), by the corpus vocabulary's term ids: a sparse
    vector whose inner product with a query's term counts is bm25s' score of the passage
    within its report. None for an index without per-document parts."""
    if not lexical.parts:
        return None
    vocab = lexical.retriever.vocab_dict
    out: list[dict[int, float]] = [{} for _ in range(lexical.size)]
    for part, rows in lexical.parts.values():
        scores = part.scores
        data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
        for token, tid in part.vocab_dict.items():
            gid = vocab.get(token)
            if gid is None or tid + 1 >= len(indptr):  # bm25s' placeholder token has no column
                continue
            for local, weight in zip(
                indices[indptr[tid] : indptr[tid + 1]].tolist(),
                data[indptr[tid] : indptr[tid + 1]].tolist(),
                strict=True,
            ):
                if weight > 0:
                    out[int(rows[local])][int(gid)] = float(weight)
    return out


def write_version(
    target: MilvusTarget,
    passages: Sequence[Passage],
    documents: Sequence[DocumentMeta],
    main: Any,
    multilingual: Any | None,
    index_kind: str,
    lexical: LexicalIndex | None = None,
) -> dict[str, Any]:
    """write_collection of a new version from the FAISS indexes a build made (their vectors
    read back exactly: flat and HNSW-flat indexes hold them whole); store.write_index's
    Milvus step."""
    from .chunk import embedding_text

    hnsw = getattr(main, "hnsw", None)
    return write_collection(
        target,
        collection_name(target.alias),
        passages,
        documents,
        [embedding_text(p) for p in passages],
        main.reconstruct_n(0, main.ntotal),
        None if multilingual is None else multilingual.reconstruct_n(0, multilingual.ntotal),
        index_kind,
        # M of a faiss HNSW graph: the neighbours of its level 0, halved.
        hnsw.nb_neighbors(0) // 2 if hnsw is not None else 32,
        hnsw.efSearch if hnsw is not None else 128,
        None if lexical is None else report_weights(lexical),
    )


def _drop_quietly(client: Any, name: str) -> None:
    with contextlib.suppress(Exception):  # already failing; the first error is the one told
        if client.has_collection(name):
            client.drop_collection(name)


def drop_collection(target: MilvusTarget, name: str) -> None:
    """Drop a collection a failed build wrote."""
    client = connect(target.uri, target.token)
    try:
        _drop_quietly(client, name)
    finally:
        client.close()


def current(target: MilvusTarget) -> str | None:
    """The collection the alias points at (None: no alias yet)."""
    client = connect(target.uri, target.token)
    try:
        return _aliased(client, target.alias)
    finally:
        client.close()


def _aliased(client: Any, alias: str) -> str | None:
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return str(client.describe_alias(alias)["collection_name"])


def publish(target: MilvusTarget, name: str) -> str | None:
    """Point the alias at collection `name` (create it, or alter_alias), then drop the
    alias's other versions but the one it pointed at before; returns that one."""
    client = connect(target.uri, target.token)
    try:
        before = _aliased(client, target.alias)
        if before is None:
            client.create_alias(name, target.alias)
        else:
            client.alter_alias(name, target.alias)
        version = re.compile(rf"^{re.escape(target.alias)}_v\d+$")
        for other in client.list_collections():
            if version.match(other) and other not in (name, before):
                client.drop_collection(other)
        return before
    except Exception as exc:
        raise MilvusError(f"moving alias {target.alias} to {name} at {target.uri}: {exc}") from exc
    finally:
        client.close()
