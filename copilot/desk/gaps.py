"""Knowledge gaps: the customers' questions the knowledge did not answer, grouped by the content
words they share, shown as customers wrote them with personal data and numbers as placeholders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copilot.pipeline.pii import PLACEHOLDER, Masker, unnumbered
from knowledge import detect_language
from knowledge.money import money
from knowledge.text import LETTER_RUN, STOPWORDS, terms_of_words, words

# the computed escalation rules that mean "the knowledge did not answer": a question escalated
# for one of these alone is a gap; any other trigger is a reason to hand over anyway
KNOWLEDGE_REASONS = frozenset({"no_knowledge", "low_confidence", "llm_flag"})
_WITH_DIGITS = re.compile(r"#?\b[\w./-]*\d{3,}[\w./-]*")
_EITHER_STOP = STOPWORDS["fr"] | STOPWORDS["en"]


def as_placeholders(text: str, *, amounts: bool = True, names: Iterable[str] = ()) -> str:
    """The question as the customer wrote it, with personal data (and the ``names`` of the
    people in the conversation), amounts and long numbers (order, tracking, account numbers)
    replaced by placeholders a knowledge manager can read. ``amounts=False`` keeps amounts as
    written (an agent's answer states the store's prices)."""
    out = unnumbered(Masker.for_names(names).mask(text))
    kept, last = [], 0
    for m in money(out):  # an amount is kept as written, or becomes [AMOUNT]
        kept += [
            _WITH_DIGITS.sub("[NUMBER]", out[last : m.start]),
            m.text if not amounts else "[AMOUNT]",
        ]
        last = m.end
    out = "".join([*kept, _WITH_DIGITS.sub("[NUMBER]", out[last:])])
    return re.sub(r"[ \t]+", " ", out).replace(" ]", "]").strip()


def gap_terms(text: str, lang: str) -> list[str]:
    """Content stems of a question, stop words of either language left out (a French question
    read as English kept its "est" and "et"), placeholders too."""
    kept = [
        w for w in words(PLACEHOLDER.sub(" ", text)) if w not in _EITHER_STOP and not w.isdigit()
    ]
    return terms_of_words(kept, lang)


def _intent_and_reasons(suggestion: str) -> tuple[str, list[str]]:
    """The stored suggestion's intent and escalation reason codes."""
    try:
        data = json.loads(suggestion)
        reasons = data.get("escalation", {}).get("reasons", [])
    except (ValueError, AttributeError):
        return "other", []
    return str(data.get("intent", "other")), [
        str(r.get("code")) for r in reasons if isinstance(r, dict)
    ]


def _as_said(text: str, lang: str) -> dict[str, str]:
    """Each content word's stem -> the word as the customer wrote it (lower case)."""
    out: dict[str, str] = {}
    for token in LETTER_RUN.findall(PLACEHOLDER.sub(" ", text)):
        for term in gap_terms(token, lang):
            out.setdefault(term, token.lower())
    return out


@dataclass
class Gap:
    count: int
    terms: set[str]  # stems: what questions are grouped by
    words: dict[str, str] = field(default_factory=dict)  # stem -> the customers' own word
    examples: list[str] = field(default_factory=list)  # the distinct questions, whole
    last_at: datetime | None = None  # when it was last asked
    asked_by: dict[str, int] = field(default_factory=dict)  # stem -> questions using it (2+)
    draft_ids: list[int] = field(default_factory=list)  # the drafts of its questions

    @property
    def example(self) -> str:
        """The first question of the group."""
        return self.examples[0] if self.examples else ""

    def shown_words(self, limit: int = 8) -> list[str]:
        """The group's words as customers wrote them, for a knowledge manager to read: those
        most of its questions share first (a word one customer used in passing comes last)."""
        ranked = sorted(self.terms, key=lambda t: (-self.asked_by.get(t, 1), self.words.get(t, t)))
        return [self.words.get(t, t) for t in ranked][:limit]


def group_gaps(
    rows: Iterable[dict[str, Any]], *, max_confidence: float, similarity: float
) -> list[Gap]:
    """The knowledge gaps among these draft rows (the store's ``draft_rows``): see
    :meth:`copilot.desk.desk.Desk.knowledge_gaps`."""
    gaps: list[Gap] = []
    for row in rows:
        asked = str(row.get("message_text") or row["query"]).strip()
        if row["confidence"] > max_confidence or not asked:
            continue
        intent, codes = _intent_and_reasons(row["suggestion"])
        if intent == "chit_chat" or set(codes) - KNOWLEDGE_REASONS:
            continue  # thanks and greetings; or escalated on purpose (a human handles it)
        shown = as_placeholders(asked)
        lang = detect_language(shown)[0]
        terms = set(gap_terms(shown, lang))
        said = _as_said(shown, lang)
        match = next(
            (
                g
                for g in gaps
                if terms and len(terms & g.terms) / len(terms | g.terms) >= similarity
            ),
            None,
        )
        at = row["created_at"]
        if match is None:
            gaps.append(
                Gap(
                    count=1,
                    terms=terms,
                    words=said,
                    examples=[shown],
                    last_at=at,
                    draft_ids=[row["id"]],
                )
            )
        else:
            match.count += 1
            match.draft_ids.append(row["id"])
            match.terms |= terms
            match.words = {**said, **match.words}
            for t in terms:
                match.asked_by[t] = match.asked_by.get(t, 1) + 1
            if shown not in match.examples:
                match.examples.append(shown)
            match.last_at = max(match.last_at, at) if match.last_at else at
    return sorted(gaps, key=lambda g: (-g.count, -(g.last_at.timestamp() if g.last_at else 0)))
