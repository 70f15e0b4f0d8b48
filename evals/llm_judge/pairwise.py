"""Two drafts for one case, judged in both orders: a win counts only when both agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from copilot.pipeline.pii import Masker
from evals.facts import normalise
from evals.llm_judge.questions import PairwiseAnswer, Tally
from evals.llm_judge.verdicts import LLMJudge

# ------------------------------------------------------------------------- pairwise


@dataclass
class PairwiseResult:
    """``winner``: "a", "b", "tie", or None when the judge failed (counted, not a tie)."""

    winner: Literal["a", "b", "tie"] | None
    first: str | None  # the verdict with A shown first, as a/b/tie
    second: str | None  # the verdict with B shown first, mapped back to a/b/tie
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def consistent(self) -> bool:
        return self.first is not None and self.first == self.second


def pairwise(
    judge: LLMJudge,
    *,
    conversation: str,
    draft_a: str,
    draft_b: str,
    reference: str | None = None,
) -> PairwiseResult:
    """Compare two drafts for one case in both orders; a win counts only when both orders
    agree, anything else is a tie (position bias, EVALS.md §1.12)."""
    if normalise(draft_a) == normalise(draft_b):
        return PairwiseResult("tie", "tie", "tie", usage=Tally().as_dict())
    masker = Masker() if judge.mask_pii else None
    tally = Tally()
    verdicts: list[str | None] = []
    errors: list[str] = []
    for one, two, as_ in ((draft_a, draft_b, "ab"), (draft_b, draft_a, "ba")):
        asked = judge.ask(judge.pairwise_question(conversation, one, two, reference, masker))
        tally.merge(asked.tally)
        if isinstance(asked.answer, PairwiseAnswer):
            b = asked.answer.better
            verdicts.append("tie" if b == "tie" else as_[int(b) - 1])
        else:
            verdicts.append(None)
            errors.append(asked.error or "no answer")
    first, second = verdicts
    winner: Literal["a", "b", "tie"] | None
    if first is None or second is None:
        winner = None
    elif first == second and first in ("a", "b"):
        winner = "a" if first == "a" else "b"
    else:
        winner = "tie"
    return PairwiseResult(winner, first, second, len(errors), errors, tally.as_dict())


def pairwise_counts(results: Sequence[PairwiseResult]) -> dict[str, int]:
    """Wins of A and B, ties (of which: orders that disagreed), and failures (not ties)."""
    return {
        "n": len(results),
        "a_wins": sum(1 for r in results if r.winner == "a"),
        "b_wins": sum(1 for r in results if r.winner == "b"),
        "ties": sum(1 for r in results if r.winner == "tie"),
        "order_disagreements": sum(
            1 for r in results if r.winner is not None and r.first != r.second
        ),
        "judge_failures": sum(1 for r in results if r.winner is None),
    }


def pairwise_runs(
    judge: LLMJudge,
    records_a: Sequence[dict[str, Any]],
    records_b: Sequence[dict[str, Any]],
    *,
    references: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Pairwise verdicts for the cases two runs share (by case id; both scored, both drafted)."""
    by_id = {r["id"]: r for r in records_b if r.get("status") == "scored" and r.get("draft")}
    cases = []
    results = []
    for ra in records_a:
        rb = by_id.get(ra["id"])
        if rb is None or ra.get("status") != "scored" or not ra.get("draft"):
            continue
        res = pairwise(
            judge,
            conversation=ra.get("question", ""),
            draft_a=ra["draft"],
            draft_b=rb["draft"],
            reference=(references or {}).get(ra["id"]),
        )
        results.append(res)
        cases.append(
            {"id": ra["id"], "winner": res.winner, "first": res.first, "second": res.second}
        )
    return {"counts": pairwise_counts(results), "cases": cases}
