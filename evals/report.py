"""Write a run folder's summary.json, report.md and a self-contained report.html."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from evals.stats import Estimate
from evals.svg import bar_chart, histogram, line_chart

CHOICES = [
    "Deflected = not escalated, confidence >= threshold, the case may be automated, and the draft is correct, grounded and right about the order (EVALS.md §1.1); this is a verified resolution, stricter than vendor containment figures.",
    "'clarify' cases are neither deflected nor false-deflected: they are left out of DR/FDR and shown in the per-action table.",
    "A case whose correctness cannot be verified (no reference documents, no required facts) is 'unscored' for deflection and counted, never averaged as 0 or NaN.",
    "Correctness offline: every required fact present and no forbidden one; without required facts, the article the reply rests on (its first knowledge citation) must be one of the reference documents.",
    "Groundedness offline is a lexical check of atomic facts (numbers, dates, identifiers) and content words against the cited passages and the order record: 'unsupported (lexical)', not 'hallucinated'.",
    "Latency is pipeline latency (offline drafter: no model call); cached LLM calls are left out of latency.",
]


def jsonable(obj: Any) -> Any:
    if isinstance(obj, Estimate):
        return obj.as_dict()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):  # NaN never reaches a report
        return None
    return obj


def fmt(e: Any, pct: bool = True) -> str:
    if isinstance(e, Estimate):
        return e.fmt(pct)
    if e is None:
        return "n/a"
    if isinstance(e, float):
        return f"{100 * e:.1f}%" if pct else f"{e:.3f}"
    return str(e)


def summary_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    d = s["deflection"]
    t = s["target_risk"]
    e = s["escalation"]
    r = s["retrieval"]
    g = s["grounding"]
    c = s["correctness"]
    p = s["personalisation"]
    cal = s["calibration"]
    lat = s["latency"]
    cost = s["cost"]
    rows = [
        (
            "Cases (scored for deflection)",
            f"{s['cases']} ({d['n']}); clarify {s['clarify_cases']}; unscored {sum(v for k, v in s['status'].items() if k != 'scored')}",
        ),
        (f"Deflection rate @ τ={d['threshold']:.2f}", fmt(d["deflection_rate"])),
        ("Deflection rate over addressable cases", fmt(d["deflection_rate_addressable"])),
        ("Coverage (answered without a human)", fmt(d["coverage"])),
        (
            "False-deflection rate (of answered)",
            f"{fmt(d['false_deflection_rate'])} — policy {d['fd_policy']}, wrong answer {d['fd_wrong']}",
        ),
        (
            f"Deflection at target risk (FDR upper bound ≤ {100 * t['target_fdr']:.0f}%, τ from dev split)",
            f"τ*={t['threshold']:.3f}; test: DR {fmt(t['test']['deflection_rate'])}, FDR {fmt(t['test']['false_deflection_rate'])}"
            if t.get("test")
            else t.get("note", "n/a"),
        ),
    ]
    es = s.get("escalation_suggested")
    if es:  # the headline: what the agent sees as "hand over"
        rows.append(
            (
                "Escalation suggested (hand over): precision / recall / F1",
                f"{fmt(es['precision'])} / {fmt(es['recall'])} / {fmt(es['f1'], False)}",
            )
        )
    nr = s.get("needs_review")
    if nr:
        rows.append(
            (
                f"Needs review (not escalated, confidence < τ={d['threshold']:.2f})",
                f"{nr['n']} cases, {fmt(nr['share'])}; {nr['of_which_need_a_human']} of them need a human",
            )
        )
    rows += [
        (
            "Not automated (hand over or below τ): precision / recall",
            f"{fmt(e['precision'])} / {fmt(e['recall'])}",
        ),
        (
            "Not automated: F1 / F2",
            f"{fmt(e['f1'], False)} / {fmt(e['f2'], False)}; expected cost {e['expected_cost']:.0f} (miss=5, unneeded=1)",
        ),
    ]
    et = s.get("escalation_triggers")
    if et:
        rows.append(
            (
                "Escalation by policy triggers alone (confidence left out): precision / recall",
                f"{fmt(et['precision'])} / {fmt(et['recall'])}; {et['tp'] + et['fp']} cases flagged",
            )
        )
    if r.get("n"):
        rows += [
            (
                f"Retrieval hit@1 / hit@3 / hit@5 (k in prompt ≤ {r['k_prompt']} docs)",
                f"{fmt(r['hit@1'])} / {fmt(r['hit@3'])} / {fmt(r['hit@5'])}",
            ),
            (
                "Retrieval recall@5 / MRR / nDCG@5",
                f"{fmt(r['recall@5'], False)} / {fmt(r['mrr'], False)} / {fmt(r['ndcg@5'], False)}",
            ),
        ]
    if g.get("n"):
        rows.append(
            (
                f"Groundedness ({g['label']})",
                f"grounded {fmt(g['grounded_rate'])}; faithfulness {fmt(g['faithfulness'])}; citation precision {fmt(g['citation_precision'])}, recall {fmt(g['citation_recall'])}",
            )
        )
    if c.get("n"):
        rows.append(
            (
                "Correctness (non-escalated drafts)",
                f"{fmt(c['correct_rate'])}; basis {c['basis']}; token F1 {fmt(c['token_f1_mean'], False)}, ROUGE-L {fmt(c['rouge_l_mean'], False)} (diagnostics)",
            )
        )
    rows.append(
        (
            "Personalisation fact precision / recall; leaks",
            f"{fmt(p['fact_precision'])} / {fmt(p['fact_recall'])}; {p['leaks']} leaks"
            + (
                f" (rule of three: ≤ {100 * p['leak_rule_of_three']:.2f}%)"
                if p.get("leak_rule_of_three")
                else ""
            ),
        )
    )
    if p.get("facts_required"):
        rows.append(
            (
                "Required order facts in the draft / in the context (what an LLM would receive)",
                f"{fmt(p['fact_recall'])} / {fmt(p.get('context_fact_recall'))} of {p['facts_required']}",
            )
        )
    cl = s.get("clarify") or {}
    if cl.get("n"):
        rows.append(
            (
                "Clarify rate (asks which order) on clarify cases; needless elsewhere",
                f"{cl['rate_text']} of {cl['n']}; {cl['needless']} needless",
            )
        )
    if cal.get("n"):
        raw = s.get("calibration_raw") or {}
        before = (
            f"; before calibration (the model's raw score) {raw['ece']:.3f} / {raw['brier']:.3f}"
            if raw.get("n")
            else ""
        )
        rows.append(
            (
                "Calibration ECE / Brier (target: ok and no human needed)",
                f"{cal['ece']:.3f} / {cal['brier']:.3f} (base rate {100 * cal['base_rate']:.1f}%){before}",
            )
        )
    rows.append(
        ("AURC (risk over coverage, lower is better)", fmt(s["risk_coverage"]["aurc"], False))
    )
    rows.append(
        (
            "Latency p50 / p95 (pipeline)",
            f"{fmt(lat['total_ms']['p50'], False)} / {fmt(lat['total_ms']['p95'], False)} ms",
        )
    )
    rows.append(
        (
            "Tokens and cost (system / judge)",
            f"{cost['system_tokens']} / {cost['judge_tokens']} tokens; ${cost['system_cost_usd']:.4f} / ${cost['judge_cost_usd']:.4f}"
            + (
                f"; ${cost['system_cost_per_deflection']:.5f} per deflection"
                if cost.get("system_cost_per_deflection")
                else ""
            ),
        )
    )
    judge = s.get("judge")
    if judge:
        rows.append(
            (
                f"LLM judge ({judge.get('name') or 'n/a'})",
                f"{judge['calls']} calls ({judge['cached_calls']} from cache); "
                f"{judge['judge_failures']} failures in {judge['cases_with_judge_failures']} of {judge['cases']} cases "
                f"(kept the offline verdict: grounded {judge['fallbacks']['grounded']}, correct {judge['fallbacks']['correct']})",
            )
        )
    if s.get("cases_per_second"):
        rows.append(("Run time", f"{s['run_seconds']:.1f} s, {s['cases_per_second']:.1f} cases/s"))
    return rows


def failure_sections(records: list[dict[str, Any]], tau: float) -> list[tuple[str, list[Any]]]:
    """The worst failures: false deflections at the run's threshold, then the most confident
    wrong drafts the threshold held back (what a lower threshold would let through)."""
    from evals.metrics import held_back_failures, worst_failures

    return [
        ("Worst failures (false deflections, most confident first)", worst_failures(records, tau)),
        (
            f"Most confident wrong drafts held back by the threshold (τ={tau:.2f}; false deflections at a lower one)",
            held_back_failures(records, tau),
        ),
    ]


def markdown(manifest: dict[str, Any], s: dict[str, Any], records: list[dict[str, Any]]) -> str:
    lines = [
        f"# Eval run: {manifest['dataset']} ({manifest['mode']['drafter']} drafter, {manifest['mode']['judge']} judge)",
        "",
    ]
    lines.append(
        f"git {manifest['git_sha'][:10]} · dataset {manifest['dataset_hash'][:10]} · KB {manifest['kb_hash'][:10]} · embedder {manifest['embedder']} · seed {manifest['seed']} · intervals: {s['interval_method']}"
    )
    lines += ["", "| metric | value [95% CI] |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary_rows(s)]
    lines += [
        "",
        "## By expected action",
        "",
        "| expected_action | n | scored | answered | escalated | deflected | false-deflected | mean confidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in s["by_action"]:
        lines.append(
            f"| {a['expected_action']} | {a['n']} | {a['scored']} | {a['answered']} | {a['escalated']} | {a['deflected']} | {a['false_deflected']} | {fmt(a['mean_confidence'], False)} |"
        )
    es = s.get("escalation_suggested") or {}
    if es.get("by_reason"):
        lines += [
            "",
            "## Escalation suggested, by reason",
            "",
            "| reason | cases | caught (any reason) | precision | recall | F1 |",
            "|---|---|---|---|---|---|",
        ]
        for g, x in es["by_reason"].items():
            lines.append(
                f"| {g} | {x['n']} | {fmt(x['caught'])} | {fmt(x['precision'])} | {fmt(x['recall'])} | {fmt(x['f1'], False)} |"
            )
        lines += [
            "",
            "Codes fired (share of their cases that need a human): "
            + ", ".join(f"{c} {x['n']} ({fmt(x['needed'])})" for c, x in es["by_code"].items()),
        ]
    fdr = s["deflection"]["fd_by_reason"]
    if fdr:
        lines += [
            "",
            "False deflections by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(fdr.items())),
        ]
    if s["unscored_reasons"]:
        lines += [
            "",
            "Unscored: " + "; ".join(f"{k} ({v})" for k, v in s["unscored_reasons"].items()),
        ]
    tau = s["deflection"]["threshold"]
    for title, found in failure_sections(records, tau):
        lines += ["", f"## {title}", ""]
        for r in found:
            v = r.get("verdicts") or {}
            why = (
                "should have escalated"
                if r["should_escalate"]
                else f"correct={v.get('correct')}, grounded={v.get('grounded')}, personal={v.get('personal')}"
            )
            lines.append(
                f"- **{r['id']}** (confidence {r['confidence']:.2f}; {why}; retrieved {r['retrieved_doc_ids'][:3]}, reference {r['reference_doc_ids'][:3]})"
            )
            lines.append(f"  > {r['draft'][:400].replace(chr(10), ' ')}")
        if not found:
            lines.append("None.")
    lines += ["", "## Choices", ""] + [f"- {c}" for c in CHOICES]
    return "\n".join(lines) + "\n"


def charts(summary: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """The report's SVG charts, built from numbers and our own labels only (every text in them
    is escaped by :mod:`evals.svg`): deflection vs FDR and risk–coverage with the threshold
    marked, the reliability diagram, the latency histogram and the per-expected_action bars."""
    rc = summary["risk_coverage"]["points"]
    tau = summary["deflection"]["threshold"]
    by_tau = sorted(rc, key=lambda p: p["threshold"])
    chosen = []  # (sweep point, label) of the run's threshold and the risk-controlled one
    current = next((p for p in by_tau if p["threshold"] >= tau), None)
    if current:
        chosen.append((current, f"τ={tau:.2f}"))
    target = summary["target_risk"]
    if target.get("threshold") is not None:
        star = next((p for p in by_tau if p["threshold"] >= target["threshold"]), None)
        if star:
            chosen.append((star, f"τ*={target['threshold']:.2f}"))
    marks = [(p["fdr"], p["deflection"], label) for p, label in chosen]
    fdr_max = max([p["fdr"] for p in rc] + [0.1])
    actions = [a["expected_action"] for a in summary["by_action"]]
    return [
        line_chart(
            "Deflection vs false-deflection rate",
            "false-deflection rate",
            "deflection rate",
            [("sweep over τ", "#1f77b4", [(p["fdr"], p["deflection"]) for p in reversed(rc)])],
            x_range=(0, min(1, fdr_max)),
            marks=marks,
        ),
        line_chart(
            "Risk–coverage",
            "coverage",
            "risk (FDR)",
            [
                ("FDR", "#ff7f0e", [(p["coverage"], p["fdr"]) for p in reversed(rc)]),
                (
                    "FDR upper 95%",
                    "#d62728",
                    [(p["coverage"], p["fdr_upper"]) for p in reversed(rc)],
                ),
                (
                    f"target {100 * target['target_fdr']:.0f}%",
                    "#7f7f7f",
                    [(0.0, target["target_fdr"]), (1.0, target["target_fdr"])],
                ),
            ],
            marks=[(p["coverage"], p["fdr"], label) for p, label in chosen],
        ),
        line_chart(
            "Reliability diagram",
            "mean confidence",
            "observed rate",
            [
                (
                    "bins",
                    "#2ca02c",
                    [
                        (b["confidence"], b["accuracy"])
                        for b in summary["calibration"].get("reliability", [])
                    ],
                )
            ],
            diagonal=True,
        ),
        histogram(
            "Latency (pipeline)",
            [
                r["timings"]["total_ms"]
                for r in records
                if r["status"] == "scored" and r["timings"].get("total_ms") is not None
            ],
            xlabel="ms",
        ),
        bar_chart(
            "Deflected by expected action",
            actions,
            [a["deflected"] for a in summary["by_action"]],
            ylabel="cases",
        ),
        bar_chart(
            "False deflections by expected action",
            actions,
            [a["false_deflected"] for a in summary["by_action"]],
            color="#d62728",
            ylabel="cases",
        ),
    ]


def html(manifest: dict[str, Any], s: dict[str, Any], records: list[dict[str, Any]]) -> str:
    tau = s["deflection"]["threshold"]
    chart_svgs = charts(s, records)
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in summary_rows(s))
    fails = "".join(
        f"<h3>{escape(title)}</h3>"
        + (
            "".join(
                f"<details><summary><b>{escape(r['id'])}</b> — confidence {r['confidence']:.2f}, {'should escalate' if r['should_escalate'] else 'wrong answer'}</summary>"
                f"<p>Customer: {escape(r.get('question', ''))}</p><pre>{escape(r['draft'])}</pre><p>retrieved {escape(str(r['retrieved_doc_ids'][:5]))}; reference {escape(str(r['reference_doc_ids'][:5]))}; verdicts {escape(json.dumps({k: (r.get('verdicts') or {}).get(k) for k in ('correct', 'grounded', 'personal', 'unsupported')}, ensure_ascii=False)[:600])}</p></details>"
                for r in found
            )
            or "<p>None.</p>"
        )
        for title, found in failure_sections(records, tau)
    )
    choices = "".join(f"<li>{escape(c)}</li>" for c in CHOICES)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Eval {escape(manifest["dataset"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:4px 8px;vertical-align:top}}
.charts{{display:flex;flex-wrap:wrap;gap:12px}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:8px}}small{{color:#666}}</style></head><body>
<h1>Eval run: {escape(manifest["dataset"])}</h1>
<p><small>{escape(manifest["mode"]["drafter"])} drafter · {escape(manifest["mode"]["judge"])} judge · git {escape(manifest["git_sha"][:10])} · dataset {escape(manifest["dataset_hash"][:10])} · KB {escape(manifest["kb_hash"][:10])} · embedder {escape(manifest["embedder"])} · seed {manifest["seed"]} · intervals: {escape(s["interval_method"])}</small></p>
<table><tr><th>metric</th><th>value [95% CI]</th></tr>{rows}</table>
<h2>Plots</h2><div class="charts">{"".join(chart_svgs)}</div>
<h2>Worst failures</h2>{fails}
<h2>Choices</h2><ul>{choices}</ul></body></html>"""


def write_reports(
    folder: Path, manifest: dict[str, Any], summary: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    (folder / "summary.json").write_text(
        json.dumps(jsonable(summary), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (folder / "report.md").write_text(markdown(manifest, summary, records), encoding="utf-8")
    (folder / "report.html").write_text(html(manifest, summary, records), encoding="utf-8")
