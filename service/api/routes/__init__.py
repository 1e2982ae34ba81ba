"""The API's routes, one module per concern."""

from . import browse, chat, health, search

__all__ = ["browse", "chat", "health", "search"]
