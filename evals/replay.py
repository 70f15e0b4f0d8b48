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
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, get_args

import numpy as np
import sqlalchemy as sa

from copilot.config import Settings
from copilot.desk.store import (
    LIGHT_EDIT,
    ConversationRecord,
    ConversationStore,
    Message,
    conversations,
    edit_ratio,
)
from copilot.pipeline.pii import PLACEHOLDER, Masker, unnumbered
from copilot.types import Channel
from copilot.workspace import PolicyStore, Workspace
from evals.dataset import Case, CaseTurn, CustomerContext, DatasetError
from evals.judge import atomic_facts
from evals.metrics import prf
from evals.report import fmt, jsonable
from evals.runner import Progress, RunConfig, RunResult, new_run_folder, run_eval
from evals.stats import Estimate, bootstrap, mean, percentile, ratio, wilson
from knowledge import Embedder, OrderBook, detect_language, make_engine

MIN_CASES = 10  # fewer agent replies say nothing a reader could trust
TEST_PERCENT = 30  # without a split date: the latest 30 % of the cases (rounded up) are tested
# the feedback outcome ConversationStore.escalate records (the only way a conversation is
# escalated: with the conversation's status, it writes this row, which says when)
ESCALATED = "escalated"
REPORT = "replay.json"
CHANNELS = frozenset(get_args(Channel))


class ReplayError(DatasetError):
    """The conversation store cannot make a replay set."""


@dataclass
class _Point:
    """One agent action after customer messages: the turns before it, the reply (None: the
    agent escalated without replying), when, and the desk's feedback outcome on the reply."""

    turns: list[Message]
    reply: Message | None
    at: datetime
    outcome: str | None
    escalated: bool = False


@dataclass(frozen=True)
class ReplayCase:
    case: Case
    at: datetime  # when the agent replied (or escalated)
    conversation_id: str
    outcome: str | None  # the desk's feedback on the reply; None: no draft was recorded


@dataclass(frozen=True)
class History:
    """What the store holds for the bench."""

    cases: int
    replies: int  # cases with an agent reply (the others: escalated without one)
    escalated: int  # cases the agent escalated (with or without a reply)
    conversations: int


@dataclass
class ReplayResult:
    folder: Path  # the run folder: the set (set/train, set/test), the harness files, replay.json
    report: dict[str, Any]
    run: RunResult
    train: list[ReplayCase] = field(default_factory=list)
    test: list[ReplayCase] = field(default_factory=list)


# -- the store's history -------------------------------------------------------------
def _all_conversations(store: ConversationStore) -> list[ConversationRecord]:
    with store.engine.connect() as conn:
        statuses = list(conn.execute(sa.select(conversations.c.status).distinct()).scalars())
    return store.inbox(statuses=statuses) if statuses else []


def _points(rec: ConversationRecord, feedback: Sequence[dict[str, Any]]) -> list[_Point]:
    """The agent's actions in one conversation that answer customer messages, in order."""
    sends = deque(r for r in feedback if r["sent_text"])  # replies posted from the desk
    escalations = deque(sorted(r["created_at"] for r in feedback if r["outcome"] == ESCALATED))
    points: list[_Point] = []
    turns: list[Message] = []
    waiting = False  # customer messages since the agent last acted
    last: _Point | None = None  # the latest point, until the customer writes again

    def escalations_until(t: datetime | None) -> None:
        nonlocal waiting, last
        while escalations and (t is None or escalations[0] <= t):
            at = escalations.popleft()
            if waiting:  # escalated instead of replying
                last = _Point(list(turns), None, at, ESCALATED, escalated=True)
                points.append(last)
                waiting = False
            elif last is not None:  # replied, then escalated
                last.escalated = True

    for m in rec.messages:
        escalations_until(m.created_at)
        if m.role == "customer":
            turns.append(m)
            waiting, last = True, None
        elif m.role == "agent":
            outcome = None
            if sends and sends[0]["sent_text"] == m.text:
                outcome = str(sends.popleft()["outcome"])
            if waiting:
                last = _Point(list(turns), m, m.created_at, outcome)
                points.append(last)
                waiting = False
            turns.append(m)
    escalations_until(None)
    return points


def _feedback_by_conversation(store: ConversationStore) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.feedback_rows():
        out[row["conversation_id"]].append(row)
    return out


def history(store: ConversationStore) -> History:
    """How many cases the store's conversations make (no masking: cheap enough for a page)."""
    feedback = _feedback_by_conversation(store)
    points = [
        (rec.id, p) for rec in _all_conversations(store) for p in _points(rec, feedback[rec.id])
    ]
    return History(
        cases=len(points),
        replies=sum(1 for _, p in points if p.reply is not None),
        escalated=sum(1 for _, p in points if p.escalated),
        conversations=len({cid for cid, _ in points}),
    )


def customer_names(orders: OrderBook) -> Callable[[str | None], list[str]]:
    """The names to mask for a customer id (from the order feed's customer records)."""

    def names(customer_id: str | None) -> list[str]:
        customer = orders.customer(customer_id) if customer_id else None
        return [customer.name] if customer and customer.name else []

    return names


def history_cases(
    store: ConversationStore, orders: OrderBook, *, window_days: int = 7
) -> list[ReplayCase]:
    """Every case of the store, personal data masked, oldest first. Each case counts, as the
    desk did, the customer's other conversations opened in the ``window_days`` before it."""
    feedback = _feedback_by_conversation(store)
    names = customer_names(orders)
    out: list[ReplayCase] = []
    records = _all_conversations(store)
    opened: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for rec in records:
        if rec.customer_id:
            opened[rec.customer_id].append((rec.created_at, rec.id))
    window = timedelta(days=window_days)
    for rec in records:
        points = _points(rec, feedback[rec.id])
        if not points:
            continue
        masker = Masker.for_names(names(rec.customer_id))
        masked = {
            m.id: masker.mask(m.text) for m in rec.messages if m.role in ("customer", "agent")
        }
        for k, p in enumerate(points, start=1):
            question = masked[p.turns[-1].id]
            case = Case(
                id=f"{rec.id}-{k}",
                lang=detect_language(question)[0],
                conversation=[CaseTurn(role=m.role, text=masked[m.id]) for m in p.turns],
                customer_context=CustomerContext(customer_id=rec.customer_id)
                if rec.customer_id
                else None,
                channel=rec.channel if rec.channel in CHANNELS else None,
                reference_answer=masked[p.reply.id] if p.reply else None,
                should_escalate=p.escalated,
                expected_action="escalate" if p.escalated else "answer",
                group_id=rec.id,
                prior_contacts=sum(
                    1
                    for when, other in opened.get(rec.customer_id or "", [])
                    if other != rec.id and p.at - window <= when <= p.at
                ),
                source={
                    "conversation_id": rec.id,
                    "at": p.at.isoformat(),
                    "desk_outcome": p.outcome,
                    "replied": p.reply is not None,
                },
            )
            out.append(ReplayCase(case, p.at, rec.id, p.outcome))
    return sorted(out, key=lambda c: (c.at, c.case.id))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def not_enough(found: History, needed: int) -> ReplayError:
    return ReplayError(
        f"The conversation store has {_count(found.cases, 'agent reply', 'agent replies')} "
        f"to replay ({found.replies} sent, {found.escalated} escalated, in {found.conversations} "
        f"conversations); the replay bench needs at least {needed}.",
        "Answer or escalate more conversations on the agent desk first, or lower the minimum "
        "(souffleur eval replay --min-cases N; figures on a few cases are only indicative).",
    )


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


# -- the comparison ------------------------------------------------------------------
def facts(text: str) -> frozenset[str]:
    """Order numbers, amounts, dates, durations and other numbers a reply states (the offline
    judge's atomic facts), placeholders left out."""
    return atomic_facts(PLACEHOLDER.sub(" ", text))


def compare(
    cases: Sequence[ReplayCase],
    records: Sequence[dict[str, Any]],
    names: Callable[[str | None], list[str]],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """How the copilot's drafts (``records`` of the harness) compare with the agents' actions."""
    by_id = {r["id"]: r for r in records}
    rows: list[dict[str, Any]] = []
    for rc in cases:
        case, r = rc.case, by_id.get(rc.case.id)
        row: dict[str, Any] = {
            "id": case.id,
            "conversation_id": rc.conversation_id,
            "at": rc.at.isoformat(),
            "desk_outcome": rc.outcome,
            "agent_escalated": case.should_escalate,
            "reference": case.reference_answer,
            "scored": r is not None and r.get("status") == "scored",
        }
        if not row["scored"]:
            row["unscored_reason"] = (r or {}).get("unscored_reason") or "not run"
            rows.append(row)
            continue
        assert r is not None
        ctx = case.customer_context
        draft = Masker.for_names(names(ctx.customer_id if ctx else None)).mask(r["draft"])
        row |= {
            "draft": draft,
            "copilot_escalated": bool(r["escalate"]),
            "reasons": r.get("reasons") or [],
        }
        if case.reference_answer is not None:
            agent_facts, draft_facts = facts(case.reference_answer), facts(draft)
            row |= {
                "edit_distance": edit_ratio(unnumbered(draft), unnumbered(case.reference_answer)),
                "agent_facts": sorted(agent_facts),
                "facts_in_draft": sorted(agent_facts & draft_facts),
            }
        rows.append(row)
    return summarize(rows, seed=seed)


def _clustered(
    values: Sequence[Any],
    statistic: Callable[[np.ndarray], float | None],
    groups: list[str],
    seed: int,
) -> Estimate:
    """The statistic with a cluster bootstrap interval by conversation (replies of one
    conversation are not independent); a single conversation gives no interval."""
    est = bootstrap(values, statistic, groups=groups, seed=seed)
    if len(set(groups)) < 2:
        return Estimate(est.value, None, None, est.n, "one conversation: no interval")
    return est


def summarize(rows: Sequence[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    scored = [r for r in rows if r["scored"]]
    replied = [r for r in scored if "edit_distance" in r]
    distances = [r["edit_distance"] for r in replied]
    groups = [r["conversation_id"] for r in replied]
    with_facts = [r for r in replied if r["agent_facts"]]
    by_outcome: dict[str, list[float]] = defaultdict(list)
    for r in replied:
        by_outcome[r["desk_outcome"] or "none"].append(r["edit_distance"])
    agent = [r["agent_escalated"] for r in scored]
    copilot = [r["copilot_escalated"] for r in scored]
    tp = sum(1 for a, c in zip(agent, copilot, strict=True) if a and c)
    fp = sum(1 for a, c in zip(agent, copilot, strict=True) if c and not a)
    fn = sum(1 for a, c in zip(agent, copilot, strict=True) if a and not c)
    tn = len(scored) - tp - fp - fn
    return {
        "cases": len(rows),
        "scored": len(scored),
        "unscored": len(rows) - len(scored),
        "replies": len(replied),
        "escalated_without_reply": sum(1 for r in scored if "edit_distance" not in r),
        "edit_distance": _clustered(distances, mean, groups, seed),
        "edit_distance_median": percentile(distances, 50),
        "identical": wilson(sum(1 for d in distances if d == 0), len(distances)),
        "light_edit": wilson(sum(1 for d in distances if d < LIGHT_EDIT), len(distances)),
        "light_edit_limit": LIGHT_EDIT,
        "edit_distance_by_desk_outcome": {
            k: {"n": len(v), "mean": float(np.mean(v))} for k, v in sorted(by_outcome.items())
        },
        "facts": {
            "agent_facts": sum(len(r["agent_facts"]) for r in replied),
            "in_draft": sum(len(r["facts_in_draft"]) for r in replied),
            "rate": _clustered(
                [[len(r["facts_in_draft"]), len(r["agent_facts"])] for r in with_facts],
                ratio,
                [r["conversation_id"] for r in with_facts],
                seed,
            ),
            "replies_with_facts": len(with_facts),
            "replies_with_every_fact": wilson(
                sum(1 for r in with_facts if len(r["facts_in_draft"]) == len(r["agent_facts"])),
                len(with_facts),
            ),
        },
        "escalation": {
            "n": len(scored),
            "agreement": wilson(tp + tn, len(scored)),
            "tn": tn,
            **prf(tp, fp, fn),
        },
        "rows": list(rows),
    }


# -- running it ----------------------------------------------------------------------
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
    engine = workspace.engine if workspace is not None else make_engine(settings.db_url)
    store = ConversationStore(engine)
    orders = workspace.orders if workspace is not None else OrderBook(engine)
    policy = (
        workspace.service.policy
        if workspace is not None
        else PolicyStore(engine, settings.policy_path).current()
    )
    cases = history_cases(store, orders, window_days=policy.settings.repeated_contact_window_days)
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


def report_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The report as (figure, value) rows: the CLI's table and the app's."""
    s, f, e = r["split"], r["facts"], r["escalation"]
    rows = [
        (
            "Replay cases: all (train / test)",
            f"{s['train'] + s['test']} ({s['train']} / {s['test']}); test = {s['rule']}, "
            f"{s['test_from'][:16].replace('T', ' ')} to {s['test_until'][:16].replace('T', ' ')}",
        ),
        (
            "Test cases compared",
            f"{_count(r['replies'], 'agent reply', 'agent replies')}, "
            f"{_count(r['escalated_without_reply'], 'escalation', 'escalations')} without a reply; "
            f"{r['unscored']} unscored",
        ),
        (
            "Edit distance, draft → agent's reply (0 = sent as drafted)",
            f"mean {fmt(r['edit_distance'], False)}; median "
            + ("n/a" if r["edit_distance_median"] is None else f"{r['edit_distance_median']:.3f}"),
        ),
        ("Drafts identical to the agent's reply", fmt(r["identical"])),
        (
            f"Drafts within a light edit (distance < {r['light_edit_limit']:.2f})",
            fmt(r["light_edit"]),
        ),
    ]
    by = r["edit_distance_by_desk_outcome"]
    if by:
        rows.append(
            (
                "Edit distance by the desk's outcome (mean, n)",
                "; ".join(
                    f"{k if k != 'none' else 'no draft recorded'} {v['mean']:.3f} ({v['n']})"
                    for k, v in by.items()
                ),
            )
        )
    rows += [
        (
            "Facts of the agent's reply in the draft (order numbers, amounts, dates, durations)",
            f"{f['in_draft']}/{f['agent_facts']} = {fmt(f['rate'])}; replies with every fact "
            f"{fmt(f['replies_with_every_fact'])} of {f['replies_with_facts']}",
        ),
        ("Escalation agreement (copilot vs agent)", fmt(e["agreement"])),
        (
            "Copilot escalation against the agent's: precision / recall",
            f"{fmt(e['precision'])} / {fmt(e['recall'])}; tp {e['tp']}, fp {e['fp']}, "
            f"fn {e['fn']}, tn {e['tn']}",
        ),
    ]
    return rows
