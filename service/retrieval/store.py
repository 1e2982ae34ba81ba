"""The stores the retriever ranks with: the index folder's own files, or Milvus.

The interface (`PassageStore`, `Where`, `Facet`) is `indexer.vectorstore`'s; this module
adds the file store and `open_store`, which picks one by VECTOR_STORE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.milvus_store import Ranker
from indexer.store import LoadedIndex
from indexer.types import Passage
from indexer.vectorstore import Facet, PassageStore, Ranking, StoreKind, Where, where_rows

from .rank import dense_ranking, lexical_ranking

__all__ = ["Facet", "FileStore", "PassageStore", "Where", "open_store"]


class FileStore:
    """The index folder's FAISS indexes and bm25s index, searched in process (the default)."""

    kind: StoreKind = "faiss"

    def __init__(self, index: LoadedIndex) -> None:
        self.index = index

    def dense(
        self, qvec: np.ndarray, n: int, where: Where | None = None, multilingual: bool = False
    ) -> Ranking:
        ml = self.index.multilingual
        if multilingual and ml is None:
            raise ValueError(f"the index at {self.index.folder} has no multilingual vectors")
        faiss_index = ml.faiss_index if multilingual and ml is not None else self.index.faiss_index
        return dense_ranking(faiss_index, qvec, n, where_rows(self.index, where))

    def lexical(
        self, terms: str, n: int, where: Where | None = None, doc_id: str | None = None
    ) -> Ranking:
        scores = self.index.lexical.scores(terms, doc_id)
        return lexical_ranking(scores, n, where_rows(self.index, where))

    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        by_id, passages = self.index.by_id, self.index.passages
        return [passages[by_id[i]] for i in ids if i in by_id]

    def facets(self) -> list[Facet]:
        counts: dict[str, int] = {}
        for p in self.index.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        facets = (
            Facet(d.doc_id, d.region, d.year, counts.get(d.doc_id, 0)) for d in self.index.documents
        )
        return sorted(facets, key=lambda f: f.doc_id)

    def close(self) -> None:
        return None


def open_store(
    index: LoadedIndex,
    kind: StoreKind = "faiss",
    uri: str = "",
    token: str = "",
    ranker: Ranker = "project",
) -> PassageStore:
    """The store of a loaded index: its own files, or the Milvus collection its manifest
    names at `uri` (`token` for an authenticated server; `ranker`: how hybrid mode joins
    Milvus' rankings, see MilvusStore.hybrid).

    Raises:
        IndexLoadError: kind is milvus but the index was not built into Milvus, or its
            collection is missing or differs at `uri`; the message says how to fix it.
    """
    if kind == "faiss":
        return FileStore(index)
    from indexer.milvus_search import MilvusStore  # pymilvus only when asked for

    return MilvusStore.open(index, uri, token, ranker)
