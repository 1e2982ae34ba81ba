"""What the stages of one bench run share: arguments, settings, folders, models, queries."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.encoders import Embedder
from indexer.types import DocumentMeta
from service.settings import Settings


@dataclass
class Context:
    args: argparse.Namespace
    settings: Settings
    out: Path
    work: Path
    embedder: Embedder
    ml_encoder: Embedder | None
    queries: list[str]
    report_text: str
    log: Callable[[str], None]
    # The one report's metadata as its index records it (the synthetic corpus takes it on).
    report_meta: DocumentMeta | None = None
