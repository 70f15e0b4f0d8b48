"""The request size limit: a body over it gets 413 before it is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from faces.api_routes.errors import error_response
from faces.api_routes.services import services_of

MAX_JSON_BYTES = 1_000_000  # a JSON body (a message, an order batch); files go by upload


async def size_limit(request: Request, call_next: Callable[[Request], Any]) -> Any:
    """HTTP middleware: uploads to ``/knowledge`` may be ``max_upload_mb``, JSON bodies 1 MB."""
    length = request.headers.get("content-length")
    limit = (
        int(services_of(request.app).ws.settings.max_upload_mb * 1024 * 1024)
        if request.url.path.endswith("/knowledge")
        else MAX_JSON_BYTES
    )
    if length and length.isdigit() and int(length) > limit:
        return error_response(
            413,
            "too_large",
            f"The request body is {int(length):,} bytes; the limit here is {limit:,}.",
            "Send fewer records per request, or a smaller file.",
        )
    return await call_next(request)
