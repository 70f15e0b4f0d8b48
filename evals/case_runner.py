"""Running one case of a dataset, and many at once: the case drafted by the very same
suggestion service the app uses, judged (offline, then optionally by the LLM judge), and
written as one typed result line; cases in flight at once are bounded, and a case that fails or
runs over its time is an unscored result, never a lost one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from copilot.pipeline.suggest import SuggestionService
from copilot.types import Conversation, DraftOptions, Suggestion, Turn
from copilot.workspace import Workspace
from evals.cache import last_call_cached, reset_cached_flag
from evals.dataset import Case
from evals.facts import facts_found, identifiers, normalise
from evals.judge import JudgeInput, Verdicts, judge_offline
from evals.llm_judge import LLMJudge
from evals.records import CaseResult
from knowledge import Order

log = logging.getLogger("evals.runner")  # the harness's log: one name, whichever module writes


def case_conversation(case: Case) -> Conversation:
    """The case as the conversation the suggestion service answers."""
    ctx = case.customer_context
    return Conversation(
        id=case.id,
        customer_id=ctx.customer_id if ctx else None,
        customer_name=ctx.name if ctx else None,
        channel=case.channel or "web",
        turns=[Turn(role=t.role, text=t.text) for t in case.conversation],
        prior_contacts=case.prior_contacts,
    )


def run_case(
    case: Case,
    service: SuggestionService,
    ws: Workspace,
    owners: dict[str, tuple[str, str]],
    llm_judge: LLMJudge | None = None,
) -> CaseResult:
    reset_cached_flag()
    conv = case_conversation(case)
    t0 = time.perf_counter()
    s = service.suggest(conv, DraftOptions(ui_lang="en"))
    wall = (time.perf_counter() - t0) * 1000
    snap = ws.kb.retriever.snapshot()
    chunk_texts = {
        p.chunk_id: snap.chunks[snap.row_of[p.chunk_id]].text
        for p in s.retrieved
        if p.chunk_id in snap.row_of
    }
    customer_id = conv.customer_id
    own: list[Order] = ws.orders.orders_of(customer_id) if customer_id else []
    others = {k: label for k, (owner, label) in owners.items() if owner != customer_id}
    v = judge_offline(
        JudgeInput(
            s,
            chunk_texts=chunk_texts,
            own_orders=own,
            other_identifiers=others,
            reference_doc_ids=case.reference_doc_ids,
            required_facts=case.required_facts,
            forbidden_facts=case.forbidden_facts,
            order_facts=case.order_facts,
            reference_answer=case.reference_answer,
            lang=s.language,
            return_window_days=service.policy.settings,
            conversation_text=conv.customer_text,
        )
    )
    rec = _scored(case, s, v, service, wall)
    if llm_judge is not None:  # after the offline judge: replaces what it judged, counts failures
        llm_judge.apply(rec, s, v, case=case, chunk_texts=chunk_texts, own_orders=own)
    return rec


def _scored(
    case: Case, s: Suggestion, v: Verdicts, service: SuggestionService, wall: float
) -> CaseResult:
    """The result line of a drafted and judged case (``wall``: its drafting time, in ms)."""
    ok = None if v.correct is None else bool(v.correct and v.grounded is not False and v.personal)
    return CaseResult(
        **_case_fields(case),
        status="scored",
        unscored_reason=None
        if ok is not None or case.should_escalate
        else "no reference documents or required facts to verify correctness",
        retrieved_doc_ids=list(dict.fromkeys(p.doc_id for p in s.retrieved)),
        retrieved_chunk_ids=[p.chunk_id for p in s.retrieved],
        reference_doc_ids=case.reference_doc_ids,
        draft=s.draft,
        citations=[c.model_dump() for c in s.citations],
        escalate=s.escalation.escalate,
        reasons=s.escalation.codes,
        confidence=s.confidence,
        # the model's score before its isotonic map: the harness shows calibration before/after
        confidence_raw=service.confidence.raw(s.features) if s.features else None,
        needs_review=s.needs_review,
        intent=s.intent,
        language=s.language,
        drafter=s.drafter,
        llm_unavailable=s.llm_unavailable,
        notes=s.notes,
        verdicts=v.as_dict(),
        ok=ok,
        timings={**s.timings.model_dump(), "wall_ms": wall},
        usage=s.usage.model_dump(),
        judge_usage={},
        cached=last_call_cached(),
        features=s.features,
        clarify=s.clarify is not None,
        # exactly what an LLM prompt would hold (the offline drafter is given the same)
        context=s.context,
        context_facts_required_ok=facts_found(
            case.order_facts.values(), "\n".join(s.context.get("order_facts", []))
        ),
    )


def _case_fields(case: Case) -> dict[str, Any]:
    """What every result line says about its case (its gold labels)."""
    return {
        "id": case.id,
        "group": case.group,
        "lang": case.lang,
        "expected_action": case.expected_action,
        "should_escalate": case.should_escalate,
        "gold_reason": case.reason,
        "weight": case.weight,
        "question": case.conversation[-1].text,
    }


def _unscored(case: Case, reason: str) -> CaseResult:
    return CaseResult(
        **_case_fields(case),
        status="unscored",
        unscored_reason=reason,
        retrieved_doc_ids=[],
        retrieved_chunk_ids=[],
        reference_doc_ids=case.reference_doc_ids,
        draft="",
        citations=[],
        escalate=True,
        reasons=[],
        confidence=0.0,
        verdicts=None,
        ok=None,
        timings={},
        usage={},
        judge_usage={},
        cached=False,
        features={},
    )


def owners_of(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Every order and tracking number (and e-mail) of the feed: whose, and a label (the
    judge's leak check)."""
    owners: dict[str, tuple[str, str]] = {}
    for number, customer in ws.orders.all_order_numbers():
        order = ws.orders.order_of(customer, number)
        if order is not None:
            for ident in identifiers(order):
                owners[ident] = (customer, f"{number} of {customer}")
        owners[normalise(number).replace("-", "")] = (customer, f"{number} of {customer}")
    return owners


def run_cases(
    todo: Sequence[Case],
    judged: Callable[[Case], CaseResult],
    *,
    workers: int,
    timeout_s: float,
) -> Iterator[CaseResult]:
    """Each case's result as it lands: ``workers`` cases in flight, halved each time the
    model times out or is rate-limited (a one-slot server then gets one case at a time instead
    of most of them timing out); a case that fails or runs over ``timeout_s`` is an
    unscored result, never a lost one."""
    started: dict[str, float] = {}  # case id -> when it began to run (not when queued)
    queue = list(todo)
    limit = max(1, workers)

    def timed(case: Case) -> CaseResult:
        started[case.id] = time.monotonic()
        return judged(case)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: dict[Future[CaseResult], Case] = {}

        def submit() -> None:
            while queue and len(pending) < limit:
                case = queue.pop(0)
                pending[pool.submit(timed, case)] = case

        submit()
        while pending:
            ready, _ = wait(list(pending), timeout=1.0, return_when=FIRST_COMPLETED)
            now_ = time.monotonic()
            for fut in list(pending):
                case = pending[fut]
                if fut in ready:
                    try:
                        rec = fut.result()
                    except Exception as exc:  # a failing case is counted, never silently dropped
                        rec = _unscored(case, f"error: {exc.__class__.__name__}: {exc}")
                    overloaded = any(
                        n.startswith(("LLM unavailable (timeout", "LLM unavailable (rate_limited"))
                        for n in rec.notes
                    )
                    if overloaded and limit > 1:
                        limit = max(1, limit // 2)
                        log.warning(
                            "the model is overloaded: %d case(s) at once from now on", limit
                        )
                elif now_ - started.get(case.id, now_) > timeout_s:
                    rec = _unscored(case, f"timeout after {timeout_s:.0f} s")
                    fut.cancel()
                else:
                    continue
                del pending[fut]
                yield rec
            submit()
