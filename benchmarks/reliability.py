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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import table  # noqa: E402
from tests.hostile import (  # noqa: E402
    FAMILIES,
    LIMIT_MB,
    cases,
    check_case,
    check_order_row,
    order_rows,
)


def main() -> int:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    built = time.perf_counter()
    corpus = cases()
    rows = order_rows()
    built = time.perf_counter() - built
    stats: dict[str, dict[str, object]] = {}
    failures: list[tuple[str, str, str, str]] = []  # family, case, reason, known bug

    def record(family: str, name: str, reason: str | None, seconds: float, bug: str) -> None:
        s = stats.setdefault(family, {"tried": 0, "clean": 0, "slow": 0.0, "slow_name": ""})
        s["tried"] = int(s["tried"]) + 1  # type: ignore[call-overload]
        if reason is None:
            s["clean"] = int(s["clean"]) + 1  # type: ignore[call-overload]
        else:
            failures.append((family, name, reason, bug))
        if seconds >= float(s["slow"]):  # type: ignore[arg-type]
            s["slow"], s["slow_name"] = seconds, name

    for case in corpus:
        reason, seconds = check_case(case)
        record(case.family, case.name, reason, seconds, case.bug)

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
            record("orders", row.label, reason, time.perf_counter() - start, row.bug)

    out: list[list[object]] = []
    for family in (*FAMILIES, "orders"):
        s = stats.get(family)
        if not s:
            continue
        tried, clean = int(s["tried"]), int(s["clean"])  # type: ignore[call-overload]
        slow = f"{float(s['slow']) * 1000:.0f} ms ({s['slow_name']})"  # type: ignore[arg-type]
        out.append([family, tried, clean, tried - clean, slow])
    tried = sum(int(r[1]) for r in out)  # type: ignore[call-overload]
    clean = sum(int(r[2]) for r in out)  # type: ignore[call-overload]
    worst = max(stats.items(), key=lambda kv: float(kv[1]["slow"]))  # type: ignore[arg-type]
    slowest = f"{float(worst[1]['slow']) * 1000:.0f} ms ({worst[1]['slow_name']})"  # type: ignore[arg-type]
    out.append(["total", tried, clean, tried - clean, slowest])

    print(f"Reliability: {len(corpus)} hostile uploads, {len(rows)} hostile order rows")
    print(f"(corpus built in {built:.1f} s; parse = load_source, order = one import_file)\n")
    print(table(["family", "tried", "clean", "failed", "slowest case"], out))
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for family, name, reason, bug in failures:
            print(f"  [{family}] {name}: {reason}")
            if bug:
                print(f"      known product bug: {bug}")
    else:
        print("\nEvery case clean.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
