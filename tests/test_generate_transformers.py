"""Generated answers from the transformers backend (a 2-layer Llama with random weights),
and which generator the settings make."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from generate_helpers import QUESTION, composed, events, expected_citations
from generate_helpers import _join_generation_threads as _join_generation_threads
from generate_helpers import retriever as retriever

from service.answers import Asker
from service.answers.generators import (
    GenerationError,
    OpenAIGenerator,
    TransformersGenerator,
    make_generator,
)
from service.answers.grounding import check
from service.answers.prompt import CLOSE, build_messages
from service.query import understand
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "seeds" / "shanghai-2018-government-work-report.txt"


# ---- settings -----------------------------------------------------------------------------


def test_make_generator_follows_the_settings(tmp_path):
    assert make_generator(Settings(answer_backend="extractive")) is None
    with pytest.raises(GenerationError, match="ANSWER_BACKEND=openai needs OPENAI_MODEL"):
        make_generator(Settings(answer_backend="openai", openai_model=None))
    with pytest.raises(GenerationError, match="ANSWER_BACKEND=transformers needs GENERATOR_MODEL"):
        make_generator(Settings(answer_backend="transformers", generator_model=None))
    gen = make_generator(
        Settings(
            answer_backend="openai",
            openai_model="m",
            openai_base_url="http://127.0.0.1:8000/v1",
            generation_timeout_s=7,
        )
    )
    assert isinstance(gen, OpenAIGenerator)
    assert (gen.model, gen.base_url, gen.timeout_s) == ("m", "http://127.0.0.1:8000/v1", 7.0)
    assert gen.client.timeout == 7.0 and gen.client.max_retries == 0
    gen2 = make_generator(Settings(answer_backend="transformers", generator_model=str(tmp_path)))
    assert isinstance(gen2, TransformersGenerator)
    assert (gen2.model_id, gen2.max_new_tokens) == (str(tmp_path), 384)


# ---- transformers backend -----------------------------------------------------------------

CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer Llama with random weights and a BPE tokenizer trained on the report."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=1500,
        special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=list(string.printable),  # the prompt's English rules
        show_progress=False,
    )
    tok.train_from_iterator(REPORT.read_text(encoding="utf-8").splitlines(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
    )
    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer.save_pretrained(folder)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_generator(tiny_model) -> TransformersGenerator:
    settings = Settings(
        answer_backend="transformers", generator_model=str(tiny_model), generator_max_new_tokens=16
    )
    gen = make_generator(settings)
    assert isinstance(gen, TransformersGenerator)
    return gen


def test_transformers_generates_and_checks_the_answer(retriever, tiny_generator):
    # Random weights write no [n] marker: by default the composed answer replaces theirs.
    replaced = Asker(retriever, generator=tiny_generator).ask(understand(QUESTION))
    assert (replaced.backend, replaced.text) == ("extractive", composed(retriever, QUESTION).text)
    assert replaced.warning == (
        "transformers backend failed (not grounded: no [n] marker); showing the composed answer"
    )
    answer = Asker(retriever, generator=tiny_generator, keep_ungrounded=True).ask(
        understand(QUESTION)
    )
    assert answer.warning is None
    assert answer.backend == "transformers"
    assert answer.text
    # Random weights write no [n] marker: the answer is flagged as not grounded.
    assert check(answer.text, 5).removed == ()
    assert "[" not in answer.text
    assert (answer.grounded, answer.answerable) == (False, True)
    assert answer.citations == expected_citations(retriever, QUESTION)
    loaded = tiny_generator.load()
    Asker(retriever, generator=tiny_generator).ask(understand("How much did GDP grow?"))
    assert tiny_generator.load() is loaded  # loaded once


def test_transformers_streams_token_chunks(retriever, tiny_generator):
    asker = Asker(retriever, generator=tiny_generator, keep_ungrounded=True)
    citations, deltas, done = events(asker, QUESTION)
    assert len(deltas) > 1
    assert citations == expected_citations(retriever, QUESTION)
    assert done.backend == "transformers" and done.warning is None
    assert done.text == "".join(deltas).strip()
    assert done.text == asker.ask(understand(QUESTION)).text  # greedy: the same text either way
    assert (done.grounded, done.answerable) == (False, True)


def test_transformers_prompt_goes_through_the_chat_template(retriever, tiny_generator):
    tokenizer, _ = tiny_generator.load()
    citations = expected_citations(retriever, QUESTION)
    inputs = tiny_generator._inputs(QUESTION, citations, "zh")
    messages = build_messages(QUESTION, citations, "zh")
    expected = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert expected.endswith("<s>assistant\n")
    assert inputs["input_ids"][0].tolist() == tokenizer(expected)["input_ids"]
    prompt = tokenizer.decode(inputs["input_ids"][0])
    assert "过去一年，全区生产总值增长6.0%，达到1200亿元。" in prompt
    assert "Answer only from passages [1], [2], [3], [4], [5]" in prompt.split(CLOSE)[-1]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_transformers_failures_fall_back(retriever, tiny_model, tmp_path, stream):
    missing = TransformersGenerator(str(tmp_path / "no-model"), 8, 5.0)
    slow = TransformersGenerator(str(tiny_model), 8, 0.001)
    slow.load()  # as at startup: the timeout is about generation, not loading
    expected = composed(retriever, QUESTION)
    for gen, reason in [
        (missing, f"cannot load model '{tmp_path / 'no-model'}': "),
        (slow, "timeout after 0.001s"),
    ]:
        asker = Asker(retriever, generator=gen)
        answer = events(asker, QUESTION)[2] if stream else asker.ask(understand(QUESTION))
        assert (answer.text, answer.backend) == (expected.text, "extractive")
        assert answer.warning is not None
        assert answer.warning.startswith(f"transformers backend failed ({reason}")
