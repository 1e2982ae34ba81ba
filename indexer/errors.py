"""Domain errors. Each message says what went wrong and what to do about it."""


class ReportQAError(Exception):
    """Base class of every error this project raises on purpose."""

    code = "error"


class SourceError(ReportQAError):
    """The source folder or one of its files cannot be indexed."""

    code = "bad_source"


class ModelError(ReportQAError):
    """The embedding model cannot be loaded or does not match the index."""

    code = "bad_model"


class IndexLoadError(ReportQAError):
    """The index on disk is missing, damaged, stale or built for another model."""

    code = "index_unavailable"
