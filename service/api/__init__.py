"""The HTTP adapter (FastAPI) over the retrieval core."""

from .app import create_app

__all__ = ["create_app"]
