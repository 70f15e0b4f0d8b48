"""The suggestion service: a conversation in, a :class:`Suggestion` out.

retrieve -> look up the customer's own orders -> apply the escalation policy -> draft (LLM or
offline) -> check -> score confidence -> decide. It never raises to its caller for an LLM
failure: the offline draft is returned, marked "LLM unavailable".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from copilot.pipeline.confidence import ConfidenceModel, extract, review_hints
from copilot.pipeline.drafter import (
    Drafter,
    DraftRequest,
    DraftResult,
    OnDelta,
    Passage,
    order_fact_lines,
)
from copilot.pipeline.escalation import Policy, PolicySettings, Signals, decide, lost_orders
from copilot.pipeline.intents import IntentClassifier
from copilot.pipeline.llm import LLMUnavailable
from copilot.pipeline.offline import OfflineDrafter
from copilot.pipeline.orderfacts import OrderFacts, describe, pick_orders
from copilot.pipeline.reading import Reading, read_conversation, without_item_names
from copilot.pipeline.safety import (
    foreign_identities,
    foreign_references,
    leaks_prompt,
    promised_amounts,
    unsupported_numbers,
    unsupported_promises,
)
from copilot.types import (
    Citation,
    Conversation,
    DraftOptions,
    Escalation,
    Lang,
    RetrievedPassage,
    Suggestion,
    Timings,
)
from knowledge import Chunk, Customer, Hit, KnowledgeBase, Order, OrderBook
from knowledge.screening import instruction_sentences

log = logging.getLogger("souffleur.drafting")
MAX_TURNS_READ = 8  # the customer's latest messages read for escalation intents

INTENT_LABELS = {
    "en": {
        "order_status": "delivery / order status",
        "return": "a return",
        "refund": "a refund",
        "cancel": "changing or cancelling an order",
        "payment": "payment",
        "warranty": "warranty / defect",
        "account": "their account",
        "privacy": "personal data",
        "promo": "a promo code",
        "product": "product help",
        "contact": "contact / opening hours",
        "chit_chat": "small talk",
        "other": "a question",
    },
    "fr": {
        "order_status": "la livraison / le suivi de commande",
        "return": "un retour",
        "refund": "un remboursement",
        "cancel": "modifier ou annuler une commande",
        "payment": "un paiement",
        "warranty": "la garantie / un défaut",
        "account": "son compte",
        "privacy": "ses données personnelles",
        "promo": "un code promo",
        "product": "un conseil produit",
        "contact": "le contact / les horaires",
        "chit_chat": "une formule de politesse",
        "other": "une question",
    },
}


@dataclass(frozen=True)
class _Orders:
    """What step 1 found: orders quoted that are not this customer's or not known, the
    orders the draft speaks of, those it asks the customer to choose between, their facts."""

    foreign: tuple[str, ...]
    unknown: tuple[str, ...]
    chosen: list[Order]
    ask_between: list[Order]
    facts: list[OrderFacts]


@dataclass(frozen=True)
class _Before:
    """What step 3 knows before drafting: the policy's signals, how many of its patterns
    fired, and the drafter's request."""

    signals: Signals
    pattern_triggers: int
    req: DraftRequest


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
        policy = self.policy
        customer = self.orders.customer(conv.customer_id) if conv.customer_id else None
        name = conv.customer_name or (customer.name if customer else None)
        reading = self._read(conv, opts, customer)

        t = time.perf_counter()
        found = self._find_orders(conv, reading, policy)
        timings.orders_ms = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        reading, hits, index_down = self._retrieve(reading, found.chosen)
        timings.retrieval_ms = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        before = self._before_drafting(conv, opts, policy, reading, name, found, hits, timings)
        timings.prompt_ms = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        result, llm_unavailable, notes = self._draft(
            before.req, None if offline else on_delta, offline
        )
        timings.generation_ms = (time.perf_counter() - t) * 1000
        timings.ttft_ms = result.ttft_ms

        feats, confidence, escalation = self._decide(found, before, result)
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
            clarify_orders=[o.order_number for o in found.ask_between]
            if not escalation.escalate
            else [],
            intent=reading.intent,
            features=feats,
            review_hints=review_hints(feats, opts.ui_lang) + disputed,
        )

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

    def _find_orders(self, conv: Conversation, reading: Reading, policy: Policy) -> _Orders:
        """1. the customer's own orders (the lookup never returns anyone else's)."""
        own = self.orders.orders_of(conv.customer_id) if conv.customer_id else []
        quoted = self.orders.quoted(conv.customer_id, conv.customer_text, own=own)
        ask_between: list[Order] = []
        if quoted.foreign or (quoted.unknown and not quoted.own) or reading.intent == "chit_chat":
            chosen = []  # an order we cannot show them (never guess another one), or small talk
        else:
            choice = pick_orders(
                own,
                list(quoted.own),
                reading.intents,
                self.today(),
                conv.customer_text,
                embed=self.intents.vectors if self.intents is not None else None,
            )
            chosen, ask_between = choice.orders, choice.ask_between
        facts = [
            describe(
                o,
                lang=reading.lang,
                formal=reading.formal,
                intents=reading.intents,
                policy=policy,
                today=self.today(),
                asked=conv.last_customer_text,
            )
            for o in chosen
        ]
        return _Orders(quoted.foreign, quoted.unknown, chosen, ask_between, facts)

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

    def _before_drafting(
        self,
        conv: Conversation,
        opts: DraftOptions,
        policy: Policy,
        reading: Reading,
        name: str | None,
        found: _Orders,
        hits: list[Hit],
        timings: Timings,
    ) -> _Before:
        """3. the policy's triggers known before drafting, and the drafter's request."""
        # the escalation intents of the customer's latest messages (each read once: memoised)
        said = [t.text for t in conv.turns if t.role == "customer"][-MAX_TURNS_READ:]
        t_intents = time.perf_counter()
        intents = self.intents.reasons(said) if self.intents is not None else {}
        timings.intents_ms = (time.perf_counter() - t_intents) * 1000
        pattern_hits = policy.said(said, intents)
        refund_amount = self._refund_amount(policy, conv, reading, found.chosen)
        reported_lost = policy.reported("lost_parcel", intents)
        signals = Signals(
            pattern_hits,
            refund_amount,
            found.foreign,
            lost_orders(found.chosen, reported_lost, policy.settings, self.today()),
            conv.prior_contacts,
            has_knowledge=True,
            # the orders answer, or the question which
            has_order_facts=bool(found.facts or found.ask_between),
            chit_chat="chit_chat" in reading.intents,
        )
        pre = decide(policy, signals, reading.lang)
        handoff = tuple(c for c in pre.codes if policy.is_hard(c))
        passages = [Passage(f"P{i + 1}", h) for i, h in enumerate(hits)]
        req = DraftRequest(
            conv,
            reading,
            opts,
            policy,
            name,
            passages,
            found.facts,
            found.foreign,
            found.unknown,
            handoff,
            refund_amount,
            opts.channel or conv.channel,
            self.kb.term_weights(reading.query, reading.lang) if hits else None,
            tuple(found.ask_between),
        )
        return _Before(signals, len(pattern_hits), req)

    def _decide(
        self, found: _Orders, before: _Before, result: DraftResult
    ) -> tuple[dict[str, float], float, Escalation]:
        """5. confidence and the escalation decision, once the draft is known (the request
        holds the conversation, its reading, the options, the policy and the passages)."""
        req = before.req
        conv, opts, policy, reading = req.conversation, req.options, req.policy, req.reading
        hits = [p.hit for p in req.passages]
        feats = extract(
            reading.query,
            reading.lang,
            hits,
            intents=reading.intents,
            pattern_triggers=before.pattern_triggers,
            order_found=bool(found.facts),
            foreign_order=bool(found.foreign),
            unknown_order=bool(found.unknown) and not found.facts,
            customer_turns=reading.customer_turns,
            llm_answerable=result.answerable if result.model != "offline" else None,
            llm_confidence=result.confidence if result.model != "offline" else None,
            query_stats=self.kb.query_stats(reading.query, lang=reading.lang)
            if reading.query and hits
            else None,
            draft_sentences=[
                c.sentence for c in result.citations if not c.chunk_ids[0].startswith("order:")
            ],
            cited_docs=[d for c in result.citations for d in c.doc_ids],
            term_weights=req.term_weights,
        )
        confidence = self.confidence.predict(feats)
        has_knowledge = knowledge_answers(policy.settings, feats, result.citations)
        # a promise in the draft above the refund limit needs a supervisor, whatever its source
        signals = before.signals
        promised = max(promised_amounts(result.text), default=None)
        if promised is not None and promised > (signals.refund_amount or 0):
            signals = replace(signals, refund_amount=promised)
        escalation = decide(
            policy,
            replace(
                signals,
                has_knowledge=has_knowledge,
                confidence=confidence,
                llm_flag=result.escalate and result.model != "offline",
                llm_reasons=tuple(result.reasons),
            ),
            opts.ui_lang,
        )
        escalation.handoff_summary = handoff_summary(
            conv, reading, found.chosen, escalation, opts.ui_lang, name=req.customer_name
        )
        return feats, confidence, escalation

    # ----------------------------------------------------------------------------------
    def _draft(
        self, req: DraftRequest, on_delta: OnDelta | None, offline_only: bool = False
    ) -> tuple[DraftResult, bool, list[str]]:
        if self.llm is None or offline_only:
            return self.offline.draft(req), False, []
        try:
            result = self.llm.draft(req, on_delta)
        except LLMUnavailable as exc:
            log.warning("LLM unavailable (%s); offline draft used", exc.kind)
            fallback = self.offline.draft(req)
            if exc.usage is not None:  # what the failed calls cost is still counted
                fallback.usage = exc.usage
            return (
                fallback,
                True,
                [f"LLM unavailable ({exc.kind}): offline draft shown."],
            )
        problems = self._check(req, result)
        if problems:
            log.warning("LLM draft refused: %s", "; ".join(problems))
            offline = self.offline.draft(req)
            offline.usage = result.usage
            return (
                offline,
                False,
                [f"LLM draft replaced by the offline draft: {'; '.join(problems)}."],
            )
        return result, False, []

    def _check(self, req: DraftRequest, result: DraftResult) -> list[str]:
        problems = []
        system_prompt = self.llm.system_prompt if self.llm is not None else ""
        if system_prompt and leaks_prompt(result.text, system_prompt):
            problems.append("it repeats the system prompt")
        foreign = foreign_references(result.text, req.conversation.customer_id, self.orders)
        if foreign:
            problems.append(f"it mentions another customer's order ({len(foreign)})")
        if foreign_identities(
            result.text,
            req.conversation.customer_id,
            self.orders,
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

    def _refund_amount(
        self, policy: Policy, conv: Conversation, reading: Reading, chosen: list[Order]
    ) -> float | None:
        claimed = policy.amounts_claimed(conv.customer_text)
        if claimed:
            return max(claimed)
        if "refund" in reading.intents and chosen and chosen[0].total is not None:
            return chosen[0].total
        return None


def knowledge_answers(
    settings: PolicySettings, feats: dict[str, float], citations: list[Citation]
) -> bool:
    """The knowledge base supports the draft (else ``no_knowledge``): its sentences, or the
    best passage, hold at least ``knowledge_coverage`` of the customer's content words, or the
    best passage alone ``passage_coverage`` of them; a stray word in common is not support."""
    kb_cited = any(not c.chunk_ids[0].startswith("order:") for c in citations)
    cover = max(feats["draft_coverage"], feats["coverage_best"])
    return (kb_cited and cover >= settings.knowledge_coverage) or feats[
        "coverage_best"
    ] >= settings.passage_coverage


def handoff_summary(
    conv: Conversation,
    reading: Reading,
    orders: list[Order],
    escalation: Escalation,
    lang: Lang,
    *,
    name: str | None,
) -> str:
    """Three lines for the human who takes over: what they want, what was said, which order."""
    last = conv.last_customer_text.strip().replace("\n", " ")
    excerpt = last if len(last) <= 160 else last[:157] + "…"
    agent_turns = [t.text for t in conv.turns if t.role == "agent"]
    intent = INTENT_LABELS[lang].get(reading.intent, reading.intent)
    who = name or ("the customer" if lang == "en" else "le client")
    if lang == "fr":
        lines = [f"{who} écrit au sujet de {intent} : « {excerpt} »"]
        lines.append(
            f"Déjà dit : {len(agent_turns)} réponse(s) d’agent"
            + (f", la dernière : « {agent_turns[-1][:120]} »" if agent_turns else "")
            + "."
        )
        lines.append(
            "Commande : "
            + (
                ", ".join(f"{o.order_number} ({o.status})" for o in orders)
                if orders
                else "aucune identifiée"
            )
            + "."
        )
        if escalation.reasons:
            lines.append("Motifs : " + "; ".join(r.label for r in escalation.reasons) + ".")
    else:
        lines = [f'{who} writes about {intent}: "{excerpt}"']
        lines.append(
            f"Already said: {len(agent_turns)} agent repl{'y' if len(agent_turns) == 1 else 'ies'}"
            + (f', the last: "{agent_turns[-1][:120]}"' if agent_turns else "")
            + "."
        )
        lines.append(
            "Order: "
            + (
                ", ".join(f"{o.order_number} ({o.status})" for o in orders)
                if orders
                else "none identified"
            )
            + "."
        )
        if escalation.reasons:
            lines.append("Reasons: " + "; ".join(r.label for r in escalation.reasons) + ".")
    return "\n".join(lines)


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
