"""Outputs of an eval run: the printed table, summary.json, report.md and a bar chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .answers import ANSWER_METRICS
from .metrics import CHARS, METRICS, SEVERAL

SUMMARY = "summary.json"
REPORT = "report.md"
CHART = "retrievers.png"
CHART_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
SHORT = {
    "recall@1": "R@1",
    "recall@3": "R@3",
    "recall@5": "R@5",
    "recall@10": "R@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "all@5": "all@5",
    "all@10": "all@10",
    CHARS: "chars",
}
# The cells of the by-tag and by-kind tables.
GROUP_METRICS = ("recall@5", "mrr@10", "all@10")


def _cells(scores: dict[str, Any], metrics: Sequence[str]) -> list[str]:
    return [f"{scores[m]:.1f}" if m == CHARS else f"{scores[m]:.3f}" for m in metrics]


def rows(
    summary: dict[str, Any], metrics: Sequence[str], lang: str | None = None
) -> list[list[str]]:
    """One row per retriever (overall, or for one language)."""
    out = []
    for name, scores in summary["retrievers"].items():
        part = scores if lang is None else scores["by_lang"].get(lang)
        if part is not None:
            out.append([name, *_cells(part, metrics)])
    return out


def several_rows(summary: dict[str, Any], metrics: Sequence[str]) -> list[list[str]]:
    """One row per retriever over the questions with several evidence spans."""
    return [
        [name, *_cells(scores[SEVERAL], metrics)]
        for name, scores in summary["retrievers"].items()
        if scores.get(SEVERAL)
    ]


def group_table(summary: dict[str, Any], key: str) -> tuple[list[str], list[list[str]]]:
    """A row per tag or kind (key: by_tag, by_kind), a column per retriever, cells
    "R@5 / MRR@10 / all@10"; "-" where a retriever has no entry."""
    names = list(summary["retrievers"])
    groups = sorted({g for s in summary["retrievers"].values() for g in s.get(key, {})})
    body = [
        [
            group,
            *[
                " / ".join(f"{part[m]:.3f}" for m in GROUP_METRICS)
                if (part := summary["retrievers"][n].get(key, {}).get(group)) is not None
                else "-"
                for n in names
            ],
        ]
        for group in groups
    ]
    return [key.removeprefix("by_"), *names], body


def answer_kind_table(answers: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """A row per kind of the answers' by_kind entry; "-" for a score over no question."""
    columns = ("right_call", "answer_contains", "citation_hit", "short_exact")

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    body = [
        [kind, str(entry["questions"]), *[cell(entry[c]) for c in columns]]
        for kind, entry in answers.get("by_kind", {}).items()
    ]
    return ["kind", "questions", *columns], body


def text_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A plain aligned table for the terminal."""
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table, numbers right-aligned."""
    align = ["---", *["---:"] * (len(header) - 1)]
    return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in [header, align, *body])


def _langs(summary: dict[str, Any]) -> list[str]:
    return sorted({lang for s in summary["retrievers"].values() for lang in s["by_lang"]})


def render_text(summary: dict[str, Any]) -> str:
    """What `python -m eval run` prints."""
    metrics = [*METRICS, CHARS]
    header = ["retriever", *[SHORT[m] for m in metrics]]
    parts = [
        f"{summary['questions']} questions, {summary['answerable']} answerable",
        text_table(header, rows(summary, metrics)),
    ]
    for lang in _langs(summary):
        parts.append(f"\nlang={lang}")
        parts.append(text_table(header, rows(summary, metrics, lang)))
    several = several_rows(summary, metrics)
    if several:
        parts.append("\nquestions with several evidence spans")
        parts.append(text_table(header, several))
    kind_header, kind_body = group_table(summary, "by_kind")
    if kind_body:
        parts.append("\nby kind (R@5 / MRR@10 / all@10)")
        parts.append(text_table(kind_header, kind_body))
    if "answers" in summary:
        a = summary["answers"]
        parts.append(
            f"\nanswers ({a['backend']}): " + "  ".join(f"{m} {a[m]:.3f}" for m in ANSWER_METRICS)
        )
        answer_header, answer_body = answer_kind_table(a)
        if answer_body:
            parts.append(text_table(answer_header, answer_body))
    return "\n".join(parts)


def render_markdown(summary: dict[str, Any], chart: str | None = CHART) -> str:
    """report.md: overall, per language, per tag, answers, and the chart."""
    metrics = [*METRICS, CHARS]
    header = ["retriever", *[SHORT[m] for m in metrics]]
    out = [
        "# Retrieval evaluation",
        "",
        f"{summary['questions']} questions, {summary['answerable']} answerable. Metrics over "
        "the answerable questions at k = 10; a passage is relevant when it covers at least half "
        "of an evidence span; `all@k` is the share of questions whose every evidence span is "
        "in the top k; `chars` is the mean length of the returned passages.",
        "",
        "## All questions",
        "",
        md_table(header, rows(summary, metrics)),
    ]
    for lang in _langs(summary):
        out += ["", f"## lang = {lang}", "", md_table(header, rows(summary, metrics, lang))]
    several = several_rows(summary, metrics)
    if several:
        out += [
            "",
            "## Questions with several evidence spans",
            "",
            md_table(header, several),
        ]
    for key, title in (("by_kind", "By kind"), ("by_tag", "By tag")):
        group_header, body = group_table(summary, key)
        if body:
            out += [
                "",
                f"## {title} (recall@5 / MRR@10 / all@10)",
                "",
                md_table(group_header, body),
            ]
    if "answers" in summary:
        a = summary["answers"]
        out += [
            "",
            f"## Answers (backend: {a['backend']})",
            "",
            md_table(list(ANSWER_METRICS), [[f"{a[m]:.3f}" for m in ANSWER_METRICS]]),
        ]
        answer_header, answer_body = answer_kind_table(a)
        if answer_body:
            out += [
                "",
                "By kind: `right_call` is the share answered when answerable and refused when "
                "not (a missing-report question expects a refusal); `short_exact` is over the "
                f"{a.get('short_asked', 0)} answerable questions that ask for a figure, name, "
                "date or short list: the share whose short answer equals the gold answer.",
                "",
                md_table(answer_header, answer_body),
            ]
    if chart:
        out += ["", f"![retrievers]({chart})"]
    return "\n".join(out) + "\n"


def draw_chart(summary: dict[str, Any], path: Path) -> None:
    """Grouped bars of the main metrics per retriever, and mean passage length beside them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(summary["retrievers"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(1, len(names))
    x = np.arange(len(CHART_METRICS))
    for i, name in enumerate(names):
        values = [summary["retrievers"][name][m] for m in CHART_METRICS]
        left.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
    left.set_xticks(x, [SHORT[m] for m in CHART_METRICS])
    left.set_ylim(0, 1)
    left.set_title(f"Retrieval, {summary['answerable']} answerable questions")
    left.legend(fontsize=8)
    chars = [summary["retrievers"][n][CHARS] for n in names]
    right.bar(range(len(names)), chars, color=[f"C{i}" for i in range(len(names))])
    right.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    right.set_title("Mean passage length (chars)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write summary.json, report.md and the chart into out; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / SUMMARY, out / REPORT, out / CHART]
    paths[0].write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(render_markdown(summary), encoding="utf-8")
    draw_chart(summary, paths[2])
    return paths
