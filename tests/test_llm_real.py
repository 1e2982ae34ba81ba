"""Generated answers from the real local model (`make llm`, then `make llm-serve`): run by
`make test-llm`; skipped when the model file is missing or its server is not up."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from generate_helpers import QUESTION, composed, expected_citations
from generate_helpers import _join_generation_threads as _join_generation_threads
from generate_helpers import retriever as retriever

from service.answers import Asker
from service.answers.generators import JudgedGenerator, make_generator
from service.answers.grounding import check
from service.query import understand
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "var/llm/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
URL = f"http://127.0.0.1:{os.environ.get('LLM_PORT', '8765')}/v1"

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def settings() -> Settings:
    if not (MODEL.is_file() and MODEL.with_name(MODEL.name + ".ok").is_file()):
        pytest.skip(f"no checked model at {MODEL}: run `make llm`")
    try:
        httpx.get(f"{URL}/models", timeout=60.0).raise_for_status()  # a busy server is slow
    except httpx.HTTPError as exc:
        pytest.skip(f"no model server at {URL} ({exc}): run `make llm-serve`")
    return Settings(
        answer_backend="openai",
        openai_base_url=URL,
        openai_model="local",
        generation_timeout_s=300.0,
        generator_max_new_tokens=128,
    )


def test_the_real_models_answer_is_grounded_or_replaced(retriever, settings):
    """Whatever the 1.5B model writes, the service returns a grounded answer: one that cites
    passage [2] (the only one holding a figure about the economy), or the composed one."""
    answer = Asker(retriever, generator=make_generator(settings)).ask(understand(QUESTION))
    if answer.backend == "openai":
        assert answer.warning is None
        assert (answer.answerable, answer.grounded) == (True, True)
        assert answer.text is not None and "[2]" in answer.text
        assert check(answer.text, 5, _passages(retriever)).unsupported == ()
    else:
        assert answer.warning is not None and "not grounded" in answer.warning
        assert answer.text == composed(retriever, QUESTION).text


def test_the_real_model_judges_in_the_asked_format(retriever, settings):
    generator = make_generator(settings.model_copy(update={"answer_judge": "llm"}))
    assert isinstance(generator, JudgedGenerator)
    relevant = generator.relevant(QUESTION, expected_citations(retriever, QUESTION))
    # A readable `[n] yes|no` reply naming only the passages given (which ones is the model's
    # call: the 1.5B model has left out [2], the passage holding 6.0%; see the README).
    assert relevant is not None and set(relevant) <= {1, 2, 3, 4, 5}


def _passages(retriever) -> dict[int, str]:
    return {
        c.n: "\n".join(
            (
                c.report.title if c.report else "",
                str(c.report.year if c.report else ""),
                *c.hit.passage.heading_path,
                c.hit.passage.text,
            )
        )
        for c in expected_citations(retriever, QUESTION)
    }
