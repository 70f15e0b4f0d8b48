"""What the Evals page shows, computed here: datasets to pick, run folders to read and compare,
the report's charts, and the tables (failures, cases, comparison, gate).

Pure functions over the run folders that :func:`evals.runner.run_eval` writes; no Streamlit.
Loaded runs and comparisons are cached on the files' modification times, so a page rerun
does not re-read or re-bootstrap anything that has not changed. The tables themselves are
:mod:`evals.browse_tables`, importable from here as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from evals.browse_tables import (
    case_order,
    case_rows,
    citation_rows,
    comparison_notes,
    failure_rows,
    gate_rows,
    held_back_rows,
    outcome_label,
    summary_notes,
    verdict_line,
    why_failed,
)
from evals.compare import compare_runs, comparison_rows
from evals.outcomes import Record
from evals.records import read_results
from evals.run_folder import REPO
from evals.runner import RunConfig
from evals.stats import Estimate

__all__ = [
    "DEMO_DATASET",
    "SHARED_DATA",
    "DatasetChoice",
    "Run",
    "RunInfo",
    "case_order",
    "case_rows",
    "citation_rows",
    "compare",
    "comparison_notes",
    "comparison_rows",
    "demo_dataset",
    "dev_sets",
    "estimates",
    "failure_rows",
    "gate_rows",
    "held_back_rows",
    "list_runs",
    "load_run",
    "outcome_label",
    "resume_config",
    "runs_dir",
    "summary_notes",
    "verdict_line",
    "why_failed",
]

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


# -- comparing two runs --------------------------------------------------------------
def compare(a: Path, b: Path, margin: float) -> dict[str, Any]:
    """:func:`evals.compare.compare_runs`, cached until either run's files change."""
    return _compare(a, _files_key(a), b, _files_key(b), margin)


@lru_cache(maxsize=8)
def _compare(
    a: Path, _ka: tuple[int, int, int], b: Path, _kb: tuple[int, int, int], margin: float
) -> dict[str, Any]:
    return compare_runs(a, b, margin=margin)
