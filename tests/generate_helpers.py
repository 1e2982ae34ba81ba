"""Shared by the generated-answer tests (test_grounding, test_generate_openai,
test_generate_transformers): the question, the fixture-index retriever, the expected citations,
the composed answer and a stream's events.

A test module takes the fixtures with `from generate_helpers import retriever as retriever`
(the alias marks a deliberate re-export), so pytest finds them there with their scopes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from service.answers import Asker, CitationsEvent, DeltaEvent, DoneEvent
from service.answers.compose import Answer, Citation
from service.query import understand
from service.retrieval import Retriever

QUESTION = "示范区生产总值增长多少？"


@pytest.fixture(autouse=True)
def _join_generation_threads() -> Iterator[None]:
    """Wait for generation threads a timed-out test left behind (torch dislikes exiting mid-op)."""
    yield
    names = ("generate", "generate-stream", "transformers-generate")
    for _ in range(10):  # a joined thread may have started another
        alive = [t for t in threading.enumerate() if t.name in names]
        if not alive:
            break
        for t in alive:
            t.join(timeout=30)


@pytest.fixture
def retriever(fixture_index, fake_embedder) -> Retriever:
    return Retriever(fixture_index, fake_embedder)


def expected_citations(retriever: Retriever, question: str, k: int = 5) -> list[Citation]:
    reports = retriever.catalogue.by_id
    hits = retriever.search(understand(question, k)).hits
    return [Citation(h.rank, h, (), reports.get(h.passage.doc_id)) for h in hits]


def composed(retriever: Retriever, question: str) -> Answer:
    return Asker(retriever).ask(understand(question))


def events(asker: Asker, question: str) -> tuple[list[Citation], list[str], Answer]:
    """(citations, deltas, done answer) of a stream, checking the order of the events."""
    out = list(asker.stream(understand(question)))
    assert isinstance(out[0], CitationsEvent)
    assert isinstance(out[-1], DoneEvent)
    assert all(isinstance(e, DeltaEvent) for e in out[1:-1])
    return out[0].citations, [e.text for e in out[1:-1]], out[-1].answer
