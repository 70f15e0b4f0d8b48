"""The replay bench: an eval set made from the workspace's own past conversations, and how the
copilot's drafts compare with what the agents actually sent.

Each agent action that follows one or more customer messages is a case: the conversation up to
the last of those messages is the input, the agent's reply the reference answer, and whether
the agent escalated there (the desk's feedback row of the escalation) the label. The
customer id and channel are kept, so order facts resolve; personal data is masked with
:class:`copilot.pipeline.pii.Masker`, one per conversation (a value keeps its placeholder in every turn).
Cases before the split date make the train half, the others the test half (by default the last
:data:`TEST_PERCENT` % by time). Both halves are ordinary dataset folders whose manifest says
``"knowledge": "workspace"``: the harness answers them from the workspace's own index, orders
and policy, as the desk does (nothing is exported or re-embedded). The test half runs through
:func:`evals.runner.run_eval`; ``replay.json`` in the run folder compares each draft with the
agent's reply: edit distance (masked both sides), the reply's facts found in the draft, and
escalation agreement.

The cases come from :mod:`evals.replay_history`, the comparison from :mod:`evals.replay_compare`;
their names are importable from here as well.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from copilot.config import Settings
from copilot.desk.accounts import Accounts
from copilot.desk.store import ConversationStore
from copilot.pipeline.escalation import Policy
from copilot.workspace import PolicyStore, Workspace
from evals.replay_compare import compare, facts, report_rows, summarize
from evals.replay_history import (
    CHANNELS,
    ESCALATED,
    History,
    ReplayCase,
    ReplayError,
    customer_names,
    history,
    history_cases,
    not_enough,
)
from evals.report import jsonable
from evals.runner import Progress, RunConfig, RunResult, new_run_folder, run_eval
from evals.stats import Estimate
from knowledge import Embedder, OrderBook, make_engine

__all__ = [
    "CHANNELS",
    "ESCALATED",
    "MIN_CASES",
    "REPORT",
    "TEST_PERCENT",
    "History",
    "ReplayCase",
    "ReplayError",
    "ReplayResult",
    "compare",
    "customer_names",
    "facts",
    "history",
    "history_cases",
    "load_report",
    "not_enough",
    "report_rows",
    "run_replay",
    "split",
    "summarize",
    "write_set",
]

MIN_CASES = 10  # fewer agent replies say nothing a reader could trust
TEST_PERCENT = 30  # without a split date: the latest 30 % of the cases (rounded up) are tested
REPORT = "replay.json"


@dataclass
class ReplayResult:
    folder: Path  # the run folder: the set (set/train, set/test), the harness files, replay.json
    report: dict[str, Any]
    run: RunResult
    train: list[ReplayCase] = field(default_factory=list)
    test: list[ReplayCase] = field(default_factory=list)


def split(
    cases: Sequence[ReplayCase], at: date | datetime | None = None
) -> tuple[list[ReplayCase], list[ReplayCase]]:
    """(train, test): the cases before ``at`` (a day starts at midnight UTC) and those on or
    after it; without it, the latest :data:`TEST_PERCENT` % of the cases, rounded up."""
    ordered = sorted(cases, key=lambda c: (c.at, c.case.id))
    if at is None:
        n_train = len(ordered) - -(-len(ordered) * TEST_PERCENT // 100)
        return ordered[:n_train], ordered[n_train:]
    cut = at if isinstance(at, datetime) else datetime.combine(at, time.min, tzinfo=UTC)
    return [c for c in ordered if c.at < cut], [c for c in ordered if c.at >= cut]


def write_set(folder: Path, cases: Sequence[ReplayCase], *, half: str, built_at: datetime) -> Path:
    """An ordinary dataset folder (dataset.json + cases.jsonl) answered from the workspace."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": f"replay-{half}",
        "knowledge": "workspace",
        # evaluated as of its latest reply (order facts are read as they are now, though)
        "today": max(c.at for c in cases).date().isoformat(),
        "built_at": built_at.isoformat(),
        "description": f"The {half} half of the replay bench: {len(cases)} agent replies from "
        "the workspace's own conversations (personal data masked); reference answer = what "
        "the agent sent, label = whether the agent escalated.",
    }
    (folder / "dataset.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (folder / "cases.jsonl").write_text(
        "".join(c.case.model_dump_json(exclude_none=True) + "\n" for c in cases), encoding="utf-8"
    )
    return folder


def run_replay(
    settings: Settings,
    *,
    split_date: date | datetime | None = None,
    out: Path | None = None,
    drafter: str = "offline",
    min_cases: int | None = None,
    seed: int = 0,
    workspace: Workspace | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    chat: Any = None,
) -> ReplayResult:
    """Build the set from the store, run its test half, and write ``replay.json`` beside the
    harness's report in the run folder (``out``, or a new one under the data directory).
    Fewer cases than ``min_cases`` (default :data:`MIN_CASES`) raise :class:`ReplayError`."""
    store, orders, policy = _desk(settings, workspace)
    cases = history_cases(
        store,
        orders,
        window_days=policy.settings.repeated_contact_window_days,
        agent_names=_agent_names(store.engine),
    )
    train, test = _halves(cases, store, split_date, min_cases)
    built_at = datetime.now(UTC)
    folder = out or new_run_folder(
        settings.data_dir / "evals" / "runs", Path(), drafter, name="replay"
    )
    folder.mkdir(parents=True, exist_ok=True)
    halves = {"train": train, "test": test}
    paths = {
        half: str(write_set(folder / "set" / half, rows, half=half, built_at=built_at))
        for half, rows in halves.items()
        if rows
    }
    run = run_eval(
        RunConfig(dataset=Path(paths["test"]), drafter=drafter, seed=seed, out=folder),
        settings,
        embedder=embedder,
        progress=progress,
        chat=chat,
        workspace=workspace,
    )
    report = compare(test, run.records, customer_names(orders), seed=seed)
    report["split"] = _split_report(train, test, split_date)
    report["history"] = asdict(history(store))
    report["sets"] = paths
    report["drafter"] = drafter
    report["built_at"] = built_at.isoformat()
    (folder / REPORT).write_text(
        json.dumps(jsonable(report), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return ReplayResult(folder, report, run, train, test)


def _desk(
    settings: Settings, workspace: Workspace | None
) -> tuple[ConversationStore, OrderBook, Policy]:
    """The conversation store, the order book and the policy of the desk being replayed."""
    engine = workspace.engine if workspace is not None else make_engine(settings.db_url)
    store = ConversationStore(engine)
    orders = workspace.orders if workspace is not None else OrderBook(engine)
    policy = (
        workspace.service.policy
        if workspace is not None
        else PolicyStore(engine, settings.policy_path).current()
    )
    return store, orders, policy


def _agent_names(engine: Engine) -> list[str]:
    """The names and user names of the desk's accounts (masked in the replies they signed)."""
    users = Accounts(engine).users().values()
    return [n for u in users for n in (u.name, u.username) if n]


def _halves(
    cases: list[ReplayCase],
    store: ConversationStore,
    split_date: date | datetime | None,
    min_cases: int | None,
) -> tuple[list[ReplayCase], list[ReplayCase]]:
    """(train, test) of the cases; too few cases, or none to test, raise :class:`ReplayError`."""
    needed = MIN_CASES if min_cases is None else max(1, min_cases)
    if len(cases) < needed:
        raise not_enough(history(store), needed)
    train, test = split(cases, split_date)
    if not test:
        raise ReplayError(
            f"No agent reply on or after {split_date}: the {len(cases)} replies run from "
            f"{cases[0].at:%Y-%m-%d} to {cases[-1].at:%Y-%m-%d}.",
            "Pick a split date within that range, or leave it out (the latest "
            f"{TEST_PERCENT} % of the replies are then the test half).",
        )
    return train, test


def _split_report(
    train: Sequence[ReplayCase], test: Sequence[ReplayCase], at: date | datetime | None
) -> dict[str, Any]:
    """How the cases were split, for the report (``test`` is never empty)."""
    return {
        "at": at.isoformat() if at else None,
        "rule": f"replies on or after {at:%Y-%m-%d %H:%M} UTC"
        if at
        else f"the latest {TEST_PERCENT} % of the replies by time",
        "train": len(train),
        "test": len(test),
        "train_until": train[-1].at.isoformat() if train else None,
        "test_from": test[0].at.isoformat(),
        "test_until": test[-1].at.isoformat(),
    }


def load_report(folder: Path) -> dict[str, Any]:
    """A run folder's ``replay.json``, its intervals as :class:`Estimate` again."""
    raw = json.loads((folder / REPORT).read_text(encoding="utf-8"))

    def back(v: Any) -> Any:
        if isinstance(v, dict) and {"value", "low", "high", "n"} <= set(v):
            return Estimate(v["value"], v["low"], v["high"], v["n"], v.get("method", ""))
        if isinstance(v, dict):
            return {k: back(x) for k, x in v.items()}
        return v

    return {k: back(v) for k, v in raw.items()}
