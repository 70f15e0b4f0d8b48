"""Run a dataset through the very same suggestion service the app uses, and score it.

The knowledge index is built in an isolated folder (cached by content hash: a second run does
not re-embed), never in the app's data. Cases run with bounded concurrency and a per-case
timeout (:mod:`evals.case_runner`); results are appended as they come, so an interrupted run
resumes where it stopped (:mod:`evals.run_folder`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from copilot import providers
from copilot.config import Settings
from copilot.pipeline.callcontext import calling
from copilot.pipeline.confidence import ConfidenceModel
from copilot.pipeline.drafter import Drafter
from copilot.pipeline.escalation import Policy
from copilot.pipeline.llm import ChatModel
from copilot.pipeline.suggest import SuggestionService
from copilot.workspace import (
    PolicyStore,
    Workspace,
    open_workspace,
)
from evals.cache import CachingChatModel
from evals.case_runner import case_conversation, owners_of, run_case, run_cases
from evals.dataset import Case, Dataset, load_dataset
from evals.llm_judge import LLMJudge, judge_from_settings, judge_summary
from evals.metrics import summarize
from evals.records import RESULTS, CaseResult, line_of
from evals.run_folder import code_version, new_run_folder, resume, run_manifest
from knowledge import Customer, Embedder, make_engine
from knowledge.errors import ConfigError

Progress = Callable[[int, int], None]

__all__ = [
    "Progress",
    "RunConfig",
    "RunResult",
    "code_version",
    "eval_workspace",
    "new_run_folder",
    "run_case",
    "run_eval",
    "workspace_hashes",
]


@dataclass
class RunConfig:
    dataset: Path
    drafter: str = "offline"  # offline | llm
    judge: str = "offline"  # offline | llm
    limit: int | None = None
    seed: int = 0
    workers: int = 2
    timeout_s: float = 120.0
    target_fdr: float | None = None  # default: the policy's target
    threshold: float | None = None  # default: the confidence model's deflection threshold
    out: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def eval_workspace(ds: Dataset, settings: Settings, embedder: Embedder) -> Workspace:
    """The isolated, cached index (and order store) of a dataset."""
    key = f"{ds.kb_hash[:12]}-{(ds.orders_hash or 'noorders')[:8]}-{embedder.name}"
    folder = settings.data_dir / "evals" / "index" / key
    iso = settings.model_copy(
        update={
            "data_dir": folder,
            "database_url": None,
            "chroma_host": None,
            "demo_autoload": False,
        }
    )
    ws = open_workspace(iso, embedder=embedder, drafter=None)
    # the same knowledge chunked another way is another index: ingest it again
    indexed = f"{ds.kb_hash}/{ws.kb.chunking.fingerprint}"
    if ws.kb.registry.get_meta("eval_kb_hash") != indexed:
        root = (
            Path(os.path.commonpath([p.parent for p in ds.kb_files]))
            if len(ds.kb_files) > 1
            else None
        )
        items: list[Any] = [(p.relative_to(root).as_posix(), p) if root else p for p in ds.kb_files]
        results = ws.kb.ingest_paths(items)
        bad = [r.error for r in results if not r.ok]
        if bad:
            from evals.dataset import DatasetError

            raise DatasetError(
                f"{ds.path}: the knowledge could not be indexed: {'; '.join(str(b) for b in bad[:3])}.",
                "Fix the knowledge files.",
            )
        with ws.engine.begin() as conn:
            ws.kb.registry.set_meta(conn, "eval_kb_hash", indexed)
    if ds.customers_file:
        rows = [
            json.loads(x)
            for x in ds.customers_file.read_text(encoding="utf-8").splitlines()
            if x.strip()
        ]
        ws.orders.import_customers(
            [
                Customer(
                    r["customer_id"],
                    r.get("name", ""),
                    r.get("email", ""),
                    r.get("phone", ""),
                    r.get("lang"),
                    r.get("city", ""),
                    r.get("country", ""),
                )
                for r in rows
            ]
        )
    if ds.orders_file and ws.orders.count() == 0:
        ws.orders.import_path(ds.orders_file)
    return ws


def workspace_hashes(ws: Workspace) -> tuple[str, str]:
    """Digests of a workspace's documents (id, version, content) and order numbers: a run on
    its knowledge resumes only while the knowledge is the same."""
    docs = hashlib.sha256()
    for d in sorted(ws.kb.documents(), key=lambda d: d.doc_id):
        docs.update(f"{d.doc_id}\0{d.version}\0{d.content_hash}\n".encode())
    orders = hashlib.sha256()
    for number, customer in sorted(ws.orders.all_order_numbers()):
        orders.update(f"{number}\0{customer}\n".encode())
    return docs.hexdigest(), orders.hexdigest()


@dataclass
class RunResult:
    folder: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    manifest: dict[str, Any]
    seconds: float


def _app_policy(settings: Settings) -> Policy:
    """The policy the app's workspace runs with (shared in its database)."""
    return PolicyStore(make_engine(settings.db_url), settings.policy_path).current()


@dataclass
class _Run:
    """A run set up: its cases, the workspace and service that answer them, the LLM judge (if
    any), and the manifest of what made it."""

    ds: Dataset
    ws: Workspace
    service: SuggestionService
    llm_judge: LLMJudge | None
    manifest: dict[str, Any]
    tau: float
    target: float


def run_eval(
    cfg: RunConfig,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    chat: Any = None,
    judge_chat: Any = None,
    workspace: Workspace | None = None,
) -> RunResult:
    """Run (or resume) a dataset. A set whose knowledge is the workspace's (a replay set) is
    answered from ``workspace``, else from the workspace of ``settings``."""
    run = _set_up(cfg, settings, embedder, chat, judge_chat, workspace)
    folder = cfg.out or new_run_folder(
        settings.data_dir / "evals" / "runs", cfg.dataset, cfg.drafter, name=run.ds.name
    )
    folder.mkdir(parents=True, exist_ok=True)
    done = resume(folder, run.manifest)
    todo = [c for c in run.ds.cases if c.id not in done]
    t0 = time.perf_counter()  # the run time includes the batched query embeddings
    records = _run_cases_into(folder, run, cfg, todo, done, progress)
    seconds = time.perf_counter() - t0
    return _finish(folder, run, cfg, records, todo, seconds)


def _set_up(
    cfg: RunConfig,
    settings: Settings,
    embedder: Embedder | None,
    chat: Any,
    judge_chat: Any,
    workspace: Workspace | None,
) -> _Run:
    """The dataset, its workspace (timed: ``index_build_s``), the service and the manifest."""
    ds = load_dataset(cfg.dataset, limit=cfg.limit)
    t_build = time.perf_counter()
    if ds.workspace:
        ws = workspace or open_workspace(
            settings, embedder=embedder, drafter=None, load_demo_if_empty=False
        )
        emb = ws.kb.embedder
    else:
        emb = embedder or providers.embedder(settings)
        ws = eval_workspace(ds, settings, emb)
    build_s = time.perf_counter() - t_build
    # the store's own policy when the dataset has one (its windows, limits and thresholds)
    policy = Policy.load(ds.policy_file) if ds.policy_file else _app_policy(settings)
    # model calls are logged (and share the model slots) in the workspace's own database,
    # where `souffleur logs` reads them, not in the eval index's
    home = make_engine(settings.db_url)
    # a replay set is answered as the desk answers: with the workspace's confidence model
    confidence = (
        ws.service.confidence if ds.workspace else ConfidenceModel.load(settings.confidence_path)
    )
    today = ds.today or date.today()
    service = SuggestionService(
        ws.kb,
        ws.orders,
        policy=policy,
        drafter=_eval_drafter(cfg, settings, home, chat),
        confidence=confidence,
        today=lambda: today,
        company=settings.company_name,
        intents=ws.service.intents,  # as the settings ask (SOUFFLEUR_INTENT_FEATURES)
    )
    tau = cfg.threshold if cfg.threshold is not None else confidence.threshold
    target = cfg.target_fdr if cfg.target_fdr is not None else policy.settings.target_fdr
    manifest = run_manifest(cfg, ds, settings, service, emb, tau, target)
    if ds.workspace:  # the set has no knowledge files: what it ran on is the workspace's
        manifest["kb_hash"], manifest["orders_hash"] = workspace_hashes(ws)
    llm_judge = None
    if cfg.judge == "llm":
        llm_judge = judge_from_settings(settings, chat=judge_chat, seed=cfg.seed, engine=home)
        manifest["prompt_versions"]["judge"] = llm_judge.template_version
        manifest["judge"] = llm_judge.describe()
    manifest["index_build_s"] = build_s
    return _Run(ds, ws, service, llm_judge, manifest, tau, target)


def _run_cases_into(
    folder: Path,
    run: _Run,
    cfg: RunConfig,
    todo: Sequence[Case],
    done: dict[str, dict[str, Any]],
    progress: Progress | None,
) -> dict[str, dict[str, Any]]:
    """Every result line of the run: the ``done`` ones and each case of ``todo``, appended to
    the results file as it lands."""
    from copilot.pipeline.reading import build_query

    ws = run.ws
    ws.kb.warm([build_query(case_conversation(c)) for c in todo])
    records = dict(done)

    def judged(case: Case) -> CaseResult:
        with calling(case_id=case.id):
            return run_case(case, run.service, ws, owners, run.llm_judge)

    owners = owners_of(ws)
    with (folder / RESULTS).open("a", encoding="utf-8") as fh:
        for rec in run_cases(todo, judged, workers=cfg.workers, timeout_s=cfg.timeout_s):
            records[rec.id] = rec.record()
            fh.write(line_of(records[rec.id]) + "\n")
            fh.flush()
            if progress:
                progress(len(records), len(run.ds.cases))
    return records


def _finish(
    folder: Path,
    run: _Run,
    cfg: RunConfig,
    records: dict[str, dict[str, Any]],
    todo: Sequence[Case],
    seconds: float,
) -> RunResult:
    """The summary, the final manifest and the reports, written in the run folder."""
    ordered = [records[c.id] for c in run.ds.cases if c.id in records]
    summary = summarize(ordered, tau=run.tau, target_fdr=run.target, seed=cfg.seed)
    if run.llm_judge is not None:
        summary.update(judge_summary(ordered))
    summary["run_seconds"] = seconds
    summary["cases_per_second"] = len(todo) / seconds if seconds > 0 and todo else None
    manifest = run.manifest
    manifest["finished_at"] = datetime.now(UTC).isoformat()
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    from evals.report import write_reports

    write_reports(folder, manifest, summary, ordered)
    return RunResult(folder, summary, ordered, manifest, seconds)


def _eval_drafter(cfg: RunConfig, settings: Settings, home: Engine, chat: Any) -> Drafter | None:
    """The LLM drafter of an ``--drafter llm`` run (answers cached on disk), or None."""
    if cfg.drafter != "llm":
        return None

    def cached(model: ChatModel) -> ChatModel:
        return CachingChatModel(
            model,
            settings.data_dir / "evals" / "llm-cache",
            params={"temperature": settings.llm_temperature},
        )

    if chat is not None:
        from copilot.pipeline.llm import LLMDrafter

        return LLMDrafter(cached(chat), mask_pii=settings.masks_pii, company=settings.company_name)
    drafter = providers.llm_drafter(settings, home, around=cached)
    if drafter is None:
        raise ConfigError(
            "--drafter llm needs an endpoint.",
            "Set SOUFFLEUR_LLM_BASE_URL (and SOUFFLEUR_LLM_API_KEY, SOUFFLEUR_LLM_MODEL).",
        )
    return drafter
