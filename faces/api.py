"""The HTTP API (``souffleur serve``): help desks, channels and back offices talk to Souffleur.

Routes are versioned under ``/v1`` and documented at ``/docs`` (OpenAPI). They hold no logic:
each one checks the caller's token, calls the same service as the app's desk (``Gateway``,
``Desk``, the knowledge base, the order book) and shapes its answer. Errors are JSON
``{"error", "problem", "fix"}`` with the status that names the kind: 400 bad input, 401 no or
unknown token, 403 a token without that scope, 404 unknown conversation or document, 409 a
stale version, 413 too large, 422 a field that does not validate (each field named).

This module puts the app together; the routes, one ``APIRouter`` per concept, and what they
share (services, token scopes, errors, size limit) live in ``faces.api_routes``.
"""

from __future__ import annotations

from fastapi import FastAPI

from copilot.desk.desk import Desk
from copilot.workspace import Workspace
from faces.api_routes import conversations, health, helpdesks, knowledge, orders, webchat
from faces.api_routes.errors import add_error_handlers
from faces.api_routes.limits import size_limit
from faces.api_routes.services import Services, lifespan

__all__ = ["API_VERSION", "create_app"]

API_VERSION = "v1"

# in this order in /docs
ROUTERS = (health, conversations, webchat, helpdesks, knowledge, orders)


def create_app(ws: Workspace, desk: Desk | None = None) -> FastAPI:
    services = Services.build(ws, desk or Desk(ws))
    app = FastAPI(
        title="Souffleur API",
        version=API_VERSION,
        description="Inbound customer messages, suggestions, replies, knowledge and orders.",
        lifespan=lifespan,
    )
    app.state.services = services
    # the handles operators and tests reach for
    app.state.gateway = services.gateway
    app.state.tokens = services.tokens
    app.state.outbox = services.links.outbox
    app.state.integrations = services.links
    app.state.chat = services.chat
    add_error_handlers(app)
    app.middleware("http")(size_limit)
    for module in ROUTERS:
        app.include_router(module.router)
    return app
