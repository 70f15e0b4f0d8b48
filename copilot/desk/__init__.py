"""The desk: conversations, drafts and feedback (store), the agents' actions (desk), analytics,
users and their access, API tokens, FAQ drafts, and state every process shares."""

# the modules other packages may import (tests/test_layers.py checks it); the rest is
# this package's own business
PUBLIC_MODULES = (
    "access",
    "accounts",
    "analytics",
    "apikeys",
    "desk",
    "faqdrafts",
    "shared",
    "store",
)
