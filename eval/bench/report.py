"""The results as the table the bench prints."""

from __future__ import annotations

from typing import Any

from .floor import FLOOR_PARTS
from .server import CONCURRENCY


def _multilingual(co: dict[str, Any]) -> str:
    """What the whole-corpus build did with the multilingual vectors, reuse said plainly."""
    if not co["ml_model"]:
        return "no multilingual vectors"
    said = (
        f"{co['ml_model']}: {co['ml_embedded']} embedded in {co['ml_embed_s']:.2f} s, "
        f"{co['ml_reused']} reused"
    )
    if co["ml_reused"]:
        said += (
            f" from the vector cache {co['ml_cache']}, so not a first build: one would take "
            f"~{co['first_build_s_estimate']:.0f} s at the one-report build's rate"
        )
    return said


def _stores(r: dict[str, Any]) -> list[str]:
    """The two stores side by side, on the whole corpus and on the synthetic corpus."""
    co, sc = r["corpus"], r["scale"]
    lines = [
        "",
        "stores: /search over the same index folder with the same questions, VECTOR_STORE="
        "faiss (the folder's files) or milvus (Milvus Lite, in the server's process); build:"
        " the corpus rebuilt with its vectors reused, the synthetic corpus written",
        f"{'':16}{'build s':>9}{'store MB':>10}{'c1 p50':>9}{'c1 rps':>9}{'c8 p50':>9}"
        f"{'c8 rps':>9}{'c8/c1':>7}{'errors':>8}{'cold s':>8}{'server MB':>11}",
    ]
    for name, built, served in (
        ("corpus", co["rebuild"], co["stores"]),
        (f"{sc['passages']}", sc["write"], sc["stores"]),
    ):
        for store in ("faiss", "milvus"):
            b, x = built[store], served[store]
            c1, c8 = x["c1"], x["c8"]
            size = f"{b['milvus_folder_mb']:.0f}" if "milvus_folder_mb" in b else "-"
            lines.append(
                f"{name + ' ' + store:16}{b['build_s']:>9.2f}{size:>10}{c1['p50_ms']:>9.2f}"
                f"{c1['rps']:>9.1f}{c8['p50_ms']:>9.2f}{c8['rps']:>9.1f}"
                f"{c8['rps'] / max(c1['rps'], 1e-9):>7.2f}{c1['errors'] + c8['errors']:>8d}"
                f"{x['cold_start_s']:>8.2f}{x['server_peak_rss_mb']:>11.0f}"
            )
    return lines


def _corpus_ask(co: dict[str, Any]) -> str:
    """The whole corpus's floor and /ask beside its /search, by language."""
    f, s1, a1 = co["floor"], co["search"]["c1"], co["ask"]["c1"]
    langs = ", ".join(
        f"{lang} {a['p50_ms']:.1f} vs {s1['by_lang'][lang]['p50_ms']:.1f} ms"
        for lang, a in a1.get("by_lang", {}).items()
        if lang in s1.get("by_lang", {})
    )
    return (
        f"whole corpus: floor p50 {f['total_p50_ms']:.2f} ms, /search c1 p50 "
        f"{s1['p50_ms']:.2f} ms ({s1['p50_ms'] / max(f['total_p50_ms'], 1e-9):.2f} x floor), "
        f"/ask c1 p50 {a1['p50_ms']:.2f} ms ({a1['p50_ms'] / max(s1['p50_ms'], 1e-9):.2f} x "
        f"/search; {langs})"
    )


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
    co = r["corpus"]
    for name, x in (("report again", co["report_search"]["c1"]), ("corpus", co["search"]["c1"])):
        lines.append(
            f"{'/search c1 ' + name:24}{x['p50_ms']:>10.2f}{x['p95_ms']:>10.2f}"
            f"{x['p99_ms']:>10.2f}{x['rps']:>10.1f}{x['errors']:>8d}{x['server_p50_ms']:>12.2f}"
        )
    for kind, y in co["search"]["c1"].get("by_kind", {}).items():
        label = f"  {kind} ({y['share']:.0%})"
        lines.append(f"{label:24}{y['p50_ms']:>10.2f}{y['p95_ms']:>10.2f}{y['p99_ms']:>10.2f}")
    for lang, y in co["search"]["c1"].get("by_lang", {}).items():
        label = f"  {lang} ({y['share']:.0%})"
        lines.append(f"{label:24}{y['p50_ms']:>10.2f}{y['p95_ms']:>10.2f}{y['p99_ms']:>10.2f}")
    b, live = r["burst"], r["reindex"]
    lines.append(
        f"{'/search c64 admitted':24}{b['p50_ms']:>10.2f}{b['p95_ms']:>10.2f}"
        f"{b['p99_ms']:>10.2f}{b['rps']:>10.1f}{b['errors']:>8d}{b['server_p50_ms']:>12.2f}"
    )
    sc = r["scale"]
    lines += [
        f"burst: {b['shed']} of {b['requests']} requests shed ({b['shed_share']:.1%}, 503 + "
        f"Retry-After, honoured by the clients); admitted p99 {b['p99_ms']:.0f} ms against "
        f"{r['search']['c1']['p99_ms']:.0f} ms at concurrency 1",
        f"reindex while serving (/search c{live['concurrency']} throughout): added "
        f"{live['added']} ({live['add'].get('passages_added', '?')} passages) in "
        f"{live['add']['response_s']:.1f} s, searchable "
        f"{live['add']['upload_to_searchable_s']:.1f} s after the upload began; replaced the "
        f"report ({live['replace'].get('embedded', '?')} passages embedded) in "
        f"{live['replace']['response_s']:.1f} s; {live['failed']} of {live['requests']} "
        f"searches failed; p99 {live['p99_before_ms']:.0f} ms before, "
        f"{live['p99_during_ms']:.0f} ms during the swaps; server RSS "
        f"{live['rss_before_mb']:.0f} MB before, {live['rss_peak_during_mb']:.0f} MB at most "
        "during",
        "(server p50: the server's own time, from Server-Timing; the rest is HTTP and the client;"
        " zh/en: the run's Chinese and English questions; all rows but corpus: the one report"
        f" {r['build_source']} alone; corpus: every report of {co['source']}, half the"
        " questions the one report's, half naming a region and a year; report again: the one"
        " report right before the corpus, with the corpus run's questions of the one report)",
        "",
        f"/search c1 p50 / floor total p50: {r['ratio_search_c1_p50_to_floor']:.2f}",
        f"cold start {r['cold_start_s']:.2f} s; server peak RSS {r['server_peak_rss_mb']:.0f} MB; "
        f"index build of {r['build_source']} {r['build_s']:.2f} s "
        f"({r['build_passages']} passages; model load {r['model_load_s']:.2f} s)",
        f"whole corpus: {co['documents']} reports, {co['passages']} passages, built in "
        f"{co['build_s']:.2f} s (parse {co['parse_s']:.2f} s; {co['model']}: "
        f"{co['embedded']} embedded in {co['embed_s']:.2f} s, {co['reused']} reused; "
        + _multilingual(co)
        + f"); cold start {co['cold_start_s']:.2f} s; server peak RSS "
        f"{co['server_peak_rss_mb']:.0f} MB",
        f"whole corpus /search c1 p50 / one-report /search c1 p50 (report again): "
        f"{r['ratio_corpus_search_c1_p50_to_report']:.2f}",
        _corpus_ask(co),
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
    lines += _stores(r)
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
