"""The drafter seam: a :class:`DraftRequest` in, a :class:`DraftResult` out.

Two implementations: :class:`copilot.pipeline.offline.OfflineDrafter` (deterministic, instant, the
default) and :class:`copilot.pipeline.llm.LLMDrafter` (any OpenAI-compatible endpoint through LangChain).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from copilot.pipeline.escalation import Policy
from copilot.pipeline.orderfacts import OrderFacts
from copilot.pipeline.reading import Reading
from copilot.types import Channel, Citation, Conversation, DraftOptions, Usage
from knowledge import Hit, Order

# Receives the reply text so far while an LLM streams it.
OnDelta = Callable[[str], None]

CHANNEL_LIMITS: dict[str, int] = {
    "sms": 320,
    "whatsapp": 900,
    "messenger": 900,
    "web": 1200,
    "email": 3000,
}


@dataclass(frozen=True)
class Passage:
    ref: str  # "P1": how the prompt and the citations name it
    hit: Hit


@dataclass
class DraftRequest:
    conversation: Conversation
    reading: Reading
    options: DraftOptions
    policy: Policy
    customer_name: str | None
    passages: list[Passage]
    order_facts: list[OrderFacts]
    foreign_orders: tuple[str, ...] = ()
    unknown_orders: tuple[str, ...] = ()
    handoff: tuple[str, ...] = ()  # hard escalation codes already decided by the policy
    refund_amount: float | None = None
    channel: Channel = "web"
    # IDF of the query's terms in the knowledge base: a sentence that shares only the words
    # every article uses ("commande", "order") is not about the question
    term_weights: dict[str, float] | None = None
    # several of the customer's orders fit and nothing tells them apart: ask which one
    ask_between: tuple[Order, ...] = ()
    # the customer's first message does not say what it is about: ask what they mean
    ask_details: bool = False

    @property
    def char_limit(self) -> int:
        limit = CHANNEL_LIMITS.get(self.channel, 1200)
        return limit // 2 if self.options.length == "shorter" else limit


@dataclass
class DraftResult:
    text: str
    citations: list[Citation]
    escalate: bool = False
    reasons: list[str] = field(default_factory=list)
    confidence: float | None = None  # the model's own, when it gives one
    answerable: bool | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = "offline"
    prompt_version: str = ""  # each drafter says which version of itself wrote the text
    ttft_ms: float | None = None
    notes: list[str] = field(default_factory=list)


class Drafter(Protocol):
    name: str

    @property
    def prompt_version(self) -> str:
        """Which version of its prompts (or code) wrote a draft."""
        ...

    @property
    def system_prompt(self) -> str:
        """Instructions a draft must never repeat to the customer ("" for none)."""
        ...

    def draft(self, req: DraftRequest, on_delta: OnDelta | None = None) -> DraftResult: ...


def first_name(full: str | None) -> str:
    return (full or "").strip().split(" ")[0] if full else ""


def order_fact_lines(req: DraftRequest, escape: Callable[[str], str] = lambda s: s) -> list[str]:
    """The ORDER FACTS section of the prompt, one line each, with ``escape`` (masking and
    defanging) applied to every piece of order data. The eval records the same lines (with no
    escaping) as the context an LLM would receive, for the offline drafter too."""
    lines = [f"[ORDER] {escape(' '.join(f.sentences))}" for f in req.order_facts]
    if req.ask_between:
        listed = "; ".join(
            f"{o.order_number}: {', '.join(i.name for i in o.items[:2])}, "
            f"ordered {o.created_at.date().isoformat()}"
            for o in req.ask_between
        )
        lines.append(
            f"(Several orders of this customer fit and nothing says which: {escape(listed)}. "
            "Ask which one they mean, listing them by product and date; do not guess.)"
        )
    if req.ask_details:
        lines.append(
            "(The customer's message does not say what it is about, and no order of theirs "
            "answers it: ask what they mean (which product, order or service, and what is "
            "happening) before answering; do not guess.)"
        )
    not_found = [*req.foreign_orders, *([] if req.order_facts else req.unknown_orders)]
    if not_found:  # another customer's order reads exactly as a number that does not exist
        lines.append(
            f"(The customer quoted {escape(', '.join(not_found))}, which matches no order on "
            "this customer's account: do not discuss it; ask them to check the number.)"
        )
    return lines


def source_version(prefix: str, *modules: str, data: str = "") -> str:
    """``prefix-<digest>`` of these modules' source files (and of ``data``, text the drafter
    says that is shipped outside them): a drafter written in code (phrases and rules) gets a
    new version whenever that code changes, as a prompt file does."""
    digest = hashlib.sha256()
    if data:
        digest.update(data.encode("utf-8"))
    for module in modules:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, module
        digest.update(Path(spec.origin).read_bytes())
    return f"{prefix}-{digest.hexdigest()[:10]}"
