"""The one error eval raises on purpose: bad questions, sources, arguments or services."""

from indexer.errors import ReportQAError


class EvalError(ReportQAError):
    """The gold set, a source text, an argument or the scored service is not usable."""

    code = "bad_eval_input"
