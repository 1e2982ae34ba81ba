"""One eval run: load the gold set and sources, run every retriever, score, return the summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.encoders import Embedder, load_embedder
from indexer.errors import IndexLoadError
from indexer.store import read_manifest
from indexer.types import Passage
from service.settings import Settings, get_settings

from .answers import Answerer, AnswerRecord, HttpAnswerer, InProcessAnswerer, score_answers
from .errors import EvalError
from .gold import (
    Question,
    Span,
    load_questions,
    locate_evidence,
    sources_from_folder,
    sources_from_index,
)
from .metrics import DEPTH, score_retriever
from .retrievers import (
    NAIVE,
    OURS,
    EvalRetriever,
    HttpRetriever,
    IndexRetriever,
    NaiveBM25,
    NaiveDense,
    naive_chunks,
)

if TYPE_CHECKING:
    import httpx

    from service.retrieval import Retriever
    from service.runtime import Runtime


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The arguments of `python -m eval run`."""

    questions: Path
    index: Path
    retrievers: tuple[str, ...]
    answers: bool = False
    url: str | None = None
    out: Path = Path("eval/results")
    source: Path | None = None
    backend: str | None = None  # "openai": generated answers beside composed (eval.generated)
    limit: int | None = None  # the first n questions only
    budget_s: float | None = None  # --backend: start no question after this many seconds


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def index_embedder(index: Path, settings: Settings) -> Embedder:
    """The embedding model (and prompts) an index was built with; settings' model otherwise."""
    try:
        manifest = read_manifest(index)
    except IndexLoadError:
        return load_embedder(
            settings.embedding_model,
            settings.query_prompt,
            settings.passage_prompt,
            **settings.encoder_options(threads=0),
        )
    return load_embedder(
        str(manifest["model"]),
        manifest.get("query_prompt"),
        manifest.get("passage_prompt"),
        **settings.encoder_options(threads=0),
    )


def load_sources(index: Path, source: Path | None, settings: Settings) -> dict[str, str]:
    """Source texts: from --source, else the files the index manifest names."""
    if source is not None:
        return sources_from_folder(source)
    try:
        return sources_from_index(index, settings.source_dir)
    except IndexLoadError as exc:
        raise EvalError(f"{exc}; or pass --source with the report folder") from exc


def retrieve_all(
    retriever: EvalRetriever, questions: Sequence[Question], k: int = DEPTH
) -> dict[str, list[Passage]]:
    """Ranked passages of every answerable question."""
    return {q.id: retriever.search(q, k) for q in questions if q.answerable}


def answer_all(answerer: Answerer, questions: Sequence[Question]) -> dict[str, AnswerRecord]:
    return {q.id: answerer.answer(q) for q in questions}


class Session:
    """Lazily loaded pieces shared by the retrievers of one run (and by tuning)."""

    def __init__(
        self,
        cfg: RunConfig,
        settings: Settings,
        embedder: Embedder | None = None,
        retriever: Retriever | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.cfg = cfg
        self.settings = settings
        self._embedder = embedder or (retriever.embedder if retriever else None)
        self._runtime: Runtime | None = None
        if retriever is not None:
            from service.runtime import attach

            self._runtime = attach(settings, retriever)
        self._client = client
        self._own_client = client is None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = index_embedder(self.cfg.index, self.settings)
        return self._embedder

    @property
    def runtime(self) -> Runtime:
        """The index of cfg.index with its encoders and asker, built as the service builds it."""
        if self._runtime is None:
            from service import runtime

            settings = self.settings.model_copy(update={"index_dir": self.cfg.index})
            self._runtime = runtime.load(settings, self.embedder, threads=0)
        return self._runtime

    @property
    def retriever(self) -> Retriever:
        return self.runtime.retriever

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            import httpx

            if not self.cfg.url:
                raise EvalError("no --url given")
            self._client = httpx.Client(base_url=self.cfg.url.rstrip("/"), timeout=120.0)
        return self._client

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()

    def make(self, name: str, sources: dict[str, str]) -> EvalRetriever:
        if name in OURS:
            if self.cfg.url:
                return HttpRetriever(self.client, name)
            return IndexRetriever(self.retriever, name)
        chunks = naive_chunks(sources)
        if name == NAIVE[0]:
            return NaiveDense(chunks, self.embedder)
        return NaiveBM25(chunks)

    def answerer(self) -> Answerer:
        k = self.settings.default_k
        if self.cfg.url:
            return HttpAnswerer(self.client, k)
        return InProcessAnswerer(self.runtime.asker, k)


def run(
    cfg: RunConfig,
    embedder: Embedder | None = None,
    retriever: Retriever | None = None,
    client: httpx.Client | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Score the retrievers (and the answers) of cfg on its gold set.

    Args:
        cfg: the command-line arguments.
        embedder: use this embedder instead of loading the index's model.
        retriever: use this loaded Retriever instead of loading cfg.index.
        client: send --url requests through this client (e.g. a TestClient).
        settings: the configuration (models, limits, answers); read from the environment
            when None.

    Returns:
        The summary.json object.

    Raises:
        ReportQAError: bad questions, sources, index, model or service.
    """
    settings = settings or get_settings()
    questions = load_questions(cfg.questions)[: cfg.limit]
    sources = load_sources(cfg.index, cfg.source, settings)
    spans: dict[str, list[Span]] = locate_evidence(questions, sources)
    session = Session(cfg, settings, embedder, retriever, client)
    summary: dict[str, Any] = {
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "retrievers": {},
    }
    try:
        for name in cfg.retrievers:
            t0 = time.perf_counter()
            results = retrieve_all(session.make(name, sources), questions)
            summary["retrievers"][name] = score_retriever(questions, results, spans)
            log(f"{name}: scored in {time.perf_counter() - t0:.1f}s")
        if cfg.answers:
            t0 = time.perf_counter()
            records = answer_all(session.answerer(), questions)
            summary["answers"] = score_answers(questions, records, spans)
            log(f"answers: scored in {time.perf_counter() - t0:.1f}s")
    finally:
        session.close()
    return summary


def run_generated(
    cfg: RunConfig,
    embedder: Embedder | None = None,
    retriever: Retriever | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Generated answers (settings' openai backend, judge as ANSWER_JUDGE says) beside the
    composed ones on cfg's questions; the generated.json object (eval.generated)."""
    from service.answers.generators import JudgedGenerator, OpenAIGenerator

    from . import generated as gen

    settings = settings or get_settings()
    questions = load_questions(cfg.questions)[: cfg.limit]
    sources = load_sources(cfg.index, cfg.source, settings)
    spans = locate_evidence(questions, sources)
    session = Session(cfg, settings, embedder, retriever)
    asker = session.runtime.asker
    if asker.generator is None:
        raise EvalError("--backend openai: the runtime has no generator (ANSWER_BACKEND)")
    verdicts: dict[str, tuple[int, ...] | None] = {}
    current = [""]
    generator = asker.generator
    if isinstance(generator, JudgedGenerator):
        generator.on_verdict = lambda _q, ns: verdicts.__setitem__(current[0], ns)
        judge = None
    else:  # judged after the answer, not used by it: the verifier's rival, measured
        judge = JudgedGenerator(generator) if isinstance(generator, OpenAIGenerator) else None
    k = settings.default_k
    composed: dict[str, gen.Timed] = {}
    generated: dict[str, gen.Timed] = {}
    t0 = time.perf_counter()
    done: list[Question] = []
    try:
        for i, q in enumerate(questions, start=1):
            if cfg.budget_s is not None and time.perf_counter() - t0 > cfg.budget_s:
                log(f"time budget of {cfg.budget_s:g}s spent after {len(done)} questions")
                break
            current[0] = q.id
            composed[q.id] = gen.composed(asker, q, k)
            generated[q.id] = gen.generated(asker, q, k)
            g = generated[q.id]
            if judge is not None and composed[q.id].citations:
                try:
                    verdicts[q.id] = judge.relevant(q.question, composed[q.id].citations)
                except Exception as exc:  # a failed judgement is no verdict
                    log(f"{q.id}: judge failed: {exc}")
            done.append(q)
            log(
                f"[{i}/{len(questions)}] {q.id} {g.record.backend} "
                f"answerable={g.record.answerable} judged={verdicts.get(q.id)} "
                f"first {g.first_s:.1f}s total {g.total_s:.1f}s {g.warning or ''}"
            )
    except KeyboardInterrupt:  # Ctrl-C: score the questions answered so far
        log(f"stopped after {len(done)} questions")
    questions = done
    log(f"generated answers: {time.perf_counter() - t0:.0f}s")
    result: dict[str, Any] = {
        "questions": len(questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "model": settings.openai_model,
        "judge": settings.answer_judge,
        "judge_questions": len(verdicts),
        "generated": gen.table(questions, generated, spans),
        "composed": gen.table(questions, composed, spans),
        "answers": {
            q.id: {
                "generated": generated[q.id].record.text,
                "generated_answerable": generated[q.id].record.answerable,
                "warning": generated[q.id].warning,
                "composed_answerable": composed[q.id].record.answerable,
                "judged": verdicts.get(q.id),
            }
            for q in questions
        },
    }
    if verdicts:
        result["judge_vs_verifier"] = gen.judge_vs_verifier(questions, composed, verdicts)
    return result
