"""A run folder: the manifest of what made a run (code, data, settings, machine), a fresh
folder for a new run, and the resumption of an interrupted one (results are appended as they
come, so a run made by the same code, data and settings resumes where it stopped).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.config import Settings
from copilot.pipeline.suggest import SuggestionService
from evals.dataset import Dataset, load_dataset
from evals.records import RESULTS, line_of, read_results
from knowledge import Embedder

if TYPE_CHECKING:
    from evals.runner import RunConfig

REPO = Path(__file__).resolve().parents[1]

log = logging.getLogger("evals.runner")  # the harness's log: one name, whichever module writes

CODE_PACKAGES = ("copilot", "knowledge", "evals")
CODE_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".txt", ".html", ".j2"}


@functools.cache
def code_version() -> str:
    """A digest of the code, prompts, policies and shipped models that make a run's results
    (the datasets are hashed on their own): a run folder is only resumed by the same code,
    committed or not."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        root = REPO / package
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(REPO)
            if (
                path.suffix not in CODE_SUFFIXES
                or not path.is_file()
                or "__pycache__" in rel.parts
                or rel.parts[:2] == ("evals", "datasets")
            ):
                continue
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def git_sha() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            or "unknown"
        )
    except OSError:
        return "unknown"


def run_manifest(
    cfg: RunConfig,
    ds: Dataset,
    settings: Settings,
    service: SuggestionService,
    embedder: Embedder,
    tau: float,
    target: float,
) -> dict[str, Any]:
    """What made the run: code, data, mode, models, threshold, settings and machine."""
    llm = service.llm
    return {
        "git_sha": git_sha(),
        "code_version": code_version(),
        "dataset": ds.name,
        "dataset_path": str(ds.path),
        "dataset_hash": ds.cases_hash,
        "kb_hash": ds.kb_hash,
        "orders_hash": ds.orders_hash,
        "cases": len(ds.cases),
        "limit": cfg.limit,
        "seed": cfg.seed,
        "mode": {"drafter": cfg.drafter, "judge": cfg.judge},
        "embedder": embedder.name,
        "prompt_versions": {
            "offline": service.offline.prompt_version,
            "llm": llm.prompt_version if llm is not None else None,
        },
        "confidence_model": service.confidence.info,
        # what the escalation-intent classifier read (SOUFFLEUR_INTENT_FEATURES)
        "intents": service.intents.features if service.intents is not None else "off",
        "threshold": tau,
        "target_fdr": target,
        "policy_source": service.policy.source,
        "policy_hash": ds.policy_hash,
        "settings": settings.describe(),
        "today": (ds.today or date.today()).isoformat(),
        "workers": cfg.workers,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }


def new_run_folder(root: Path, dataset: Path, drafter: str, *, name: str | None = None) -> Path:
    """A fresh folder for a run started now, never an existing one (an existing folder would
    be resumed: two runs started in the same second must not share it)."""
    name = (
        re.sub(r"[^A-Za-z0-9._-]+", "-", name or load_dataset(dataset).name).strip("-") or "dataset"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1000):
        folder = root / (f"{stamp}-{name}-{drafter}" + (f"-{i}" if i > 1 else ""))
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{root}: no free run folder name for {stamp}-{name}-{drafter}")


# what must be the same for a run folder's results to be resumed
_RESUMED_ON = (
    "code_version",
    "dataset_hash",
    "kb_hash",
    "mode",
    "seed",
    "embedder",
    "prompt_versions",
)


def resume(folder: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scored cases of an interrupted run in ``folder`` made by the same code, data and
    settings (the others run again); writes the new manifest and the kept results."""
    results_path = folder / RESULTS
    done: dict[str, dict[str, Any]] = {}
    previous = folder / "manifest.json"
    if results_path.exists() and previous.exists():
        old = json.loads(previous.read_text(encoding="utf-8"))
        if all(old.get(k) == manifest.get(k) for k in _RESUMED_ON):
            # the line a killed run was writing is left out: that case simply runs again
            for kept in read_results(folder, torn_ok=True):
                if kept["status"] == "scored":
                    done[kept["id"]] = kept
        else:
            log.warning(
                "%s was made by other code, data or settings: its results are set aside and "
                "every case runs again",
                folder,
            )
            results_path.unlink()
    manifest["resumed_cases"] = len(done)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    # Only failures are retried on resume: rewrite the file with the kept records.
    with results_path.open("w", encoding="utf-8") as fh:
        for kept in done.values():
            fh.write(line_of(kept) + "\n")
    return done
