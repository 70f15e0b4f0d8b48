"""Step 5 of a suggestion (see ``suggest``), once the draft is known: its confidence, whether
the knowledge supports it, the escalation decision, and the note for the human who takes over.
"""

from __future__ import annotations

from dataclasses import replace

from copilot.pipeline.confidence import ConfidenceModel, extract
from copilot.pipeline.drafter import DraftResult
from copilot.pipeline.escalation import PolicySettings, decide
from copilot.pipeline.preparation import BeforeDrafting, FoundOrders
from copilot.pipeline.reading import Reading
from copilot.pipeline.safety import promised_amounts
from copilot.types import Citation, Conversation, Escalation, Lang
from knowledge import KnowledgeBase, Order

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


def decide_after_draft(
    kb: KnowledgeBase,
    model: ConfidenceModel,
    found: FoundOrders,
    before: BeforeDrafting,
    result: DraftResult,
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
        query_stats=kb.query_stats(reading.query, lang=reading.lang)
        if reading.query and hits
        else None,
        draft_sentences=[c.sentence for c in result.citations if not c.about_order],
        cited_docs=[d for c in result.citations for d in c.doc_ids],
        term_weights=req.term_weights,
    )
    confidence = model.predict(feats)
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


def knowledge_answers(
    settings: PolicySettings, feats: dict[str, float], citations: list[Citation]
) -> bool:
    """The knowledge base supports the draft (else ``no_knowledge``): its sentences, or the
    best passage, hold at least ``knowledge_coverage`` of the customer's content words, or the
    best passage alone ``passage_coverage`` of them; a stray word in common is not support."""
    kb_cited = any(not c.about_order for c in citations)
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
    said = ", ".join(f"{o.order_number} ({o.status})" for o in orders)
    reasons = "; ".join(r.label for r in escalation.reasons)
    if lang == "fr":
        lines = [
            f"{who} écrit au sujet de {intent} : « {excerpt} »",
            f"Déjà dit : {len(agent_turns)} réponse(s) d’agent"
            + (f", la dernière : « {agent_turns[-1][:120]} »" if agent_turns else "")
            + ".",
            f"Commande : {said if orders else 'aucune identifiée'}.",
        ]
        if escalation.reasons:
            lines.append(f"Motifs : {reasons}.")
    else:
        lines = [
            f'{who} writes about {intent}: "{excerpt}"',
            f"Already said: {len(agent_turns)} agent repl{'y' if len(agent_turns) == 1 else 'ies'}"
            + (f', the last: "{agent_turns[-1][:120]}"' if agent_turns else "")
            + ".",
            f"Order: {said if orders else 'none identified'}.",
        ]
        if escalation.reasons:
            lines.append(f"Reasons: {reasons}.")
    return "\n".join(lines)
