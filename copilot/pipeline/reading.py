"""Read a conversation: language, register (vous/tu), intent, emoji, and the retrieval query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from copilot.types import Conversation, DraftOptions, Lang, Register
from knowledge import detect_language
from knowledge.text import fold, terms_of_words, words

_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff]")
_FR_TU = re.compile(r"\b(tu|te|toi|ton|ta|tes|t['’](?:as|es|étais|avais|inquiète|en fais))\b", re.I)
_FR_VOUS = re.compile(r"\b(vous|votre|vos)\b", re.I)
_FR_CASUAL = re.compile(r"\b(slt|salut|cc|coucou|stp|bcp|tjrs|jsp|mdr|ptdr|svp stp|wesh)\b", re.I)
_EN_CASUAL = re.compile(
    r"\b(hey|hiya|thx|pls|plz|u|ur|lol|gonna|wanna|yo|dude|cheers mate)\b", re.I
)

# Intent keywords, matched on accent-folded lower-case text (French and English).
INTENTS: dict[str, tuple[str, ...]] = {
    "order_status": (
        r"\bou (en )?est\b",
        r"\bsuivi\b",
        r"\blivr",
        r"\bcolis\b",
        r"\brecu\b",
        r"\brecev",
        r"\bexpedi",
        r"\barriv",
        r"\bretard",
        r"\btracking\b",
        r"\bwhere(?:['’]?s| is| are| r)\b",  # "where is", "where's", "wheres", "where r"
        r"\bdeliver",
        r"\bparcel\b",
        r"\bpackage\b",
        r"\bshipp",
        r"\bdispatch",
        r"\barrive",
        r"\bstill (not|hasn)",
        r"\bnot (yet )?(received|arrived)",
    ),
    "return": (
        r"\bretour",
        r"\bretourn",
        r"\brenvoy",
        r"\breturn",
        r"\bsend (it )?back\b",
        r"\bexchange\b",
        r"\bechang",
    ),
    "refund": (
        r"\brembours",
        r"\brefund",
        r"\bmoney back\b",
        r"\bmon argent\b",
        r"\bcredit note\b",
    ),
    "cancel": (
        r"\bannul",
        r"\bcancel",
        r"\bmodifi",
        r"\bchange my order\b",
        r"\bchanger (ma|ta) commande\b",
    ),
    "payment": (
        r"\bpaiement",
        r"\bpayer\b",
        r"\bpayment",
        r"\bcarte\b",
        r"\bcard\b",
        r"\bdebit",
        r"\bcharged\b",
        r"\bpaypal\b",
        r"\balma\b",
        r"\bplusieurs fois\b",
        r"\binstal",
        r"\bfacture",
        r"\binvoice",
    ),
    "warranty": (
        r"\bgarantie\b",
        r"\bwarrant",
        r"\bguarantee\b",
        r"\bdefectu",
        r"\bne (s')?allume plus\b",
        r"\bpanne\b",
        r"\bbroken\b",
        r"\bcasse",
        r"\babime",
        r"\bdamaged\b",
        r"\bfaulty\b",
        r"\bstopped working\b",
        r"\bclignot",
        r"\bgresill",
        r"\bflicker",
        r"\bbuzz",
        r"\bsmashed\b",
        r"\bbrise",
    ),
    "account": (
        r"\bcompte\b",
        r"\baccount\b",
        r"\bmot de passe\b",
        r"\bmdp\b",
        r"\bpassword\b",
        r"\bidentifiant",
        r"\blog ?in\b",
        r"\bconnecter\b",
        r"\bconnexion\b",
        r"\bsign in\b",
        r"\bnewsletter\b",
        r"\bfidelite\b",
        r"\bclub lumen\b",
    ),
    "privacy": (
        r"\brgpd\b",
        r"\bgdpr\b",
        r"\bdonnees\b",
        r"\bpersonal data\b",
        r"\bmy data\b",
        r"\bcookies?\b",
        r"\bprivacy\b",
        r"\bconfidentialite\b",
    ),
    "promo": (
        r"\bcode promo\b",
        r"\bpromo",
        r"\bdiscount\b",
        r"\breduction\b",
        r"\bcoupon\b",
        r"\bsoldes?\b",
        r"\bvoucher\b",
    ),
    "product": (
        r"\bampoule",
        r"\bbulb",
        r"\bculot\b",
        r"\bsocket\b",
        r"\bvariateur\b",
        r"\bdimm",
        r"\bentretien\b",
        r"\bnettoy",
        r"\bclean",
        r"\bstock\b",
        r"\bdisponib",
        r"\bavailab",
    ),
    "contact": (
        r"\bhoraires?\b",
        r"\bopening hours\b",
        r"\bouverts?\b",
        r"\bopen\b",
        r"\bnumero de telephone\b",
        r"\bphone number\b",
        r"\bjoindre\b",
        r"\b(vous|te) contacter\b",
        r"\bcontact (you|us)\b",
        r"\bservice client\b",
    ),
}
_THANKS = re.compile(
    r"\b(merci|thanks?|thank you|thx|cheers|parfait|perfect|super|genial|brilliant|nickel|bonne (journee|soiree)|have a (nice|good|great) day|au revoir|bye)\b"
)
_GREETING_ONLY = re.compile(r"^\W*(bonjour|hello|hi|hey|salut|coucou|bonsoir)\W*$")
ORDER_INTENTS = ("order_status", "return", "refund", "cancel")
_INTENT_PATTERNS = {name: [re.compile(p) for p in pats] for name, pats in INTENTS.items()}


@dataclass(frozen=True)
class Reading:
    lang: Lang
    lang_confidence: float
    register: Register
    intent: str
    intents: tuple[str, ...]
    uses_emoji: bool
    query: str
    customer_turns: int
    # the customer's first message does not say what it is about: ask before answering
    vague: bool = False

    @property
    def order_related(self) -> bool:
        """The question is about an order (its main intent, not a passing mention)."""
        return self.intent in ORDER_INTENTS

    @property
    def formal(self) -> bool:
        return self.register in ("vous", "formal")


def addressed_as(text: str) -> Register | None:
    """ "vous" or "tu" when a French text speaks to its reader in that register alone."""
    vous, tu = bool(_FR_VOUS.search(text)), bool(_FR_TU.search(text))
    return "vous" if vous and not tu else "tu" if tu and not vous else None


def detect_register(text: str, lang: str) -> Register:
    """*vous*/*tu* in French, formal/casual in English, from the customer's own words."""
    if lang == "fr":
        tu, vous = len(_FR_TU.findall(text)), len(_FR_VOUS.findall(text))
        if tu > vous or (tu == vous == 0 and (_FR_CASUAL.search(text) or _EMOJI.search(text))):
            return "tu"
        return "vous"
    if _EN_CASUAL.search(text) or (
        _EMOJI.search(text) and not re.search(r"\b(dear|regards|sincerely)\b", text, re.I)
    ):
        return "casual"
    return "formal"


@lru_cache(maxsize=8192)
def detect_intents(text: str) -> tuple[str, ...]:
    """Intents by number of keyword hits; ties go to the one mentioned first. Kept per text:
    the offline draft asks it of the same passages' sentences suggestion after suggestion."""
    folded = fold(text)
    if _GREETING_ONLY.match(folded) or (
        _THANKS.search(folded) and "?" not in folded and len(folded) < 160
    ):
        return ("chit_chat",)
    scores: dict[str, tuple[int, int]] = {}
    for name, pats in _INTENT_PATTERNS.items():
        positions = [m.start() for p in pats if (m := p.search(folded))]
        if positions:
            scores[name] = (len(positions), -min(positions))
    found = tuple(sorted(scores, key=lambda n: scores[n], reverse=True))
    return found or ("other",)


_REFERENCE = re.compile(
    r"#?\b[A-Za-z]{0,5}[-\s]?\d[\d\s-]{4,}\d\b|\b(?=[A-Za-z]*\d{6})[A-Za-z0-9]{8,}\b"
)


# a second question joined to the first by "and" / "et": "what am I owed and how do I claim it?"
_JOINED_QUESTION = re.compile(
    r"\b(?:and|et)\s+(?:how|when|where|what|which|why|who|can|could|do|does|is|are|will|would"
    r"|should|comment|quand|ou|combien|quel(?:le)?s?|pourquoi|est-ce|puis-je|peut-on|dois-je"
    r"|faut-il)\b"
)


def second_question(text: str) -> str | None:
    """The last of two questions a message asks (folded): the last sentence ending in "?"
    after another one, or the question joined to the first by "and" / "et" ("… and how do I
    claim it?"). None when it asks one question or none."""
    asked = [part for part in re.split(r"(?<=\?)", fold(text)) if "?" in part]
    joined = _JOINED_QUESTION.search(asked[-1]) if asked else None
    if joined:
        return asked[-1][joined.start() :]
    return asked[-1] if len(asked) > 1 else None


def build_query(conv: Conversation) -> str:
    """The retrieval query: the last customer message, with the previous one when it is short.

    Order and tracking numbers are removed: they identify an order, they do not describe
    the question (and would match example numbers in the articles).
    """
    customer = [_REFERENCE.sub(" ", t.text) for t in conv.turns if t.role == "customer"]
    if not customer:
        return ""
    last = customer[-1]
    if len(customer) > 1 and len(last.split()) < 12:
        return f"{customer[-2]} {last}"
    return last


_TOKEN = re.compile(r"[\w’'-]+|[^\w\s]+|\s+")


def without_item_names(query: str, names: Sequence[str]) -> str:
    """``query`` without the words that name the customer's ordered items, for a question about
    the order itself: "quand vais-je recevoir la lampe de chevet Opaline ?" is a delivery
    question, and "Opaline" or "chevet" would rank the bulb and care articles that list the
    product. Like order numbers, item names identify the order; they do not describe the
    question. Nothing is removed when that would leave no word at all."""
    drop = {w for name in names for w in words(name) if len(w) > 2}
    if not drop:
        return query
    kept = [t for t in _TOKEN.findall(query) if not ((ws := set(words(t))) and ws <= drop)]
    out = re.sub(r"\s{2,}", " ", "".join(kept)).strip()
    return out if words(out) else query


_SMALL_TALK = ("other", "chit_chat")
# A reply to an agent's question that only supplies what was asked: a few words at most.
SLOT_REPLY_WORDS = 15


def supplies_a_slot(conv: Conversation) -> bool:
    """The last customer turn answers the agent's question just before it ("which order?" ->
    "the 0417", "yes", "the kettle one") rather than asking something new."""
    turns = conv.turns
    if len(turns) < 3 or turns[-1].role != "customer" or turns[-2].role != "agent":
        return False
    return "?" in turns[-2].text and len(words(turns[-1].text)) <= SLOT_REPLY_WORDS


# What a first message needs to say what it is about. A message is vague when it has no word
# of its own (greetings, "help", "a problem" and negations do not count), or when a pronoun
# points back to something never named and at most two words stand beside it: "it doesn't
# work", "quand ?", "je peux l'échanger ?", "how long does it take?". Language, not store
# vocabulary: these are the pronouns and empty words of French and English chat.
# fmt: off
_NO_TOPIC = frozenset((
    "hello", "hi", "hey", "bonjour", "bonsoir", "salut", "coucou", "slt", "bjr",
    "please", "pls", "plz", "svp", "stp", "thanks", "thx", "merci",
    "help", "aide", "problem", "problems", "probleme", "problemes", "souci", "soucis", "issue",
    "question", "questions", "besoin", "need", "info", "infos", "information", "renseignement",
    "doesn", "don", "isn", "didn", "won", "wasn", "aren", "hasn", "haven", "can", "ve", "ll",
    "pas", "plus",
))
# fmt: on
_IMPERSONAL = re.compile(
    r"\b(?:is it|it is|it['’]s|c['’]est|est[- ]ce|il est|ce n['’]est)\s+(?:pas\s+)?"
    r"(?:possible|ok|okay|normal|necessary|necessaire|true|vrai|free|gratuit|safe)\b"
    r"|\bil (?:y a|faut)\b|\best[- ]ce\b|\bqu['’]est[- ]ce\b|\bc['’]est quoi\b"
)
_POINTS_BACK = re.compile(
    r"\b(?:it|its|this|that|these|those|they|them|he|she|him|her"
    r"|ca|cela|ceci|celle|celles|celui|ceux)\b|\bc['’]"
    # "il"/"elle" as the subject that opens a clause ("elle arrive quand ?"), not the
    # inverted one after its verb ("les congés peuvent-ils…")
    r"|(?:^|[,.!?;:]\s*|\b(?:et|mais|si|quand)\s+)(?:il|ils|elle|elles)\b"
    r"|\b(?:je|tu|on|nous|vous|peux|peut|pouvez|puis|veux|voudrais|dois|doit|vais)\s+"
    r"(?:le|la|les|l['’])"
)
_GREETING = re.compile(r"^\W*(?:(?:bonjour|bonsoir|salut|coucou|slt|bjr|hello|hi|hey)\b\W*)+")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


def lacks_topic(text: str, lang: str) -> bool:
    """The message does not say what it is about (see ``_NO_TOPIC``). Acronyms ("AT", "RGPD")
    name a topic; an impersonal "it"/"c'est" ("is it possible to…") points to nothing."""
    acronyms = _ACRONYM.findall(text)
    if len(acronyms) > 2:  # shouting, not acronyms
        acronyms = []
    rest = _ACRONYM.sub(" ", text) if acronyms else text
    folded = _IMPERSONAL.sub(" ", _GREETING.sub("", fold(rest).strip()))
    own = terms_of_words([w for w in words(folded) if w not in _NO_TOPIC], lang)
    topic = len(own) + len(acronyms)
    return topic == 0 or (topic <= 2 and _POINTS_BACK.search(folded) is not None)


def opens_without_topic(conv: Conversation, lang: str) -> bool:
    """The customer's first message (an agent's greeting may come before it) does not say what
    it is about, and quotes no order number."""
    customer = [t.text for t in conv.turns if t.role == "customer"]
    if len(customer) != 1 or _REFERENCE.search(customer[0]):
        return False
    return lacks_topic(customer[0], lang)


def read_conversation(
    conv: Conversation, options: DraftOptions | None = None, profile_lang: str | None = None
) -> Reading:
    opts = options or DraftOptions()
    recent = "\n".join(t.text for t in conv.turns if t.role == "customer")
    last = conv.last_customer_text
    lang, conf = detect_language(last, default=profile_lang or "en")
    if conf < 0.6:
        lang2, conf2 = detect_language(recent, default=profile_lang or lang)
        if conf2 > conf:
            lang, conf = lang2, conf2
        elif conf == 0 and profile_lang in ("fr", "en"):
            lang = profile_lang
    lang = opts.lang or lang
    register = detect_register(recent, lang)
    if opts.tone != "auto":
        register = ("vous" if opts.tone == "formal" else "tu") if lang == "fr" else opts.tone
    elif lang == "fr" and register not in ("vous", "tu"):
        register = "vous"
    intents = detect_intents(last)
    earlier = [t.text for t in conv.turns[:-1] if t.role == "customer"]
    prior = detect_intents("\n".join(earlier[-2:])) if earlier else ("other",)
    if supplies_a_slot(conv) and prior not in (("other",), ("chit_chat",)):
        # "sure, it's 0417", "c'est celle de la bouilloire", "merci, la bleue": the answer to
        # the agent's question; the question to answer is the customer's earlier one
        intents = tuple(dict.fromkeys((*prior, *(i for i in intents if i not in _SMALL_TALK))))
    elif intents == ("other",) and len(conv.turns) > 1:
        intents = detect_intents(recent)
    said: Lang = "fr" if lang == "fr" else "en"
    return Reading(
        lang=said,
        lang_confidence=conf,
        register=register,
        intent=intents[0],
        intents=intents,
        uses_emoji=bool(_EMOJI.search(recent)),
        query=build_query(conv),
        customer_turns=sum(1 for t in conv.turns if t.role == "customer"),
        vague="chit_chat" not in intents and opens_without_topic(conv, said),
    )
