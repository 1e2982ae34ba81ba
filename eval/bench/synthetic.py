"""A synthetic corpus from the report's own sentences, written as an index the service loads."""

from __future__ import annotations

import hashlib
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from indexer import store
from indexer.encoders import Embedder
from indexer.lexical import LexicalIndex
from indexer.milvus_store import MilvusTarget
from indexer.types import DocumentMeta, Passage
from indexer.vectors import passage_key

from .queries import SEED


def synthetic_passages(n_sentences: int, n: int, seed: int = SEED) -> list[tuple[int, ...]]:
    """`n` distinct sets of 2-4 sentence numbers: the sentences shuffled, then cut in runs.

    Each shuffle of the sentence list is cut into consecutive runs of 2-4 sentences; a run
    whose set of sentences was already used is skipped (equal sets would give equal vectors,
    and ties make recall against the exact index meaningless).
    """
    if n_sentences < 4:
        raise ValueError(f"need at least 4 sentences to recombine, got {n_sentences}")
    rng = random.Random(seed)
    order = list(range(n_sentences))
    seen: set[frozenset[int]] = set()
    out: list[tuple[int, ...]] = []
    cursor = len(order)
    for _ in range(50 * n + 100):
        if len(out) >= n:
            break
        size = rng.randint(2, 4)
        if cursor + size > len(order):
            rng.shuffle(order)
            cursor = 0
        run = tuple(order[cursor : cursor + size])
        cursor += size
        key = frozenset(run)
        if key not in seen:
            seen.add(key)
            out.append(run)
    if len(out) < n:
        raise ValueError(f"only {len(out)} distinct passages can be made from these sentences")
    return out


def mean_vectors(sentence_vecs: np.ndarray, combos: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Each passage's vector: the L2-normalised mean of its sentences' vectors."""
    out = np.empty((len(combos), sentence_vecs.shape[1]), dtype=np.float32)
    for start in range(0, len(combos), 8192):
        for size in (2, 3, 4):
            rows = [
                i for i in range(start, min(start + 8192, len(combos))) if len(combos[i]) == size
            ]
            if rows:
                idx = np.array([combos[i] for i in rows], dtype=np.int64)
                out[rows] = sentence_vecs[idx].mean(axis=1)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def lexical_from_sentences(
    sentence_tokens: Sequence[list[str]], combos: Sequence[tuple[int, ...]]
) -> LexicalIndex:
    """BM25 over the passages, each tokenised as the concatenation of its sentences' tokens."""
    import bm25s

    retriever = bm25s.BM25()
    corpus = [[t for i in combo for t in sentence_tokens[i]] for combo in combos]
    retriever.index(corpus, show_progress=False)
    return LexicalIndex(retriever, len(combos))


@dataclass(frozen=True, slots=True)
class DenseIndex:
    """A FAISS index with the encoder its vectors stand for."""

    encoder: Embedder
    index: faiss.Index

    def vectors(self, keys: list[str] | None = None) -> store.Vectors:
        """As store.write_index records it (model, dimension, prompts, index, row keys)."""
        return store.Vectors(
            model=self.encoder.name,
            dim=self.encoder.dim,
            query_prompt=getattr(self.encoder, "query_prompt", ""),
            passage_prompt=getattr(self.encoder, "passage_prompt", ""),
            faiss_index=self.index,
            keys=keys,
        )


def write_scale_index(
    folder: Path,
    texts: Sequence[str],
    main: DenseIndex,
    lexical: LexicalIndex,
    kind: str,
    chunk_size: int,
    ml: DenseIndex | None = None,
    like: DocumentMeta | None = None,
    milvus: MilvusTarget | None = None,
) -> None:
    """An index at `folder` in the format the service loads (one synthetic document).

    Written by store.write_index, as indexer.build.build writes: passages, no sections,
    FAISS, BM25, and the multilingual vectors when given. `folder` becomes a link to the
    folder written (see remove_index). The document takes the region, year, level and date
    of `like` (the report its sentences come from): the service answers a question that
    names a region or a year the corpus lacks without searching, so without them most of
    the report's questions would not be searched at all. `milvus`: the passages go into a
    new collection there too, as a build with VECTOR_STORE=milvus writes them.
    """
    doc_id = "synthetic"
    passages = []
    offset = 0
    for i, text in enumerate(texts, start=1):
        passages.append(
            Passage(f"{doc_id}-{i:06d}", doc_id, (), None, i, offset, offset + len(text), text)
        )
        offset += len(text) + 2  # the synthetic source joins passages with a blank line
    source = "\n\n".join(texts)
    meta = DocumentMeta(
        doc_id=doc_id,
        source=f"{doc_id}.txt",
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        title="Synthetic corpus recombined from the report's sentences",
        date=like.date if like else None,
        region=like.region if like else None,
        year=like.year if like else None,
        level=like.level if like else None,
        chars=len(source),
        extra={"passages": len(passages), "parts": 0, "sections": 0},
    )
    multilingual = None
    if ml is not None:
        multilingual = ml.vectors([passage_key(ml.encoder, t) for t in texts])
    store.write_index(
        folder,
        passages,
        [],
        [meta],
        main.vectors(),
        lexical,
        chunk_size,
        kind,
        multilingual,
        texts={doc_id: source},
        milvus=milvus,
    )


def remove_index(folder: Path) -> None:
    """Delete an index written by write_index: the link and the folder it points to."""
    if folder.is_symlink():
        target = folder.resolve()
        folder.unlink()
        shutil.rmtree(target, ignore_errors=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)
