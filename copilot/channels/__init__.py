"""Where conversations come from and replies go: the channel gateway, Chatwoot, the web chat,
the outbox of deliveries, and the integrations that wire them to a workspace."""

# the modules other packages may import (tests/test_layers.py checks it); the rest is
# this package's own business
PUBLIC_MODULES = (
    "chatwoot",
    "gateway",
    "integrations",
    "outbox",
    "webchat",
)
