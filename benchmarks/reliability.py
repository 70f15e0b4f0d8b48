"""Reliability benchmark: every hostile upload and order-feed row of tests/hostile.py.

    .venv/bin/python benchmarks/reliability.py

Per family: cases tried, clean (the expectation held, no unexpected exception) and failed,
with the slowest parse; then each failed case and why. Always exits 0: it is a report (the
pytest suite, tests/test_reliability.py, is the gate).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import table  # noqa: E402
from tests.hostile import (  # noqa: E402
    FAMILIES,
    LIMIT_MB,
    OrderRow,
    cases,
    check_case,
    check_order_row,
    order_rows,
)


@dataclass
class Tally:
    """One family's cases: how many tried and clean, and the slowest one."""

    tried: int = 0
    clean: int = 0
    slow: float = 0.0
    slow_name: str = ""

    def slowest(self) -> str:
        return f"{self.slow * 1000:.0f} ms ({self.slow_name})"


@dataclass
class Results:
    tallies: dict[str, Tally] = field(default_factory=dict)
    failures: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # family, case, why, bug

    def record(self, family: str, name: str, reason: str | None, seconds: float, bug: str) -> None:
        s = self.tallies.setdefault(family, Tally())
        s.tried += 1
        if reason is None:
            s.clean += 1
        else:
            self.failures.append((family, name, reason, bug))
        if seconds >= s.slow:
            s.slow, s.slow_name = seconds, name


def _check_order_rows(rows: list[OrderRow], results: Results) -> None:
    from copilot import load_settings, open_workspace
    from knowledge import HashEmbedder

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp) / "data", demo_autoload=False, max_upload_mb=LIMIT_MB
        )
        ws = open_workspace(settings, embedder=HashEmbedder(), drafter=None)
        for row in rows:
            before = [rows[0]] if row.label == "duplicate" else []
            start = time.perf_counter()
            reason = check_order_row(ws.orders, row, before)
            results.record("orders", row.label, reason, time.perf_counter() - start, row.bug)


def _table(results: Results) -> list[list[object]]:
    out: list[list[object]] = []
    for family in (*FAMILIES, "orders"):
        s = results.tallies.get(family)
        if s:
            out.append([family, s.tried, s.clean, s.tried - s.clean, s.slowest()])
    tallies = results.tallies.values()
    tried = sum(s.tried for s in tallies)
    clean = sum(s.clean for s in tallies)
    worst = max(tallies, key=lambda s: s.slow)
    out.append(["total", tried, clean, tried - clean, worst.slowest()])
    return out


def main() -> int:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    built = time.perf_counter()
    corpus = cases()
    rows = order_rows()
    built = time.perf_counter() - built
    results = Results()
    for case in corpus:
        reason, seconds = check_case(case)
        results.record(case.family, case.name, reason, seconds, case.bug)
    _check_order_rows(rows, results)

    print(f"Reliability: {len(corpus)} hostile uploads, {len(rows)} hostile order rows")
    print(f"(corpus built in {built:.1f} s; parse = load_source, order = one import_file)\n")
    print(table(["family", "tried", "clean", "failed", "slowest case"], _table(results)))
    if results.failures:
        print(f"\nFAILED ({len(results.failures)}):")
        for family, name, reason, bug in results.failures:
            print(f"  [{family}] {name}: {reason}")
            if bug:
                print(f"      known product bug: {bug}")
    else:
        print("\nEvery case clean.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
