"""One line of a run's ``results.jsonl``, typed: a case's gold labels, what the copilot did with
it, and the judge's verdicts (EVALS.md §0). The runner builds a :class:`CaseResult` per case and
writes it; every reader of a run folder goes through :func:`read_results`, which checks each
line against the model, so a field renamed on one side fails where it is read, with the case
and the field named, instead of as a ``KeyError`` deep in a metric.

The metrics read the checked lines as plain dicts (``Record``): they aggregate thousands of them
and index them by field name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.errors import SouffleurError

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"


class RunFolderError(SouffleurError):
    """A run folder whose results cannot be read."""


class CaseResult(BaseModel):
    """A scored or unscored case. Fields that an unscored case (an error, a timeout) does not
    have are left out of its line (``exclude_unset``), as they always were."""

    # lines written by other versions may carry more: they are kept, never dropped
    model_config = ConfigDict(extra="allow")

    # the case and its gold labels
    id: str
    group: str
    lang: str
    expected_action: str
    should_escalate: bool
    gold_reason: str | None = None
    weight: float = 1.0
    question: str = ""
    # scored, or why not
    status: Literal["scored", "unscored"]
    unscored_reason: str | None = None
    # what the copilot did
    retrieved_doc_ids: list[str]
    retrieved_chunk_ids: list[str]
    reference_doc_ids: list[str]
    draft: str
    citations: list[dict[str, Any]]
    escalate: bool
    reasons: list[str]
    confidence: float
    confidence_raw: float | None = None  # before the isotonic map
    needs_review: bool | None = None
    intent: str | None = None
    language: str | None = None
    drafter: str | None = None
    llm_unavailable: bool = False
    notes: list[str] = []
    clarify: bool = False
    # exactly what an LLM prompt would hold (order facts lines, passages)
    context: dict[str, list[Any]] = {}
    context_facts_required_ok: int | None = None
    features: dict[str, float] = {}
    # the judge
    verdicts: dict[str, Any] | None
    ok: bool | None
    judge_usage: dict[str, Any] = {}
    judge_failures: int | None = None  # LLM judge: questions it could not answer
    # the run
    timings: dict[str, float | None]
    usage: dict[str, Any]
    cached: bool = False

    def record(self) -> dict[str, Any]:
        """The result as the metrics read it: the fields it was given, no others."""
        return self.model_dump(exclude_unset=True)

    def line(self) -> str:
        return line_of(self.record())


def line_of(record: dict[str, Any]) -> str:
    """A result as one line of results.jsonl."""
    return json.dumps(record, ensure_ascii=False)


def read_results(folder: Path, *, torn_ok: bool = False) -> list[dict[str, Any]]:
    """The results of a run folder, each line checked. ``torn_ok`` (resuming a run): a line
    that is not a result (the one a killed run was writing) is left out with a warning, and
    its case runs again, instead of refused."""
    path = folder / RESULTS
    out = []
    for n, line in enumerate(
        path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1
    ):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            if torn_ok:
                log.warning("a torn line in %s is left out: its case runs again", path)
                continue
            raise RunFolderError(
                f"{path}, line {n}: not JSON.", "Run the evaluation again into a new folder."
            ) from None
        try:
            out.append(CaseResult.model_validate(raw).record())
        except ValidationError as exc:
            if torn_ok:
                log.warning("a line of %s that is no result is left out: it runs again", path)
                continue
            where = raw.get("id", f"line {n}") if isinstance(raw, dict) else f"line {n}"
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
            )
            raise RunFolderError(
                f"{path}: case {where} is not a result line ({problems}).",
                "It was written by other code or edited by hand: run the evaluation again.",
            ) from None
    return out
