"""What the offline judge is given about one draft (:class:`JudgeInput`) and what it says about
it (:class:`Verdicts`): the record every evaluator of :mod:`evals.judge` reads and fills."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from copilot.pipeline.escalation import PolicySettings
from copilot.types import Suggestion
from evals.facts import normalise, order_text
from knowledge import Order


@dataclass
class Verdicts:
    judge: str = "offline-lexical"
    claims: int = 0
    supported: int = 0
    citations: int = 0
    citations_supporting: int = 0
    claims_supported_by_citation: int = 0
    unsupported: list[str] = field(default_factory=list)
    grounded: bool | None = None
    correct: bool | None = None
    correct_basis: str = "none"
    required_found: int = 0
    required_total: int = 0
    forbidden_found: list[str] = field(default_factory=list)
    facts_stated: int = 0
    facts_correct: int = 0
    facts_required: int = 0
    facts_required_ok: int = 0
    personal: bool = True
    leaks: list[str] = field(default_factory=list)
    token_f1: float | None = None
    rouge_l: float | None = None
    draft_words: int | None = None

    @property
    def faithfulness(self) -> float | None:
        return self.supported / self.claims if self.claims else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["faithfulness"] = self.faithfulness
        return d


@dataclass(frozen=True)
class JudgeInput:
    """One draft and what it is judged against. ``other_identifiers`` maps other customers'
    order/tracking numbers and e-mails (normalised) to a label, for the leak check."""

    suggestion: Suggestion
    chunk_texts: dict[str, str]
    own_orders: Sequence[Order]
    other_identifiers: dict[str, str]
    reference_doc_ids: Sequence[str]
    required_facts: Sequence[str]
    forbidden_facts: Sequence[str]
    order_facts: dict[str, str]
    reference_answer: str | None
    lang: str
    conversation_text: str = ""
    return_window_days: int | PolicySettings | None = None

    @cached_property
    def norm_draft(self) -> str:
        return normalise(self.suggestion.draft)

    @cached_property
    def order_texts(self) -> dict[str, str]:
        """Each own order as the judge reads it (its record, with the return window)."""
        return {o.order_number: order_text(o, self.return_window_days) for o in self.own_orders}
