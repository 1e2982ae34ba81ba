"""Turn parsed paragraphs into passages: whole paragraphs, or windows of whole sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SourceError
from .parse import Block, ParsedDocument
from .types import Passage

if TYPE_CHECKING:  # imported when a build chunks (langchain: ~0.2-0.5 s of the service's start)
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraph, line, then Chinese and Latin sentence and clause ends; "" only as a last resort
# for a "sentence" longer than the window.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ""]


def make_splitter(chunk_size: int) -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=0,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def _windows(
    text: str, start: int, end: int, splitter: RecursiveCharacterTextSplitter
) -> list[tuple[int, int]]:
    """Exact (start, end) offsets of the splitter's windows over text[start:end]."""
    piece = text[start:end]
    if len(piece) <= splitter._chunk_size:
        return [(start, end)]
    spans = []
    cursor = 0
    for chunk in splitter.split_text(piece):
        found = piece.find(chunk, cursor)
        if found < 0:  # the splitter must return substrings; refuse to guess offsets
            raise SourceError(f"could not locate a window of {len(chunk)} chars at offset {start}")
        spans.append((start + found, start + found + len(chunk)))
        cursor = found + len(chunk)
    return spans


def passage_id(doc_id: str, ordinal: int) -> str:
    return f"{doc_id}-{ordinal:04d}"


def chunk_document(doc_id: str, parsed: ParsedDocument, chunk_size: int) -> list[Passage]:
    """Passages of one parsed document in reading order, ids numbered from 1."""
    splitter = make_splitter(chunk_size)
    text = parsed.text
    blocks: list[Block] = []
    if parsed.title_lines:
        blocks.append(Block(parsed.title_lines[0][0], parsed.title_lines[-1][1], (), None, 0))
    blocks.extend(parsed.blocks)
    passages: list[Passage] = []
    for block in blocks:
        spans = _windows(text, block.start, block.end, splitter)
        if block.lead is not None:
            # The first window also holds the heading it follows (not counted in the size).
            spans[0] = (block.lead, spans[0][1])
        for s, e in spans:
            passages.append(
                Passage(
                    id=passage_id(doc_id, len(passages) + 1),
                    doc_id=doc_id,
                    heading_path=block.heading_path,
                    section=block.section,
                    paragraph=block.paragraph,
                    start=s,
                    end=e,
                    text=text[s:e],
                )
            )
    return passages


def embedding_text(passage: Passage) -> str:
    """What gets embedded and BM25-indexed: the innermost heading, then the passage."""
    if passage.heading_path and not passage.text.startswith(passage.heading_path[-1]):
        return f"{passage.heading_path[-1]}\n{passage.text}"
    return passage.text
