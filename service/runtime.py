"""The one way to build the running system from settings: index, encoders, retriever, asker.

The API (service.api.state), eval and the bench all call `load`, so they cannot drift
apart. Only this module turns Settings into library arguments for query time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.encoders import Embedder, load_embedder, load_multilingual
from indexer.errors import ModelError
from indexer.store import FIX, LoadedIndex, load_index

from .answers import Asker
from .answers.generators import make_generator
from .limits import Limits
from .query import Query, understand
from .retrieval import Retriever
from .retrieval.store import open_store
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """A loaded index with everything that answers over it."""

    settings: Settings
    retriever: Retriever
    asker: Asker

    @property
    def index(self) -> LoadedIndex:
        return self.retriever.index

    @property
    def version(self) -> str:
        """The index version this runtime serves: the versioned folder INDEX_DIR linked to
        when it was loaded (the folder's own name for an index that is no link)."""
        return self.index.folder.resolve().name

    @property
    def limits(self) -> Limits:
        return self.settings.limits

    def understand(
        self,
        text: str,
        k: int | None = None,
        mode: str = "hybrid",
        doc_id: str | Sequence[str] | None = None,
        section: str | None = None,
        *,
        region: str | Sequence[str] | None = None,
        year: int | Sequence[int] | None = None,
        generate: bool = True,
        field: str = "query",
    ) -> Query:
        """service.query.understand within this runtime's limits, over its corpus and date."""
        return understand(
            text,
            k,
            mode,
            doc_id,
            section,
            region=region,
            year=year,
            catalogue=self.retriever.catalogue,
            today=self.settings.today,
            generate=generate,
            limits=self.limits,
            field=field,
        )


def make_asker(retriever: Retriever, settings: Settings) -> Asker:
    """An Asker with the settings' threshold and answer backend (ANSWER_BACKEND), keeping
    ungrounded generated answers only when ANSWER_KEEP_UNGROUNDED says so."""
    return Asker(
        retriever,
        settings.answer_min_score,
        make_generator(settings),
        keep_ungrounded=settings.answer_keep_ungrounded,
    )


def load(
    settings: Settings,
    embedder: Embedder | None = None,
    threads: int | None = None,
    multilingual: Embedder | None = None,
    source_dir: Path | None = None,
) -> Runtime:
    """Load the index at settings.index_dir and the models it needs (slow: seconds).

    Args:
        settings: the configuration (index folder, models, backends, caches, answers).
        embedder: use this model instead of loading EMBEDDING_MODEL (eval loads the one the
            index was built with; tests a fake one).
        threads: threads per encode call; settings.threads (per search) when None.
        multilingual: the multilingual encoder already loaded (a rebuild keeps the running
            one), used when its name is the index's; loaded when None.
        source_dir: check the index against this copy of the sources instead of
            SOURCE_DIR (a live rebuild loads its version before changing SOURCE_DIR).

    Raises:
        IndexLoadError, ModelError: the index or a model cannot be loaded; the message says
            how to fix it. GenerationError: the answer backend is misconfigured.
    """
    options = settings.encoder_options(settings.threads if threads is None else threads)
    # The version the link points at now, read from there: a later swap of the link does not
    # change what this runtime reads (its texts are read lazily) nor which version it is.
    folder = version_folder(settings.index_dir)
    index = load_index(
        folder,
        expected_model=settings.embedding_model if embedder is None else embedder.name,
        source_dir=settings.source_dir if source_dir is None else source_dir,
        ef_search=settings.hnsw_ef_search,
        # Milvus searches its own copy: the folder's vectors stay on disk, mapped.
        mmap=settings.vector_store == "milvus",
    )
    if embedder is None:
        embedder = load_embedder(
            settings.embedding_model, settings.query_prompt, settings.passage_prompt, **options
        )
    if embedder.dim != index.dim:
        raise ModelError(
            f"the index at {settings.index_dir} holds {index.dim}-dimensional vectors but "
            f"{embedder.name} gives {embedder.dim}: {FIX}"
        )
    ml = None
    if settings.multilingual and index.multilingual is not None:
        if multilingual is not None and multilingual.name == index.multilingual.model:
            ml = multilingual
        else:
            ml = load_multilingual(index.multilingual.model, **options)
    # VECTOR_STORE=milvus: the collection the index's manifest names, at MILVUS_URI.
    token = settings.milvus_token.get_secret_value()
    store = open_store(
        index, settings.vector_store, settings.milvus_uri, token, settings.milvus_ranker
    )
    retriever = Retriever(
        index,
        embedder,
        cache_size=settings.query_cache_size,
        multilingual=ml,
        store=store,
        cedict_cache=settings.cedict_cache_dir,
    )
    if retriever.ml_encoder is not None:
        # Built here, not on the first English question (about 1-2 s).
        retriever.translator()
        retriever.ml_encoder.encode_query("warm up")
    return Runtime(settings, retriever, make_asker(retriever, settings))


def version_folder(index_dir: Path | str) -> Path:
    """The folder an index path stands for now: the version a link points at, or itself."""
    path = Path(index_dir)
    return path.resolve() if path.is_symlink() else path


def attach(settings: Settings, retriever: Retriever, asker: Asker | None = None) -> Runtime:
    """A Runtime over an already built retriever (and asker; by default the settings')."""
    return Runtime(settings, retriever, asker or make_asker(retriever, settings))
