"""The API's errors: JSON ``{"error", "problem", "fix"}`` with the status that names the kind,
for ``ApiError`` raised by a route and for the domain's errors that reach the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from copilot.channels.gateway import DuplicateInFlightError
from copilot.channels.webchat import ChatError, ChatLinkError
from copilot.desk.store import ConflictError, UnknownConversationError
from knowledge.errors import SouffleurError


class ApiError(Exception):
    def __init__(self, status: int, error: str, problem: str, fix: str = "") -> None:
        self.status, self.error, self.problem, self.fix = status, error, problem, fix


def error_response(
    status: int, error: str, problem: str, fix: str = "", **headers: str
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "problem": problem, "fix": fix}, status_code=status, headers=headers
    )


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return error_response(exc.status, exc.error, exc.problem, exc.fix, **headers)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        where = next(e for e in errors if e.get("type") == "json_invalid")
        return error_response(
            400,
            "malformed_json",
            f"The body is not valid JSON ({where.get('ctx', {}).get('error', 'parse error')}).",
            "Send a JSON object with Content-Type: application/json.",
        )
    fields = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in errors
    )
    too_long = any(e.get("type") in ("string_too_long", "too_long") for e in errors)
    return error_response(
        413 if too_long else 422,
        "too_large" if too_long else "invalid_fields",
        f"Some fields are not valid: {fields}.",
        "Fix these fields and send again; see /docs for the schema.",
    )


async def _unknown(_: Request, exc: UnknownConversationError) -> JSONResponse:
    return error_response(404, "unknown_conversation", exc.problem, "Check the conversation id.")


async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
    return error_response(
        409,
        "stale_version",
        "The conversation changed since that version.",
        "Read it again (GET /v1/conversations/{id}) and retry with its version.",
    )


async def _in_flight(_: Request, exc: DuplicateInFlightError) -> JSONResponse:
    return error_response(409, "event_in_flight", exc.problem, exc.fix, **{"Retry-After": "1"})


async def _chat_error(_: Request, exc: ChatError) -> JSONResponse:
    if isinstance(exc, ChatLinkError):
        return error_response(403, "bad_chat_link", exc.problem, exc.fix)
    return error_response(400, "bad_request", exc.problem, exc.fix)


async def _souffleur(_: Request, exc: SouffleurError) -> JSONResponse:
    return error_response(400, "bad_request", exc.problem, exc.fix)


# (Starlette answers with the handler of the error's nearest class, whatever the order here:
# a ChatError gets its own, not SouffleurError's)
_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
    ApiError: _api_error,
    RequestValidationError: _invalid,
    UnknownConversationError: _unknown,
    ConflictError: _conflict,
    DuplicateInFlightError: _in_flight,
    ChatError: _chat_error,
    SouffleurError: _souffleur,
}


def add_error_handlers(app: FastAPI) -> None:
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, handler)
