"""Every request to a model, kept in the database: what was sent, what came back, at what cost.

Drafts, their repair rounds and smaller-prompt retries, the eval judge's verdicts: each call is
one row with its role and purpose, the model, the prompt version and a hash of the messages, the
messages as sent (already masked when personal data is masked for that endpoint), the output,
tokens, latency and outcome (``ok`` or why it failed). ``souffleur logs`` lists and shows them.

The caller says what a call is for with :func:`calling` (a context variable, so the chat-model
seam keeps its signature); :class:`LoggedChat` wraps any :class:`ChatModel` and writes the row.
A log that cannot be written never fails the call: it is reported in the process log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.pipeline.callcontext import current
from copilot.pipeline.drafter import OnDelta
from copilot.pipeline.llm import ChatModel, Completion, LLMUnavailable, Message
from knowledge.db import create_tables, migrate, now, unbounded_strings_on_postgresql

log = logging.getLogger(__name__)

metadata = sa.MetaData()
llm_calls = sa.Table(
    "llm_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),  # drafter | judge
    sa.Column("purpose", sa.String(64), nullable=False),  # draft, repair, judge:claim, ...
    sa.Column("model", sa.String(255), nullable=False),
    sa.Column("prompt_version", sa.String(64), nullable=True),
    sa.Column("prompt_hash", sa.String(64), nullable=False),
    sa.Column("messages", sa.Text, nullable=False),  # JSON, as sent
    sa.Column("json_mode", sa.Boolean, nullable=False),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("prompt_tokens", sa.Integer, nullable=True),
    sa.Column("completion_tokens", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("ttft_ms", sa.Float, nullable=True),
    sa.Column("outcome", sa.String(32), nullable=False, index=True),  # ok | an LLMUnavailable kind
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("conversation_id", sa.String(64), nullable=True, index=True),
    sa.Column("case_id", sa.String(128), nullable=True),
    sa.Column("process", sa.String(128), nullable=False),
)
MIGRATIONS = [create_tables(llm_calls), unbounded_strings_on_postgresql(llm_calls)]


def prompt_hash(messages: list[Message]) -> str:
    text = json.dumps(messages, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class LoggedCall:
    id: int
    at: datetime
    role: str
    purpose: str
    model: str
    prompt_version: str | None
    prompt_hash: str
    messages: list[Message]
    json_mode: bool
    output: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: float
    ttft_ms: float | None
    outcome: str
    error: str | None
    conversation_id: str | None
    case_id: str | None
    process: str


class CallLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        migrate(engine, "copilot.calllog", MIGRATIONS)  # the namespace databases already record

    def record(self, **row: Any) -> None:
        ctx = current()
        values = {
            "at": now(),
            "purpose": ctx.get("purpose", "call"),
            "prompt_version": ctx.get("prompt_version"),
            "conversation_id": ctx.get("conversation_id"),
            "case_id": ctx.get("case_id"),
            "process": self.process,
            **row,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(llm_calls).values(**values))
        except Exception as exc:  # the call itself went fine: a lost log line is only reported
            log.warning("model call not logged: %s", exc)

    def list(
        self,
        *,
        role: str | None = None,
        purpose: str | None = None,
        outcome: str | None = None,
        conversation_id: str | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[LoggedCall]:
        """The latest calls first, filtered; ``outcome="error"`` is every failed call."""
        q = sa.select(llm_calls).order_by(llm_calls.c.id.desc()).limit(limit)
        if role:
            q = q.where(llm_calls.c.role == role)
        if purpose:
            q = q.where(llm_calls.c.purpose.startswith(purpose))
        if outcome == "error":
            q = q.where(llm_calls.c.outcome != "ok")
        elif outcome:
            q = q.where(llm_calls.c.outcome == outcome)
        if conversation_id:
            q = q.where(llm_calls.c.conversation_id == conversation_id)
        if since:
            q = q.where(llm_calls.c.at >= since)
        with self.engine.connect() as conn:
            return [_call(r) for r in conn.execute(q).mappings()]

    def get(self, call_id: int) -> LoggedCall | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(llm_calls).where(llm_calls.c.id == call_id)).mappings()
            first = row.first()
        return _call(first) if first else None


def _call(r: Any) -> LoggedCall:
    return LoggedCall(**{**dict(r), "messages": json.loads(r["messages"])})


class LoggedChat:
    """A :class:`ChatModel` whose every call (answered or failed) is written to a
    :class:`CallLog` under ``role``."""

    def __init__(self, chat: ChatModel, calls: CallLog, *, role: str) -> None:
        self.chat = chat
        self.name = chat.name
        self.calls = calls
        self.role = role

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        t0 = time.perf_counter()
        row: dict[str, Any] = {
            "role": self.role,
            "model": self.name,
            "prompt_hash": prompt_hash(messages),
            "messages": json.dumps(messages, ensure_ascii=False),
            "json_mode": json_mode,
        }
        try:
            done = self.chat.complete(messages, on_text=on_text, json_mode=json_mode)
        except LLMUnavailable as exc:
            self.calls.record(
                **row,
                outcome=exc.kind,
                error=str(exc),
                latency_ms=(time.perf_counter() - t0) * 1000,
            )
            raise
        self.calls.record(
            **{**row, "model": done.model or self.name},
            outcome="ok",
            output=done.text,
            prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens,
            latency_ms=(time.perf_counter() - t0) * 1000,
            ttft_ms=done.ttft_ms,
        )
        return done
