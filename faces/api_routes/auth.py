"""Who may call a route: a bearer token (``souffleur tokens create``) whose role has the route's
scope. A route names its scope with a parameter, e.g. ``_: ConversationsToken``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header

from copilot.desk.apikeys import ApiToken, Scope
from faces.api_routes.errors import ApiError
from faces.api_routes.services import ServicesDep


def caller(scope: Scope) -> Callable[..., ApiToken]:
    """A dependency giving the caller's token: 401 without a known one, 403 outside ``scope``."""

    def check(
        services: ServicesDep, authorization: Annotated[str | None, Header()] = None
    ) -> ApiToken:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(
                401,
                "unauthenticated",
                "This route needs a bearer token.",
                "Send 'Authorization: Bearer <token>'; create one with "
                "`souffleur tokens create NAME --role integration`.",
            )
        token = services.tokens.verify(authorization[7:].strip())
        if token is None:
            raise ApiError(
                401,
                "unauthenticated",
                "The token is unknown or revoked.",
                "Create a new one with `souffleur tokens create NAME --role ROLE`.",
            )
        if scope not in token.scopes:
            raise ApiError(
                403,
                "forbidden",
                f"Token '{token.name}' ({token.role}) may not use {scope} routes.",
                "Use a token whose role includes this scope (admin has every scope).",
            )
        return token

    return check


ConversationsToken = Annotated[ApiToken, Depends(caller("conversations"))]
OrdersToken = Annotated[ApiToken, Depends(caller("orders"))]
KnowledgeToken = Annotated[ApiToken, Depends(caller("knowledge"))]
