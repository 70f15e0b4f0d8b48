"""Write a run folder's summary.json, report.md and a self-contained report.html.

The metrics table is :mod:`evals.summary_table` (the offline judge's rows from its registered
evaluators), the plots :mod:`evals.charts`; both are importable from here as well.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from evals.charts import charts
from evals.outcomes import held_back_failures, worst_failures
from evals.stats import Estimate, fmt
from evals.summary_table import summary_rows

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


def failure_sections(records: list[dict[str, Any]], tau: float) -> list[tuple[str, list[Any]]]:
    """The worst failures: false deflections at the run's threshold, then the most confident
    wrong drafts the threshold held back (what a lower threshold would let through)."""
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
    lines += _by_action_md(s) + _by_reason_md(s) + _notes_md(s)
    lines += _failures_md(records, s["deflection"]["threshold"])
    lines += ["", "## Choices", ""] + [f"- {c}" for c in CHOICES]
    return "\n".join(lines) + "\n"


def _by_action_md(s: dict[str, Any]) -> list[str]:
    lines = [
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
    return lines


def _by_reason_md(s: dict[str, Any]) -> list[str]:
    es = s.get("escalation_suggested") or {}
    if not es.get("by_reason"):
        return []
    lines = [
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
    return [
        *lines,
        "",
        "Codes fired (share of their cases that need a human): "
        + ", ".join(f"{c} {x['n']} ({fmt(x['needed'])})" for c, x in es["by_code"].items()),
    ]


def _notes_md(s: dict[str, Any]) -> list[str]:
    lines = []
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
    return lines


def _failures_md(records: list[dict[str, Any]], tau: float) -> list[str]:
    lines = []
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
    return lines


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
