"""The issue's targets, each with the value measured and whether it is met."""

from __future__ import annotations

from typing import Any

# The issue's targets on a 2-core machine.
MAX_SEARCH_TO_FLOOR = 1.5
MAX_P99_TO_P50 = 3.0
MIN_C8_TO_C1_RPS = 1.5
MAX_RSS_MB = 1200.0
MAX_COLD_START_S = 15.0
MAX_SCALE_TO_REPORT = 2.0
# The whole corpus (22 reports) against the one report, /search at concurrency 1 (the one
# report measured again right before the corpus: see eval.bench.corpus).
MAX_CORPUS_TO_REPORT = 1.3
MIN_RECALL = 0.95
# Issue 14: an answer (with the verifier and the short answer) at most this many searches.
MAX_ASK_TO_SEARCH = 1.5
# Issue 18's, stricter, with the one report and with the whole corpus loaded.
MAX_FLOOR_MS = 5.0
MAX_SEARCH_TO_FLOOR_18 = 1.2
MIN_C8_TO_C1_RPS_18 = 1.8
MAX_COLD_START_S_18 = 3.0
MAX_CORPUS_RSS_MB_18 = 800.0


def _ratio(a: float, b: float) -> float:
    return a / max(b, 1e-9)


def issue_18(r: dict[str, Any]) -> list[tuple[str, float, str, float]]:
    """Issue 18's targets: the one report's, then the whole corpus's (its /search c8 from
    the stores' run with the file store)."""
    co = r["corpus"]
    served = co["stores"]["faiss"]
    rows = []
    for name, floor, s1, s8, a1 in (
        ("", r["floor"], r["search"]["c1"], r["search"]["c8"], r["ask"]["c1"]),
        ("corpus ", co["floor"], co["search"]["c1"], served["c8"], co["ask"]["c1"]),
    ):
        rows += [
            (f"issue 18: {name}floor p50 ms", floor["total_p50_ms"], "<=", MAX_FLOOR_MS),
            (
                f"issue 18: {name}/search c1 p50 / floor p50",
                _ratio(s1["p50_ms"], floor["total_p50_ms"]),
                "<=",
                MAX_SEARCH_TO_FLOOR_18,
            ),
        ]
        if name:  # the corpus's c8 is another server's than its c1: compared with its c1
            s1 = served["c1"]
        rows.append(
            (
                f"issue 18: {name}/search c8 rps / c1 rps",
                _ratio(s8["rps"], s1["rps"]),
                ">=",
                MIN_C8_TO_C1_RPS_18,
            )
        )
        for lang in ("zh", "en"):
            a, s = a1.get("by_lang", {}).get(lang), s1.get("by_lang", {}).get(lang)
            if a and s:
                rows.append(
                    (
                        f"issue 18: {name}/ask c1 p50 / /search c1 p50 ({lang})",
                        _ratio(a["p50_ms"], s["p50_ms"]),
                        "<=",
                        MAX_ASK_TO_SEARCH,
                    )
                )
    rows += [
        ("issue 18: cold start s", r["cold_start_s"], "<=", MAX_COLD_START_S_18),
        ("issue 18: corpus cold start s", co["cold_start_s"], "<=", MAX_COLD_START_S_18),
        (
            "issue 18: corpus server peak RSS MB",
            co["server_peak_rss_mb"],
            "<=",
            MAX_CORPUS_RSS_MB_18,
        ),
    ]
    return rows


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured value and whether it is met."""
    s1, s8 = r["search"]["c1"], r["search"]["c8"]
    a1, a8 = r["ask"]["c1"], r["ask"]["c8"]
    rows = [
        (
            "/search c1 p50 / floor p50",
            r["ratio_search_c1_p50_to_floor"],
            "<=",
            MAX_SEARCH_TO_FLOOR,
        ),
        ("/search c1 p99 / p50", s1["p99_ms"] / max(s1["p50_ms"], 1e-9), "<=", MAX_P99_TO_P50),
        ("/search c8 errors", s8["errors"], "<=", 0),
        ("/ask c8 errors", a8["errors"], "<=", 0),
        (
            "/ask c1 p50 / /search c1 p50",
            a1["p50_ms"] / max(s1["p50_ms"], 1e-9),
            "<=",
            MAX_ASK_TO_SEARCH,
        ),
        ("/search c8 rps / c1 rps", s8["rps"] / max(s1["rps"], 1e-9), ">=", MIN_C8_TO_C1_RPS),
        ("/ask c8 rps / c1 rps", a8["rps"] / max(a1["rps"], 1e-9), ">=", MIN_C8_TO_C1_RPS),
        ("/search c64 errors other than 503 shed", r["burst"]["errors"], "<=", 0),
        ("reindex: failed /search requests during the swaps", r["reindex"]["failed"], "<=", 0),
        ("server peak RSS MB", r["server_peak_rss_mb"], "<=", MAX_RSS_MB),
        ("cold start s", r["cold_start_s"], "<=", MAX_COLD_START_S),
        (
            f"{r['scale']['passages']} passages HNSW /search p50 / report /search p50",
            r["scale"]["hnsw"]["search_p50_ms"] / max(s1["p50_ms"], 1e-9),
            "<=",
            MAX_SCALE_TO_REPORT,
        ),
        ("HNSW recall@10 vs flat", r["scale"]["hnsw"]["recall@10_vs_flat"], ">=", MIN_RECALL),
        (
            f"whole corpus ({r['corpus']['documents']} reports) /search c1 p50 / "
            "one-report /search c1 p50",
            r["ratio_corpus_search_c1_p50_to_report"],
            "<=",
            MAX_CORPUS_TO_REPORT,
        ),
        *issue_18(r),
    ]
    return [
        {
            "target": name,
            "value": round(float(value), 3),
            "limit": f"{op} {limit}",
            "met": bool(value <= limit if op == "<=" else value >= limit),
        }
        for name, value, op, limit in rows
    ]
