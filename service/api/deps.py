"""Route dependencies: the app's state, and the loaded runtime (or a 503 that says why not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.answers import Asker
from service.catalogue import Report
from service.retrieval import Retriever
from service.runtime import Runtime
from service.settings import Settings

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
    runtime: Runtime

    @property
    def retriever(self) -> Retriever:
        return self.runtime.retriever

    @property
    def asker(self) -> Asker:
        return self.runtime.asker

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def reports(self) -> Mapping[str, Report]:
        """The corpus's reports by doc_id (titles, regions and years for citations)."""
        return self.runtime.retriever.catalogue.by_id


async def get_loaded(state: Annotated[AppState, Depends(get_state)]) -> Loaded:
    """The loaded runtime; raises the load error (503 with its fix) when there is none."""
    if state.runtime is None:
        raise state.unavailable()
    return Loaded(state, state.runtime)


StateDep = Annotated[AppState, Depends(get_state)]
LoadedDep = Annotated[Loaded, Depends(get_loaded)]
