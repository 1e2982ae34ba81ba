"""The fixed subset of the gold set that generated answers are scored on (a CPU model is slow).

python -m eval.llm_subset [--questions eval/questions.jsonl] [--out eval/llm_subset.jsonl]

A seeded draw, made once and committed, never chosen by looking at results: 60 answerable
and 20 unanswerable questions, each group drawn with random.Random(SEED), then shuffled
with it, so that the first n (`--limit n`) are a random sample too; written as the gold
set's own lines.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUBSET = HERE / "llm_subset.jsonl"
SEED = 19
ANSWERABLE = 60
UNANSWERABLE = 20


def pick(rows: list[dict[str, object]], seed: int = SEED) -> list[dict[str, object]]:
    """ANSWERABLE answerable and UNANSWERABLE unanswerable rows, drawn with the seed."""
    rng = random.Random(seed)
    chosen: list[int] = []
    for want, n in ((True, ANSWERABLE), (False, UNANSWERABLE)):
        group = [i for i, r in enumerate(rows) if bool(r.get("answerable", True)) is want]
        chosen.extend(rng.sample(group, min(n, len(group))))
    rng.shuffle(chosen)
    return [rows[i] for i in chosen]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m eval.llm_subset", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--questions", type=Path, default=HERE / "questions.jsonl")
    ap.add_argument("--out", type=Path, default=SUBSET)
    args = ap.parse_args(argv)
    lines = [
        line for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    rows = [json.loads(line) for line in lines]
    by_id = {str(r["id"]): line for r, line in zip(rows, lines, strict=True)}
    out = [by_id[str(r["id"])] for r in pick(rows)]
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} questions to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
