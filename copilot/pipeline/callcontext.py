"""What a model call is for, said by its caller: ``with calling(purpose="repair"): ...``.

A context variable, so the chat model that logs the call (``calllog.LoggedChat``) reads it
without every layer in between passing it on; its own module, so the drafter that says it and
the log that reads it do not import each other.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

CONTEXT_FIELDS = ("purpose", "prompt_version", "conversation_id", "case_id")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("souffleur_call")


@contextmanager
def calling(**fields: str | None) -> Iterator[None]:
    """Say what the model calls made inside are for (``purpose``, ``prompt_version``,
    ``conversation_id``, ``case_id``); nested blocks add to the outer one."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown call context: {', '.join(sorted(unknown))}")
    merged = {**_context.get({}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict[str, str]:
    """The context of the calls made here."""
    return _context.get({})
