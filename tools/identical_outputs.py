"""Check that a restructuring changed no output: every draft, retrieval and verdict.

Runs the offline eval (offline drafter and judge) on the bundled sets and on the dev sets in
``../shared/data`` (skipped with a message when absent), and keeps one digest per case and
field. ``save`` writes them before a change, ``check`` compares after it and names each case and
field that moved::

    .venv/bin/python tools/identical_outputs.py save /tmp/before.json
    ... restructure ...
    .venv/bin/python tools/identical_outputs.py check /tmp/before.json

Timings and cache flags are left out (they change from run to run); everything the copilot
decides is in: the draft, its citations, the retrieved chunks, the escalation and its reasons,
the confidence and its features, the judge's verdicts.

Both runs read the knowledge indexes kept in ``--data-dir``, built beforehand by a run whose
results are not kept. The dense index is approximate (HNSW: on mtrag, the same top chunk as
exact search for 200 of 201 questions, recall@30 0.996), and its graph differs from one build
to the next (the chunk ids carry a random part) and between the process that built it and one
that reopens it: on the two dev sets 13 of 1,325 cases moved between those, none between two
runs that reopen one index. A change to chunking or embedding is checked by deleting that
folder, and reading the few cases that move with that in mind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
BUNDLED = ("demo", "telecom", "rail")
DEV = ("mtrag-support-en", "cdtn-fr")
VOLATILE = {"timings", "cached", "usage", "judge_usage"}


def sets() -> dict[str, Path]:
    out = {name: REPO / "evals" / "datasets" / name for name in BUNDLED}
    for name in DEV:
        if (SHARED / name / "cases.jsonl").exists():
            out[name] = SHARED / name
        else:
            print(f"  {name}: skipped ({SHARED / name} is absent)", file=sys.stderr)
    return out


# a chunk id carries its document's revision, whose random part differs from one fresh index
# to the next ("faq-en::v1-c60afd::2"): compared without it
REVISION = re.compile(r"::v(\d+)-[0-9a-f]+::")


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(REVISION.sub(r"::v\1::", text).encode()).hexdigest()[:16]


def run(name: str, path: Path, data_dir: Path) -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        done = subprocess.run(
            [str(REPO / ".venv" / "bin" / "souffleur"), "eval", "run", "--dataset", str(path),
             "--out", str(out)],
            check=False, capture_output=True, text=True, cwd=REPO,
            env={**os.environ, "SOUFFLEUR_DATA_DIR": str(data_dir)},
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"eval of {name} failed:\n{done.stderr[-2000:]}")
        records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {
        str(r["id"]): {k: digest(v) for k, v in sorted(r.items()) if k not in VOLATILE}
        for r in records
    }


def collect(data_dir: Path) -> dict[str, dict[str, dict[str, str]]]:
    got = {}
    fresh = not data_dir.exists()
    for name, path in sets().items():
        if fresh:
            run(name, path, data_dir)  # builds the index; the runs that reopen it are compared
        got[name] = run(name, path, data_dir)
        print(f"  {name}: {len(got[name])} cases", file=sys.stderr)
    return got


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    problems = []
    for name in sorted(set(before) | set(after)):
        if name not in after or name not in before:
            problems.append(f"{name}: run only {'before' if name in before else 'after'}")
            continue
        b, a = before[name], after[name]
        for cid in sorted(set(b) | set(a)):
            if cid not in a or cid not in b:
                problems.append(f"{name} {cid}: case only {'before' if cid in b else 'after'}")
                continue
            moved = sorted(k for k in set(b[cid]) | set(a[cid]) if b[cid].get(k) != a[cid].get(k))
            if moved:
                problems.append(f"{name} {cid}: {', '.join(moved)}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("action", choices=["save", "check"])
    ap.add_argument("file", type=Path)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=REPO / "souffleur-data" / "identical-outputs",
        help="where the eval indexes are kept between the two runs",
    )
    args = ap.parse_args()
    got = collect(args.data_dir)
    if args.action == "save":
        args.file.write_text(json.dumps(got, indent=0, sort_keys=True))
        print(f"saved {sum(len(v) for v in got.values())} cases to {args.file}")
        return 0
    problems = compare(json.loads(args.file.read_text()), got)
    for p in problems[:200]:
        print(p)
    for name in sorted(got):
        moved = sum(1 for p in problems if p.startswith(f"{name} "))
        print(f"  {name}: {moved} of {len(got[name])} cases differ")
    cases = sum(len(v) for v in got.values())
    print(f"{'IDENTICAL' if not problems else 'CHANGED'}: {cases} cases, {len(problems)} differ")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
