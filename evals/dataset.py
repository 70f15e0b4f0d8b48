"""Eval datasets: a folder with ``cases.jsonl``, the knowledge (``kb.jsonl``) and optionally the
order feed (``orders.jsonl``); validated with errors that give the line and the field.

An optional ``dataset.json`` can point to the knowledge and orders elsewhere (the demo eval set
reuses the demo store's articles) and fix the date the cases are evaluated at.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from copilot.types import Channel
from knowledge.errors import SouffleurError

Action = Literal["answer", "answer_partial", "clarify", "escalate"]


class DatasetError(SouffleurError):
    pass


class CaseTurn(BaseModel):
    role: Literal["customer", "agent"]
    text: str


class CustomerContext(BaseModel):
    customer_id: str
    name: str | None = None
    email: str | None = None


class Case(BaseModel):
    id: str = Field(min_length=1)
    lang: str = "en"
    conversation: list[CaseTurn] = Field(min_length=1)
    customer_context: CustomerContext | None = None
    reference_answer: str | None = None
    reference_doc_ids: list[str] = Field(default_factory=list)
    should_escalate: bool = False
    expected_action: Action = "answer"
    group_id: str | None = None
    required_facts: list[str] = Field(default_factory=list)
    forbidden_facts: list[str] = Field(default_factory=list)
    order_facts: dict[str, str] = Field(default_factory=dict)
    reason: str | None = None
    weight: float = Field(1.0, gt=0)
    source: Any = None
    channel: Channel | None = None  # where the customer wrote from (None: web)
    prior_contacts: int = Field(0, ge=0)  # the customer's earlier conversations in the window

    @field_validator("conversation")
    @classmethod
    def _ends_on_customer(cls, turns: list[CaseTurn]) -> list[CaseTurn]:
        if turns[-1].role != "customer":
            raise ValueError("must end on a customer turn (the message to answer)")
        return turns

    @property
    def group(self) -> str:
        return self.group_id or self.id


@dataclass
class Dataset:
    name: str
    path: Path
    cases: list[Case]
    kb_files: list[Path]
    orders_file: Path | None = None
    customers_file: Path | None = None
    policy_file: Path | None = None  # the store's own policy ("policy" in dataset.json)
    today: date | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # "knowledge": "workspace" in dataset.json (a replay set, evals/replay.py): the cases are
    # answered from the workspace's own index, orders and policy, not from files of the set
    workspace: bool = False

    @property
    def cases_hash(self) -> str:
        return _hash_files([self.path / "cases.jsonl"])

    @property
    def kb_hash(self) -> str:
        return _hash_files(self.kb_files)

    @property
    def orders_hash(self) -> str:
        return _hash_files([p for p in (self.orders_file, self.customers_file) if p])

    @property
    def policy_hash(self) -> str | None:
        return _hash_files([self.policy_file]) if self.policy_file else None


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def load_dataset(path: str | Path, *, limit: int | None = None) -> Dataset:
    """Read and validate a dataset folder; :class:`DatasetError` lists every bad line."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(
            f"{root}: is not a folder.", "Pass a dataset folder holding cases.jsonl and kb.jsonl."
        )
    manifest = _manifest(root)
    cases_path = root / "cases.jsonl"
    if not cases_path.exists():
        raise DatasetError(
            f"{root}: has no cases.jsonl.", "Add one case per line (see EVALS.md §0)."
        )
    workspace = manifest.get("knowledge") == "workspace"
    kb_files = [] if workspace else _kb_files(root, manifest)
    if not kb_files and not workspace:
        raise DatasetError(
            f"{root}: has no knowledge (kb.jsonl, or 'kb' in dataset.json).",
            "Add kb.jsonl with one document per line.",
        )
    cases = _cases(cases_path)
    orders = _resolve(root, manifest.get("orders")) or (
        root / "orders.jsonl" if (root / "orders.jsonl").exists() else None
    )
    customers = _resolve(root, manifest.get("customers"))
    return Dataset(
        name=str(manifest.get("name") or root.name),
        path=root,
        cases=cases[:limit] if limit else cases,
        kb_files=kb_files,
        orders_file=orders,
        customers_file=customers,
        policy_file=_resolve(root, manifest.get("policy")),
        today=date.fromisoformat(manifest["today"]) if manifest.get("today") else None,
        meta=manifest,
        workspace=workspace,
    )


def _manifest(root: Path) -> dict[str, Any]:
    """The folder's ``dataset.json`` (none: empty)."""
    if not (root / "dataset.json").exists():
        return {}
    try:
        manifest: dict[str, Any] = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{root / 'dataset.json'}: invalid JSON (line {exc.lineno}: {exc.msg}).",
            "Fix the manifest.",
        ) from exc
    return manifest


def _cases(cases_path: Path) -> list[Case]:
    """Every case of ``cases.jsonl``, validated; :class:`DatasetError` lists every bad line."""
    cases: list[Case] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(cases_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: not valid JSON ({exc.msg})")
            continue
        try:
            case = Case.model_validate(raw)
        except ValidationError as exc:
            for e in exc.errors()[:3]:
                problems.append(
                    f"line {lineno}, {'.'.join(str(x) for x in e['loc']) or 'case'}: {e['msg']}"
                )
            continue
        if case.id in seen:
            problems.append(f"line {lineno}, id: '{case.id}' already used on line {seen[case.id]}")
            continue
        seen[case.id] = lineno
        cases.append(case)
    if problems:
        shown = "; ".join(problems[:12]) + (
            f" (and {len(problems) - 12} more)" if len(problems) > 12 else ""
        )
        raise DatasetError(
            f"{cases_path}: {len(problems)} invalid case(s): {shown}.",
            "Fix these lines; nothing was run.",
        )
    if not cases:
        raise DatasetError(f"{cases_path}: has no cases.", "Add at least one case.")
    return cases


def _resolve(root: Path, rel: str | None) -> Path | None:
    if not rel:
        return None
    p = (root / rel).resolve()
    if not p.exists():
        raise DatasetError(
            f"{root / 'dataset.json'}: '{rel}' does not exist.",
            "Fix the path (relative to the dataset folder).",
        )
    return p


def _kb_files(root: Path, manifest: dict[str, Any]) -> list[Path]:
    kb = _resolve(root, manifest.get("kb"))
    if kb is None:
        return [root / "kb.jsonl"] if (root / "kb.jsonl").exists() else []
    if kb.is_dir():
        from knowledge import supported_extensions

        exts = set(supported_extensions())
        return sorted(p for p in kb.rglob("*") if p.is_file() and p.suffix.lower() in exts)
    return [kb]
