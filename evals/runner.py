"""Run a dataset through the very same suggestion service the app uses, and score it.

The knowledge index is built in an isolated folder (cached by content hash: a second run does
not re-embed), never in the app's data. Cases run with bounded concurrency and a per-case
timeout; results are appended as they come, so an interrupted run resumes where it stopped.
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
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
from copilot.types import Conversation, DraftOptions, Turn
from copilot.workspace import (
    PolicyStore,
    Workspace,
    open_workspace,
)
from evals.cache import CachingChatModel, last_call_cached, reset_cached_flag
from evals.dataset import Case, Dataset, load_dataset
from evals.judge import JudgeInput, facts_found, identifiers, judge_offline, normalise
from evals.llm_judge import LLMJudge, judge_from_settings, judge_summary
from evals.metrics import summarize
from evals.records import RESULTS, CaseResult, line_of, read_results
from knowledge import Customer, Embedder, Order, make_engine
from knowledge.errors import ConfigError

Progress = Callable[[int, int], None]
REPO = Path(__file__).resolve().parents[1]


log = logging.getLogger(__name__)


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


def _manifest(
    cfg: RunConfig,
    ds: Dataset,
    settings: Settings,
    service: SuggestionService,
    embedder: Embedder,
    tau: float,
    target: float,
) -> dict[str, Any]:
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


def _case_conversation(case: Case) -> Conversation:
    ctx = case.customer_context
    return Conversation(
        id=case.id,
        customer_id=ctx.customer_id if ctx else None,
        customer_name=ctx.name if ctx else None,
        channel=case.channel or "web",
        turns=[Turn(role=t.role, text=t.text) for t in case.conversation],
        prior_contacts=case.prior_contacts,
    )


def run_case(
    case: Case,
    service: SuggestionService,
    ws: Workspace,
    owners: dict[str, tuple[str, str]],
    llm_judge: LLMJudge | None = None,
) -> CaseResult:
    reset_cached_flag()
    conv = _case_conversation(case)
    t0 = time.perf_counter()
    s = service.suggest(conv, DraftOptions(ui_lang="en"))
    wall = (time.perf_counter() - t0) * 1000
    snap = ws.kb.retriever.snapshot()
    chunk_texts = {
        p.chunk_id: snap.chunks[snap.row_of[p.chunk_id]].text
        for p in s.retrieved
        if p.chunk_id in snap.row_of
    }
    customer_id = conv.customer_id
    own: list[Order] = ws.orders.orders_of(customer_id) if customer_id else []
    others = {k: label for k, (owner, label) in owners.items() if owner != customer_id}
    v = judge_offline(
        JudgeInput(
            s,
            chunk_texts=chunk_texts,
            own_orders=own,
            other_identifiers=others,
            reference_doc_ids=case.reference_doc_ids,
            required_facts=case.required_facts,
            forbidden_facts=case.forbidden_facts,
            order_facts=case.order_facts,
            reference_answer=case.reference_answer,
            lang=s.language,
            return_window_days=service.policy.settings,
            conversation_text=conv.customer_text,
        )
    )
    ok = None if v.correct is None else bool(v.correct and v.grounded is not False and v.personal)
    rec = CaseResult(
        **_case_fields(case),
        status="scored",
        unscored_reason=None
        if ok is not None or case.should_escalate
        else "no reference documents or required facts to verify correctness",
        retrieved_doc_ids=list(dict.fromkeys(p.doc_id for p in s.retrieved)),
        retrieved_chunk_ids=[p.chunk_id for p in s.retrieved],
        reference_doc_ids=case.reference_doc_ids,
        draft=s.draft,
        citations=[c.model_dump() for c in s.citations],
        escalate=s.escalation.escalate,
        reasons=s.escalation.codes,
        confidence=s.confidence,
        # the model's score before its isotonic map: the harness shows calibration before/after
        confidence_raw=service.confidence.raw(s.features) if s.features else None,
        needs_review=s.needs_review,
        intent=s.intent,
        language=s.language,
        drafter=s.drafter,
        llm_unavailable=s.llm_unavailable,
        notes=s.notes,
        verdicts=v.as_dict(),
        ok=ok,
        timings={**s.timings.model_dump(), "wall_ms": wall},
        usage=s.usage.model_dump(),
        judge_usage={},
        cached=last_call_cached(),
        features=s.features,
        clarify=bool(s.clarify_orders),
        # exactly what an LLM prompt would hold (the offline drafter is given the same)
        context=s.context,
        context_facts_required_ok=facts_found(
            case.order_facts.values(), "\n".join(s.context.get("order_facts", []))
        ),
    )
    if llm_judge is not None:  # after the offline judge: replaces what it judged, counts failures
        llm_judge.apply(rec, s, v, case=case, chunk_texts=chunk_texts, own_orders=own)
    return rec


def _case_fields(case: Case) -> dict[str, Any]:
    """What every result line says about its case (its gold labels)."""
    return {
        "id": case.id,
        "group": case.group,
        "lang": case.lang,
        "expected_action": case.expected_action,
        "should_escalate": case.should_escalate,
        "gold_reason": case.reason,
        "weight": case.weight,
        "question": case.conversation[-1].text,
    }


def _unscored(case: Case, reason: str) -> CaseResult:
    return CaseResult(
        **_case_fields(case),
        status="unscored",
        unscored_reason=reason,
        retrieved_doc_ids=[],
        retrieved_chunk_ids=[],
        reference_doc_ids=case.reference_doc_ids,
        draft="",
        citations=[],
        escalate=True,
        reasons=[],
        confidence=0.0,
        verdicts=None,
        ok=None,
        timings={},
        usage={},
        judge_usage={},
        cached=False,
        features={},
    )


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
    )
    tau = cfg.threshold if cfg.threshold is not None else confidence.threshold
    target = cfg.target_fdr if cfg.target_fdr is not None else policy.settings.target_fdr
    manifest = _manifest(cfg, ds, settings, service, emb, tau, target)
    if ds.workspace:  # the set has no knowledge files: what it ran on is the workspace's
        manifest["kb_hash"], manifest["orders_hash"] = workspace_hashes(ws)
    llm_judge = None
    if cfg.judge == "llm":
        llm_judge = judge_from_settings(settings, chat=judge_chat, seed=cfg.seed, engine=home)
        manifest["prompt_versions"]["judge"] = llm_judge.template_version
        manifest["judge"] = llm_judge.describe()
    manifest["index_build_s"] = build_s

    folder = cfg.out or new_run_folder(
        settings.data_dir / "evals" / "runs", cfg.dataset, cfg.drafter, name=ds.name
    )
    folder.mkdir(parents=True, exist_ok=True)
    done = _resume(folder, manifest)
    todo = [c for c in ds.cases if c.id not in done]
    t0 = time.perf_counter()  # the run time includes the batched query embeddings
    from copilot.pipeline.reading import build_query

    ws.kb.warm([build_query(_case_conversation(c)) for c in todo])
    records = dict(done)

    def judged(case: Case) -> CaseResult:
        with calling(case_id=case.id):
            return run_case(case, service, ws, owners, llm_judge)

    owners = _owners(ws)
    with (folder / RESULTS).open("a", encoding="utf-8") as fh:
        for rec in _run_cases(cfg, todo, judged):
            records[rec.id] = rec.record()
            fh.write(line_of(records[rec.id]) + "\n")
            fh.flush()
            if progress:
                progress(len(records), len(ds.cases))
    seconds = time.perf_counter() - t0
    ordered = [records[c.id] for c in ds.cases if c.id in records]
    summary = summarize(ordered, tau=tau, target_fdr=target, seed=cfg.seed)
    if llm_judge is not None:
        summary.update(judge_summary(ordered))
    summary["run_seconds"] = seconds
    summary["cases_per_second"] = len(todo) / seconds if seconds > 0 and todo else None
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


def _resume(folder: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


def _owners(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Every order and tracking number (and e-mail) of the feed: whose, and a label (the
    judge's leak check)."""
    owners: dict[str, tuple[str, str]] = {}
    for number, customer in ws.orders.all_order_numbers():
        order = ws.orders.order_of(customer, number)
        if order is not None:
            for ident in identifiers(order):
                owners[ident] = (customer, f"{number} of {customer}")
        owners[normalise(number).replace("-", "")] = (customer, f"{number} of {customer}")
    return owners


def _run_cases(
    cfg: RunConfig, todo: Sequence[Case], judged: Callable[[Case], CaseResult]
) -> Iterator[CaseResult]:
    """Each case's result as it lands: ``cfg.workers`` cases in flight, halved each time the
    model times out or is rate-limited (a one-slot server then gets one case at a time instead
    of most of them timing out); a case that fails or runs over ``cfg.timeout_s`` is an
    unscored result, never a lost one."""
    started: dict[str, float] = {}  # case id -> when it began to run (not when queued)
    queue = list(todo)
    limit = max(1, cfg.workers)

    def timed(case: Case) -> CaseResult:
        started[case.id] = time.monotonic()
        return judged(case)

    with ThreadPoolExecutor(max_workers=max(1, cfg.workers)) as pool:
        pending: dict[Future[CaseResult], Case] = {}

        def submit() -> None:
            while queue and len(pending) < limit:
                case = queue.pop(0)
                pending[pool.submit(timed, case)] = case

        submit()
        while pending:
            ready, _ = wait(list(pending), timeout=1.0, return_when=FIRST_COMPLETED)
            now_ = time.monotonic()
            for fut in list(pending):
                case = pending[fut]
                if fut in ready:
                    try:
                        rec = fut.result()
                    except Exception as exc:  # a failing case is counted, never silently dropped
                        rec = _unscored(case, f"error: {exc.__class__.__name__}: {exc}")
                    overloaded = any(
                        n.startswith(("LLM unavailable (timeout", "LLM unavailable (rate_limited"))
                        for n in rec.notes
                    )
                    if overloaded and limit > 1:
                        limit = max(1, limit // 2)
                        log.warning(
                            "the model is overloaded: %d case(s) at once from now on", limit
                        )
                elif now_ - started.get(case.id, now_) > cfg.timeout_s:
                    rec = _unscored(case, f"timeout after {cfg.timeout_s:.0f} s")
                    fut.cancel()
                else:
                    continue
                del pending[fut]
                yield rec
            submit()
