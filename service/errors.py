"""Query-time errors. Each message says what went wrong and what to do about it.

They subclass the indexer's ReportQAError, so one handler (service.api.errors) maps every
domain error to its HTTP status.
"""

from indexer.errors import ReportQAError


class NotFoundError(ReportQAError):
    """A passage, section or document that does not exist was asked for."""

    code = "not_found"


class InvalidQueryError(ReportQAError):
    """A query or request parameter is out of range."""

    code = "invalid_query"
