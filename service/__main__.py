"""`python -m service [--index DIR] [--host 127.0.0.1] [--port 8000]`: serve the HTTP API."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .settings import Settings


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, then run the app under uvicorn until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description="Serve search and cited answers over HTTP (settings: see README).",
    )
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--host", help="interface to bind (default: HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: PORT, 8000)")
    args = parser.parse_args(argv)

    overrides: dict[str, object] = {}
    if args.index is not None:
        overrides["index_dir"] = args.index
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    settings = Settings(**overrides)  # type: ignore[arg-type]

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import uvicorn

    from .api import create_app

    # The app logs one line per request itself; uvicorn's access log would double it.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
