"""The offline drafter: a grounded reply composed from retrieved passages and order facts.

Deterministic and instant. The reply is a greeting in the customer's language and register,
the relevant order facts, the few most relevant sentences of the best passages (never whole
articles), and a closing; every claim sentence carries its citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from copilot.pipeline.drafter import (
    DraftRequest,
    DraftResult,
    OnDelta,
    Passage,
    first_name,
    source_version,
)
from copilot.pipeline.orderchoice import clarify_question
from copilot.pipeline.orderdates import fmt_amount
from copilot.pipeline.phrases import PHRASES
from copilot.pipeline.policyrules import shipped_handoffs
from copilot.pipeline.quotes import plain, select_sentences, source_quote, terminated
from copilot.pipeline.reading import ORDER_INTENTS, addressed_as, detect_intents, second_question
from copilot.pipeline.versions import ORDER_FACTS_MODULES, kept
from copilot.types import Citation, Register
from knowledge.text import content_terms

# what other modules import from here (the phrase bank and the sentence selection were here)
__all__ = ["PROMPT_VERSION", "OfflineDrafter", "plain", "select_sentences", "terminated"]

# the offline drafter's "prompt" is its code: the phrase bank, the rules of this module and of
# the sentences it quotes, of the order facts it states and of the request it reads, and the
# shipped triggers' hand-off sentences (in the default policy file) (code that
# was only moved keeps its version: see ``versions``)
PROMPT_VERSION = kept(
    source_version(
        "offline",
        "copilot.pipeline.offline",
        "copilot.pipeline.phrases",
        "copilot.pipeline.quotes",
        *ORDER_FACTS_MODULES,
        "copilot.pipeline.drafter",
        data=shipped_handoffs(),
    )
)

_SENTENCES = {"shorter": 1, "normal": 3, "longer": 5}


class OfflineDrafter:
    name = "offline"
    prompt_version = PROMPT_VERSION
    system_prompt = ""  # no instructions: its phrases are all meant to be said

    def draft(self, req: DraftRequest, on_delta: OnDelta | None = None) -> DraftResult:
        result = self._compose(req)
        quoted = addressed_as(" ".join(c.sentence for c in result.citations if not c.about_order))
        if (
            req.reading.lang == "fr"
            and req.options.tone == "auto"  # a register the agent chose is kept
            and quoted is not None
            and quoted != req.reading.register
        ):
            # the articles it quotes word for word say "vous" (or "tu"): one reply speaks one
            # register, so its own sentences follow them ("Ta commande…, vous pouvez…" would not);
            # the greeting still names them as they wrote ("slt" is greeted by the first name)
            result = self._compose(_in_register(req, quoted), greet_formal=req.reading.formal)
        return result

    def _compose(self, req: DraftRequest, greet_formal: bool | None = None) -> DraftResult:
        r = req.reading
        bank = PHRASES[(r.lang, r.formal)]
        v = req.options.variant
        emoji = (
            req.options.emoji if req.options.emoji is not None else (r.uses_emoji and not r.formal)
        )

        def pick(key: str, **kw: str) -> str:
            options = bank[key]
            return options[v % len(options)].format(**kw)

        formal_name = r.formal if greet_formal is None else greet_formal
        name = (
            first_name(req.customer_name)
            if not formal_name or r.lang == "en"
            else (req.customer_name or "")
        )
        ongoing = any(t.role == "agent" for t in req.conversation.turns)
        # No second "Hello" in a conversation the agent has already answered.
        opening = "" if ongoing else pick("hello", name=name) if name else pick("hello_anon")
        # the sentence of the most serious reason a human takes over that has one
        handoff = [
            said
            for c in req.policy.ranked(req.handoff)
            if (said := req.policy.handoff_sentence(c, r.lang, r.formal)) is not None
        ][:1]
        body = _handoff_and_unknown(req, handoff, pick)
        if req.ask_between and not handoff and not req.foreign_orders:
            return _clarify(req, opening)  # several of their orders fit: ask which one, only
        if req.ask_details and not handoff:  # the message does not say what it is about
            text, _ = _fit(opening, [(pick("details"), None)], "", req.char_limit)
            return DraftResult(
                text=text, citations=[], model="offline", prompt_version=PROMPT_VERSION
            )
        if "prompt_injection" not in req.handoff:
            body += _order_sentences(req)
        # Past the return window, the reply says so and stops: how-to-return steps after it
        # would contradict it (the agent adds what the policy offers next, e.g. a warranty).
        # Only the knowledge's row for their own case still speaks to them (their fare's
        # exchange rule, when a ticket cannot be returned).
        window_closed = r.intents[:1] == ("return",) and any(
            f.return_eligible is False for f in req.order_facts
        )
        if not handoff and "chit_chat" not in r.intents and not req.foreign_orders:
            body += _knowledge_sentences(req, only_theirs=window_closed)
        if "chit_chat" in r.intents and not body:
            body.append((pick("chit_chat"), None))
        if not body:
            body.append((pick("checking"), None))
        small_talk = "chit_chat" in r.intents and len(body) == 1 and body[0][1] is None
        closing = "" if small_talk else pick("bye") + (" 🙂" if emoji else "")
        text, kept = _fit(opening, body, closing, req.char_limit)
        citations = [c for _, c in kept if c is not None]
        return DraftResult(
            text=text, citations=citations, model="offline", prompt_version=PROMPT_VERSION
        )


Body = list[tuple[str, Citation | None]]


def _in_register(req: DraftRequest, register: Register) -> DraftRequest:
    """The request in the other French register: the reading's and its order facts'."""
    return replace(
        req,
        reading=replace(req.reading, register=register),
        order_facts=[f.in_other_register() for f in req.order_facts],
    )


def _handoff_and_unknown(req: DraftRequest, handoff: list[str], pick: Callable[..., str]) -> Body:
    """The hand-off sentence (``handoff``: the first reason's, or none), and the sentence for
    an order number we cannot show (another customer's is worded exactly as an unknown one:
    the reply must not tell whether that number exists)."""
    r = req.reading
    body: Body = []
    for said in handoff:
        amount = (
            f" de {fmt_amount(req.refund_amount, req.policy.settings.currency, 'fr')}"
            if r.lang == "fr" and req.refund_amount
            else (
                f" for {fmt_amount(req.refund_amount, req.policy.settings.currency, 'en')}"
                if req.refund_amount
                else ""
            )
        )
        body.append((said.replace("{amount}", amount), None))
    for number in req.foreign_orders[:1]:
        body.append((pick("unknown", number=number), None))
    if not req.foreign_orders:
        for number in req.unknown_orders[:1]:
            if not req.order_facts:
                body.append((pick("unknown", number=number), None))
    return body


def _clarify(req: DraftRequest, opening: str) -> DraftResult:
    """The question which of their orders the customer means, listing them, and nothing else."""
    r = req.reading
    question = clarify_question(list(req.ask_between), lang=r.lang, formal=r.formal)
    ids = [f"order:{o.order_number}" for o in req.ask_between]
    cite = Citation(
        sentence=question,
        chunk_ids=ids,
        doc_ids=ids,
        titles=[o.order_number for o in req.ask_between],
        snippets=[],
        urls=[],
    )
    text, _ = _fit(opening, [(question, cite)], "", req.char_limit)
    return DraftResult(text=text, citations=[cite], model="offline", prompt_version=PROMPT_VERSION)


def _order_sentences(req: DraftRequest) -> Body:
    """What the customer's own orders say, each sentence citing its order."""
    body: Body = []
    for facts in req.order_facts:
        cite = Citation(
            sentence="",
            chunk_ids=[f"order:{facts.order_number}"],
            doc_ids=[f"order:{facts.order_number}"],
            titles=[
                f"Order {facts.order_number}"
                if req.reading.lang == "en"
                else f"Commande {facts.order_number}"
            ],
            snippets=[],
            urls=[],
        )
        for s in facts.sentences:
            body.append((s, cite.model_copy(update={"sentence": s})))
    return body


def _knowledge_sentences(req: DraftRequest, *, only_theirs: bool = False) -> Body:
    """The passages' sentences that answer the question, each citing its passage (with
    ``only_theirs``, the table row of their own case alone, if there is one)."""
    r = req.reading
    n = _SENTENCES[req.options.length] - (
        1 if req.order_facts and req.options.length != "shorter" else 0
    )
    body: Body = []

    def adds(sentence: str) -> bool:
        """Next to their order's facts, a sentence about another step of an order, or a
        window rule their own window already states, adds nothing."""
        steps = set(detect_intents(sentence))
        return not (_about_another_step(steps, r.intents) or _window_restated(sentence, steps, req))

    def picked(count: int) -> list[tuple[str, Passage]]:
        return [
            (s, p)
            for s, p in select_sentences(
                req.passages,
                r.query,
                r.lang,
                count,
                req.options.variant,
                skip_examples=bool(req.order_facts),
                term_weights=req.term_weights,
                own=[n for f in req.order_facts for n in (*f.names, *filter(None, [f.carrier]))],
                items=[n for f in req.order_facts for n in f.names],
                keep=adds if req.order_facts else None,
                only_theirs=only_theirs,
            )
            if not req.order_facts or adds(s)
        ]

    chosen = picked(max(n, 1))
    second = second_question(req.conversation.last_customer_text)
    if second and not only_theirs:
        chosen = _answering_the_second(chosen, picked(max(n, 1) + _LOOK_AHEAD), second, r.lang)
    for sentence_, passage in chosen:
        h = passage.hit
        sentence = terminated(sentence_)
        body.append(
            (
                sentence,
                Citation(
                    sentence=sentence,
                    chunk_ids=[h.chunk_id],
                    doc_ids=[h.doc_id],
                    titles=[h.title],
                    snippets=[source_quote(sentence, h.chunk.text, r.lang)],
                    urls=[h.chunk.url] if h.chunk.url else [],
                ),
            )
        )
    return body


# how many sentences past the usual ones may answer a second question
_LOOK_AHEAD = 2


def _answering_the_second(
    chosen: list[tuple[str, Passage]], more: list[tuple[str, Passage]], second: str, lang: str
) -> list[tuple[str, Passage]]:
    """Two questions in one message ("what am I owed and how do I claim it?"): one sentence
    more, among the next best (``more``), if it speaks of words of the second question that no
    chosen sentence covers; none when the chosen ones answer it already (no padding)."""
    said = {t for s, _ in chosen for t in content_terms(s, lang)}
    open_terms = set(content_terms(second, lang)) - said
    extra = next(
        (x for x in more if x not in chosen and open_terms & set(content_terms(x[0], lang))),
        None,
    )
    return chosen if extra is None else [x for x in more if x in chosen or x is extra]


# the steps of an order that speak of one another: a cancellation or a return is refunded
_RELATED_STEPS = {"cancel": {"refund"}, "return": {"refund"}, "refund": {"cancel", "return"}}


def _about_another_step(said: set[str], asked: tuple[str, ...]) -> bool:
    """A sentence about another step of an order than the one asked (``said``: the sentence's
    intents; "a shipped order can no longer be cancelled" in reply to a return of a delivered
    order): the customer's own order is stated, so it adds nothing to their question. Only
    when the question names a step."""
    steps = set(asked) & set(ORDER_INTENTS)
    if not steps:
        return False
    near = steps.union(*(_RELATED_STEPS.get(s, set()) for s in steps))
    said = said & set(ORDER_INTENTS)
    return bool(said) and not said & near


_DAYS = re.compile(r"\b\d+\s*(?:jours?|days?)\b", re.IGNORECASE)


def _window_restated(sentence: str, steps: set[str], req: DraftRequest) -> bool:
    """A general return-window rule ("items can be returned within 30 days of delivery";
    ``steps``: the sentence's intents) once the draft states their own window, with its last
    day: it adds nothing (a refund delay or how to return still does)."""
    if not any(
        "return_deadline" in f.values or f.values.get("return_eligible") == "after_delivery"
        for f in req.order_facts
    ):
        return False  # no window of theirs stated (a non-returnable category has none)
    return "return" in steps and "refund" not in steps and bool(_DAYS.search(sentence))


def _fit(
    opening: str, body: list[tuple[str, Citation | None]], closing: str, limit: int
) -> tuple[str, list[tuple[str, Citation | None]]]:
    """Drop knowledge sentences from the end (then the closing) until the reply fits the channel."""
    kept = list(body)

    def render(parts: list[tuple[str, Citation | None]], with_closing: bool = True) -> str:
        paras = [opening, " ".join(s for s, _ in parts)] + ([closing] if with_closing else [])
        return "\n\n".join(p for p in paras if p)

    text = render(kept)
    while len(text) > limit and len(kept) > 1:
        drop = max(
            (i for i, (_, c) in enumerate(kept) if c is not None and not c.about_order),
            default=len(kept) - 1,
        )
        kept.pop(drop)
        text = render(kept)
    if len(text) > limit:
        text = render(kept, with_closing=False)
    return text, kept
