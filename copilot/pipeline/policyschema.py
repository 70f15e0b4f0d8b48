"""What an escalation policy file may say, validated: its settings (refund limit, windows,
thresholds), its queues, and its triggers (detected by patterns, by the intent classifier, or
computed by the pipeline), each with labels, a queue, hard or not, and a priority."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from copilot.pipeline.intents import shipped_labels
from knowledge.errors import SouffleurError
from knowledge.text import fold

# The rules the pipeline computes, by trigger code: a trigger with ``detector: computed`` names
# one of them (its labels, queue, hard and priority come from the policy file like any other).
COMPUTED_RULES: dict[str, str] = {
    "refund_over_limit": "an amount asked, the order of a refund request, or a promise in the draft above settings.refund_limit",
    "foreign_order": "quotes an order that is not on this customer's account",
    "repeated_contact_history": "settings.repeated_contact_threshold earlier conversations within settings.repeated_contact_window_days",
    "lost_parcel": "an order marked lost, or reported missing with no tracking news for settings.investigation_business_days business days after its due date",
    "no_knowledge": "the draft and the best passages hold under settings.knowledge_coverage of the question's words (settings.passage_coverage for a passage alone)",
    "low_confidence": "confidence under settings.low_confidence",
    "llm_flag": "the model advises a human",
}
MAX_PRIORITY = 999


class Labels(BaseModel):
    en: str
    fr: str


class Handoff(BaseModel):
    """The sentence a draft says when this trigger hands the conversation over, in each
    language; ``fr_casual`` / ``en_casual`` for a customer addressed casually ('tu'), the
    formal sentence otherwise. ``{amount}`` is replaced by the amount at stake, if any."""

    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    en_casual: str | None = None
    fr_casual: str | None = None

    def sentence(self, lang: str, formal: bool) -> str:
        casual = None if formal else getattr(self, f"{lang}_casual", None)
        return str(casual or getattr(self, lang))


class PolicySettings(BaseModel):
    currency: str = "EUR"
    refund_limit: float = Field(150, ge=0)
    return_window_days: int = Field(30, ge=0, le=365)
    refund_delay_days: int = Field(14, ge=0, le=365)
    repeated_contact_threshold: int = Field(2, ge=1)
    repeated_contact_window_days: int = Field(7, ge=1)
    low_confidence: float = Field(0.2, ge=0, le=1)
    target_fdr: float = Field(0.05, gt=0, lt=1)
    default_queue: str = "support"
    # days from delivery by the item's category in the order feed (0: not returnable); items of
    # other categories have return_window_days
    category_return_windows: dict[str, int] = Field(default_factory=dict)
    investigation_business_days: int | None = Field(None, ge=1, le=60)
    # no_knowledge: the share of the customer's content words the draft's knowledge sentences
    # (or the best passage) must hold, or the best passage alone, for the knowledge to answer
    knowledge_coverage: float = Field(0.34, ge=0, le=1)
    passage_coverage: float = Field(0.5, ge=0, le=1)
    free_shipping_threshold: float | None = Field(None, ge=0)
    # by the customer's country (its code in the customer feed) or the order's currency code;
    # others have free_shipping_threshold
    free_shipping_thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("category_return_windows")
    @classmethod
    def _windows_in_range(cls, windows: dict[str, int]) -> dict[str, int]:
        bad = [f"{k}: {v}" for k, v in windows.items() if not 0 <= v <= 365]
        if bad:
            raise ValueError(f"return windows must be 0 to 365 days ({', '.join(bad)})")
        return {fold(k).strip(): v for k, v in windows.items()}

    @field_validator("free_shipping_thresholds")
    @classmethod
    def _thresholds_positive(cls, thresholds: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}: {v}" for k, v in thresholds.items() if v < 0]
        if bad:
            raise ValueError(f"free-shipping thresholds cannot be negative ({', '.join(bad)})")
        return {k.strip().upper(): v for k, v in thresholds.items()}

    def free_shipping_from(self, country: str, currency: str) -> float | None:
        """The order total from which standard delivery is free for this customer's country
        (else the order's currency, else the general threshold); None: no threshold."""
        for key in (country, currency):
            if key and key.strip().upper() in self.free_shipping_thresholds:
                return self.free_shipping_thresholds[key.strip().upper()]
        return self.free_shipping_threshold

    def has_own_window(self, category: str | None) -> bool:
        """The policy gives items of ``category`` a window of their own."""
        return bool(category) and fold(category or "").strip() in self.category_return_windows

    def return_window(self, category: str | None) -> int:
        """The return window, in days from delivery, of an item of ``category``."""
        if category and self.category_return_windows:
            key = fold(category).strip()
            if key in self.category_return_windows:
                return self.category_return_windows[key]
        return self.return_window_days


Detector = Literal["patterns", "learned", "computed"]


class Trigger(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Labels
    queue: str
    # patterns: the regular expressions below; learned: the intent classifier (its label
    # ``intent``, the code by default, at probability ``threshold`` or more), the patterns firing
    # too as the knowledge manager's overrides; computed: the rule of COMPUTED_RULES named by
    # the code (its settings are under 'settings')
    detector: Detector = "patterns"
    patterns: list[str] = Field(default_factory=list)
    intent: str | None = None
    threshold: float = Field(0.5, gt=0, lt=1)
    # a trigger hands the conversation over (hard) unless it says otherwise; when several
    # fire, the lowest priority routes it (a new trigger ranks after the shipped ones)
    hard: bool = True
    priority: int = Field(500, ge=0, le=MAX_PRIORITY)
    enabled: bool = True
    # what the offline draft says when this trigger hands over (none: the draft answers as
    # usual and the agent reads the reason); a saved policy's trigger without one takes the
    # shipped trigger's
    handoff: Handoff | None = None
    # the reason label evaluation sets give the cases this trigger answers (EVALS.md: a case's
    # 'gold_reason'), its code by default: e.g. 'angry' for anger
    eval_reason: str | None = None

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _detector_fits(self) -> Trigger:
        if self.detector == "patterns" and not self.patterns:
            raise ValueError(
                f"trigger '{self.code}' has no patterns: add at least one, or set 'detector: learned' with an intent"
            )
        if self.detector == "computed" and self.code not in COMPUTED_RULES:
            raise ValueError(
                f"no computed rule is named '{self.code}' (computed rules: {', '.join(COMPUTED_RULES)}); "
                "a new trigger uses 'detector: patterns' or 'detector: learned'"
            )
        if self.detector == "learned":
            known = known_intents()
            if self.intent_label not in known:
                raise ValueError(
                    f"the intent classifier has no intent '{self.intent_label}' (it knows: {', '.join(known)}); "
                    "set 'intent:' to one of them, or use 'detector: patterns'"
                )
        return self

    @property
    def intent_label(self) -> str:
        return self.intent or self.code


def known_intents() -> tuple[str, ...]:
    """The reasons the shipped intent classifier knows (read from its model file)."""
    return shipped_labels()


class PolicyModel(BaseModel):
    version: int = 1
    settings: PolicySettings = PolicySettings()
    queues: dict[str, Labels]
    triggers: list[Trigger]

    @model_validator(mode="after")
    def _queues_exist(self) -> PolicyModel:
        missing = {t.queue for t in self.triggers if t.queue not in self.queues}
        if self.settings.default_queue not in self.queues:
            missing.add(self.settings.default_queue)
        if missing:
            raise ValueError(
                f"queue(s) {', '.join(sorted(missing))} are used but not defined under 'queues'"
            )
        codes = [t.code for t in self.triggers]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(
                f"trigger code(s) {', '.join(sorted(dupes))} are defined twice: give each trigger its own code"
            )
        return self


class PolicyError(SouffleurError):
    pass
