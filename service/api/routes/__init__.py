"""The API's routes, one module per concern."""

from . import browse, health, search

__all__ = ["browse", "health", "search"]
