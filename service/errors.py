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


class ConflictError(ReportQAError):
    """A write that conflicts with the corpus or with a build under way (HTTP 409)."""

    code = "conflict"


class DocumentExistsError(ConflictError):
    code = "document_exists"


class BuildInProgressError(ConflictError):
    code = "build_in_progress"


class UploadError(ReportQAError):
    """An uploaded report that cannot be added: bad name, not UTF-8 or Word, empty (422)."""

    code = "bad_upload"


class UploadTooLargeError(UploadError):
    """An uploaded report over MAX_SOURCE_BYTES (413)."""

    code = "file_too_large"


class BuildFailedError(ReportQAError):
    """A rebuild failed for a reason other than the upload; the serving index is unchanged."""

    code = "build_failed"
