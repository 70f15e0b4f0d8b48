"""The LLM judge itself: groundedness and correctness questions for one draft, the fallback to
the offline verdict when a question fails, building it from the settings, its run summary."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from copilot import providers
from copilot.config import Settings
from copilot.pipeline.callcontext import calling
from copilot.pipeline.llm import (
    ChatModel,
    Completion,
    Message,
    defang,
)
from copilot.pipeline.pii import Masker
from copilot.types import Suggestion
from evals.cache import CachingChatModel, last_call_cached, reset_cached_flag
from evals.dataset import Case
from evals.judge import Verdicts, is_claim, normalise
from evals.llm_judge.questions import (
    FORMATS,
    JUDGE_REPLY_TOKENS,
    MAX_CONTEXT_ORDERS,
    OFFLINE,
    TEMPLATES,
    Asked,
    ClaimAnswer,
    JudgeTemplates,
    Question,
    RubricAnswer,
    Tally,
    label_of,
    order_record,
)
from evals.records import CaseResult
from knowledge import Order
from knowledge.errors import ConfigError, SouffleurError
from knowledge.text import sentences

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
