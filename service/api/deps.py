"""Route dependencies: the app's state, and the loaded index (or a 503 that says why not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from indexer.errors import InvalidQueryError
from indexer.settings import Settings
from service.ask import Asker
from service.search import Retriever

from .state import AppState


# Dependencies are `async def` although they do not await: FastAPI runs a plain `def`
# dependency in a worker thread, two thread hops per request for two attribute reads.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.api
    return state


@dataclass(frozen=True, slots=True)
class Loaded:
    """A request's view of a loaded index."""

    state: AppState
    retriever: Retriever
    asker: Asker

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def titles(self) -> dict[str, str]:
        return self.state.titles


async def get_loaded(state: Annotated[AppState, Depends(get_state)]) -> Loaded:
    """The loaded index; raises the load error (503 with its fix) when there is none."""
    if state.retriever is None or state.asker is None:
        raise state.unavailable()
    return Loaded(state, state.retriever, state.asker)


StateDep = Annotated[AppState, Depends(get_state)]
LoadedDep = Annotated[Loaded, Depends(get_loaded)]


def check_text(text: str, name: str, settings: Settings) -> str:
    """The stripped query or question, within Settings.max_question_chars."""
    text = text.strip()
    if not text:
        raise InvalidQueryError(f"the {name} is empty: type a question or a section reference")
    if len(text) > settings.max_question_chars:
        raise InvalidQueryError(
            f"the {name} has {len(text)} characters; the limit is {settings.max_question_chars} "
            "(MAX_QUESTION_CHARS): shorten it"
        )
    return text


def check_k(k: int | None, settings: Settings) -> int:
    """k, or Settings.default_k when omitted, within 1..Settings.max_k."""
    if k is None:
        return settings.default_k
    if not 1 <= k <= settings.max_k:
        raise InvalidQueryError(f"k must be an integer between 1 and {settings.max_k}, got {k}")
    return k
