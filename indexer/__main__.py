"""python -m indexer build [--source seeds] [--out var/index] [--model NAME]"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .build import build
from .encoders import Embedder, load_embedder, load_multilingual
from .errors import ReportQAError
from .settings import IndexSettings


def multilingual_encoder(settings: IndexSettings) -> Embedder | None:
    """The multilingual encoder a build with these settings adds (None: MULTILINGUAL=false)."""
    if not settings.multilingual:
        return None
    return load_multilingual(settings.multilingual_model, **settings.encoder_options(threads=1))


def main(argv: list[str] | None = None) -> int:
    settings = IndexSettings()
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the index folder from the source folder")
    b.add_argument("--source", type=Path, default=settings.source_dir)
    b.add_argument("--out", type=Path, default=settings.index_dir)
    b.add_argument("--model", default=settings.embedding_model)
    b.add_argument("--chunk-size", type=int, default=settings.chunk_size)
    b.add_argument("--faiss", choices=["flat", "hnsw"], default=settings.faiss_index)
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        prompts = (settings.query_prompt, settings.passage_prompt)
        embedder = load_embedder(args.model, *prompts, **settings.encoder_options(threads=0))
        report = build(
            args.source,
            args.out,
            embedder,
            **{**settings.build_options(), "chunk_size": args.chunk_size, "index_kind": args.faiss},
            progress=not args.quiet,
            multilingual_encoder=multilingual_encoder(settings),
        )
    except ReportQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
