"""What the Evals page shows, computed here: datasets to pick, run folders to read and compare,
the report's charts, and the tables (failures, cases, comparison, gate).

Pure functions over the run folders that :func:`evals.runner.run_eval` writes; no Streamlit.
Loaded runs and comparisons are cached on the files' modification times, so a page rerun
does not re-read or re-bootstrap anything that has not changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from evals.compare import compare_runs, gate_checks
from evals.metrics import Record, answered, held_back_failures, outcome, worst_failures
from evals.records import read_results
from evals.runner import REPO, RunConfig
from evals.stats import Estimate

DEMO_DATASET = REPO / "evals" / "datasets" / "demo"
SHARED_DATA = REPO.parent / "shared" / "data"
_ESTIMATE_KEYS = {"value", "low", "high", "n", "method"}


# -- datasets ------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetChoice:
    name: str
    path: Path
    cases: int
    bundled: bool = False

    @property
    def label(self) -> str:
        kind = "bundled demo set, " if self.bundled else ""
        return f"{self.name} ({kind}{self.cases:,} cases)"


def _count_cases(path: Path) -> int:
    with (path / "cases.jsonl").open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _dataset_name(path: Path) -> str:
    try:
        meta = json.loads((path / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return path.name
    return str(meta.get("name") or path.name) if isinstance(meta, dict) else path.name


def demo_dataset(path: Path | None = None) -> DatasetChoice | None:
    """The bundled demo eval set; None when this installation has no source tree with it."""
    path = path or DEMO_DATASET
    if not (path / "cases.jsonl").is_file():
        return None
    return DatasetChoice(_dataset_name(path), path, _count_cases(path), bundled=True)


def dev_sets(shared: Path | None = None) -> list[DatasetChoice] | None:
    """The dev sets beside the repository (folders holding ``cases.jsonl``; default
    ``../shared/data``), by name; None when that folder is absent (say so, rather than show
    an empty list)."""
    shared = shared or SHARED_DATA
    if not shared.is_dir():
        return None
    return [
        DatasetChoice(_dataset_name(p), p, _count_cases(p))
        for p in sorted(shared.iterdir())
        if p.is_dir() and (p / "cases.jsonl").is_file()
    ]


# -- run folders ---------------------------------------------------------------------
@dataclass(frozen=True)
class RunInfo:
    folder: Path
    dataset: str
    drafter: str
    when: datetime
    complete: bool  # summary.json written: the run finished
    cases: int  # cases in the run (or planned, for an incomplete one)
    done: int  # result lines written
    deflection: float | None
    threshold: float | None
    seed: int | None

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def label(self) -> str:
        when = self.when.strftime("%Y-%m-%d %H:%M:%S")
        if not self.complete:
            return f"{self.dataset} · {self.drafter} · {when} · incomplete ({self.done}/{self.cases} cases)"
        dr = "n/a" if self.deflection is None else f"{100 * self.deflection:.1f}%"
        tau = "" if self.threshold is None else f" · τ {self.threshold:.2f}"
        return (
            f"{self.dataset} · {self.drafter} · {when} · deflection {dr} · {self.cases} cases{tau}"
        )


def runs_dir(data_dir: Path) -> Path:
    """Where the app's runs live (the CLI's default ``--out`` parent, too)."""
    return data_dir / "evals" / "runs"


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _files_key(folder: Path) -> tuple[int, int, int]:
    return tuple(
        _mtime(folder / name) for name in ("manifest.json", "summary.json", "results.jsonl")
    )  # type: ignore[return-value]


@lru_cache(maxsize=1024)
def _run_info(folder: Path, key: tuple[int, int, int]) -> RunInfo | None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    summary: dict[str, Any] | None = None
    if key[1]:
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            summary = None
    when = _when(manifest, folder)
    if summary is not None:
        rate = (summary.get("deflection") or {}).get("deflection_rate") or {}
        return RunInfo(
            folder,
            str(manifest.get("dataset", "?")),
            str((manifest.get("mode") or {}).get("drafter", "?")),
            when,
            True,
            int(summary.get("cases", 0)),
            int(summary.get("cases", 0)),
            rate.get("value") if isinstance(rate, dict) else None,
            (summary.get("deflection") or {}).get("threshold"),
            manifest.get("seed"),
        )
    done = 0
    if key[2]:
        with (folder / "results.jsonl").open("rb") as fh:
            done = sum(1 for line in fh if line.strip())
    planned = manifest.get("cases", 0)
    if manifest.get("limit"):
        planned = min(planned, manifest["limit"])
    return RunInfo(
        folder,
        str(manifest.get("dataset", "?")),
        str((manifest.get("mode") or {}).get("drafter", "?")),
        when,
        False,
        int(planned),
        done,
        None,
        manifest.get("threshold"),
        manifest.get("seed"),
    )


def _when(manifest: dict[str, Any], folder: Path) -> datetime:
    stamp = manifest.get("finished_at")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp)
        except ValueError:
            pass
    return datetime.fromtimestamp(_mtime(folder / "manifest.json") / 1e9, tz=UTC)


def list_runs(root: Path) -> list[RunInfo]:
    """Run folders under ``root`` (those with a manifest), newest first."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.is_dir() and (folder / "manifest.json").is_file():
            info = _run_info(folder, _files_key(folder))
            if info is not None:
                found.append(info)
    return sorted(found, key=lambda r: (r.when, r.name), reverse=True)


def resume_config(info: RunInfo) -> RunConfig:
    """The configuration that resumes an interrupted run in its own folder."""
    m = json.loads((info.folder / "manifest.json").read_text(encoding="utf-8"))
    mode = m.get("mode") or {}
    return RunConfig(
        dataset=Path(m["dataset_path"]),
        drafter=str(mode.get("drafter", "offline")),
        judge=str(mode.get("judge", "offline")),
        limit=m.get("limit"),
        seed=int(m.get("seed", 0)),
        workers=int(m.get("workers", 2)),
        threshold=m.get("threshold"),
        target_fdr=m.get("target_fdr"),
        out=info.folder,
    )


# -- one run -------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    folder: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]  # intervals as Estimate, as summarize() returns them
    records: list[Record]  # results.jsonl, in case-id order

    @property
    def threshold(self) -> float:
        return float(self.summary["deflection"]["threshold"])

    def record(self, case_id: str) -> Record | None:
        return next((r for r in self.records if r["id"] == case_id), None)


def estimates(obj: Any) -> Any:
    """summary.json back into what ``summarize`` returned: interval dicts become Estimates."""
    if isinstance(obj, dict):
        if set(obj) == _ESTIMATE_KEYS:
            return Estimate(obj["value"], obj["low"], obj["high"], int(obj["n"]), obj["method"])
        return {k: estimates(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [estimates(v) for v in obj]
    return obj


def load_run(folder: Path) -> Run:
    """A finished run folder (cached until its files change)."""
    return _load_run(folder, _files_key(folder))


@lru_cache(maxsize=4)
def _load_run(folder: Path, key: tuple[int, int, int]) -> Run:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = estimates(json.loads((folder / "summary.json").read_text(encoding="utf-8")))
    records = read_results(folder)
    return Run(folder, manifest, summary, sorted(records, key=lambda r: str(r["id"])))


# -- cases ---------------------------------------------------------------------------
def summary_notes(summary: dict[str, Any]) -> list[str]:
    """What the metrics table does not say: false deflections by reason, unscored cases."""
    notes = []
    by_reason = summary["deflection"]["fd_by_reason"]
    if by_reason:
        notes.append(
            "False deflections by reason: "
            + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items()))
        )
    if summary["unscored_reasons"]:
        notes.append(
            "Unscored: " + "; ".join(f"{k} ({v})" for k, v in summary["unscored_reasons"].items())
        )
    return notes


def outcome_label(r: Record, tau: float) -> str:
    """What happened to a case at threshold ``tau``, in the words of the report."""
    if r["status"] != "scored":
        return "unscored"
    ans = answered(r, tau)
    if r["expected_action"] == "clarify":
        return "clarify (answered)" if ans else "clarify (escalated)"
    if not r["should_escalate"] and r["ok"] is None:
        return "not verifiable (answered)" if ans else "not verifiable (escalated)"
    d, fd = outcome(r, tau)
    if d:
        return "deflected"
    if fd:
        return "false-deflected"
    return "escalated"


def why_failed(r: Record) -> str:
    if r["should_escalate"]:
        return "answered a case that needs a human" + (
            f" ({r['gold_reason']})" if r.get("gold_reason") else ""
        )
    v = r.get("verdicts") or {}
    wrong = [k for k in ("correct", "grounded", "personal") if v.get(k) is False]
    return "wrong answer: not " + ", not ".join(wrong) if wrong else "wrong answer"


def _failure_row(r: Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "confidence": r["confidence"],
        "why": why_failed(r),
        "expected_action": r["expected_action"],
        "lang": r.get("lang"),
        "question": r.get("question", ""),
    }


def failure_rows(records: list[Record], tau: float, n: int = 20) -> list[dict[str, Any]]:
    """The worst failures: false deflections, most confident first."""
    return [_failure_row(r) for r in worst_failures(records, tau, n)]


def held_back_rows(records: list[Record], tau: float, n: int = 20) -> list[dict[str, Any]]:
    """The most confident wrong drafts the threshold kept from the customer."""
    return [_failure_row(r) for r in held_back_failures(records, tau, n)]


def case_rows(records: list[Record], tau: float) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "outcome": outcome_label(r, tau),
            "confidence": r["confidence"],
            "expected_action": r["expected_action"],
            "should_escalate": r["should_escalate"],
            "escalate_flag": r["escalate"],
            "lang": r.get("lang"),
            "question": r.get("question", ""),
        }
        for r in records
    ]


def case_order(records: list[Record], tau: float) -> list[str]:
    """Case ids for a picker: the worst failures first, then the wrong drafts the threshold
    held back, then every other case by id."""
    first = [r["id"] for r in worst_failures(records, tau, len(records))]
    first += [r["id"] for r in held_back_failures(records, tau, len(records))]
    seen = set(first)
    return first + [r["id"] for r in records if r["id"] not in seen]


def verdict_line(v: dict[str, Any] | None) -> str:
    """The offline judge's verdicts in one line (the full set stays available as JSON)."""
    if not v:
        return "no verdicts (unscored)"

    def yes(x: Any) -> str:
        return "n/a" if x is None else ("yes" if x else "no")

    parts = [
        f"correct: {yes(v.get('correct'))}",
        f"grounded: {yes(v.get('grounded'))}",
        f"personal: {yes(v.get('personal'))}",
    ]
    if v.get("required_total"):
        parts.append(f"required facts found {v.get('required_found', 0)}/{v['required_total']}")
    if v.get("forbidden_found"):
        parts.append(f"forbidden facts stated {len(v['forbidden_found'])}")
    if v.get("claims") is not None:
        parts.append(f"claims supported {v.get('supported', 0)}/{v['claims']}")
    if v.get("facts_required"):
        parts.append(f"order facts right {v.get('facts_required_ok', 0)}/{v['facts_required']}")
    if v.get("leaks"):
        parts.append(f"leaks {len(v['leaks'])}")
    return " · ".join(parts)


def citation_rows(r: Record) -> list[dict[str, str]]:
    return [
        {
            "sentence": c.get("sentence", ""),
            "documents": ", ".join(c.get("doc_ids") or []),
            "titles": " | ".join(c.get("titles") or []),
        }
        for c in r.get("citations") or []
    ]


# -- comparing two runs --------------------------------------------------------------
def compare(a: Path, b: Path, margin: float) -> dict[str, Any]:
    """:func:`evals.compare.compare_runs`, cached until either run's files change."""
    return _compare(a, _files_key(a), b, _files_key(b), margin)


@lru_cache(maxsize=8)
def _compare(
    a: Path, _ka: tuple[int, int, int], b: Path, _kb: tuple[int, int, int], margin: float
) -> dict[str, Any]:
    return compare_runs(a, b, margin=margin)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _pp(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f} pp"


def comparison_rows(c: dict[str, Any]) -> list[dict[str, str]]:
    """One row per metric: A, B, the delta B − A with its 95 % interval, McNemar's p, W/T/L
    (wins are changes in the better direction) and the minimum detectable difference."""
    rows = []
    for m in c["metrics"]:
        rows.append(
            {
                "metric": m["metric"],
                "better": m["better"],
                "A": _pct(m["a"]),
                "B": _pct(m["b"]),
                "delta B−A [95% CI]": f"{_pp(m['delta'])} [{_pp(m['low'])}, {_pp(m['high'])}]",
                "McNemar p": "–" if m["mcnemar_p"] is None else f"{m['mcnemar_p']:.3f}",
                "W/T/L": "–" if m["wins"] is None else f"{m['wins']}/{m['ties']}/{m['losses']}",
                "MDE": "–" if m["mde"] is None else f"{100 * m['mde']:.1f} pp",
            }
        )
    return rows


def gate_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check of the CI gate with its status (pass, fail, n/a: not a pass) and, for the
    two non-inferiority checks, the interval bound, its limit and the headroom (how far the
    bound is from failing; negative when it fails)."""
    margin = c["gate"]["margin"]
    by_name = {m["metric"]: m for m in c["metrics"]}
    checks = c["gate"].get("checks") or gate_checks(by_name, margin)
    fd = by_name.get("false-deflection rate (of answered)", {})
    dr = by_name.get("deflected", {})
    bounds = {
        "FDR non-inferiority": (fd.get("high"), margin, lambda b: margin - b),
        "deflection non-inferiority": (dr.get("low"), -margin, lambda b: b + margin),
    }
    rows = []
    for chk in checks:
        bound, limit, room = bounds.get(chk["check"], (None, None, None))
        rows.append(
            {
                "check": chk["check"],
                "status": chk["status"],
                "bound": _pp(bound) if bound is not None else ("n/a" if limit is not None else "—"),
                "limit": _pp(limit) if limit is not None else "—",
                "headroom": _pp(room(bound)) if room and bound is not None else "—",
                "passes": chk["status"] == "pass",
                "detail": chk["why"],
            }
        )
    return rows


def comparison_notes(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> list[str]:
    """What limits the comparison: different datasets, unpaired cases, different settings."""
    notes = []
    if a.get("dataset_hash") != b.get("dataset_hash"):
        notes.append(
            f"The runs used different case files ({a.get('dataset')} vs {b.get('dataset')}): only the {c['n_paired']} case ids scored in both are compared."
        )
    elif c["only_a"] or c["only_b"]:
        notes.append(
            f"{c['only_a']} case(s) scored only in A and {c['only_b']} only in B are left out; {c['n_paired']} are paired."
        )
    if a.get("kb_hash") != b.get("kb_hash"):
        notes.append("The knowledge differs between the runs.")
    if c["n_paired"] == 0:
        notes.append("No case is scored in both runs: nothing to compare.")
    return notes
