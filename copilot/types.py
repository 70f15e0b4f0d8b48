"""Pydantic models shared by the copilot, the CLI, the app and the evals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["customer", "agent"]
Channel = Literal["web", "whatsapp", "messenger", "sms", "email"]
Lang = Literal["fr", "en"]
Register = Literal["vous", "tu", "formal", "casual"]


class Turn(BaseModel):
    role: Role
    text: str
    at: datetime | None = None


class Conversation(BaseModel):
    """What the copilot sees: the turns so far, who the customer is, and where they write from."""

    id: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    channel: Channel = "web"
    turns: list[Turn]
    prior_contacts: int = Field(
        0, description="Earlier conversations of this customer in the policy window."
    )

    @property
    def last_customer_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.role == "customer"), "")

    @property
    def customer_text(self) -> str:
        return "\n".join(t.text for t in self.turns if t.role == "customer")


class DraftOptions(BaseModel):
    """What the agent can ask for."""

    tone: Literal["auto", "formal", "casual"] = "auto"  # vous/tu in French
    length: Literal["shorter", "normal", "longer"] = "normal"
    emoji: bool | None = None  # None: follow the customer
    channel: Channel | None = None  # None: the conversation's channel
    lang: Lang | None = None  # None: detected
    variant: int = 0  # "regenerate": another wording/selection, deterministic per variant
    ui_lang: Lang = "en"  # language of reasons and notes shown to the agent


class Citation(BaseModel):
    sentence: str
    chunk_ids: list[str]
    doc_ids: list[str]
    titles: list[str]
    snippets: list[str]
    urls: list[str] = Field(default_factory=list)

    @property
    def about_order(self) -> bool:
        """It cites the customer's order record ("order:<number>"), not the knowledge base."""
        return self.chunk_ids[0].startswith("order:")


class Reason(BaseModel):
    code: str
    label: str
    detail: str = ""


class Escalation(BaseModel):
    escalate: bool
    reasons: list[Reason] = Field(default_factory=list)
    queue: str | None = None
    handoff_summary: str = ""

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


class Timings(BaseModel):
    retrieval_ms: float = 0.0
    orders_ms: float = 0.0
    prompt_ms: float = 0.0
    intents_ms: float = 0.0  # the escalation-intent classifier (part of prompt_ms)
    generation_ms: float = 0.0
    ttft_ms: float | None = None
    total_ms: float = 0.0


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = True  # True: counted with tiktoken; False: reported by the API
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class RetrievedPassage(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None


class Suggestion(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True, serialize_by_alias=True, protected_namespaces=()
    )

    draft: str
    citations: list[Citation] = Field(default_factory=list)
    escalation: Escalation
    confidence: float = Field(ge=0.0, le=1.0)
    needs_review: bool = True
    language: Lang
    register_: Register = Field(alias="register")  # vous/tu (fr), formal/casual (en)
    timings: Timings = Field(default_factory=Timings)
    usage: Usage = Field(default_factory=Usage)
    model: str = "offline"
    prompt_version: str = ""
    drafter: Literal["offline", "llm"] = "offline"
    llm_unavailable: bool = False
    notes: list[str] = Field(default_factory=list)
    retrieved: list[RetrievedPassage] = Field(default_factory=list)
    order_numbers: list[str] = Field(default_factory=list)
    # the draft asks back instead of answering: which order ("order": several fit, none
    # designated, listed in clarify_orders) or what the message is about ("details")
    clarify: Literal["order", "details"] | None = None
    clarify_orders: list[str] = Field(default_factory=list)
    # what an LLM prompt holds for this draft: ORDER FACTS lines and passages (doc_id, text)
    context: dict[str, list[Any]] = Field(default_factory=dict)
    intent: str = "other"
    features: dict[str, float] = Field(default_factory=dict)
    review_hints: list[str] = Field(default_factory=list)  # what to check, for the agent

    @property
    def cited_doc_ids(self) -> list[str]:
        return list(dict.fromkeys(d for c in self.citations for d in c.doc_ids))
