"""The LLM judge itself: its questions (asked, validated, repaired once) and its verdicts on one
draft (:mod:`evals.llm_judge.draft`: groundedness and correctness, with the fallback to the
offline verdict when a question fails). Building it from the settings and its run summary are
:mod:`evals.llm_judge.runs`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

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
from evals.llm_judge.draft import Judging, LLMJudgement, judge_correct, judge_grounded
from evals.llm_judge.questions import (
    FORMATS,
    OFFLINE,
    Asked,
    JudgeTemplates,
    Question,
    Tally,
    label_of,
    order_record,
)
from evals.records import CaseResult
from evals.verdicts import Verdicts
from knowledge import Order
from knowledge.errors import SouffleurError


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
        show = _shown(masker)
        shown = "\n\n".join(
            f'<source label="{label}">\n{show(text)}\n</source>' for label, text in sources
        )
        record = "\n\n".join(show(order_record(o)) for o in orders)
        user = self.templates.claim.render(
            claim=show(claim),
            reply=show(reply),
            sources=shown or "(this sentence cites no source)",
            order_record=record or "(none)",
        )
        labels = tuple(label for label, _ in sources) + (("ORDER",) if orders else ())
        return Question("claim", self._messages(user), labels)

    def correct_question(
        self, case: Case, reply: str, reference: str, masker: Masker | None = None
    ) -> Question:
        show = _shown(masker)
        user = self.templates.correct.render(
            conversation=_conversation(case, show),
            reference=show(reference),
            reply=show(reply),
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
        show = _shown(masker)
        user = self.templates.pairwise.render(
            conversation=show(conversation),
            reference=show(reference) if reference else "(none)",
            reply_1=show(reply_1),
            reply_2=show(reply_2),
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
        d = Judging(
            offline=offline,
            v=replace(
                offline,
                judge=self.name,
                unsupported=list(offline.unsupported),
                forbidden_found=list(offline.forbidden_found),
                leaks=list(offline.leaks),
            ),
            masker=Masker() if self.mask_pii else None,
            judged_by={"grounded": OFFLINE, "correct": OFFLINE, "personal": offline.judge},
            llm={"grounded": None, "correct": None, "correct_reason": None},
        )
        judge_grounded(self, d, s, chunk_texts, own_orders)  # 1.5: one question per claim
        judge_correct(self, d, s, case)  # 1.6: one rubric question against the reference
        return d.judgement(self.template_version)

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


def _shown(masker: Masker | None) -> Callable[[str], str]:
    """How the judge is shown a text: its personal data masked (when the run masks it), then
    defanged."""
    if masker is None:
        return defang
    return lambda text: defang(masker.mask(text))


def _conversation(case: Case, show: Callable[[str], str]) -> str:
    return "\n".join(
        f"<{t.role}_message>{show(t.text)}</{t.role}_message>" for t in case.conversation
    )


def _forget(model: ChatModel, messages: list[Message]) -> None:
    """Drop a cached answer that led to a judge failure (errors are never stored)."""
    if isinstance(model, CachingChatModel):
        key = model.key(messages)
        (model.folder / key[:2] / f"{key}.json").unlink(missing_ok=True)
