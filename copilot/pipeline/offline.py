"""The offline drafter: a grounded reply composed from retrieved passages and order facts.

Deterministic and instant. The reply is a greeting in the customer's language and register,
the relevant order facts, the few most relevant sentences of the best passages (never whole
articles), and a closing; every claim sentence carries its citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from copilot.pipeline.drafter import (
    DraftRequest,
    DraftResult,
    OnDelta,
    Passage,
    first_name,
    source_version,
)
from copilot.pipeline.orderfacts import clarify_question, fmt_amount
from copilot.types import Citation
from knowledge.screening import is_instruction
from knowledge.text import content_terms, fold, pieces

# the offline drafter's "prompt" is its code: the phrase bank below and the rules of this
# module, of the order facts it states and of the request it reads
PROMPT_VERSION = source_version(
    "offline", "copilot.pipeline.offline", "copilot.pipeline.orderfacts", "copilot.pipeline.drafter"
)

# Phrases by (language, formal). Lists give the variants used by "regenerate".
PHRASES: dict[tuple[str, bool], dict[str, list[str]]] = {
    ("fr", True): {
        "hello": ["Bonjour {name},", "Bonjour {name}, merci pour votre message."],
        "hello_anon": ["Bonjour,", "Bonjour, merci pour votre message."],
        "bye": [
            "N’hésitez pas si vous avez d’autres questions. Belle journée !",
            "Je reste à votre disposition pour toute autre question.",
        ],
        "checking": [
            "Je vérifie ce point auprès de l’équipe concernée et je reviens vers vous très vite."
        ],
        "chit_chat": ["Avec plaisir ! Je reste à votre disposition si besoin."],
        "unknown": [
            "Je ne retrouve pas de commande {number}. Pouvez-vous vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
        "human_request": [
            "Je vous mets en relation avec un conseiller, qui prend le relais dans cette conversation dans quelques instants."
        ],
        "anger": [
            "Je comprends votre mécontentement et je vous prie de nous excuser pour ce désagrément. Un responsable reprend votre demande en priorité."
        ],
        "legal_threat": [
            "Je comprends que la situation soit contrariante. Je transmets votre dossier à notre service réclamations, qui l’examinera en priorité et reviendra vers vous rapidement."
        ],
        "fraud": [
            "Pour votre sécurité, je transmets votre demande à notre équipe paiements, qui va vérifier la situation avec vous."
        ],
        "gdpr": [
            "Votre demande concernant vos données personnelles est transmise à notre équipe dédiée, qui vous répondra dans le délai légal d’un mois."
        ],
        "safety": [
            "Pour votre sécurité, débranchez le produit et ne l’utilisez plus. Je transmets immédiatement votre signalement à notre équipe sécurité produit, qui vous recontacte en priorité."
        ],
        "prompt_injection": [
            "Je ne peux pas donner suite à cette demande. Je reste à votre disposition pour toute question sur vos commandes ou nos services."
        ],
        "refund_over_limit": [
            "Votre demande de remboursement{amount} doit être validée par un responsable : je la lui transmets dès maintenant, et nous revenons vers vous rapidement."
        ],
        "repeated_contact": [
            "Je suis désolé que vous ayez dû nous relancer. Je transmets votre demande en priorité à un responsable."
        ],
        "repeated_contact_history": [
            "Je suis désolé que vous ayez dû nous relancer. Je transmets votre demande en priorité à un responsable."
        ],
        "lost_parcel": [
            "Un conseiller va ouvrir une enquête auprès du transporteur et revenir vers vous rapidement."
        ],
    },
    ("fr", False): {
        "hello": ["Bonjour {name} !", "Salut {name}, merci pour ton message !"],
        "hello_anon": ["Bonjour !", "Salut, merci pour ton message !"],
        "bye": [
            "N’hésite pas si tu as d’autres questions. Bonne journée !",
            "Je reste dispo si tu as besoin !",
        ],
        "checking": [
            "Je vérifie ce point auprès de l’équipe concernée et je reviens vers toi très vite."
        ],
        "chit_chat": ["Avec plaisir ! Je reste dispo si besoin."],
        "unknown": [
            "Je ne retrouve pas de commande {number}. Tu peux vérifier le numéro indiqué dans l’e-mail de confirmation ?"
        ],
        "human_request": [
            "Je te mets en relation avec un conseiller, qui prend le relais ici dans quelques instants."
        ],
        "anger": [
            "Je comprends ton mécontentement et je suis désolé pour ce désagrément. Un responsable reprend ta demande en priorité."
        ],
        "legal_threat": [
            "Je comprends que la situation soit contrariante. Je transmets ton dossier à notre service réclamations, qui l’examinera en priorité et reviendra vers toi rapidement."
        ],
        "fraud": [
            "Pour ta sécurité, je transmets ta demande à notre équipe paiements, qui va vérifier la situation avec toi."
        ],
        "gdpr": [
            "Ta demande concernant tes données personnelles est transmise à notre équipe dédiée, qui te répondra dans le délai légal d’un mois."
        ],
        "safety": [
            "Pour ta sécurité, débranche le produit et ne l’utilise plus. Je transmets immédiatement ton signalement à notre équipe sécurité produit, qui te recontacte en priorité."
        ],
        "prompt_injection": [
            "Je ne peux pas donner suite à cette demande. Je reste dispo pour toute question sur tes commandes ou nos services."
        ],
        "refund_over_limit": [
            "Ta demande de remboursement{amount} doit être validée par un responsable : je la lui transmets tout de suite, et on revient vers toi rapidement."
        ],
        "repeated_contact": [
            "Désolé que tu aies dû nous relancer. Je transmets ta demande en priorité à un responsable."
        ],
        "repeated_contact_history": [
            "Désolé que tu aies dû nous relancer. Je transmets ta demande en priorité à un responsable."
        ],
        "lost_parcel": [
            "Un conseiller va ouvrir une enquête auprès du transporteur et revenir vers toi rapidement."
        ],
    },
    ("en", True): {
        "hello": ["Hello {name},", "Hello {name}, thank you for your message."],
        "hello_anon": ["Hello,", "Hello, thank you for your message."],
        "bye": [
            "Please let me know if you have any other questions. Have a nice day!",
            "I remain at your disposal for any other question.",
        ],
        "checking": [
            "I am checking this with the team concerned and will get back to you very shortly."
        ],
        "chit_chat": ["You're welcome! Let me know if there is anything else I can do."],
        "unknown": [
            "I cannot find an order {number}. Could you check the number given in your confirmation e-mail?"
        ],
        "human_request": [
            "I am passing you to one of our advisers, who will take over this conversation in a moment."
        ],
        "anger": [
            "I understand your frustration and I apologise for the inconvenience. A team lead is taking over your request as a priority."
        ],
        "legal_threat": [
            "I understand this situation is upsetting. I am passing your case to our complaints team, who will review it as a priority and get back to you shortly."
        ],
        "fraud": [
            "For your security, I am passing your request to our payments team, who will look into it with you."
        ],
        "gdpr": [
            "Your request about your personal data has been passed to our dedicated team, who will answer within the legal time limit of one month."
        ],
        "safety": [
            "For your safety, please unplug the product and stop using it. I am reporting this to our product-safety team straight away, and they will contact you as a priority."
        ],
        "prompt_injection": [
            "I am not able to act on this request. I remain available for any question about your orders or our services."
        ],
        "refund_over_limit": [
            "Your refund request{amount} needs a team lead's approval: I am passing it on now, and we will get back to you shortly."
        ],
        "repeated_contact": [
            "I am sorry you had to contact us again. I am passing your request to a team lead as a priority."
        ],
        "repeated_contact_history": [
            "I am sorry you had to contact us again. I am passing your request to a team lead as a priority."
        ],
        "lost_parcel": [
            "An adviser will open an investigation with the carrier and get back to you shortly."
        ],
    },
}
PHRASES[("en", False)] = {
    **PHRASES[("en", True)],
    "hello": ["Hi {name}!", "Hi {name}, thanks for your message!"],
    "hello_anon": ["Hi!", "Hi, thanks for your message!"],
    "bye": ["Let me know if there's anything else!", "Happy to help with anything else!"],
}
_SENTENCES = {"shorter": 1, "normal": 3, "longer": 5}


class OfflineDrafter:
    name = "offline"
    prompt_version = PROMPT_VERSION
    system_prompt = ""  # no instructions: its phrases are all meant to be said

    def draft(self, req: DraftRequest, on_delta: OnDelta | None = None) -> DraftResult:
        r = req.reading
        bank = PHRASES[(r.lang, r.formal)]
        v = req.options.variant
        emoji = (
            req.options.emoji if req.options.emoji is not None else (r.uses_emoji and not r.formal)
        )

        def pick(key: str, **kw: str) -> str:
            options = bank[key]
            return options[v % len(options)].format(**kw)

        name = (
            first_name(req.customer_name)
            if not r.formal or r.lang == "en"
            else (req.customer_name or "")
        )
        ongoing = any(t.role == "agent" for t in req.conversation.turns)
        # No second "Hello" in a conversation the agent has already answered.
        opening = "" if ongoing else pick("hello", name=name) if name else pick("hello_anon")
        handoff = [c for c in req.policy.ranked(req.handoff) if c in bank]
        body = _handoff_and_unknown(req, handoff[:1], pick)
        if req.ask_between and not handoff and not req.foreign_orders:
            return _clarify(req, opening)  # several of their orders fit: ask which one, only
        if "prompt_injection" not in req.handoff:
            body += _order_sentences(req)
        # Past the return window, the reply says so and stops: how-to-return steps after it
        # would contradict it (the agent adds what the policy offers next, e.g. a warranty).
        window_closed = r.intents[:1] == ("return",) and any(
            f.return_eligible is False for f in req.order_facts
        )
        if (
            not handoff
            and "chit_chat" not in r.intents
            and not req.foreign_orders
            and not window_closed
        ):
            body += _knowledge_sentences(req)
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


def _handoff_and_unknown(req: DraftRequest, handoff: list[str], pick: Callable[..., str]) -> Body:
    """The hand-off formula of the first reason a human takes over, and the sentence for an
    order number we cannot show (another customer's is worded exactly as an unknown one: the
    reply must not tell whether that number exists)."""
    r = req.reading
    body: Body = []
    for code in handoff:
        amount = (
            f" de {fmt_amount(req.refund_amount, req.policy.settings.currency, 'fr')}"
            if r.lang == "fr" and req.refund_amount
            else (
                f" for {fmt_amount(req.refund_amount, req.policy.settings.currency, 'en')}"
                if req.refund_amount
                else ""
            )
        )
        body.append((pick(code, amount=amount), None))
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


def _knowledge_sentences(req: DraftRequest) -> Body:
    """The passages' sentences that answer the question, each citing its passage."""
    r = req.reading
    n = _SENTENCES[req.options.length] - (
        1 if req.order_facts and req.options.length != "shorter" else 0
    )
    body: Body = []
    for picked, passage in select_sentences(
        req.passages,
        r.query,
        r.lang,
        max(n, 1),
        req.options.variant,
        skip_examples=bool(req.order_facts),
        term_weights=req.term_weights,
    ):
        h = passage.hit
        sentence = terminated(picked)
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
            (
                i
                for i, (_, c) in enumerate(kept)
                if c is not None and not c.chunk_ids[0].startswith("order:")
            ),
            default=len(kept) - 1,
        )
        kept.pop(drop)
        text = render(kept)
    if len(text) > limit:
        text = render(kept, with_closing=False)
    return text, kept


_EMPHASIS = re.compile(r"(\*\*|__|`)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_PLACEHOLDER = re.compile(r"x{3,}|\b[A-Z]{2,5}-?\d{5,}\b", re.I)


def terminated(sentence: str) -> str:
    """A heading or list item used as a sentence gets its full stop: run into the next one
    ("Rupture du CDI Le CDI se caractérise…"), it read as one garbled sentence."""
    return sentence if sentence[-1:] in ".!?…:;" else sentence + "."


def plain(sentence: str) -> str:
    """A sentence as it reads in a chat: Markdown emphasis and links removed."""
    return _EMPHASIS.sub("", _LINK.sub(r"\1", sentence)).strip()


QUOTE_CHARS = 320


def source_quote(sentence: str, chunk_text: str, lang: str) -> str:
    """What the agent is shown as the source of a drafted ``sentence``: the passage's sentence
    that holds it (or, for a reworded one, shares the most words with it), followed by the next
    while the quote stays short, Markdown stripped. The drafted sentence is never cut off."""
    sents = [plain(raw) for raw, _ in pieces(chunk_text)]
    sents = [s for s in sents if s]
    if not sents:
        return ""
    said = fold(plain(sentence)).rstrip(".!?… ")
    start = next((i for i, s in enumerate(sents) if said and said in fold(s)), None)
    if start is None:
        terms = set(content_terms(sentence, lang))
        start = max(
            range(len(sents)), key=lambda i: (len(terms & set(content_terms(sents[i], lang))), -i)
        )
    quote = sents[start]
    for nxt in sents[start + 1 :]:
        if len(quote) + 1 + len(nxt) > QUOTE_CHARS:
            break
        quote = f"{quote} {nxt}"
    return quote


def _usable(s: str) -> bool:
    """A complete, self-contained sentence: not a heading, table row or list fragment."""
    if not 25 <= len(s) <= 450 or "|" in s or _PLACEHOLDER.search(s):
        return False
    if s.endswith(("?", ":", ";", ",")) or not s.endswith((".", "!", "…", ")", "»", '"')):
        return False
    first = s.lstrip("«\"'( ")[:1]
    if re.match(r"(oui|non|yes|no)\b", s, re.I):  # a FAQ answer that needs its question
        return False
    if s.count("(") != s.count(")") or s.count('"') % 2 or s.count("«") != s.count("»"):
        return False  # a fragment cut inside brackets or quotes
    head, sep, _ = s.partition(":")
    if sep and len(head) < 25 and s.count(",") >= 3:
        return False  # an enumeration ("E27: lamp A, lamp B, lamp C, ..."), not an answer
    return first.isupper() or first.isdigit()


def _usable_row(s: str) -> bool:
    """A table row read with its header ("Colissimo — Price: €4.90, free from €60."): its
    commas and colons are the table's, not an enumeration's."""
    return 15 <= len(s) <= 450 and not _PLACEHOLDER.search(s)


# A question that asks for a figure (a price, a delay, an hour): its answer has digits in it.
_ASKS_FIGURE = re.compile(
    r"\b(how (much|many|long|soon)|what time|when\b|until when|combien|quel(le)?s? (prix|tarif|delai|heure|montant|duree|cout)|a quelle heure|quand|jusqu.a quand|(price|cost|fee|prix|tarif|cout|frais|delai)s?\b)"
)
_DIGIT = re.compile(r"\d")
_FIGURE_BONUS = 0.6


_EXAMPLE_HEADING = re.compile(r"\b(?:exemples?|examples?)\b")


def select_sentences(
    passages: list[Passage],
    query: str,
    lang: str,
    n: int,
    variant: int = 0,
    *,
    skip_examples: bool = False,
    term_weights: dict[str, float] | None = None,
) -> list[tuple[str, Passage]]:
    """The ``n`` most relevant sentences of the best passages, in reading order.

    The answer rests on one article, the best-ranked one: another article's sentences are
    used only when the first gives fewer than two usable sentences (a reply that mixes two
    articles is harder to trust and to check). With ``skip_examples`` (the reply states the
    customer's own order), sections headed "Example" are left out: "You order a lamp on
    Tuesday at 4 pm…" would read as a claim about their order.
    """
    q = set(content_terms(query, lang))
    wants_figure = bool(_ASKS_FIGURE.search(fold(query)))
    weights = term_weights or {}
    total = sum(weights.get(t, 1.0) for t in q)

    def share(terms: set[str]) -> float:
        """The part of the question ``terms`` cover, each query word weighted by its IDF."""
        return sum(weights.get(t, 1.0) for t in q & terms) / total if total else 0.0

    if skip_examples:
        passages = [
            p
            for p in passages
            if not any(_EXAMPLE_HEADING.search(fold(h)) for h in p.hit.chunk.heading_path)
        ]
    scored: list[Scored] = []
    for p_rank, p in enumerate(passages[:4]):
        head_terms = set(content_terms(" ".join((p.hit.title, *p.hit.chunk.heading_path)), lang))
        head_match = share(head_terms)
        for i, (raw, cells) in enumerate(pieces(p.hit.chunk.text)):
            s = plain(raw)
            if not (_usable(s) if cells is None else _usable_row(s)):
                continue
            if is_instruction(s):
                continue  # a document is data: a sentence that instructs an assistant is never quoted
            terms = set(content_terms(s, lang))
            if cells is None:
                overlap = share(terms)
            else:  # a row: its own cells count, the column names (shared by all rows) half
                own = set(content_terms(plain(cells), lang))
                overlap = share(own) + 0.5 * share(terms - own)
            if overlap == 0 and not (head_match >= 0.5 and i <= 1):
                continue  # neither the sentence nor its section is about the question
            score = (
                (_FIGURE_BONUS if wants_figure and _DIGIT.search(s) else 0.0)
                + 2.0 * overlap
                + 0.8 * head_match / (1 + i)
                + 1.5 / (1 + p_rank)
                + (0.3 if i == 0 else 0.0)
                - 0.04 * i
            )
            scored.append((score, p_rank, i, s, p))
    scored.sort(key=lambda x: -x[0])
    if variant:
        scored = scored[variant % max(len(scored), 1) :] + scored[: variant % max(len(scored), 1)]
    primary = passages[0].hit.doc_id if passages else None
    first = [x for x in scored if x[4].hit.doc_id == primary]
    if len(first) < min(n, 2):
        first = scored
    chosen = _without_repeats(first, n, lang)
    chosen.sort(key=lambda x: (x[1], x[2]))
    return [(s, p) for _, _, _, s, p in chosen]


Scored = tuple[float, int, int, str, Passage]  # score, passage rank, position, sentence, passage


def _without_repeats(ranked: list[Scored], n: int, lang: str) -> list[Scored]:
    """The best ``n`` sentences that each say something the others do not, from at most two
    articles."""
    chosen: list[Scored] = []
    seen_terms: list[set[str]] = []
    for item in ranked:
        terms = set(content_terms(item[3], lang))
        if any(
            len(terms & t) / max(len(terms | t), 1) > 0.6 or len(terms & t) >= 0.8 * len(terms)
            for t in seen_terms
        ):
            continue  # the same thing again, or nothing a chosen sentence does not say
        if len({c[4].hit.doc_id for c in chosen} | {item[4].hit.doc_id}) > 2:
            continue
        chosen.append(item)
        seen_terms.append(terms)
        if len(chosen) == n:
            break
    return chosen
