"""A limit on model calls shared by every process of a workspace, kept in the database.

Each app or API process runs at most ``llm_concurrency`` model calls at once; with several
replicas in front of one model server that is ``replicas × llm_concurrency`` requests, enough to
overload a server with a few slots (llama.cpp's default is one). ``SharedSlots`` holds ``limit``
numbered rows per endpoint: a call takes a free (or expired) row with one conditional UPDATE,
which SQLite and PostgreSQL both apply atomically, and gives it back when done. A row held by a
process that died frees itself when its lease runs out. Waiting callers poll (not first come,
first served): the queue itself is each process's pool of model calls.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from copilot.pipeline.drafter import OnDelta
from copilot.pipeline.llm import ChatModel, Completion, LLMUnavailable, Message
from knowledge.db import create_tables, migrate, now

log = logging.getLogger(__name__)

metadata = sa.MetaData()
slots = sa.Table(
    "llm_slots",
    metadata,
    sa.Column("endpoint", sa.String(255), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("holder", sa.String(128), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
)
MIGRATIONS = [create_tables(slots)]


class SlotsBusy(Exception):
    pass


class SharedSlots:
    """At most ``limit`` holders of ``endpoint`` at once, across processes."""

    def __init__(
        self,
        engine: Engine,
        endpoint: str,
        limit: int,
        *,
        lease_s: float,
        poll_s: tuple[float, float] = (0.02, 0.5),
    ) -> None:
        if limit < 1:
            raise ValueError("a shared limit needs at least one slot")
        self.engine = engine
        self.endpoint = endpoint[:255]
        self.limit = limit
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held = 0
        self._holders: dict[int, str] = {}  # slot -> this process's lease on it
        self._lock = threading.Lock()
        migrate(engine, "copilot.slots", MIGRATIONS)  # the namespace databases already record
        self._provision()

    def _provision(self) -> None:
        """The rows 0 … limit-1 exist (another process may add them at the same time). A
        smaller limit than before leaves the higher rows unused: only 0 … limit-1 are taken."""
        with self.engine.connect() as conn:
            have = set(
                conn.execute(
                    sa.select(slots.c.slot).where(slots.c.endpoint == self.endpoint)
                ).scalars()
            )
        for n in range(self.limit):
            if n in have:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(sa.insert(slots).values(endpoint=self.endpoint, slot=n))
            except IntegrityError:
                pass  # added by another process just now

    def try_acquire(self) -> int | None:
        """A free slot's number, now, or None when all ``limit`` are held."""
        t = now()
        with self._lock:
            self._held += 1
            holder = f"{self._me}:{self._held}"
        order = list(range(self.limit))
        random.shuffle(order)  # callers spread over the rows instead of all racing for row 0
        with self.engine.begin() as conn:
            for n in order:
                taken = conn.execute(
                    sa.update(slots)
                    .where(
                        slots.c.endpoint == self.endpoint,
                        slots.c.slot == n,
                        sa.or_(slots.c.holder.is_(None), slots.c.expires_at < t),
                    )
                    .values(holder=holder, expires_at=t + timedelta(seconds=self.lease_s))
                )
                if taken.rowcount == 1:
                    with self._lock:
                        self._holders[n] = holder
                    return n
        return None

    def acquire(self, wait_s: float) -> int:
        """A slot within ``wait_s`` seconds, or :class:`SlotsBusy`."""
        deadline = time.monotonic() + wait_s
        pause = self.poll_s[0]
        while True:
            n = self.try_acquire()
            if n is not None:
                return n
            left = deadline - time.monotonic()
            if left <= 0:
                raise SlotsBusy(self.endpoint)
            time.sleep(min(pause, left))
            pause = min(pause * 2, self.poll_s[1])

    def release(self, n: int) -> None:
        with self._lock:
            holder = self._holders.pop(n, None)
        if holder is None:
            return
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(slots)
                .where(
                    slots.c.endpoint == self.endpoint,
                    slots.c.slot == n,
                    slots.c.holder == holder,  # not a row that expired and was taken since
                )
                .values(holder=None, expires_at=None)
            )

    @contextmanager
    def held(self, wait_s: float) -> Iterator[int]:
        n = self.acquire(wait_s)
        try:
            yield n
        finally:
            self.release(n)

    def busy(self) -> int:
        """Slots held now (leases not yet run out), across every process."""
        with self.engine.connect() as conn:
            got = conn.execute(
                sa.select(sa.func.count()).where(
                    slots.c.endpoint == self.endpoint,
                    slots.c.slot < self.limit,
                    slots.c.holder.is_not(None),
                    slots.c.expires_at >= now(),
                )
            ).scalar()
        return int(got or 0)


class ThrottledChat:
    """A :class:`ChatModel` that takes one of the shared slots for each call. A call that finds
    no free slot within ``wait_s`` fails as ``busy``: the agent keeps the offline draft."""

    def __init__(self, chat: ChatModel, slots_: SharedSlots, *, wait_s: float) -> None:
        self.chat = chat
        self.name = chat.name
        self.slots = slots_
        self.wait_s = wait_s

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        try:
            with self.slots.held(self.wait_s):
                return self.chat.complete(messages, on_text=on_text, json_mode=json_mode)
        except SlotsBusy:  # raised by held() only: the model was never called
            raise LLMUnavailable(
                "busy",
                f"all {self.slots.limit} shared model slots stayed taken for {self.wait_s:g} s "
                "(SOUFFLEUR_LLM_SHARED_CONCURRENCY)",
            ) from None
