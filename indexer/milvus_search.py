"""Search one index version in its Milvus collection (indexer.milvus_store writes it).

Rankings are the file store's: rows of the index folder's passages, best first. Dense
search is the collection's FLAT (or HNSW) inner-product index; BM25 over the whole corpus
is Milvus' own full-text search; BM25 within one report is the report's own statistics'
weights (`sparse_doc`) by inner product, as the file store scores it.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import IndexLoadError
from .lexical import tokenize
from .milvus_store import BM25_K1, FIX_MILVUS, MilvusError, Ranker, connect, pymilvus_module
from .types import Passage
from .vectorstore import Facet, Ranking, StoreKind, Where

if TYPE_CHECKING:
    from .store import LoadedIndex


def _literal(values: Sequence[Any]) -> str:
    """A Milvus expression list: JSON's strings and numbers are Milvus' too."""
    return json.dumps(list(values), ensure_ascii=False)


class MilvusStore:
    """Rankings and passages of one index version from its Milvus collection."""

    kind: StoreKind = "milvus"

    def __init__(
        self,
        index: LoadedIndex,
        client: Any,
        collection: str,
        ef_search: int,
        ranker: Ranker = "project",
    ) -> None:
        self.index = index
        self.ranker = ranker
        self.client = client
        self.collection = collection
        self.ef_search = ef_search
        # A runtime swapped out by a rebuild is dropped once its last request ends: its
        # client (a connection to the server) is closed then, not while still searching.
        self._closer = weakref.finalize(self, _close_quietly, client)
        self._doc_rows = {
            doc_id: frozenset(rows.tolist()) for doc_id, rows in self._rows_by_doc().items()
        }

    @classmethod
    def open(
        cls, index: LoadedIndex, uri: str, token: str = "", ranker: Ranker = "project"
    ) -> MilvusStore:
        """The collection the index's manifest names, at `uri`, loaded for search.

        Raises:
            IndexLoadError: the index was built without Milvus, or its collection is
                missing or holds another number of passages.
            MilvusError: Milvus cannot be reached.
        """
        entry = index.manifest.get("store") or {}
        name = entry.get("collection") if entry.get("kind") == "milvus" else None
        if not name:
            raise IndexLoadError(
                f"the index at {index.folder} was built without Milvus (VECTOR_STORE=faiss): "
                f"{FIX_MILVUS}, or serve it with VECTOR_STORE=faiss"
            )
        client = connect(uri, token)
        try:
            if not client.has_collection(name):
                raise IndexLoadError(
                    f"Milvus at {uri} has no collection {name}, which the index at "
                    f"{index.folder} was built into (another MILVUS_URI?): {FIX_MILVUS}"
                )
            client.load_collection(name)
            count = int(client.get_collection_stats(name)["row_count"])
        except IndexLoadError:
            client.close()
            raise
        except Exception as exc:
            client.close()
            raise MilvusError(f"cannot open collection {name} at {uri}: {exc}") from exc
        if count != len(index.passages):
            client.close()
            raise IndexLoadError(
                f"collection {name} at {uri} holds {count} passages, the index at "
                f"{index.folder} {len(index.passages)}: {FIX_MILVUS}"
            )
        return cls(index, client, name, int(entry.get("ef_search") or 128), ranker)

    def _rows_by_doc(self) -> dict[str, np.ndarray]:
        rows: dict[str, list[int]] = {}
        for row, p in enumerate(self.index.passages):
            rows.setdefault(p.doc_id, []).append(row)
        return {d: np.array(r, dtype=np.int64) for d, r in rows.items()}

    def expression(self, where: Where | None) -> tuple[str, int]:
        """The filter expression for `where` and the most rows it can allow."""
        if where is None or where.empty:
            return "", len(self.index.passages)
        parts = []
        bound = len(self.index.passages)
        if where.rows is not None:
            rows = where.rows.tolist()
            bound = len(rows)
            docs = {self.index.passages[r].doc_id for r in rows}
            # Whole documents filter on doc_id, in the engine's scalar index; else by row.
            if sum(len(self._doc_rows[d]) for d in docs) == len(set(rows)):
                parts.append(f"doc_id in {_literal(sorted(docs))}")
            else:
                parts.append(f"row in {_literal(sorted(rows))}")
        if where.doc_ids is not None:
            parts.append(f"doc_id in {_literal(where.doc_ids)}")
        if where.regions is not None:
            parts.append(f"region in {_literal(where.regions)}")
        if where.years is not None:
            parts.append(f"year in {_literal(where.years)}")
        return " and ".join(parts), bound

    def _search(
        self, data: list[Any], field: str, n: int, where: Where | None, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        expr, bound = self.expression(where)
        n = min(n, bound)
        if n <= 0:
            return []
        try:
            result = self.client.search(
                self.collection,
                data,
                anns_field=field,
                limit=n,
                filter=expr,
                output_fields=["row"],
                search_params=params,
            )
        except Exception as exc:
            raise MilvusError(f"Milvus search of {self.collection} failed: {exc}") from exc
        return list(result[0])

    def _ranking(self, hits: list[dict[str, Any]], scale: float = 1.0) -> Ranking:
        by_id = self.index.by_id
        rows, scores = [], []
        for hit in hits:
            row = by_id.get(str(hit["id"]))
            if row is not None:
                rows.append(row)
                scores.append(float(hit["distance"]) * scale)
        return np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32)

    def dense(
        self, qvec: np.ndarray, n: int, where: Where | None = None, multilingual: bool = False
    ) -> Ranking:
        field = "ml_dense" if multilingual else "dense"
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.index.manifest.get("store", {}).get("index") == "hnsw":
            params["params"] = {"ef": max(self.ef_search, n)}
        vec = np.asarray(qvec, dtype=np.float32).reshape(-1).tolist()
        return self._ranking(self._search([vec], field, n, where, params))

    def lexical(
        self, terms: str, n: int, where: Where | None = None, doc_id: str | None = None
    ) -> Ranking:
        """BM25 by Milvus' full-text search over the collection's statistics; `doc_id`
        only restricts the rows (one collection has one set of statistics)."""
        if not terms.strip():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if doc_id is not None and self.index.manifest["store"].get("per_report"):
            return self._within_report(terms, n, where, doc_id)
        if doc_id is not None:
            where = replace(where or Where(), doc_ids=(doc_id,))
        hits = self._search([terms], "sparse", n, where, {"metric_type": "BM25"})
        # Milvus Lite returns BM25 scores negated, a server as they are; a score is >= 0.
        for hit in hits:
            hit["distance"] = abs(float(hit["distance"]))
        ranking = self._ranking(hits, 1.0 / (BM25_K1 + 1.0))
        keep = ranking[1] > 0
        return ranking[0][keep], ranking[1][keep]

    def _within_report(self, terms: str, n: int, where: Where | None, doc_id: str) -> Ranking:
        """BM25 within one report, with its own statistics: the query's term counts against
        `sparse_doc` (inner product), as the file store scores a report's passages."""
        vocab = self.index.lexical.retriever.vocab_dict
        ids = [vocab[t] for t in tokenize(terms) if t in vocab]
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        counts = {int(t): float(c) for t, c in Counter(ids).items()}
        where = replace(where or Where(), doc_ids=(doc_id,))
        hits = self._search([counts], "sparse_doc", n, where, {"metric_type": "IP"})
        rows, scores = self._ranking(hits)
        keep = scores > 0
        return rows[keep], scores[keep]

    def hybrid(
        self,
        qvec: np.ndarray,
        terms: str,
        n: int,
        where: Where | None,
        alpha: float,
        ml_vec: np.ndarray | None = None,
        extra: Sequence[tuple[np.ndarray, np.ndarray, float]] = (),
    ) -> list[tuple[int, float]]:
        """Milvus' own hybrid search (hybrid_search) of the dense, BM25 and, with `ml_vec`,
        multilingual rankings, joined by its RRFRanker (k=60) or WeightedRanker (alpha on
        dense, 1 - alpha on BM25, extra's weight on the multilingual), by `self.ranker`:
        the alternative to the project's fusion.fuse, measured against it."""
        pm = pymilvus_module()
        AnnSearchRequest, RRFRanker, WeightedRanker = (
            pm.AnnSearchRequest,
            pm.RRFRanker,
            pm.WeightedRanker,
        )

        expr, bound = self.expression(where)
        n = min(n, bound)
        if n <= 0:
            return []
        requests, weights = [], []

        def add(data: Any, field: str, metric: str, weight: float) -> None:
            params = {"metric_type": metric}
            requests.append(AnnSearchRequest([data], field, params, limit=n, expr=expr or None))
            weights.append(weight)

        add(np.asarray(qvec, dtype=np.float32).reshape(-1).tolist(), "dense", "IP", alpha)
        if terms.strip():
            add(terms, "sparse", "BM25", 1 - alpha)
        if ml_vec is not None and extra:
            vec = np.asarray(ml_vec, dtype=np.float32).reshape(-1).tolist()
            add(vec, "ml_dense", "IP", extra[0][2])
        rank = RRFRanker(60) if self.ranker == "rrf" else WeightedRanker(*weights)
        try:
            result = self.client.hybrid_search(
                self.collection, requests, rank, limit=n, output_fields=["row"]
            )
        except Exception as exc:
            raise MilvusError(f"Milvus hybrid search of {self.collection} failed: {exc}") from exc
        rows, scores = self._ranking(list(result[0]))
        return list(zip(rows.tolist(), scores.tolist(), strict=True))

    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        """The passages of these ids as Milvus holds them (the same as the folder's)."""
        if not ids:
            return []
        fields = ["doc_id", "heading_path", "section", "paragraph", "start", "end", "text"]
        try:
            rows = self.client.get(self.collection, ids=list(ids), output_fields=fields)
        except Exception as exc:
            raise MilvusError(f"Milvus get from {self.collection} failed: {exc}") from exc
        by_id = {str(r["id"]): r for r in rows}
        return [
            Passage(
                id=i,
                doc_id=r["doc_id"],
                heading_path=tuple(json.loads(r["heading_path"])),
                section=r["section"] or None,
                paragraph=int(r["paragraph"]),
                start=int(r["start"]),
                end=int(r["end"]),
                text=r["text"],
            )
            for i in ids
            if (r := by_id.get(i)) is not None
        ]

    def facets(self) -> list[Facet]:
        """Each document's region, year and passage count, counted by the engine."""
        out = []
        for doc in sorted(self.index.documents, key=lambda d: d.doc_id):
            try:
                rows = self.client.query(
                    self.collection,
                    filter=f"doc_id == {json.dumps(doc.doc_id, ensure_ascii=False)}",
                    output_fields=["region", "year"],
                    limit=1,
                )
                count = self.client.query(
                    self.collection,
                    filter=f"doc_id == {json.dumps(doc.doc_id, ensure_ascii=False)}",
                    output_fields=["count(*)"],
                )
            except Exception as exc:
                raise MilvusError(f"Milvus query of {self.collection} failed: {exc}") from exc
            region, year = doc.region, doc.year
            if rows:  # the engine's copy; "" and 0 stand for unknown
                region, year = rows[0]["region"] or None, int(rows[0]["year"]) or None
            out.append(Facet(doc.doc_id, region, year, int(count[0]["count(*)"])))
        return out

    def close(self) -> None:
        self._closer()


def _close_quietly(client: Any) -> None:
    with contextlib.suppress(Exception):  # a client whose server is gone
        client.close()
