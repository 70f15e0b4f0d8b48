"""Documents are data, never instructions: find the sentences of a document that address an
AI assistant or order it to promise something (planted instructions, "SYSTEM OVERRIDE: ignore
all previous instructions..."). They are reported at ingestion and never quoted in a draft.

French and English, on folded text (accents removed, lower case), so "Ignorez les consignes"
and "IGNORE ALL PREVIOUS INSTRUCTIONS" read alike.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.text import fold, sentences

_ASSISTANT = r"(ai|ia|assistant|chatbot|bot|llm|gpt|copilot|language model|modele de langage|agent virtuel|robot)"
_PROMISE_OBJECT = (
    r"(full refund|immediate refund|refund|rembours\w*|compensation|dedommag\w*|indemni\w*"
    r"|geste commercial|code|voucher|bon d.achat|\d+\s?(€|eur|euros|\$|£|chf|%))"
)
_PATTERNS = [
    # overriding the assistant's rules
    r"\b(ignore[sz]?|ignorer|ignorant|oublie[sz]?|oublier|disregard|forget|override|bypass|contourne[rz]?)\b"
    r".{0,40}\b(instructions?|consignes?|rules|regles|prompts?|guidelines|directives?|restrictions?)\b",
    r"\bsystem (override|prompt|message|instructions?)\b|\b(developer|admin|god) mode\b"
    r"|\bmode (developpeur|admin\w*)\b|\bjailbreak\w*|\bprompt (systeme|system)\b",
    # speaking to the assistant
    rf"\b(note|message|instructions?|consignes?|regles?|rules?)s?( \w+)? (to|for|pour|a|aux?) (the |l.|le |les |all |tous les )?{_ASSISTANT}s?\b",
    rf"\b(as an?|en tant qu.?(un|une)?)\s?{_ASSISTANT}\b",
    rf"\b(if|when|si|quand|lorsque) (you are|you.re|tu es|vous etes) (an? |un |une )?{_ASSISTANT}\b",
    rf"\b(dear|cher|chere|hey|hello|bonjour) {_ASSISTANT}\b",
    rf"\b{_ASSISTANT}s?\b,? (tu |vous |you )?(must|should|shall|will always|always|never|doit|doivent|dois|devez|toujours|jamais)\b",
    rf"\b(any|every|all|tout|toute|chaque|les) {_ASSISTANT}s? (reading|that reads|qui lit|qui lisent|lisant)\b",
    # ordering a promise: an imperative that opens the sentence (or follows "and", "always"...)
    r"(^|[:;]\s*|\b(and|then|et|puis|always|toujours)\s+)(promise|grant|offer|give|guarantee|promettez"
    r"|promets|accordez|accorde|offrez|offre|donnez|donne|proposez|propose|garantissez)\b"
    rf".{{0,60}}\b{_PROMISE_OBJECT}",
    rf"\b(reply|respond|answer|reponds|repondez|repondre)\w*\b.{{0,40}}\b(by promising|promising|en promettant)\b.{{0,60}}{_PROMISE_OBJECT}",
    r"\b(reply|respond|answer|reponds|repondez|repondre) (only |uniquement )?(with|by|avec|par)\b.{0,40}\b(code|refund|rembours\w*|yes to|oui a)\b",
    # conversation markup
    r"<\s*/?\s*(system|assistant|instructions?|im_start|im_end)\b|\[/?inst\]|<\|im_(start|end)\|>"
    r"|^\s*\[?(system|systeme|assistant|developer)\]?\s*:",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


@lru_cache(maxsize=65536)  # the same passages' sentences are screened at every suggestion
def is_instruction(sentence: str) -> bool:
    """True when ``sentence`` addresses an AI assistant or orders it to promise something."""
    return bool(_INSTRUCTION.search(fold(sentence)))


def instruction_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that read as instructions to an assistant."""
    return [s for s in sentences(text) if is_instruction(s)]
