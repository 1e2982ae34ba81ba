"""The API's routes, one module per concern."""

from . import browse, chat, documents_write, health, search

__all__ = ["browse", "chat", "documents_write", "health", "search"]
