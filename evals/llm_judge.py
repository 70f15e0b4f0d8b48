"""The optional LLM judge (EVALS.md §1.5–1.7, §1.12): atomic binary verdicts, same schema.

It runs after the offline judge and only replaces what it can judge better:

- groundedness (§1.5): the draft is split into claim sentences exactly as the offline judge
  splits it (:func:`evals.judge.is_claim`); each claim is one question ("do the cited passages
  and the customer's order record support it?": supported / contradicted / not_in_context,
  plus which cited source supports it on its own), from which supported, grounded, citation
  precision and recall follow as in the offline judge. Escalated drafts are not asked about
  (they are scored by escalation only), as offline;
- correctness (§1.6): when the case has a reference answer, one binary rubric question ("does
  the reply resolve the question consistently with the reference and contradict nothing?").
  When the case has required facts, the deterministic required-facts check stays the decision
  and the LLM verdict is recorded beside it (``verdicts["llm"]["correct"]``);
- personalisation (§1.7) stays deterministic: the offline values are kept.

Every request is sent at temperature 0 with a fixed seed; the JSON answer is validated with
pydantic, and an invalid one gets one repair round. A question that still fails (transport
error after the SDK's retries, or invalid JSON twice) is a *judge failure*: it is counted
(``judge_failures`` on the record and in the summary), its LLM verdict is ``None``, and the
metric it feeds falls back to the offline verdict for that case, which the record says
(``verdicts["fallback"]``, ``verdicts["judged_by"]``). A failure never becomes a 0 or a NaN.

Also here: :func:`pairwise` (two drafts for one case, judged in both orders; a win counts only
when both orders agree) and :func:`self_agreement` (k samples at temperature > 0 on a subset,
majority vote). The prompt templates live in ``evals/templates/``; their names and hashes are
the template version, which is part of the cache key.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Engine

from copilot import providers
from copilot.calllog import calling
from copilot.config import Settings
from copilot.llm import (
    ChatModel,
    Completion,
    Message,
    Prompt,
    defang,
    load_prompt,
    parse_json,
)
from copilot.pii import Masker
from copilot.tokens import cost_usd, count_messages, count_text
from copilot.types import Suggestion
from evals.cache import CachingChatModel, last_call_cached, reset_cached_flag
from evals.dataset import Case
from evals.judge import Verdicts, is_claim, normalise
from evals.records import CaseResult
from knowledge import Order
from knowledge.errors import ConfigError, SouffleurError
from knowledge.text import sentences

TEMPLATES = Path(__file__).parent / "templates"
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


# ------------------------------------------------------------------------- the judge


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


class LLMJudge:
    """Atomic LLM verdicts over the offline ones; thread-safe (one instance per run)."""

    def __init__(
        self,
        chat: ChatModel,
        *,
        templates: JudgeTemplates | None = None,
        seed: int = 0,
        mask_pii: bool = False,
        keep_questions: bool = False,
    ) -> None:
        self.chat = chat
        self.name = f"llm:{chat.name}"
        self.templates = templates or JudgeTemplates.load()
        self.seed = seed
        self.mask_pii = mask_pii
        self.keep_questions = keep_questions
        self.asked: list[tuple[Question, str]] = []  # (question, verdict at T=0) when kept
        self.notes: list[str] = []
        self.endpoint: str | None = None
        self._lock = threading.Lock()

    @property
    def template_version(self) -> str:
        return self.templates.version

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.chat.name,
            "endpoint": self.endpoint,
            "template_version": self.template_version,
            "temperature": 0.0,
            "seed": self.seed,
            "mask_pii": self.mask_pii,
            "notes": list(self.notes),
        }

    # -- one question -------------------------------------------------------------------
    def ask(self, q: Question, chat: ChatModel | None = None) -> Asked:
        """Ask, validate, repair once; a failure comes back as ``Asked(None, error, ...)``."""
        with calling(purpose=f"judge:{q.kind}", prompt_version=self.template_version):
            return self._ask(q, chat)

    def _ask(self, q: Question, chat: ChatModel | None) -> Asked:
        model = chat or self.chat
        tally = Tally()
        first = self._call(model, q.messages, tally)
        if isinstance(first, str):
            return Asked(None, first, tally)
        try:
            answer = q.parse(first.text)
        except ValueError as err:
            repair = [
                *q.messages,
                {"role": "assistant", "content": first.text[:4000]},
                {
                    "role": "user",
                    "content": self.templates.repair.render(error=str(err), format=FORMATS[q.kind]),
                },
            ]
            second = self._call(model, repair, tally)
            if isinstance(second, str):
                _forget(model, q.messages)
                return Asked(None, f"invalid JSON ({err}), then {second}", tally)
            try:
                answer = q.parse(second.text)
            except ValueError as err2:
                _forget(model, q.messages)  # a failure is never replayed from the cache
                _forget(model, repair)
                return Asked(None, f"invalid JSON twice ({err2})", tally)
        if self.keep_questions and chat is None:
            with self._lock:
                self.asked.append((q, label_of(answer)))
        return Asked(answer, None, tally)

    @staticmethod
    def _call(model: ChatModel, messages: list[Message], tally: Tally) -> Completion | str:
        reset_cached_flag()
        try:
            c = model.complete(messages)
        except Exception as exc:  # any transport failure is a counted judge failure
            detail = exc.problem if isinstance(exc, SouffleurError) else str(exc)
            return f"{exc.__class__.__name__}: {detail}"
        tally.add(c, messages, model.name, last_call_cached())
        return c

    def _messages(self, user: str) -> list[Message]:
        return [
            {"role": "system", "content": self.templates.system.template.strip()},
            {"role": "user", "content": user},
        ]

    # -- question builders --------------------------------------------------------------
    def claim_question(
        self,
        claim: str,
        reply: str,
        sources: Sequence[tuple[str, str]],
        orders: Sequence[Order],
        masker: Masker | None = None,
    ) -> Question:
        """``sources``: (label, text) of the passages the sentence cites."""
        mask = masker.mask if masker else (lambda t: t)
        shown = "\n\n".join(
            f'<source label="{label}">\n{defang(mask(text))}\n</source>' for label, text in sources
        )
        record = "\n\n".join(defang(mask(order_record(o))) for o in orders)
        user = self.templates.claim.render(
            claim=defang(mask(claim)),
            reply=defang(mask(reply)),
            sources=shown or "(this sentence cites no source)",
            order_record=record or "(none)",
        )
        labels = tuple(label for label, _ in sources) + (("ORDER",) if orders else ())
        return Question("claim", self._messages(user), labels)

    def correct_question(
        self, case: Case, reply: str, reference: str, masker: Masker | None = None
    ) -> Question:
        mask = masker.mask if masker else (lambda t: t)
        user = self.templates.correct.render(
            conversation=_conversation(case, mask),
            reference=defang(mask(reference)),
            reply=defang(mask(reply)),
        )
        return Question("correct", self._messages(user))

    def pairwise_question(
        self,
        conversation: str,
        reply_1: str,
        reply_2: str,
        reference: str | None,
        masker: Masker | None = None,
    ) -> Question:
        mask = masker.mask if masker else (lambda t: t)
        user = self.templates.pairwise.render(
            conversation=defang(mask(conversation)),
            reference=defang(mask(reference)) if reference else "(none)",
            reply_1=defang(mask(reply_1)),
            reply_2=defang(mask(reply_2)),
        )
        return Question("pairwise", self._messages(user))

    # -- one draft ----------------------------------------------------------------------
    def judge(
        self,
        s: Suggestion,
        offline: Verdicts,
        *,
        case: Case,
        chunk_texts: Mapping[str, str],
        own_orders: Sequence[Order],
    ) -> LLMJudgement:
        """The offline verdicts with what the LLM judged replaced, and what fell back."""
        masker = Masker() if self.mask_pii else None
        tally = Tally()
        failures: list[dict[str, str]] = []
        v = replace(
            offline,
            judge=self.name,
            unsupported=list(offline.unsupported),
            forbidden_found=list(offline.forbidden_found),
            leaks=list(offline.leaks),
        )
        judged_by = {"grounded": OFFLINE, "correct": OFFLINE, "personal": offline.judge}
        fallback: list[str] = []
        llm: dict[str, Any] = {"grounded": None, "correct": None, "correct_reason": None}

        # 1.5 groundedness: one question per claim sentence
        if s.escalation.escalate:
            judged_by["grounded"] = "not judged (escalated: scored by escalation only)"
        else:
            claims, failure = self._claims(s, chunk_texts, own_orders, masker, tally)
            llm["claims"] = [
                {
                    "sentence": c.sentence,
                    "verdict": c.verdict,
                    "supporting": c.supporting,
                    "asked": c.asked,
                }
                for c in claims
            ]
            if failure is not None:
                failures.append(failure)
                fallback.append("grounded")
                judged_by["grounded"] = f"{offline.judge} (fallback: judge failure)"
            else:
                v.claims = len(claims)
                v.supported = sum(1 for c in claims if c.verdict == "supported")
                v.unsupported = [c.sentence for c in claims if c.verdict != "supported"]
                v.citations = sum(c.citations for c in claims)
                v.citations_supporting = sum(len(c.supporting) for c in claims)
                v.claims_supported_by_citation = sum(1 for c in claims if c.supporting)
                v.grounded = v.claims > 0 and v.supported == v.claims
                llm["grounded"] = v.grounded
                llm["contradicted"] = [c.sentence for c in claims if c.verdict == "contradicted"]
                judged_by["grounded"] = self.name

        # 1.6 correctness: one rubric question against the reference answer
        llm_correct: bool | None = None
        if case.reference_answer and s.draft.strip():
            q = self.correct_question(case, s.draft, case.reference_answer, masker)
            asked = self.ask(q)
            tally.merge(asked.tally)
            if isinstance(asked.answer, RubricAnswer):
                llm_correct = asked.answer.verdict == "yes"
                llm["correct_reason"] = asked.answer.reason
            else:
                failures.append({"question": "correct", "error": asked.error or "no answer"})
        llm["correct"] = llm_correct
        if case.required_facts:
            judged_by["correct"] = f"{OFFLINE} (required_facts; LLM verdict recorded beside)"
        elif case.reference_answer:
            if llm_correct is not None:
                v.correct = llm_correct and not v.forbidden_found
                v.correct_basis = "llm_reference_rubric"
                judged_by["correct"] = self.name
            else:
                fallback.append("correct")
                judged_by["correct"] = (
                    f"{OFFLINE} ({offline.correct_basis}; fallback: judge failure)"
                )
        else:
            judged_by["correct"] = f"{OFFLINE} ({offline.correct_basis})"

        extra = {
            "judged_by": judged_by,
            "fallback": fallback,
            "llm": {**llm, "template_version": self.template_version, "failures": failures},
        }
        return LLMJudgement(v, extra, failures, tally)

    def _claims(
        self,
        s: Suggestion,
        chunk_texts: Mapping[str, str],
        own_orders: Sequence[Order],
        masker: Masker | None,
        tally: Tally,
    ) -> tuple[list[_Claim], dict[str, str] | None]:
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
            q = self.claim_question(sent, s.draft, texts, context[:MAX_CONTEXT_ORDERS], masker)
            asked = self.ask(q)
            tally.merge(asked.tally)
            claim.asked = True
            if not isinstance(asked.answer, ClaimAnswer):
                # the remaining claims are not asked: groundedness falls back as a whole
                return claims, {"question": f"claim {n}", "error": asked.error or "no answer"}
            claim.verdict = asked.answer.verdict
            if claim.verdict == "supported":
                by_label = dict(refs)
                claim.supporting = [
                    by_label[x]
                    for x in dict.fromkeys(asked.answer.supporting_sources)
                    if x in by_label
                ]
        return claims, None

    def apply(
        self,
        rec: CaseResult,
        s: Suggestion,
        offline: Verdicts,
        *,
        case: Case,
        chunk_texts: Mapping[str, str],
        own_orders: Sequence[Order],
    ) -> LLMJudgement:
        """Judge and update a result record: verdicts, ok (as run_case computes it),
        judge_usage and judge_failures."""
        j = self.judge(s, offline, case=case, chunk_texts=chunk_texts, own_orders=own_orders)
        v = j.verdicts
        ok = (
            None
            if v.correct is None
            else bool(v.correct and v.grounded is not False and v.personal)
        )
        rec.verdicts = j.as_dict()
        rec.ok = ok
        if ok is not None:
            rec.unscored_reason = None
        rec.judge_usage = j.usage.as_dict()
        rec.judge_failures = len(j.failures)
        return j


def _conversation(case: Case, mask: Any) -> str:
    return "\n".join(
        f"<{t.role}_message>{defang(mask(t.text))}</{t.role}_message>" for t in case.conversation
    )


def _forget(model: ChatModel, messages: list[Message]) -> None:
    """Drop a cached answer that led to a judge failure (errors are never stored)."""
    if isinstance(model, CachingChatModel):
        key = model.key(messages)
        (model.folder / key[:2] / f"{key}.json").unlink(missing_ok=True)


# ------------------------------------------------------------------------- building from settings


def judge_from_settings(
    settings: Settings,
    *,
    chat: ChatModel | None = None,
    seed: int = 0,
    cache: bool = True,
    templates_folder: Path = TEMPLATES,
    keep_questions: bool = False,
    engine: Engine | None = None,
) -> LLMJudge:
    """The run's judge, its calls cached by (model, template version, messages, T, seed)."""
    templates = JudgeTemplates.load(templates_folder)
    inner: ChatModel | None = (
        chat
        if chat is not None
        else providers.chat_model(
            settings, "judge", temperature=0.0, seed=seed, max_tokens=JUDGE_REPLY_TOKENS
        )
    )
    if inner is None:
        raise ConfigError(
            "--judge llm needs an endpoint.",
            "Set SOUFFLEUR_JUDGE_BASE_URL (or SOUFFLEUR_LLM_BASE_URL), and the key and model.",
        )
    model: ChatModel = providers.logged(inner, settings, engine, "judge")
    if cache:
        model = CachingChatModel(
            model,
            settings.data_dir / "evals" / "judge-cache",
            params={"temperature": 0.0, "seed": seed, "template_version": templates.version},
        )
    judge = LLMJudge(
        model,
        templates=templates,
        seed=seed,
        mask_pii=providers.masks_pii(settings, "judge"),
        keep_questions=keep_questions,
    )
    judge.endpoint = providers.endpoint(settings, "judge") if chat is None else None
    if chat is None and (settings.judge_model or settings.llm_model) == settings.llm_model:
        judge.notes.append(
            "the judge uses the drafter's model: prefer another model family "
            "(self-preference bias, EVALS.md §1.12); set SOUFFLEUR_JUDGE_MODEL"
        )
    return judge


def judge_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``judge_failures`` and the judge's own figures, for the run summary."""
    rows = [r for r in records if r.get("status") == "scored"]
    usage = [r.get("judge_usage") or {} for r in rows]
    failures = sum(int(r.get("judge_failures") or 0) for r in rows)
    fallbacks = Counter(m for r in rows for m in (r.get("verdicts") or {}).get("fallback", []))
    names = Counter((r.get("verdicts") or {}).get("judge") for r in rows)
    return {
        "judge_failures": failures,
        "judge": {
            "name": names.most_common(1)[0][0] if names else None,
            "cases": len(rows),
            "judge_failures": failures,
            "cases_with_judge_failures": sum(1 for r in rows if r.get("judge_failures")),
            "fallbacks": {"grounded": fallbacks["grounded"], "correct": fallbacks["correct"]},
            "calls": sum(int(u.get("calls") or 0) for u in usage),
            "cached_calls": sum(int(u.get("cached_calls") or 0) for u in usage),
            "note": "a judge failure is counted and the case keeps its offline verdict for "
            "that metric; it is never a 0 or a NaN in a mean",
        },
    }


# ------------------------------------------------------------------------- pairwise


@dataclass
class PairwiseResult:
    """``winner``: "a", "b", "tie", or None when the judge failed (counted, not a tie)."""

    winner: Literal["a", "b", "tie"] | None
    first: str | None  # the verdict with A shown first, as a/b/tie
    second: str | None  # the verdict with B shown first, mapped back to a/b/tie
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def consistent(self) -> bool:
        return self.first is not None and self.first == self.second


def pairwise(
    judge: LLMJudge,
    *,
    conversation: str,
    draft_a: str,
    draft_b: str,
    reference: str | None = None,
) -> PairwiseResult:
    """Compare two drafts for one case in both orders; a win counts only when both orders
    agree, anything else is a tie (position bias, EVALS.md §1.12)."""
    if normalise(draft_a) == normalise(draft_b):
        return PairwiseResult("tie", "tie", "tie", usage=Tally().as_dict())
    masker = Masker() if judge.mask_pii else None
    tally = Tally()
    verdicts: list[str | None] = []
    errors: list[str] = []
    for one, two, as_ in ((draft_a, draft_b, "ab"), (draft_b, draft_a, "ba")):
        asked = judge.ask(judge.pairwise_question(conversation, one, two, reference, masker))
        tally.merge(asked.tally)
        if isinstance(asked.answer, PairwiseAnswer):
            b = asked.answer.better
            verdicts.append("tie" if b == "tie" else as_[int(b) - 1])
        else:
            verdicts.append(None)
            errors.append(asked.error or "no answer")
    first, second = verdicts
    winner: Literal["a", "b", "tie"] | None
    if first is None or second is None:
        winner = None
    elif first == second and first in ("a", "b"):
        winner = "a" if first == "a" else "b"
    else:
        winner = "tie"
    return PairwiseResult(winner, first, second, len(errors), errors, tally.as_dict())


def pairwise_counts(results: Sequence[PairwiseResult]) -> dict[str, int]:
    """Wins of A and B, ties (of which: orders that disagreed), and failures (not ties)."""
    return {
        "n": len(results),
        "a_wins": sum(1 for r in results if r.winner == "a"),
        "b_wins": sum(1 for r in results if r.winner == "b"),
        "ties": sum(1 for r in results if r.winner == "tie"),
        "order_disagreements": sum(
            1 for r in results if r.winner is not None and r.first != r.second
        ),
        "judge_failures": sum(1 for r in results if r.winner is None),
    }


def pairwise_runs(
    judge: LLMJudge,
    records_a: Sequence[dict[str, Any]],
    records_b: Sequence[dict[str, Any]],
    *,
    references: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Pairwise verdicts for the cases two runs share (by case id; both scored, both drafted)."""
    by_id = {r["id"]: r for r in records_b if r.get("status") == "scored" and r.get("draft")}
    cases = []
    results = []
    for ra in records_a:
        rb = by_id.get(ra["id"])
        if rb is None or ra.get("status") != "scored" or not ra.get("draft"):
            continue
        res = pairwise(
            judge,
            conversation=ra.get("question", ""),
            draft_a=ra["draft"],
            draft_b=rb["draft"],
            reference=(references or {}).get(ra["id"]),
        )
        results.append(res)
        cases.append(
            {"id": ra["id"], "winner": res.winner, "first": res.first, "second": res.second}
        )
    return {"counts": pairwise_counts(results), "cases": cases}


# ------------------------------------------------------------------------- self-agreement


def samplers_from_settings(
    settings: Settings, *, k: int = 3, temperature: float = 0.7, seed: int = 0
) -> list[ChatModel]:
    """k judge models at temperature > 0, each with its own fixed seed (reproducible samples)."""
    out: list[ChatModel] = []
    for i in range(k):
        chat = providers.chat_model(
            settings,
            "judge",
            temperature=temperature,
            seed=seed + 1 + i,
            max_tokens=JUDGE_REPLY_TOKENS,
        )
        if chat is None:
            raise ConfigError(
                "self-agreement needs a judge endpoint.", "Set SOUFFLEUR_JUDGE_BASE_URL."
            )
        out.append(chat)
    return out


def self_agreement(
    judge: LLMJudge,
    samplers: Sequence[ChatModel],
    *,
    items: Sequence[tuple[Question, str | None]] | None = None,
    subset: int | None = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Ask each question of a subset once per sampler (k = len(samplers), at temperature > 0)
    and report how often the samples agree with their majority vote.

    ``items``: (question, verdict at temperature 0 or None); default: the questions the judge
    kept (``keep_questions=True``). An item with a failed sample is counted and left out.
    """
    pool = list(judge.asked if items is None else items)
    if subset is not None and len(pool) > subset:
        picked = sorted(random.Random(seed).sample(range(len(pool)), subset))
        pool = [pool[i] for i in picked]
    k = len(samplers)
    shares: list[float] = []
    unanimous = 0
    t0_total = t0_match = 0
    failed = 0
    tally = Tally()
    for q, t0 in pool:
        labels: list[str] = []
        for chat in samplers:
            asked = judge.ask(q, chat=chat)
            tally.merge(asked.tally)
            if asked.answer is None:
                break
            labels.append(label_of(asked.answer))
        if len(labels) < k:
            failed += 1
            continue
        top, count = Counter(labels).most_common(1)[0]
        shares.append(count / k)
        unanimous += int(count == k)
        if t0 is not None:
            t0_total += 1
            t0_match += int(count * 2 > k and t0 == top)
    n = len(shares)
    return {
        "k": k,
        "items": n,
        "failed_items": failed,
        "majority_agreement": sum(shares) / n if n else None,
        "unanimous_rate": unanimous / n if n else None,
        "t0_matches_majority": t0_match / t0_total if t0_total else None,
        "usage": tally.as_dict(),
        "definition": "majority_agreement: mean share of the k samples that agree with the "
        "majority verdict of their item; unanimous_rate: items where all k agree",
    }
