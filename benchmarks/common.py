"""Helpers shared by the benchmark scripts (dev-set loading, metrics, tables)."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from knowledge.text import sentences

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DEV_SETS = ("cdtn-fr", "mtrag-support-en")


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser, its module docstring as the help text."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def dev_set(name: str) -> Path | None:
    path = SHARED / name
    if not (path / "kb.jsonl").exists() or not (path / "cases.jsonl").exists():
        print(
            f"[skip] {name}: ../shared/data/{name} is not here (the dev sets live beside the repository)",
            file=sys.stderr,
        )
        return None
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def dev_sentences() -> list[str]:
    """The sentences of 30 to 300 characters of the dev sets' knowledge (none when ../shared
    is absent)."""
    pool: list[str] = []
    for name in DEV_SETS:
        path = dev_set(name)
        if path:
            for d in read_jsonl(path / "kb.jsonl"):
                pool.extend(s for s in sentences(d["text"]) if 30 < len(s) < 300)
    return pool


def case_query(case: dict[str, Any]) -> str:
    """The retrieval query of a case: the last customer turn, plus the previous customer turn."""
    customer = [t["text"] for t in case["conversation"] if t["role"] == "customer"]
    return " ".join(customer[-2:]) if len(customer) > 1 else customer[-1]


def dedup_docs(doc_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def rank_metrics(ranked_docs: Sequence[str], relevant: Sequence[str]) -> dict[str, float]:
    rel = set(relevant)
    first = next((i + 1 for i, d in enumerate(ranked_docs[:10]) if d in rel), None)
    return {
        "hit@1": float(bool(rel & set(ranked_docs[:1]))),
        "hit@5": float(bool(rel & set(ranked_docs[:5]))),
        "recall@5": len(rel & set(ranked_docs[:5])) / len(rel),
        "mrr@10": 1.0 / first if first else 0.0,
    }


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.fmean(r[k] for r in rows) for k in rows[0]} if rows else {}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100])."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, sep, *body])
