"""The escalation policy in force: parsed from its YAML (a mistake named with its line), its
triggers looked up by code, its hand-over rule for the LLM prompt, and what a customer's words
fire (patterns, learned intents, refund amounts)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from copilot.pipeline.policyschema import (
    COMPUTED_RULES,
    MAX_PRIORITY,
    PolicyError,
    PolicyModel,
    PolicySettings,
    Trigger,
)
from copilot.types import Lang
from knowledge.money import money
from knowledge.text import fold

DEFAULT_POLICY = Path(__file__).parent / "policy" / "default.yaml"

_REFUND_WORDS = re.compile(
    r"\b(rembours\w*|refund\w*|reimburs\w*|dedommag\w*|compensat\w*|geste commercial|indemni\w*|money back|avoir)\b"
)
# a sum claimed outright: "je vous demande 350 £", "I demand £200", "j'exige 80 €" (the amount
# right after the verb: "je demande un billet à 180 £" is a purchase)
_DEMAND = re.compile(
    r"\b(?:(?:je |j.|nous )(?:vous )?(?:demande|reclame|exige)\w*|i (?:demand|claim|expect)|we (?:demand|claim|expect))"
    r"\s+(?:(?:au moins|at least|a minimum of)\s+)?(?=[\d$£€])"
)


@dataclass
class Policy:
    model: PolicyModel
    source: str = "default"
    _compiled: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    _by_code: dict[str, Trigger] = field(default_factory=dict)
    added: tuple[str, ...] = ()  # shipped triggers the file did not list, taken from the default

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

        A shipped trigger the file does not list (a policy saved before that trigger shipped)
        is taken from the shipped default policy, and named in ``added``: a new release's
        triggers reach every saved policy (``enabled: false`` is how a trigger is switched
        off). A listed trigger without its own ``handoff`` sentence says the shipped one's."""
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
        added: list[dict[str, Any]] = []
        if isinstance(data.get("triggers"), list):
            listed = {t.get("code") for t in data["triggers"] if isinstance(t, dict)}
            added = [t for t in _default_triggers() if t["code"] not in listed]
            _inherit_handoffs(data["triggers"])
            data["triggers"] += added
        try:
            return cls(
                PolicyModel.model_validate(data),
                source,
                added=tuple(t["code"] for t in added),
            )
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

    def handoff_sentence(self, code: str, lang: Lang, formal: bool) -> str | None:
        """What the draft says when ``code`` hands over, in the customer's language and
        register (None: the trigger has no sentence)."""
        t = self._by_code.get(code)
        return t.handoff.sentence(lang, formal) if t is not None and t.handoff else None

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
        """Amounts the customer asks to be refunded or compensated (with refund words, or an
        amount claimed outright), in whatever currency they write (a Canadian store's customer
        writes "$")."""
        folded = fold(text)
        if _REFUND_WORDS.search(folded):
            return [m.value for m in money(folded)]
        starts = {d.end() for d in _DEMAND.finditer(folded)}
        return [m.value for m in money(folded) if m.start in starts]


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
def _shipped_triggers() -> tuple[dict[str, Any], ...]:
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    return tuple(data["triggers"])


def _default_triggers() -> list[dict[str, Any]]:
    """The shipped policy's triggers (copies: the caller may change them)."""
    return copy.deepcopy(list(_shipped_triggers()))


def _shipped_handoff_map() -> dict[str, Any]:
    """code -> the shipped trigger's hand-off sentences (the cached originals: copy to change)."""
    return {t["code"]: t["handoff"] for t in _shipped_triggers() if t.get("handoff")}


def shipped_handoffs() -> str:
    """The shipped triggers' hand-off sentences, as JSON: the offline drafter says them, so
    they are part of its version."""
    return json.dumps(_shipped_handoff_map(), ensure_ascii=False, sort_keys=True)


def _inherit_handoffs(listed: list[Any]) -> None:
    """A listed trigger without a hand-off sentence takes the shipped trigger's of its code
    (the sentences moved into the policy file after policies were saved)."""
    sentences = _shipped_handoff_map()
    for t in listed:
        if isinstance(t, dict) and "handoff" not in t and t.get("code") in sentences:
            t["handoff"] = copy.deepcopy(sentences[t["code"]])


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 15 and sum(c.isupper() for c in letters) / len(letters) > 0.7
