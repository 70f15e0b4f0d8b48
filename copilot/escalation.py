"""Escalation policy: a YAML file of triggers (editable, validated) and the decision it gives.

Pattern triggers come from the file; computed triggers come from the pipeline: a refund above
the limit, repeated contact, another customer's order, no supporting knowledge, low
confidence, and the LLM's own flag. Every fired trigger is a :class:`Reason`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from copilot.types import Escalation, Lang, Reason
from knowledge.errors import SouffleurError
from knowledge.text import fold

DEFAULT_POLICY = Path(__file__).parent / "policy" / "default.yaml"


@dataclass(frozen=True)
class Computed:
    """A trigger the pipeline computes (from the order feed, the history, the draft): its
    labels, queue, whether it hands the conversation over whatever the draft, and its rank
    when several fire (lower: more serious, routes the conversation)."""

    labels: dict[str, str]
    queue: str
    hard: bool
    priority: int


SOFT = 1000  # the rank of triggers that only ask for a review of the draft
BUILTIN: dict[str, Computed] = {
    "refund_over_limit": Computed(
        {
            "en": "Refund or compensation above the limit",
            "fr": "Remboursement ou geste au-dessus du plafond",
        },
        "supervisors",
        True,
        70,
    ),
    "foreign_order": Computed(
        {
            "en": "Quotes an order that is not on this customer's account",
            "fr": "Cite une commande absente du compte de ce client",
        },
        "trust",
        True,
        80,
    ),
    "repeated_contact_history": Computed(
        {"en": "Has contacted us repeatedly", "fr": "A déjà contacté plusieurs fois"},
        "supervisors",
        True,
        100,
    ),
    "lost_parcel": Computed(
        {
            "en": "Parcel reported lost: needs an investigation",
            "fr": "Colis déclaré perdu : enquête nécessaire",
        },
        "support",
        True,
        120,
    ),
    "no_knowledge": Computed(
        {"en": "No supporting knowledge found", "fr": "Aucune connaissance pour répondre"},
        "support",
        False,
        SOFT,
    ),
    "low_confidence": Computed(
        {"en": "Low confidence in the draft", "fr": "Confiance faible dans la réponse"},
        "support",
        False,
        SOFT,
    ),
    "llm_flag": Computed(
        {"en": "The model advises a human", "fr": "Le modèle conseille un humain"},
        "support",
        False,
        SOFT,
    ),
}

_AMOUNT = re.compile(
    r"(?:€|eur|euros?|chf)\s*(\d{1,3}(?:[ .\u202f]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)|(\d{1,3}(?:[ .\u202f]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s*(?:€|eur\b|euros?\b|chf\b)",
    re.I,
)
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


class Trigger(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Labels
    queue: str
    patterns: list[str] = Field(min_length=1)
    # a trigger hands the conversation over (hard) unless it says otherwise; when several
    # fire, the lowest priority routes it (a new trigger ranks after the shipped ones)
    hard: bool = True
    priority: int = Field(500, ge=0, lt=SOFT)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
        return patterns


class PolicyModel(BaseModel):
    version: int = 1
    settings: PolicySettings = PolicySettings()
    queues: dict[str, Labels]
    triggers: list[Trigger]

    @model_validator(mode="after")
    def _queues_exist(self) -> PolicyModel:
        missing = {t.queue for t in self.triggers if t.queue not in self.queues}
        missing |= {c.queue for c in BUILTIN.values() if c.queue not in self.queues}
        if self.settings.default_queue not in self.queues:
            missing.add(self.settings.default_queue)
        if missing:
            raise ValueError(
                f"queue(s) {', '.join(sorted(missing))} are used but not defined under 'queues'"
            )
        codes = [t.code for t in self.triggers]
        dupes = {c for c in codes if codes.count(c) > 1} | (set(codes) & set(BUILTIN))
        if dupes:
            raise ValueError(
                f"trigger code(s) {', '.join(sorted(dupes))} are defined twice or clash with built-in triggers"
            )
        return self


class PolicyError(SouffleurError):
    pass


@dataclass
class Policy:
    model: PolicyModel
    source: str = "default"
    _compiled: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = {t.code: [re.compile(p) for p in t.patterns] for t in self.model.triggers}

    @property
    def settings(self) -> PolicySettings:
        return self.model.settings

    @classmethod
    def parse(cls, text: str, source: str = "policy") -> Policy:
        """Validate policy YAML; :class:`PolicyError` says where it is wrong."""
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

    def _trigger(self, code: str) -> Trigger | None:
        return next((t for t in self.model.triggers if t.code == code), None)

    def label(self, code: str, lang: Lang) -> str:
        t = self._trigger(code)
        if t is not None:
            return str(getattr(t.label, lang))
        return BUILTIN[code].labels[lang] if code in BUILTIN else code

    def queue_of(self, code: str) -> str:
        t = self._trigger(code)
        if t is not None:
            return t.queue
        return BUILTIN[code].queue if code in BUILTIN else self.settings.default_queue

    def is_hard(self, code: str) -> bool:
        """The trigger hands the conversation over whatever the draft's quality."""
        t = self._trigger(code)
        return t.hard if t is not None else code in BUILTIN and BUILTIN[code].hard

    def priority(self, code: str) -> int:
        t = self._trigger(code)
        return t.priority if t is not None else BUILTIN[code].priority if code in BUILTIN else SOFT

    def triggers(self, lang: Lang) -> list[dict[str, Any]]:
        """Every trigger, from the file and computed, most serious first: what the policy
        editor lists (code, label, queue, hard, priority, detector)."""
        rows = [
            {
                "code": t.code,
                "label": getattr(t.label, lang),
                "queue": t.queue,
                "hard": t.hard,
                "priority": t.priority,
                "detector": f"{len(t.patterns)} pattern(s)",
            }
            for t in self.model.triggers
        ]
        rows += [
            {
                "code": code,
                "label": b.labels[lang],
                "queue": b.queue,
                "hard": b.hard,
                "priority": b.priority,
                "detector": "computed",
            }
            for code, b in BUILTIN.items()
        ]
        return sorted(rows, key=lambda r: r["priority"])

    def handoff_rule(self) -> str:
        """The policy's hand-over rule for the LLM prompt: every hard trigger, built-in or added
        by a knowledge manager, and the absence of knowledge, as ``code (label)``."""
        codes = [t.code for t in self.model.triggers if t.hard]
        codes += [c for c, b in BUILTIN.items() if b.hard or c == "no_knowledge"]
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
        if _shouting(text):
            hits.setdefault("anger", "message in capitals")
        return hits

    def amounts_claimed(self, text: str) -> list[float]:
        """Amounts the customer asks to be refunded or compensated (only with refund words)."""
        folded = fold(text)
        if not _REFUND_WORDS.search(folded):
            return []
        out = []
        for m in _AMOUNT.finditer(folded):
            raw = (m.group(1) or m.group(2) or "").replace(" ", "").replace("\u202f", "")
            if raw.count(".") == 1 and len(raw.split(".")[1]) == 3:
                raw = raw.replace(".", "")
            try:
                out.append(float(raw.replace(",", ".")))
            except ValueError:
                continue
        return out


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


def decide(policy: Policy, signals: Signals, lang: Lang) -> Escalation:
    """Combine every fired trigger into one escalation decision with reasons and a queue."""
    reasons: list[Reason] = []

    def add(code: str, detail: str = "") -> None:
        if code not in {r.code for r in reasons}:
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
