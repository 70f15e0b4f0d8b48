"""Step 4 of a suggestion (see ``suggest``): the draft. The LLM's when one is configured and its
draft passes the checks, else the offline draft, with a note that says why; an LLM failure
never reaches the caller."""

from __future__ import annotations

import logging

from copilot.pipeline.drafter import Drafter, DraftRequest, DraftResult, OnDelta
from copilot.pipeline.llm import LLMUnavailable
from copilot.pipeline.offline import OfflineDrafter
from copilot.pipeline.safety import (
    foreign_identities,
    foreign_references,
    leaks_prompt,
    promised_amounts,
    unsupported_numbers,
    unsupported_promises,
)
from knowledge import OrderBook
from knowledge.screening import instruction_sentences

log = logging.getLogger("souffleur.drafting")


def draft_or_fallback(
    llm: Drafter | None,
    offline: OfflineDrafter,
    orders: OrderBook,
    req: DraftRequest,
    on_delta: OnDelta | None,
    offline_only: bool = False,
) -> tuple[DraftResult, bool, list[str]]:
    """4. the LLM's draft, or the offline one: when there is no LLM, when it is not wanted,
    when it is unavailable, or when its draft fails a check; with whether the LLM was
    unavailable and the notes that say why the offline draft is shown."""
    if llm is None or offline_only:
        return offline.draft(req), False, []
    try:
        result = llm.draft(req, on_delta)
    except LLMUnavailable as exc:
        log.warning("LLM unavailable (%s); offline draft used", exc.kind)
        fallback = offline.draft(req)
        if exc.usage is not None:  # what the failed calls cost is still counted
            fallback.usage = exc.usage
        return (
            fallback,
            True,
            [f"LLM unavailable ({exc.kind}): offline draft shown."],
        )
    problems = problems_of(llm, orders, req, result)
    if problems:
        log.warning("LLM draft refused: %s", "; ".join(problems))
        replacement = offline.draft(req)
        replacement.usage = result.usage
        return (
            replacement,
            False,
            [f"LLM draft replaced by the offline draft: {'; '.join(problems)}."],
        )
    return result, False, []


def problems_of(
    llm: Drafter, orders: OrderBook, req: DraftRequest, result: DraftResult
) -> list[str]:
    """Why an LLM draft may not be shown (it repeats the system prompt, names another
    customer or their order, repeats a document's instruction, offers more than the refund
    limit, promises what no source states); figures no source holds are noted on it."""
    problems = []
    system_prompt = llm.system_prompt
    if system_prompt and leaks_prompt(result.text, system_prompt):
        problems.append("it repeats the system prompt")
    foreign = foreign_references(result.text, req.conversation.customer_id, orders)
    if foreign:
        problems.append(f"it mentions another customer's order ({len(foreign)})")
    if foreign_identities(
        result.text,
        req.conversation.customer_id,
        orders,
        said=req.conversation.customer_text,
    ):
        problems.append("it names another customer")
    company = [p.hit.chunk.text for p in req.passages] + [
        s for f in req.order_facts for s in f.sentences
    ]
    company += [f.values.get(k, "") for f in req.order_facts for k in f.values]
    promises = unsupported_promises(result.text, company)  # the customer's words are no policy
    planted = instruction_sentences(result.text)
    if planted:
        problems.append(f"it repeats an instruction found in a document ({planted[0][:60]})")
    over = [a for a in promised_amounts(result.text) if a > req.policy.settings.refund_limit]
    if over:  # the policy decides, not a passage that states it
        problems.append(
            f"it offers {max(over):g} {req.policy.settings.currency}, over the refund limit"
        )
    if promises:
        problems.append(
            f"it promises what no passage or order fact states ({', '.join(promises[:3])})"
        )
    sources = [*company, *(t.text for t in req.conversation.turns)]
    unsupported = unsupported_numbers(result.text, sources)
    if unsupported:
        result.notes.append(f"figures not found in the sources: {', '.join(unsupported[:5])}")
    return problems
