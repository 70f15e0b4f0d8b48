"""The suggestion pipeline: a conversation in, a Suggestion out.

reading (what is asked, language, register) -> orderfacts (the customer's orders) -> retrieval
(``knowledge``) -> escalation (policy, intents) -> drafter (offline or llm) -> confidence."""

# the modules other packages may import (tests/test_layers.py checks it); the rest is
# this package's own business
PUBLIC_MODULES = (
    "callcontext",
    "calllog",
    "confidence",
    "drafter",
    "escalation",
    "intents",
    "llm",
    "orderfacts",
    "pii",
    "reading",
    "safety",
    "slots",
    "suggest",
    "tokens",
)
