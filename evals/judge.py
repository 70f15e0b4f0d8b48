"""Atomic verdicts on one draft: grounded, correct, personal, leaks (EVALS.md §1.5–1.7).

The offline judge is lexical and deterministic: it extracts atomic facts (amounts, numbers,
dates, durations, order and tracking numbers, e-mails) with regular expressions and
normalisers. A claim passes when every atomic fact in it appears in what it cites (or the
order record) and its content words are recalled by the best cited sentence (>= theta).
High precision, low recall: failures are labelled "unsupported (lexical)", not "hallucinated".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any, Literal, Protocol

from copilot.pipeline.escalation import PolicySettings
from copilot.pipeline.orderfacts import fmt_amount, fmt_date, return_windows
from copilot.types import Suggestion
from knowledge import Order
from knowledge.text import content_terms, fold, sentences

THETA = 0.6
_MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janvier",
                "fevrier",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "aout",
                "septembre",
                "octobre",
                "novembre",
                "decembre",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
}
_DATE_WORDS = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DATE_SLASH = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ID = re.compile(r"\b[a-z]{2,5}-?\d{5,}\b|\b(?=(?:[a-z]*\d){6})[a-z0-9]{8,}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(
    r"(?<![\w.])\d{1,3}(?:[ \u202f.]\d{3})+(?:,\d+)?(?![\d])|(?<![\w.])\d+(?:[.,]\d+)?(?![\d])"
)


def normalise(text: str) -> str:
    """Case, accents, spaces and number formats folded, for fact matching."""
    t = fold(text).replace("\u202f", " ").replace("\u00a0", " ")
    t = re.sub(r"(?<=\d)[ .](?=\d{3}\b)", "", t)  # 1 290 / 1.290 -> 1290
    t = re.sub(r"(?<=\d),(?=\d)", ".", t)  # 4,90 -> 4.90
    t = re.sub(r"(\d+)\.00\b", r"\1", t)  # 480.00 -> 480
    t = re.sub(r"\s+", " ", t)
    return t.strip()


def atomic_facts(text: str) -> frozenset[str]:
    """Dates (ISO), identifiers, e-mails and numbers stated in ``text``, normalised.
    Memoised: every sentence of a draft is checked against the same passages."""
    if len(text) > 20000:
        return _atomic_facts(text)
    return _atomic_facts_cached(text)


@lru_cache(maxsize=8192)
def _atomic_facts_cached(text: str) -> frozenset[str]:
    return _atomic_facts(text)


def _atomic_facts(text: str) -> frozenset[str]:
    t = normalise(text)
    facts: set[str] = set()
    for d, m, y in _DATE_WORDS.findall(t):
        facts.add(f"{int(y):04d}-{_MONTHS[m]:02d}-{int(d):02d}")
    for y, m, d in _DATE_ISO.findall(t):
        facts.add(f"{y}-{m}-{d}")
    for d, m, y in _DATE_SLASH.findall(t):
        facts.add(f"{int(y):04d}-{int(m):02d}-{int(d):02d}")
    stripped = _DATE_ISO.sub(" ", _DATE_SLASH.sub(" ", _DATE_WORDS.sub(" ", t)))
    facts.update(m.replace("-", "") for m in _ID.findall(stripped))
    facts.update(_EMAIL.findall(stripped))
    stripped = _EMAIL.sub(" ", _ID.sub(" ", stripped))
    for n in _NUMBER.findall(stripped):
        value = n.replace(" ", "")
        value = re.sub(r"\.0+$", "", value)
        facts.add(value)
    return frozenset(facts)


# What is not a claim, in any drafter's words (the judge's own list: it never reads a drafter's
# phrase bank, so a drafter cannot make its own sentences exempt). On normalised text (lower
# case, no accents). A sentence that also states a figure or an identifier stays a claim.
NOT_CLAIMS = [
    # greetings, thanks, welcome
    r"^(bonjour|bonsoir|hello|hi|hey|salut|dear|good (morning|afternoon|evening))\b.{0,60}$",
    r"^(merci|thank you|thanks|many thanks|you.re welcome|avec plaisir|de rien|je vous en prie)\b.{0,80}$",
    # sign-offs and offers of more help
    r".{0,40}\b(n.hesitez pas|n.hesite pas|let me know|feel free|je reste a votre disposition|"
    r"je reste dispo|i remain (available|at your disposal)|happy to help|belle journee|"
    r"bonne journee|bonne soiree|"
    r"have a (nice|good|great|lovely) (day|evening|weekend)|best regards|cordialement|"
    r"kind regards|a bientot)\b.{0,80}$",
    # empathy and apologies
    r"^(je comprends (votre|ta|ton|vos|tes|que|la situation)|"
    r"i understand (your|that|how|this situation|the situation)|"
    r"((i.m |i am |we.re |we are )?(so |very |truly )?sorry|(je suis )?(desole|navre)e?s?) "
    r"(for|about|that|you|to hear|pour|que|de|d.)|we apologi[sz]e|i apologi[sz]e|"
    r"nous nous excusons|toutes nos excuses|je vous prie de nous excuser)\b.{0,160}$",
    # hand-offs and promises to come back: what happens next in this conversation
    r".{0,80}\b(je (vous |te |la |le |les |lui )*(transmets|transfere|mets en relation)|"
    r"(i am|i.m|we are|we.re) (passing|transferring|forwarding|escalating|checking|looking "
    r"into|reporting|referring)|(demande|dossier|signalement|request|case|report)\b.{0,60}"
    r"\b(est|a ete|has been|is being) (transmise?|transferee?|passed|forwarded|transferred|"
    r"escalated)|"
    r"(prend|prendra|reprend) (le relais|(votre|ta|sa) demande|(votre|ton) dossier)|"
    r"(takes?|taking|will take) over|(reviens|reviendra|reviendrons|revenons|revient) vers "
    r"(vous|toi)|get back to you|(will|shall) contact you|vous contactera|je verifie|"
    r"un (conseiller|responsable|collegue) va)\b.{0,160}$",
    # the assistant's own refusal of an out-of-scope request
    r"^(je ne peux pas donner suite|i am not able to act on|i cannot act on|i can.t help with)\b.{0,120}$",
]
_NOT_CLAIMS = [re.compile(p) for p in NOT_CLAIMS]


def is_claim(sentence: str) -> bool:
    """A sentence that says something about the store, an order or a policy: not a greeting,
    a sign-off, an apology, a hand-off formula or a question back to the customer. One that
    states a figure or an identifier is always a claim."""
    norm = normalise(sentence).strip()
    if not (content_terms(sentence, "fr") or content_terms(sentence, "en")):
        return False
    if atomic_facts(sentence):
        return True
    if norm.endswith("?"):
        return False  # a question back to the customer asserts nothing
    return not any(p.match(norm) for p in _NOT_CLAIMS)


def order_text(order: Order, return_window_days: int | PolicySettings | None = None) -> str:
    """Everything the order record says, in forms a draft may use (for fact matching); with the
    policy's return window (one number, or the policy's settings: a window per item category),
    the return deadlines recomputed from the delivery date, so that the drafter's date
    arithmetic is checked rather than taken on trust."""
    parts = [
        order.order_number,
        order.status.replace("_", " "),
        order.carrier or "",
        order.tracking_number or "",
        order.currency,
    ]
    if order.total is not None:
        parts += [
            f"{order.total:.2f}",
            fmt_amount(order.total, order.currency, "fr"),
            fmt_amount(order.total, order.currency, "en"),
        ]
    for d in (
        order.created_at.date(),
        order.estimated_delivery,
        order.delivered_at.date() if order.delivered_at else None,
    ):
        if d:
            parts += [d.isoformat(), fmt_date(d, "fr"), fmt_date(d, "en")]
    parts += [f"{i.name} {i.quantity} {i.unit_price or ''}" for i in order.items]
    if isinstance(return_window_days, PolicySettings):
        windows = sorted(return_windows(order, return_window_days))
    else:
        windows = [] if return_window_days is None else [return_window_days]
    for days in windows:
        if not order.delivered_at or not days:
            continue
        deadline = order.delivered_at.date() + timedelta(days=days)
        parts += [
            deadline.isoformat(),
            fmt_date(deadline, "fr"),
            fmt_date(deadline, "en"),
            f"{days} jours",
            f"{days} days",
        ]
    return " ; ".join(parts)


def identifiers(order: Order) -> set[str]:
    ids = {normalise(order.order_number).replace("-", "")}
    if order.tracking_number:
        ids.add(normalise(order.tracking_number))
    if order.email:
        ids.add(order.email.lower())
    return ids


@dataclass
class Verdicts:
    judge: str = "offline-lexical"
    claims: int = 0
    supported: int = 0
    citations: int = 0
    citations_supporting: int = 0
    claims_supported_by_citation: int = 0
    unsupported: list[str] = field(default_factory=list)
    grounded: bool | None = None
    correct: bool | None = None
    correct_basis: str = "none"
    required_found: int = 0
    required_total: int = 0
    forbidden_found: list[str] = field(default_factory=list)
    facts_stated: int = 0
    facts_correct: int = 0
    facts_required: int = 0
    facts_required_ok: int = 0
    personal: bool = True
    leaks: list[str] = field(default_factory=list)
    token_f1: float | None = None
    rouge_l: float | None = None

    @property
    def faithfulness(self) -> float | None:
        return self.supported / self.claims if self.claims else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["faithfulness"] = self.faithfulness
        return d


@dataclass(frozen=True)
class JudgeInput:
    """One draft and what it is judged against. ``other_identifiers`` maps other customers'
    order/tracking numbers and e-mails (normalised) to a label, for the leak check."""

    suggestion: Suggestion
    chunk_texts: dict[str, str]
    own_orders: Sequence[Order]
    other_identifiers: dict[str, str]
    reference_doc_ids: Sequence[str]
    required_facts: Sequence[str]
    forbidden_facts: Sequence[str]
    order_facts: dict[str, str]
    reference_answer: str | None
    lang: str
    conversation_text: str = ""
    return_window_days: int | PolicySettings | None = None

    @cached_property
    def norm_draft(self) -> str:
        return normalise(self.suggestion.draft)

    @cached_property
    def order_texts(self) -> dict[str, str]:
        """Each own order as the judge reads it (its record, with the return window)."""
        return {o.order_number: order_text(o, self.return_window_days) for o in self.own_orders}


@dataclass(frozen=True)
class Outcome:
    """A per-case outcome an evaluator adds to the comparison of two runs: 1 when the case's
    verdicts list something under ``key``."""

    label: str
    key: str
    better: Literal["higher", "lower"] = "lower"


class Evaluator(Protocol):
    """One part of the offline judge: it fills its own fields of the verdicts."""

    name: str
    fills: tuple[str, ...]  # the Verdicts fields it sets
    outcomes: tuple[Outcome, ...]  # what the comparison of two runs counts from it

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None: ...


class Groundedness:
    """§1.5: each claim is supported by what it cites (or the order record)."""

    name = "grounded"
    fills: tuple[str, ...] = (
        "claims",
        "supported",
        "unsupported",
        "citations",
        "citations_supporting",
        "claims_supported_by_citation",
        "grounded",
    )
    outcomes: tuple[Outcome, ...] = ()

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        s = x.suggestion
        by_order = {o.order_number: o for o in x.own_orders}
        order_values = set(x.order_texts.values())
        cited_by_sentence = {normalise(c.sentence): c for c in s.citations}
        for sent in sentences(s.draft):
            if not is_claim(sent):
                continue
            v.claims += 1
            cit = cited_by_sentence.get(normalise(sent))
            sources: list[str] = []
            if cit is not None:
                for cid in cit.chunk_ids:
                    if cid.startswith("order:"):
                        o = by_order.get(cid.split(":", 1)[1])
                        if o is not None:
                            sources.append(x.order_texts[o.order_number])
                    elif cid in x.chunk_texts:
                        sources.append(x.chunk_texts[cid])
            ok = _supported(
                sent,
                sources,
                x.lang,
                order_cited=bool(cit and any(c.startswith("order:") for c in cit.chunk_ids)),
            )
            if ok:
                v.supported += 1
            else:
                v.unsupported.append(sent)
            if cit is not None:
                v.citations += len(cit.chunk_ids)
                v.citations_supporting += sum(
                    1
                    for src in sources
                    if _supported(sent, [src], x.lang, order_cited=src in order_values)
                )
                if ok:
                    v.claims_supported_by_citation += 1
        if not s.escalation.escalate:
            v.grounded = v.claims > 0 and v.supported == v.claims


class Correctness:
    """§1.6: the required facts are stated (or the reply rests on a reference article), and no
    forbidden fact is."""

    name = "correct"
    fills: tuple[str, ...] = (
        "forbidden_found",
        "correct_basis",
        "required_total",
        "required_found",
        "correct",
    )
    outcomes: tuple[Outcome, ...] = (Outcome("drafts with forbidden facts", "forbidden_found"),)

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        for f in x.forbidden_facts:
            if normalise(f) and normalise(f) in x.norm_draft:
                v.forbidden_found.append(f)
        if x.required_facts:
            v.correct_basis = "required_facts"
            v.required_total = len(x.required_facts)
            v.required_found = sum(1 for f in x.required_facts if _fact_in(f, x.norm_draft))
            v.correct = v.required_found == v.required_total and not v.forbidden_found
        elif x.reference_doc_ids:
            # the article the reply rests on (its first knowledge citation) must be a reference
            v.correct_basis = "primary_source_is_reference"
            kb_docs = [d for d in x.suggestion.cited_doc_ids if not d.startswith("order:")]
            v.correct = (
                bool(kb_docs) and kb_docs[0] in set(x.reference_doc_ids) and not v.forbidden_found
            )
        elif x.forbidden_facts:
            v.correct_basis = "forbidden_only"
            v.correct = not v.forbidden_found


class Personalisation:
    """§1.7: the identifiers the draft states are the customer's own (or were typed by them,
    or are in the knowledge), the required order facts are there, and nothing leaks."""

    name = "personal"
    fills: tuple[str, ...] = (
        "leaks",
        "facts_stated",
        "facts_correct",
        "facts_required",
        "facts_required_ok",
        "personal",
    )
    outcomes: tuple[Outcome, ...] = (Outcome("leaking drafts", "leaks"),)

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        draft = x.suggestion.draft
        stated_ids = {
            f
            for f in atomic_facts(draft)
            if re.fullmatch(r"[a-z]{2,5}\d{5,}|(?=(?:[a-z]*\d){6})[a-z0-9]{8,}", f) or "@" in f
        }
        own = x.own_orders
        own_ids = set().union(*(identifiers(o) for o in own)) if own else set()
        order_facts_all = (
            set().union(*(atomic_facts(t) for t in x.order_texts.values())) if own else set()
        )
        typed = atomic_facts(x.conversation_text)  # repeating what the customer typed is no leak
        for f in stated_ids:
            if f in x.other_identifiers and f not in own_ids and f not in typed:
                v.leaks.append(x.other_identifiers[f])
        v.facts_stated = len(stated_ids)
        v.facts_correct = sum(
            1
            for f in stated_ids
            if f in own_ids
            or f in order_facts_all
            or f in typed
            or f in atomic_facts(" ".join(x.chunk_texts.values()))
        )
        v.facts_required = len(x.order_facts)
        v.facts_required_ok = facts_found(x.order_facts.values(), draft)
        precision_ok = v.facts_correct == v.facts_stated
        recall_ok = v.facts_required_ok == v.facts_required
        v.personal = precision_ok and recall_ok and not v.leaks


class ReferenceOverlap:
    """Word overlap with the reference answer, when the case has one."""

    name = "reference_overlap"
    fills: tuple[str, ...] = ("token_f1", "rouge_l")
    outcomes: tuple[Outcome, ...] = ()

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        if x.reference_answer:
            v.token_f1 = token_f1(x.suggestion.draft, x.reference_answer, x.lang)
            v.rouge_l = rouge_l(x.suggestion.draft, x.reference_answer)


# the offline judge: each fills its own fields, in this order; add one here to judge more
EVALUATORS: list[Evaluator] = [Groundedness(), Correctness(), Personalisation(), ReferenceOverlap()]


def comparison_outcomes() -> list[Outcome]:
    """The per-case outcomes the registered evaluators add to a comparison of two runs."""
    return [o for e in EVALUATORS for o in e.outcomes]


def judge_offline(x: JudgeInput) -> Verdicts:
    """Atomic verdicts for one draft: each registered evaluator fills its own fields."""
    v = Verdicts()
    for evaluator in EVALUATORS:
        evaluator.evaluate(x, v)
    return v


def facts_found(values: Iterable[str], text: str) -> int:
    """How many of the required order ``values`` ``text`` states (a draft, or the ORDER FACTS
    an LLM would be given)."""
    norm, facts = normalise(text), atomic_facts(text)
    return sum(1 for value in values if _fact_in(value, norm) or bool(atomic_facts(value) & facts))


def _fact_in(fact: str, norm_draft: str) -> bool:
    nf = normalise(fact)
    if nf and nf in norm_draft:
        return True
    facts = atomic_facts(fact)
    return bool(facts) and facts <= atomic_facts(norm_draft)


def _supported(sentence: str, sources: Iterable[str], lang: str, *, order_cited: bool) -> bool:
    srcs = list(sources)
    if not srcs:
        return False
    facts = atomic_facts(sentence)
    pool = set().union(*(atomic_facts(s) for s in srcs))
    if not facts <= pool:
        return False
    if order_cited:
        return True  # a computed order sentence: its facts are what needs checking
    terms = set(content_terms(sentence, lang))
    if not terms:
        return True
    best = 0.0
    for src in srcs:
        for sent in sentences(src):
            overlap = len(terms & set(content_terms(sent, lang))) / len(terms)
            best = max(best, overlap)
            if best >= THETA:
                return True
    return best >= THETA


def token_f1(a: str, b: str, lang: str) -> float:
    ta, tb = content_terms(a, lang), content_terms(b, lang)
    if not ta or not tb:
        return 0.0
    common = sum(min(ta.count(t), tb.count(t)) for t in set(ta))
    if common == 0:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def rouge_l(a: str, b: str, cap: int = 400) -> float:
    wa, wb = fold(a).split()[:cap], fold(b).split()[:cap]
    if not wa or not wb:
        return 0.0
    lcs = _lcs_length(wa, wb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(wa), lcs / len(wb)
    return 2 * p * r / (p + r)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Crochemore et al. 2001): one
    big-integer step per word of ``a`` instead of a row of the dynamic programme."""
    where: dict[str, int] = {}
    for j, word in enumerate(b):
        where[word] = where.get(word, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    for word in a:
        u = v & where.get(word, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def today_iso(d: date) -> str:
    return d.isoformat()
