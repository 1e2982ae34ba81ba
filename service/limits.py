"""Every input limit in one place: what a request may ask for, and the defaults.

The ceilings are fixed here; MAX_QUESTION_CHARS, DEFAULT_K and MAX_K choose values within
them (service.settings). The request models, the query checks and the error messages all
read one `Limits` value, so the OpenAPI schema shows what the checks enforce.
"""

from __future__ import annotations

from dataclasses import dataclass

# Most passages a search or an answer may ask for.
K_CEILING = 50
# Most neighbouring passages per side of GET /passages/{id}?context= (fixed, not a setting).
MAX_CONTEXT = 20


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one service runs with."""

    max_question_chars: int = 500
    default_k: int = 5
    max_k: int = K_CEILING
