"""Escalation policy: a YAML file of triggers (editable, validated) and the decision it gives.

Pattern triggers come from the file; computed triggers come from the pipeline: a refund above
the limit, repeated contact, another customer's order, no supporting knowledge, low
confidence, and the LLM's own flag. Every fired trigger is a :class:`Reason`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from copilot.pipeline.intents import shipped_labels
from copilot.types import Escalation, Lang, Reason
from knowledge import CLOSED_STATUSES, Order
from knowledge.errors import SouffleurError
from knowledge.money import money
from knowledge.text import fold

DEFAULT_POLICY = Path(__file__).parent / "policy" / "default.yaml"


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

_REFUND_WORDS = re.compile(
    r"\b(rembours\w*|refund\w*|dedommag\w*|compensat\w*|geste commercial|indemni\w*|money back|avoir)\b"
)


class Labels(BaseModel):
    en: str
    fr: str


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

    @field_validator("category_return_windows")
    @classmethod
    def _windows_in_range(cls, windows: dict[str, int]) -> dict[str, int]:
        bad = [f"{k}: {v}" for k, v in windows.items() if not 0 <= v <= 365]
        if bad:
            raise ValueError(f"return windows must be 0 to 365 days ({', '.join(bad)})")
        return {fold(k).strip(): v for k, v in windows.items()}

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


@dataclass
class Policy:
    model: PolicyModel
    source: str = "default"
    _compiled: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    _by_code: dict[str, Trigger] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_code = {t.code: t for t in self.model.triggers}
        self._compiled = {
            t.code: [re.compile(p) for p in t.patterns] for t in self.model.triggers if t.enabled
        }

    @property
    def settings(self) -> PolicySettings:
        return self.model.settings

    @classmethod
    def parse(cls, text: str, source: str = "policy") -> Policy:
        """Validate policy YAML; :class:`PolicyError` says where it is wrong.

        A computed trigger the file does not list (a policy written before it existed) is
        taken from the shipped default policy, the one place that describes it."""
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(
                f"{source}: is not valid YAML ({exc}).",
                "Fix the indentation or quoting; the previous policy stays active.",
            ) from exc
        if not isinstance(data, dict):
            raise PolicyError(
                f"{source}: must be a mapping with 'settings', 'queues' and 'triggers'.",
                "Start from the shipped default policy.",
            )
        if isinstance(data.get("triggers"), list):
            listed = {t.get("code") for t in data["triggers"] if isinstance(t, dict)}
            data["triggers"] += [t for t in _default_computed() if t["code"] not in listed]
        try:
            return cls(PolicyModel.model_validate(data), source)
        except ValidationError as exc:
            root = yaml.compose(text)
            problems = "; ".join(
                f"{_where(root, e['loc'])}{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                for e in exc.errors()[:8]
            )
            raise PolicyError(
                f"{source}: {problems}.", "Correct these values; the previous policy stays active."
            ) from exc

    @classmethod
    def load(cls, path: Path | None = None) -> Policy:
        p = path if path is not None and path.exists() else DEFAULT_POLICY
        return cls.parse(p.read_text(encoding="utf-8"), str(p.name))

    @classmethod
    def default(cls) -> Policy:
        return cls.load(DEFAULT_POLICY)

    def trigger(self, code: str) -> Trigger | None:
        """The trigger named ``code``, when it is enabled."""
        t = self._by_code.get(code)
        return t if t is not None and t.enabled else None

    def label(self, code: str, lang: Lang) -> str:
        t = self._by_code.get(code)
        return str(getattr(t.label, lang)) if t is not None else code

    def queue_of(self, code: str) -> str:
        t = self._by_code.get(code)
        return t.queue if t is not None else self.settings.default_queue

    def is_hard(self, code: str) -> bool:
        """The trigger hands the conversation over whatever the draft's quality."""
        t = self._by_code.get(code)
        return t is not None and t.hard

    def priority(self, code: str) -> int:
        t = self._by_code.get(code)
        return t.priority if t is not None else MAX_PRIORITY + 1

    def learned(self) -> list[Trigger]:
        """The enabled triggers the intent classifier detects."""
        return [t for t in self.model.triggers if t.enabled and t.detector == "learned"]

    def triggers(self, lang: Lang) -> list[dict[str, Any]]:
        """Every trigger, most serious first: what the policy editor lists (code, label, queue,
        hard, priority, detector)."""
        rows = [
            {
                "code": t.code,
                "label": getattr(t.label, lang),
                "queue": t.queue,
                "hard": t.hard,
                "priority": t.priority,
                "detector": _detector_text(t),
                "enabled": t.enabled,
            }
            for t in self.model.triggers
        ]
        return sorted(rows, key=lambda r: r["priority"])

    def handoff_rule(self) -> str:
        """The policy's hand-over rule for the LLM prompt: every enabled hard trigger, shipped
        or added by a knowledge manager, and the absence of knowledge, as ``code (label)``."""
        codes = [
            t.code
            for t in self.model.triggers
            if t.enabled and (t.hard or t.code == "no_knowledge")
        ]
        s = self.settings
        parts = []
        for code in self.ranked(codes):
            label = self.label(code, "en")
            if code == "refund_over_limit":
                label += f": {s.refund_limit:g} {s.currency}"
            elif code == "no_knowledge":
                label = "the passages do not answer the question"
            parts.append(f"{code} ({label})")
        return "; ".join(parts)

    def ranked(self, codes: Iterable[str]) -> list[str]:
        """``codes`` most serious first (the first routes the conversation)."""
        return sorted(codes, key=self.priority)

    def queue_label(self, queue: str, lang: Lang) -> str:
        q = self.model.queues.get(queue)
        return getattr(q, lang) if q else queue

    # -- signals -----------------------------------------------------------------------
    def pattern_hits(self, text: str) -> dict[str, str]:
        """code -> the matched words, for every pattern trigger that fires on ``text``."""
        folded = fold(text)
        hits: dict[str, str] = {}
        for code, patterns in self._compiled.items():
            for p in patterns:
                m = p.search(folded)
                if m:
                    hits[code] = m.group(0).strip()
                    break
        if _shouting(text) and self.trigger("anger") is not None:
            hits.setdefault("anger", "message in capitals")
        return hits

    def said(
        self, messages: Sequence[str], intents: Mapping[str, tuple[float, str]] | None = None
    ) -> dict[str, str]:
        """code -> evidence, for every trigger the customer's own words fire: the patterns of
        any trigger (on all their messages), and each learned trigger whose intent has the
        trigger's probability or more in one message (``intents``: the classifier's best
        probability per intent, with its message)."""
        hits = self.pattern_hits("\n".join(messages))
        for t in self.learned():
            p, text = (intents or {}).get(t.intent_label, (0.0, ""))
            if t.code not in hits and p >= t.threshold:
                hits[t.code] = f"{_excerpt(text)} ({p:.0%})"
        return hits

    def reported(self, code: str, intents: Mapping[str, tuple[float, str]] | None) -> bool:
        """The customer's words express the intent of the computed trigger ``code`` (its
        ``intent``, at its threshold): e.g. a parcel reported missing, for lost_parcel."""
        t = self.trigger(code)
        if t is None or not intents:
            return False
        return intents.get(t.intent_label, (0.0, ""))[0] >= t.threshold

    def amounts_claimed(self, text: str) -> list[float]:
        """Amounts the customer asks to be refunded or compensated (only with refund words), in
        whatever currency they write (a Canadian store's customer writes "$")."""
        folded = fold(text)
        if not _REFUND_WORDS.search(folded):
            return []
        return [m.value for m in money(folded)]


def _where(root: yaml.Node | None, loc: tuple[int | str, ...]) -> str:
    """ "line N, " of the YAML node at ``loc`` (the deepest one that exists), or ""."""
    node, line = root, None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return f"line {line}, " if line else ""


def _excerpt(text: str, width: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _detector_text(t: Trigger) -> str:
    patterns = f"{len(t.patterns)} pattern(s)"
    if t.detector == "learned":
        return f"learned: {t.intent_label} ≥ {t.threshold:g}" + (
            f" + {patterns}" if t.patterns else ""
        )
    if t.detector == "computed":
        return "computed: " + COMPUTED_RULES[t.code]
    return patterns


@lru_cache(maxsize=1)
def _shipped_computed() -> tuple[dict[str, Any], ...]:
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    return tuple(t for t in data["triggers"] if t.get("detector") == "computed")


def _default_computed() -> list[dict[str, Any]]:
    """The shipped policy's computed triggers (copies: the caller may change them)."""
    return copy.deepcopy(list(_shipped_computed()))


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 15 and sum(c.isupper() for c in letters) / len(letters) > 0.7


@dataclass(frozen=True)
class Signals:
    """What the pipeline observed, for the decision."""

    pattern_hits: dict[str, str]
    refund_amount: float | None = None
    foreign_orders: tuple[str, ...] = ()
    lost_orders: tuple[str, ...] = ()
    prior_contacts: int = 0
    has_knowledge: bool = True
    has_order_facts: bool = False
    chit_chat: bool = False
    confidence: float | None = None
    llm_flag: bool = False
    llm_reasons: tuple[str, ...] = ()


def lost_orders(
    orders: Sequence[Order], reported: bool, settings: PolicySettings, today: date
) -> tuple[str, ...]:
    """The orders to investigate with the carrier: marked lost in the feed, or, when the
    customer reports theirs missing, not delivered and ``investigation_business_days``
    business days past both its due date and its latest tracking news."""
    out = []
    for o in orders:
        if o.status == "lost":
            out.append(o.order_number)
            continue
        days = settings.investigation_business_days
        if (
            not reported
            or days is None
            or o.status in CLOSED_STATUSES
            or o.delivered_at is not None
        ):
            continue
        known = [d for d in (o.estimated_delivery, o.last_tracking_update) if d is not None]
        if known and int(np.busday_count(max(known), today)) >= days:
            out.append(o.order_number)
    return tuple(out)


def decide(policy: Policy, signals: Signals, lang: Lang) -> Escalation:
    """Combine every fired trigger into one escalation decision with reasons and a queue."""
    reasons: list[Reason] = []

    def add(code: str, detail: str = "") -> None:
        if policy.trigger(code) is not None and code not in {r.code for r in reasons}:
            reasons.append(Reason(code=code, label=policy.label(code, lang), detail=detail))

    for code, matched in signals.pattern_hits.items():
        add(code, f"« {matched} »" if lang == "fr" else f'"{matched}"')
    s = policy.settings
    if signals.refund_amount is not None and signals.refund_amount > s.refund_limit:
        add(
            "refund_over_limit",
            f"{signals.refund_amount:.2f} {s.currency} > {s.refund_limit:.0f} {s.currency}",
        )
    if signals.foreign_orders:
        add("foreign_order", ", ".join(signals.foreign_orders))
    if signals.lost_orders:
        add("lost_parcel", ", ".join(signals.lost_orders))
    if signals.prior_contacts >= s.repeated_contact_threshold:
        add("repeated_contact_history", f"{signals.prior_contacts}")
    handed_over = any(policy.is_hard(r.code) for r in reasons)
    if (
        not signals.has_knowledge
        and not signals.has_order_facts
        and not signals.chit_chat
        and not handed_over
    ):
        add("no_knowledge")  # a hand-off draft cites nothing on purpose: not a knowledge gap
    if (
        signals.confidence is not None
        and signals.confidence < s.low_confidence
        and not signals.chit_chat
        and not signals.has_order_facts  # the order record answers: its facts are computed, not guessed
        and not reasons
    ):
        add("low_confidence", f"{signals.confidence:.2f}")
    if signals.llm_flag:
        add("llm_flag", "; ".join(signals.llm_reasons))
    if not reasons:
        return Escalation(escalate=False)
    reasons.sort(key=lambda r: policy.priority(r.code))  # most serious first: it routes
    return Escalation(
        escalate=True,
        reasons=reasons,
        queue=policy.queue_label(policy.queue_of(reasons[0].code), lang),
    )
