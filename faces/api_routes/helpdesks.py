"""Help desks' webhooks: Chatwoot's (the adapter is ``copilot.channels.chatwoot``)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from copilot.channels.chatwoot import ChatwootAuthError
from faces.api_routes.errors import ApiError
from faces.api_routes.services import ServicesDep

router = APIRouter(tags=["help desks"])


@router.post("/v1/chatwoot/webhook")
async def chatwoot_webhook(
    request: Request, services: ServicesDep, token: str | None = None
) -> dict[str, Any]:
    """Chatwoot's webhook (event message_created): verified by Chatwoot's signature or by
    ?token=; a contact's message gets its suggestion as a private note, an agent's reply
    is recorded as the reply to that draft."""
    adapter = services.links.chatwoot
    if adapter is None:
        raise ApiError(
            404,
            "chatwoot_not_configured",
            "The Chatwoot adapter is not configured on this server.",
            "Set SOUFFLEUR_CHATWOOT_URL, SOUFFLEUR_CHATWOOT_API_TOKEN and "
            "SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET, then restart souffleur serve.",
        )
    body = await request.body()
    try:
        adapter.verify(request.headers, body, token)
    except ChatwootAuthError as exc:
        raise ApiError(401, "bad_signature", exc.problem, exc.fix) from exc
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise ApiError(
            400,
            "malformed_json",
            f"The webhook body is not valid JSON ({exc}).",
            "Send Chatwoot's payload unchanged.",
        ) from exc
    if not isinstance(event, dict):
        raise ApiError(400, "bad_request", "The webhook body is not a JSON object.", "")
    return await run_in_threadpool(adapter.handle, event)
