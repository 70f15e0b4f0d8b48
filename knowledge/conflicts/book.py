"""The knowledge manager's decisions on the pairs found: keep the new statement, the existing
one, or both (each with its scope); and what the drafter reads and the agent is told while a
pair is open or kept both."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from knowledge.conflicts.detection import Conflict
from knowledge.conflicts.passages import holds, set_aside
from knowledge.conflicts.stored import (
    MIGRATIONS,
    StoredConflict,
    conflicts_table,
    pair_key,
    row_where,
    stored_of_row,
)
from knowledge.db import migrate
from knowledge.errors import SouffleurError
from knowledge.types import Chunk, Hit

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

REFRESH_S = 2.0  # another process's decision applies here within this many seconds
Keep = Literal["new", "old", "both"]
KEEPS: tuple[Keep, ...] = ("new", "old", "both")


class ConflictDecisionError(SouffleurError):
    """A decision that cannot be taken (unknown pair, already decided, scope missing)."""


class ConflictBook:
    """The pairs found, and the knowledge manager's decisions, in the knowledge database.

    A process re-reads them at most every ``refresh_s`` seconds (one small query), and at once
    after its own decisions."""

    def __init__(self, engine: Engine, *, refresh_s: float = REFRESH_S) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        migrate(engine, "knowledge.conflicts", MIGRATIONS)
        self._lock = threading.Lock()
        self._cached: list[StoredConflict] | None = None
        self._read_at = 0.0

    # -- writing -------------------------------------------------------------------------
    def record(self, found: Iterable[Conflict]) -> list[StoredConflict]:
        """Keep each pair found (the same two sentences found again, from either side, are the
        same pair: a decided one stays decided); returns the stored pairs, in order."""
        out: list[StoredConflict] = []
        for c in found:
            key = pair_key(c)
            try:
                row = self._keep(c, key)
            except IntegrityError:  # another process recorded the same pair meanwhile
                row = self._keep(c, key)
            out.append(stored_of_row(row))
        self._changed()
        return out

    def _keep(self, c: Conflict, key: str) -> Any:
        with self.engine.begin() as conn:
            row = row_where(conn, conflicts_table.c.pair == key)
            if row is None:
                conn.execute(
                    sa.insert(conflicts_table).values(
                        pair=key,
                        status="open",
                        found_at=datetime.now(UTC),
                        **{f.name: getattr(c, f.name) for f in fields(Conflict)},
                    )
                )
            elif row["status"] == "gone":  # both sentences are back: open again
                conn.execute(
                    sa.update(conflicts_table)
                    .where(conflicts_table.c.pair == key, conflicts_table.c.status == "gone")
                    .values(status="open", decided_at=None, decided_by=None)
                )
            return row_where(conn, conflicts_table.c.pair == key)

    def decide(
        self,
        conflict_id: int,
        keep: str,
        *,
        new_scope: str = "",
        old_scope: str = "",
        actor: str | None = None,
    ) -> StoredConflict:
        """Keep the new statement, the existing one, or both (each with the case it holds
        for: both scopes are required, so the agent can tell which applies)."""
        if keep not in KEEPS:
            raise ConflictDecisionError(
                f"cannot keep {keep!r}: choose new (the document just added), old (the one "
                "already indexed) or both (each with its scope)"
            )
        if keep == "both" and not (new_scope.strip() and old_scope.strip()):
            raise ConflictDecisionError(
                "keeping both needs the case each statement holds for (e.g. 'per item, "
                "engraved' and 'per order'): give both scopes"
            )
        self._refuse_decided(self.get(conflict_id))
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(conflicts_table)
                .where(conflicts_table.c.id == conflict_id, conflicts_table.c.status == "open")
                .values(
                    status=f"kept_{keep}",
                    new_scope=new_scope.strip() if keep == "both" else "",
                    old_scope=old_scope.strip() if keep == "both" else "",
                    decided_at=datetime.now(UTC),
                    decided_by=actor,
                )
            ).rowcount
        self._changed()
        if not changed:  # decided by someone else between our read and this write
            self._refuse_decided(self.get(conflict_id))
            raise ConflictDecisionError(
                f"conflict {conflict_id} changed while you decided: read it again, then decide"
            )
        return self.get(conflict_id)

    @staticmethod
    def _refuse_decided(current: StoredConflict) -> None:
        if current.status == "gone":
            raise ConflictDecisionError(
                f"conflict {current.id} is gone: one of its sentences is no longer in its "
                "document (nothing to decide)"
            )
        if not current.is_open:
            raise ConflictDecisionError(
                f"conflict {current.id} is already {current.status.replace('_', ' ')}"
                f"{' by ' + current.decided_by if current.decided_by else ''}: reopen it first "
                "to decide again"
            )

    def reopen(self, conflict_id: int) -> StoredConflict:
        current = self.get(conflict_id)
        if current.status == "gone":
            raise ConflictDecisionError(
                f"conflict {conflict_id} is gone: one of its sentences is no longer in its "
                "document (nothing to decide)"
            )
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(conflicts_table)
                .where(conflicts_table.c.id == conflict_id)
                .values(status="open", new_scope="", old_scope="", decided_at=None, decided_by=None)
            )
        self._changed()
        return self.get(conflict_id)

    def prune(self, kb: KnowledgeBase) -> int:
        """Mark ``gone`` the pairs one of whose sentences left its document (the document was
        deleted or replaced by a version without it); returns how many."""
        gone = []
        current = [c for c in self.all() if c.status != "gone"]
        named = {doc for c in current for doc in (c.new_doc, c.old_doc)}
        texts: dict[str, list[str]] = {}
        for ch in kb.retriever.snapshot().chunks if current else []:
            if ch.doc_id in named:  # the page checks at every view: keep only what it reads
                texts.setdefault(ch.doc_id, []).append(ch.text)
        for c in current:
            for doc, sentence in ((c.new_doc, c.new_sentence), (c.old_doc, c.old_sentence)):
                if not any(holds(text, sentence) for text in texts.get(doc, ())):
                    gone.append(c.id)
                    break
        if gone:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(conflicts_table)
                    .where(conflicts_table.c.id.in_(gone))
                    .values(status="gone")
                )
            self._changed()
        return len(gone)

    # -- reading -------------------------------------------------------------------------
    def get(self, conflict_id: int) -> StoredConflict:
        with self.engine.connect() as conn:
            row = row_where(conn, conflicts_table.c.id == conflict_id)
        if row is None:
            raise ConflictDecisionError(
                f"no conflict {conflict_id}: `souffleur conflicts list --all` lists them"
            )
        return stored_of_row(row)

    def all(self) -> list[StoredConflict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(conflicts_table).order_by(conflicts_table.c.id))
            return [stored_of_row(r) for r in rows.mappings()]

    def open(self) -> list[StoredConflict]:
        return [c for c in self.all() if c.is_open]

    def _current(self) -> list[StoredConflict]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._read_at >= self.refresh_s:
                self._cached = [c for c in self.all() if c.status != "gone"]
                self._read_at = time.monotonic()
            return self._cached

    def _changed(self) -> None:
        with self._lock:
            self._cached = None

    # -- what the drafter reads, what the agent is told ----------------------------------
    def screen(self, hits: list[Hit]) -> list[Hit]:
        """The hits as the decisions read them: a statement set aside reads as the one kept
        (the drafts quote the right figure wherever the passage is found)."""
        superseded: dict[str, list[tuple[str, str]]] = {}
        for c in self._current():
            if c.status == "kept_new":
                superseded.setdefault(c.old_doc, []).append((c.old_sentence, c.new_sentence))
            elif c.status == "kept_old":
                superseded.setdefault(c.new_doc, []).append((c.new_sentence, c.old_sentence))
        if not superseded:
            return hits
        out = []
        for h in hits:
            text = h.chunk.text
            for sentence, kept in superseded.get(h.doc_id, ()):
                text = set_aside(text, sentence, kept)
            out.append(h if text == h.chunk.text else replace(h, chunk=replace(h.chunk, text=text)))
        return out

    def hints(self, cited: Sequence[Chunk], lang: str) -> list[str]:
        """What the agent should check when a draft cites a sentence of an open pair (the
        figures disagree) or of a pair kept both (which case applies)."""
        out = []
        for c in self._current():
            if c.status not in ("open", "kept_both"):
                continue
            if not any(
                ch.doc_id == doc and holds(ch.text, sentence)
                for ch in cited
                for doc, sentence in ((c.new_doc, c.new_sentence), (c.old_doc, c.old_sentence))
            ):
                continue
            (_, nt, _, nv, ns), (_, ot, _, ov, os_) = c.sides()
            if c.status == "open":
                out.append(
                    f"Sources en désaccord (non tranché) : « {nt} » indique {nv}, « {ot} » "
                    f"indique {ov}. Vérifiez le bon chiffre avant d'envoyer."
                    if lang == "fr"
                    else f"Sources disagree (not settled yet): “{nt}” says {nv}, “{ot}” says "
                    f"{ov}. Check the right figure before sending."
                )
            else:
                out.append(
                    f"Deux cas : {nv} ({ns}, « {nt} ») ou {ov} ({os_}, « {ot} »). "
                    "Vérifiez lequel s'applique à ce client."
                    if lang == "fr"
                    else f"Two cases: {nv} ({ns}, “{nt}”) or {ov} ({os_}, “{ot}”). "
                    "Check which applies to this customer."
                )
        return out
