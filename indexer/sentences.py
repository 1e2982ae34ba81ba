"""The sentences of passages, and their vectors computed at build time.

A composed answer quotes the sentences of the passages it cites that best answer the
question (service/answers/sentences.py), scored by their vectors. Encoding them per request
was most of an answer's time (tens of ms for a passage not seen before, more for English
questions' multilingual encoder), so a build encodes every passage's sentences once, with the
index's model and its multilingual encoder, and the service reads them from the index
(`sentences.json`, `sent.npy`, `ml_sent.npy`). Unchanged sentences keep their vectors across
builds, like passages (indexer/vectors.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexLoadError

# A sentence: up to and including its end mark, or to a line end.
SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
MIN_CHARS = 4  # shorter pieces (a lone 一、) are not sentences to quote

TEXTS_FILE = "sentences.json"
MAIN_FILE = "sent.npy"
ML_FILE = "ml_sent.npy"
FIX = "run `make index` to rebuild it"


def split(text: str) -> Iterator[tuple[int, str]]:
    """(offset in `text`, sentence) of each sentence of a passage's text, stripped."""
    for m in SENTENCE.finditer(text):
        raw = m.group()
        sentence = raw.strip()
        if len(sentence) >= MIN_CHARS:
            yield m.start() + (len(raw) - len(raw.lstrip())), sentence


def unique_sentences(texts: Iterable[str]) -> list[str]:
    """Every distinct sentence of the texts, in the order first met."""
    return list(dict.fromkeys(s for text in texts for _, s in split(text)))


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    """Vectors of an index's distinct sentences: row i of each matrix is `texts[i]`'s."""

    texts: list[str]
    main: np.ndarray
    multilingual: np.ndarray | None = None

    def save(self, folder: Path) -> list[str]:
        """Write the files into an index folder being written; returns their names."""
        (folder / TEXTS_FILE).write_text(json.dumps(self.texts, ensure_ascii=False), "utf-8")
        np.save(folder / MAIN_FILE, np.ascontiguousarray(self.main, dtype=np.float32))
        names = [TEXTS_FILE, MAIN_FILE]
        if self.multilingual is not None:
            np.save(folder / ML_FILE, np.ascontiguousarray(self.multilingual, dtype=np.float32))
            names.append(ML_FILE)
        return names

    @classmethod
    def load(cls, folder: Path, dims: tuple[int, int | None]) -> SentenceVectors:
        """Read them back (memory-mapped: pages are read as answers touch them).

        Raises:
            IndexLoadError: missing, unreadable or inconsistent files.
        """
        main_dim, ml_dim = dims
        try:
            texts = json.loads((folder / TEXTS_FILE).read_text(encoding="utf-8"))
            main = np.load(folder / MAIN_FILE, mmap_mode="r", allow_pickle=False)
            ml = None
            if ml_dim is not None:
                ml = np.load(folder / ML_FILE, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexLoadError(
                f"sentence vectors at {folder} cannot be read ({exc}): {FIX}"
            ) from exc
        shapes = [(main, main_dim), *([(ml, ml_dim)] if ml is not None else [])]
        if not isinstance(texts, list) or any(
            m.ndim != 2 or m.shape != (len(texts), d) for m, d in shapes
        ):
            raise IndexLoadError(f"sentence vectors at {folder} are inconsistent: {FIX}")
        return cls(texts, main, ml)
