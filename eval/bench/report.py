"""The results as the table the bench prints."""

from __future__ import annotations

from typing import Any

from .floor import FLOOR_PARTS
from .server import CONCURRENCY


def render(r: dict[str, Any]) -> str:
    """The results as a readable table."""
    m = r["machine"]
    f = r["floor"]
    lines = [
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, "
        f"torch {m['torch']}, onnxruntime {m['onnxruntime']}, faiss {m['faiss']}; "
        f"encoder {m['encoder_backend']}, {m['threads_per_search']} thread(s) per search; "
        f"load average at start {m['load_average'][0]:.2f}",
        "",
        f"{'':24}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'rps':>10}{'errors':>8}"
        f"{'server p50':>12}",
    ]
    for name in [*FLOOR_PARTS, "total"]:
        if f"{name}_p50_ms" not in f:
            continue
        p = [f[f"{name}_{q}_ms"] for q in ("p50", "p95", "p99")]
        lines.append(f"{'floor ' + name:24}{p[0]:>10.2f}{p[1]:>10.2f}{p[2]:>10.2f}")
    for route in ("search", "ask"):
        for c in CONCURRENCY:
            x = r[route][f"c{c}"]
            lines.append(
                f"{'/' + route + f' c{c}':24}{x['p50_ms']:>10.2f}{x['p95_ms']:>10.2f}"
                f"{x['p99_ms']:>10.2f}{x['rps']:>10.1f}{x['errors']:>8d}"
                f"{x['server_p50_ms']:>12.2f}"
            )
            for lang, y in x.get("by_lang", {}).items():
                label = f"  {lang} ({y['share']:.0%})"
                lines.append(
                    f"{label:24}{y['p50_ms']:>10.2f}{y['p95_ms']:>10.2f}{y['p99_ms']:>10.2f}"
                )
    sc = r["scale"]
    lines += [
        "(server p50: the server's own time, from Server-Timing; the rest is HTTP and the client;"
        " zh/en: the run's Chinese and English questions)",
        "",
        f"/search c1 p50 / floor total p50: {r['ratio_search_c1_p50_to_floor']:.2f}",
        f"cold start {r['cold_start_s']:.2f} s; server peak RSS {r['server_peak_rss_mb']:.0f} MB; "
        f"index build of seeds/ {r['build_s']:.2f} s (model load {r['model_load_s']:.2f} s)",
        "server RSS MB: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in r["server_rss_mb"].items()),
        "first requests after /readyz (ms): "
        + ", ".join(
            f"{k[:-3].replace('_', ' ')} {v:.0f}" for k, v in r["first_request_ms"].items()
        ),
        "",
        f"scale: {sc['passages']} synthetic passages from the report's "
        f"{sc['distinct_sentences']} sentences; vectors are the {sc['vectors']}",
        f"{'':8}{'build s':>10}{'size MB':>10}{'RSS MB':>10}{'faiss p50':>11}"
        f"{'/search p50':>13}{'server MB':>11}{'recall@10':>11}",
    ]
    for kind in ("flat", "hnsw"):
        x = sc[kind]
        recall = f"{x['recall@10_vs_flat']:.4f}" if kind == "hnsw" else "1 (exact)"
        lines.append(
            f"{kind:8}{x['build_s']:>10.2f}{x['size_mb']:>10.1f}{x['rss_mb']:>10.1f}"
            f"{x['faiss_p50_ms']:>11.3f}{x['search_p50_ms']:>13.2f}"
            f"{x['server_peak_rss_mb']:>11.0f}{recall:>11}"
        )
    busy = max(m["load_average"][0], m["load_average_end"][0])
    if busy > 0.5 * m["cpus"]:
        lines += [
            "",
            f"NOTE: the load average reached {busy:.2f} on {m['cpus']} CPUs: other processes "
            "shared the CPUs, so these numbers are noisy; rerun on an idle machine.",
        ]
    lines += ["", "targets:"]
    for t in r["targets"]:
        mark = "met    " if t["met"] else "NOT MET"
        lines.append(f"  [{mark}] {t['target']}: {t['value']} ({t['limit']})")
    return "\n".join(lines)
