"""What the LLM judge asks and how it reads the answers: the answer schemas, one question,
the token tally, the prompt templates and how an order is shown to the judge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from copilot.pipeline.llm import (
    Completion,
    Message,
    Prompt,
    load_prompt,
    parse_json,
)
from copilot.pipeline.tokens import cost_usd, count_messages, count_text
from knowledge import Order

TEMPLATES = Path(__file__).parents[1] / "templates"
TEMPLATE_NAMES = ("judge_system", "judge_claim", "judge_correct", "judge_pairwise", "judge_repair")
JUDGE_REPLY_TOKENS = 300
MAX_CONTEXT_ORDERS = 5
OFFLINE = "offline-lexical"

Kind = Literal["claim", "correct", "pairwise"]
FORMATS: dict[str, str] = {
    "claim": '{"verdict": "supported" | "contradicted" | "not_in_context", "supporting_sources": ["S1", ...]}',
    "correct": '{"reason": "<one short sentence>", "verdict": "yes" | "no"}',
    "pairwise": '{"better": "1" | "2" | "tie"}',
}


# ------------------------------------------------------------------------- answer schemas


def _word(value: Any) -> Any:
    return re.sub(r"[\s-]+", "_", value.strip().lower()) if isinstance(value, str) else value


class ClaimAnswer(BaseModel):
    verdict: Literal["supported", "contradicted", "not_in_context"]
    supporting_sources: list[str] = Field(default_factory=list)

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, v: Any) -> Any:
        return _word(v)

    @field_validator("supporting_sources", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [str(x).strip().strip("[]").strip().upper() for x in v]
        return v


class RubricAnswer(BaseModel):
    verdict: Literal["yes", "no"]
    reason: str = ""

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return "yes" if v else "no"
        return _word(v)


class PairwiseAnswer(BaseModel):
    better: Literal["1", "2", "tie"]

    @field_validator("better", mode="before")
    @classmethod
    def _better(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, str):
            w = _word(v).removeprefix("reply_").removeprefix("reply")
            return w.strip("_") or w
        return v


Answer = ClaimAnswer | RubricAnswer | PairwiseAnswer
SCHEMAS: dict[str, type[BaseModel]] = {
    "claim": ClaimAnswer,
    "correct": RubricAnswer,
    "pairwise": PairwiseAnswer,
}


@dataclass(frozen=True)
class Question:
    """One atomic question: the messages sent, and what a valid answer may contain."""

    kind: Kind
    messages: list[Message]
    labels: tuple[str, ...] = ()  # claim questions: the source labels the answer may name

    def parse(self, text: str) -> Answer:
        answer = parse_json(text, SCHEMAS[self.kind])
        assert isinstance(answer, ClaimAnswer | RubricAnswer | PairwiseAnswer)
        if isinstance(answer, ClaimAnswer):
            unknown = [s for s in answer.supporting_sources if s not in self.labels]
            if unknown:
                allowed = ", ".join(self.labels) or "none"
                raise ValueError(
                    f"supporting_sources names {', '.join(unknown)}; allowed labels: {allowed}"
                )
        return answer


def label_of(answer: Answer) -> str:
    """The categorical verdict of an answer (for agreement counts)."""
    if isinstance(answer, ClaimAnswer | RubricAnswer):
        return answer.verdict
    return answer.better


# ------------------------------------------------------------------------- usage


@dataclass
class Tally:
    """Judge tokens and cost (API-reported when the server says, else tiktoken estimates)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0

    def add(self, c: Completion, messages: list[Message], model: str, cached: bool) -> None:
        name = c.model or model
        if c.prompt_tokens is not None and c.completion_tokens is not None:
            p, o = c.prompt_tokens, c.completion_tokens
        else:
            p, o = count_messages(messages, name), count_text(c.text, name)
            self.estimated = True
        self.prompt_tokens += p
        self.completion_tokens += o
        self.cost_usd += cost_usd(name, p, o)
        self.calls += 1
        self.cached_calls += int(cached)

    def merge(self, other: Tally) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.estimated = self.estimated or other.estimated
        self.cost_usd += other.cost_usd
        self.calls += other.calls
        self.cached_calls += other.cached_calls

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "estimated": self.estimated,
            "cost_usd": self.cost_usd,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
        }


@dataclass
class Asked:
    answer: Answer | None
    error: str | None
    tally: Tally


# ------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class JudgeTemplates:
    system: Prompt
    claim: Prompt
    correct: Prompt
    pairwise: Prompt
    repair: Prompt

    @classmethod
    def load(cls, folder: Path = TEMPLATES) -> JudgeTemplates:
        return cls(*(load_prompt(name, folder) for name in TEMPLATE_NAMES))

    @property
    def version(self) -> str:
        return "+".join(
            p.version for p in (self.system, self.claim, self.correct, self.pairwise, self.repair)
        )


def order_record(o: Order) -> str:
    """One order as the judge reads it."""
    lines = [
        f"order {o.order_number} of {o.customer_name} ({o.email})",
        f"status: {o.status.replace('_', ' ')}",
        f"placed on: {o.created_at.date().isoformat()}",
    ]
    if o.total is not None:
        lines.append(f"total: {o.total:.2f} {o.currency}")
    if o.carrier:
        lines.append(f"carrier: {o.carrier}")
    if o.tracking_number:
        lines.append(f"tracking number: {o.tracking_number}")
    if o.estimated_delivery:
        lines.append(f"estimated delivery: {o.estimated_delivery.isoformat()}")
    if o.delivered_at:
        lines.append(f"delivered on: {o.delivered_at.date().isoformat()}")
    for i in o.items:
        price = f" at {i.unit_price:.2f} {o.currency}" if i.unit_price is not None else ""
        lines.append(f"item: {i.quantity} x {i.name} ({i.sku}){price}")
    return "\n".join(lines)
