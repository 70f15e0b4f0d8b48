"""The suggestion service: a conversation in, a :class:`Suggestion` out.

retrieve -> look up the customer's own orders -> apply the escalation policy -> draft (LLM or
offline) -> check -> score confidence -> decide. It never raises to its caller for an LLM
failure: the offline draft is returned, marked "LLM unavailable".

The steps are functions of their own: the orders and what is known before drafting in
``preparation``, the draft and its checks in ``drafting``, confidence and the escalation
decision in ``decision``; the service reads the conversation, retrieves, times each step and
puts the suggestion together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any, Literal

from copilot.pipeline.confidence import ConfidenceModel, review_hints
from copilot.pipeline.decision import decide_after_draft
from copilot.pipeline.drafter import (
    Drafter,
    DraftRequest,
    DraftResult,
    OnDelta,
    order_fact_lines,
)
from copilot.pipeline.drafting import draft_or_fallback
from copilot.pipeline.escalation import Policy
from copilot.pipeline.intents import IntentClassifier
from copilot.pipeline.offline import OfflineDrafter
from copilot.pipeline.preparation import (
    BeforeDrafting,
    FoundOrders,
    before_drafting,
    customer_said,
    find_orders,
)
from copilot.pipeline.reading import Reading, read_conversation, without_item_names
from copilot.types import (
    Citation,
    Conversation,
    DraftOptions,
    RetrievedPassage,
    Suggestion,
    Timings,
)
from knowledge import Chunk, Customer, Hit, KnowledgeBase, Order, OrderBook


class SuggestionService:
    def __init__(
        self,
        kb: KnowledgeBase,
        orders: OrderBook,
        *,
        policy: Policy | Callable[[], Policy] | None = None,
        drafter: Drafter | None = None,
        confidence: ConfidenceModel | Callable[[], ConfidenceModel] | None = None,
        intents: IntentClassifier | Literal["shipped"] | None = "shipped",
        today: Callable[[], date] = date.today,
        k: int = 6,
        company: str = "our company",
    ) -> None:
        self.kb = kb
        self.orders = orders
        self._policy = policy or Policy.default()
        self.llm = drafter
        self.offline = OfflineDrafter()
        self._confidence = confidence or ConfidenceModel.load()
        # the learned escalation intents (None: the policy's patterns alone)
        self.intents = IntentClassifier.default() if intents == "shipped" else intents
        self.today = today
        self.k = k
        self.company = company

    @property
    def policy(self) -> Policy:
        return self._policy() if callable(self._policy) else self._policy

    @property
    def confidence(self) -> ConfidenceModel:
        """The current model (another process may have calibrated a new one)."""
        c = self._confidence
        return c if isinstance(c, ConfidenceModel) else c()

    # ----------------------------------------------------------------------------------
    def suggest(
        self,
        conv: Conversation,
        options: DraftOptions | None = None,
        *,
        on_delta: OnDelta | None = None,
        offline: bool = False,
    ) -> Suggestion:
        """The suggestion for the conversation's last customer message; ``offline`` drafts
        without the LLM even when one is configured (the draft shown while it is slow).

        Five steps, each timed: the customer's orders, retrieval, the policy's triggers known
        before drafting, the draft, then confidence and the escalation decision."""
        opts = options or DraftOptions()
        t_start = time.perf_counter()
        timings = Timings()
        found, hits, index_down, step3 = self._prepare(conv, opts, timings)
        before, (result, llm_unavailable, notes) = self._decide_and_draft(
            conv, step3, on_delta, offline, timings
        )
        reading = before.req.reading
        feats, confidence, escalation = decide_after_draft(
            self.kb, self.confidence, found, before, result
        )
        # a cited sentence that another document contradicts: the agent checks before sending
        disputed = self.kb.conflicts.hints(_cited_chunks(result.citations, hits), opts.ui_lang)
        timings.total_ms = (time.perf_counter() - t_start) * 1000
        if index_down:
            notes = [f"meaning search unavailable ({index_down}): keyword search only", *notes]
        return Suggestion(
            draft=result.text,
            citations=result.citations,
            escalation=escalation,
            confidence=confidence,
            needs_review=escalation.escalate
            or confidence < self.confidence.threshold
            or bool(disputed),
            language=reading.lang,
            register_=reading.register,
            timings=timings,
            usage=result.usage,
            model=result.model,
            prompt_version=result.prompt_version,
            drafter="llm" if result.model != "offline" else "offline",
            llm_unavailable=llm_unavailable,
            notes=notes + result.notes,
            retrieved=[_retrieved(h) for h in hits],
            order_numbers=[o.order_number for o in found.chosen],
            context=_prompt_context(before.req),
            clarify=None if escalation.escalate else _asks_back(before.req),
            clarify_orders=[o.order_number for o in found.ask_between]
            if not escalation.escalate
            else [],
            intent=reading.intent,
            features=feats,
            review_hints=review_hints(feats, opts.ui_lang) + disputed,
        )

    def _prepare(
        self, conv: Conversation, opts: DraftOptions, timings: Timings
    ) -> tuple[FoundOrders, list[Hit], str | None, Callable[..., BeforeDrafting]]:
        """Steps 1 and 2, each timed: the customer's orders and retrieval; and step 3 (the
        policy's triggers known before drafting and the drafter's request), waiting for the
        escalation intents of the customer's messages."""
        policy = self.policy
        if self.intents is not None:  # the messages' intents are read while orders are found
            self.intents.read_ahead(customer_said(conv))
        customer = self.orders.customer(conv.customer_id) if conv.customer_id else None
        name = conv.customer_name or (customer.name if customer else None)
        reading = self._read(conv, opts, customer)

        t = time.perf_counter()
        # items named in another language than the feed's are matched by the classifier's
        # multilingual embedding, unless it was asked to read n-grams only (no embedding)
        embed = (
            partial(self.intents.meanings, stored=self.orders.item_vectors)
            if self.intents is not None and self.intents.features == "e5"
            else None
        )
        found = find_orders(self.orders, conv, customer, reading, policy, self.today, embed)
        timings.orders_ms = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        reading, hits, index_down = self._retrieve(reading, found.chosen)
        timings.retrieval_ms = (time.perf_counter() - t) * 1000
        step3 = partial(
            before_drafting,
            conv,
            opts,
            policy,
            reading,
            name,
            found,
            hits,
            kb=self.kb,
            today=self.today,
        )
        return found, hits, index_down, step3

    def _decide_and_draft(
        self,
        conv: Conversation,
        step3: Callable[..., BeforeDrafting],
        on_delta: OnDelta | None,
        offline: bool,
        timings: Timings,
    ) -> tuple[BeforeDrafting, tuple[DraftResult, bool, list[str]]]:
        """Steps 3 and 4, timed. The intents still being read (a long message, by the child
        process) are waited for last: meanwhile the offline draft is made from the messages
        read by now, and kept when the intents read then hand nothing more over (they reach
        the draft only through its hand-off): the same draft, made while the reader ends."""
        said = customer_said(conv)
        early = None
        if self.intents is not None and self.intents.reads_aside and (offline or self.llm is None):
            so_far, complete = self.intents.reasons_so_far(said)
            if not complete:
                guess = step3(so_far)
                early = (guess.req.handoff, self._draft(guess.req, on_delta, offline, timings))
        t = time.perf_counter()
        intents = self.intents.reasons(said) if self.intents is not None else {}
        timings.intents_ms = (time.perf_counter() - t) * 1000
        before = step3(intents)
        timings.prompt_ms = (time.perf_counter() - t) * 1000
        if early is not None and early[0] == before.req.handoff:
            return before, early[1]
        return before, self._draft(before.req, on_delta, offline, timings)

    def _draft(
        self, req: DraftRequest, on_delta: OnDelta | None, offline: bool, timings: Timings
    ) -> tuple[DraftResult, bool, list[str]]:
        """Step 4, timed: the draft (the LLM's, or the offline one: see ``drafting``)."""
        t = time.perf_counter()
        result, llm_unavailable, notes = draft_or_fallback(
            self.llm, self.offline, self.orders, req, None if offline else on_delta, offline
        )
        timings.generation_ms = (time.perf_counter() - t) * 1000
        timings.ttft_ms = result.ttft_ms
        return result, llm_unavailable, notes

    def _read(self, conv: Conversation, opts: DraftOptions, customer: Customer | None) -> Reading:
        """What the conversation asks, in which language and register."""
        reading = read_conversation(conv, opts, profile_lang=customer.lang if customer else None)
        if (
            reading.lang_confidence < 0.5
            and not opts.lang
            and not (customer and customer.lang)
            and reading.query
        ):
            # A few keywords ("abandon de poste") say little about the language: answer in the
            # language of the knowledge that matches them.
            probe = self.kb.search(reading.query, k=3)
            if probe:
                langs = [h.chunk.lang for h in probe]
                best = max(set(langs), key=langs.count)
                if best in ("fr", "en") and best != reading.lang:
                    reading = read_conversation(conv, opts.model_copy(update={"lang": best}))
        return reading

    def _retrieve(
        self, reading: Reading, chosen: list[Order]
    ) -> tuple[Reading, list[Hit], str | None]:
        """2. retrieval, in the customer's language first; a question about the order itself
        is searched without the names of its items (they identify the order, like its
        number). Also says when the meaning index is down (keyword search only)."""
        if reading.order_related and chosen:
            names = [item.name for o in chosen for item in o.items]
            reading = replace(reading, query=without_item_names(reading.query, names))
        hits = self.kb.search(reading.query, k=self.k, lang=reading.lang) if reading.query else []
        if not hits and reading.query:
            hits = self.kb.search(reading.query, k=self.k)
        if hits:
            # what the draft and its confidence read: misspelt words as the articles spell them
            reading = replace(reading, query=self.kb.spelled(reading.query, reading.lang))
        return reading, hits, self.kb.dense_status()


def _retrieved(h: Hit) -> RetrievedPassage:
    return RetrievedPassage(
        chunk_id=h.chunk_id,
        doc_id=h.doc_id,
        title=h.title,
        score=h.score,
        dense_score=h.dense_score,
        bm25_score=h.bm25_score,
    )


def _prompt_context(req: DraftRequest) -> dict[str, list[Any]]:
    """Exactly what an LLM prompt holds for this draft: the ORDER FACTS lines and the passages
    (the offline drafter is given the same)."""
    return {
        "order_facts": order_fact_lines(req),
        "passages": [{"doc_id": p.hit.doc_id, "text": p.hit.chunk.text} for p in req.passages],
    }


def _cited_chunks(citations: Sequence[Citation], hits: Sequence[Hit]) -> list[Chunk]:
    """The passages the draft cites."""
    cited = {cid for c in citations for cid in c.chunk_ids}
    return [h.chunk for h in hits if h.chunk_id in cited]


def _asks_back(req: DraftRequest) -> Literal["order", "details"] | None:
    """What the draft asks the customer instead of answering, if anything."""
    if req.ask_between:
        return "order"
    return "details" if req.ask_details else None
