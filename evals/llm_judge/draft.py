"""The LLM judge on one draft (EVALS.md §1.5–1.6): groundedness claim by claim, correctness by a
rubric question against the reference answer; a metric whose question fails keeps the offline
verdict, and the verdicts say so (``judged_by``, ``fallback``, ``llm.failures``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.pipeline.pii import Masker
from copilot.types import Suggestion
from evals.dataset import Case
from evals.facts import is_claim, normalise
from evals.llm_judge.questions import (
    MAX_CONTEXT_ORDERS,
    OFFLINE,
    ClaimAnswer,
    RubricAnswer,
    Tally,
    order_record,
)
from evals.verdicts import Verdicts
from knowledge import Order
from knowledge.text import sentences

if TYPE_CHECKING:
    from evals.llm_judge.verdicts import LLMJudge


@dataclass
class LLMJudgement:
    verdicts: Verdicts
    extra: dict[str, Any]
    failures: list[dict[str, str]]
    usage: Tally

    def as_dict(self) -> dict[str, Any]:
        return {**self.verdicts.as_dict(), **self.extra}


@dataclass
class _Claim:
    sentence: str
    citations: int  # cited ids, resolvable or not (as the offline judge counts them)
    sources: list[tuple[str, str]]  # (label, chunk id or order ref) of the sources shown
    verdict: str | None = None
    supporting: list[str] = field(default_factory=list)
    asked: bool = False


@dataclass
class Judging:
    """One draft being judged: the verdicts so far, and how each metric was reached."""

    offline: Verdicts
    v: Verdicts
    masker: Masker | None
    judged_by: dict[str, str]
    llm: dict[str, Any]
    tally: Tally = field(default_factory=Tally)
    failures: list[dict[str, str]] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)

    def judgement(self, template_version: str) -> LLMJudgement:
        extra = {
            "judged_by": self.judged_by,
            "fallback": self.fallback,
            "llm": {**self.llm, "template_version": template_version, "failures": self.failures},
        }
        return LLMJudgement(self.v, extra, self.failures, self.tally)


def judge_grounded(
    judge: LLMJudge,
    d: Judging,
    s: Suggestion,
    chunk_texts: Mapping[str, str],
    own_orders: Sequence[Order],
) -> None:
    """1.5 groundedness: one question per claim sentence."""
    if s.escalation.escalate:
        d.judged_by["grounded"] = "not judged (escalated: scored by escalation only)"
        return
    claims, failure = _claims(judge, s, chunk_texts, own_orders, d.masker, d.tally)
    d.llm["claims"] = [
        {
            "sentence": c.sentence,
            "verdict": c.verdict,
            "supporting": c.supporting,
            "asked": c.asked,
        }
        for c in claims
    ]
    if failure is not None:
        d.failures.append(failure)
        d.fallback.append("grounded")
        d.judged_by["grounded"] = f"{d.offline.judge} (fallback: judge failure)"
        return
    v = d.v
    v.claims = len(claims)
    v.supported = sum(1 for c in claims if c.verdict == "supported")
    v.unsupported = [c.sentence for c in claims if c.verdict != "supported"]
    v.citations = sum(c.citations for c in claims)
    v.citations_supporting = sum(len(c.supporting) for c in claims)
    v.claims_supported_by_citation = sum(1 for c in claims if c.supporting)
    v.grounded = v.claims > 0 and v.supported == v.claims
    d.llm["grounded"] = v.grounded
    d.llm["contradicted"] = [c.sentence for c in claims if c.verdict == "contradicted"]
    d.judged_by["grounded"] = judge.name


def judge_correct(judge: LLMJudge, d: Judging, s: Suggestion, case: Case) -> None:
    """1.6 correctness: one rubric question against the reference answer."""
    llm_correct: bool | None = None
    if case.reference_answer and s.draft.strip():
        q = judge.correct_question(case, s.draft, case.reference_answer, d.masker)
        asked = judge.ask(q)
        d.tally.merge(asked.tally)
        if isinstance(asked.answer, RubricAnswer):
            llm_correct = asked.answer.verdict == "yes"
            d.llm["correct_reason"] = asked.answer.reason
        else:
            d.failures.append({"question": "correct", "error": asked.error or "no answer"})
    d.llm["correct"] = llm_correct
    offline = d.offline
    if case.required_facts:
        d.judged_by["correct"] = f"{OFFLINE} (required_facts; LLM verdict recorded beside)"
    elif case.reference_answer:
        if llm_correct is not None:
            d.v.correct = llm_correct and not d.v.forbidden_found
            d.v.correct_basis = "llm_reference_rubric"
            d.judged_by["correct"] = judge.name
        else:
            d.fallback.append("correct")
            d.judged_by["correct"] = f"{OFFLINE} ({offline.correct_basis}; fallback: judge failure)"
    else:
        d.judged_by["correct"] = f"{OFFLINE} ({offline.correct_basis})"


def _claims(
    judge: LLMJudge,
    s: Suggestion,
    chunk_texts: Mapping[str, str],
    own_orders: Sequence[Order],
    masker: Masker | None,
    tally: Tally,
) -> tuple[list[_Claim], dict[str, str] | None]:
    """Each claim sentence of the draft, asked about (until a question fails: the failure)."""
    by_order = {o.order_number: o for o in own_orders}
    cited_by_sentence = {normalise(c.sentence): c for c in s.citations}
    claims: list[_Claim] = []
    for n, sent in enumerate((x for x in sentences(s.draft) if is_claim(x)), start=1):
        cit = cited_by_sentence.get(normalise(sent))
        ids = cit.chunk_ids if cit else []
        texts: list[tuple[str, str]] = []
        refs: list[tuple[str, str]] = []
        cited_orders: set[str] = set()
        for cid in ids:
            text = None
            if cid.startswith("order:"):
                number = cid.split(":", 1)[1]
                cited_orders.add(number)
                o = by_order.get(number)
                text = order_record(o) if o is not None else None
            else:
                text = chunk_texts.get(cid)
            if text is not None:
                label = f"S{len(texts) + 1}"
                texts.append((label, text))
                refs.append((label, cid))
        context = [o for o in own_orders if o.order_number not in cited_orders]
        claim = _Claim(sent, len(ids), refs)
        claims.append(claim)
        if not texts and not context:
            claim.verdict = "not_in_context"  # nothing to check it against: no question
            continue
        q = judge.claim_question(sent, s.draft, texts, context[:MAX_CONTEXT_ORDERS], masker)
        asked = judge.ask(q)
        tally.merge(asked.tally)
        claim.asked = True
        if not isinstance(asked.answer, ClaimAnswer):
            # the remaining claims are not asked: groundedness falls back as a whole
            return claims, {"question": f"claim {n}", "error": asked.error or "no answer"}
        claim.verdict = asked.answer.verdict
        if claim.verdict == "supported":
            by_label = dict(refs)
            claim.supporting = [
                by_label[x] for x in dict.fromkeys(asked.answer.supporting_sources) if x in by_label
            ]
    return claims, None
