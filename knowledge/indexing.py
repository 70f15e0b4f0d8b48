"""Writing document versions to the registry (SQL) and the vectors (Chroma), which cannot share
a transaction:

1. vectors of the new versions are written first, under fresh chunk ids (invisible: the
   registry does not list them yet);
2. one SQL transaction switches the registry to the new versions (the commit point);
3. vectors of the old versions are deleted.

Before 1, the ingestion takes a *lease* in the registry naming the revisions it writes; the
commit point releases it. Vectors that the registry does not list are either in flight (their
revision is held by a live lease: another process is mid-ingestion, they must stay) or dead
(a crash before 2, or stale versions after it). :meth:`IndexWriter.reconcile` (run at
start-up when a lease was left behind or the vector and chunk counts disagree, and by
``souffleur status --check``) deletes only dead vectors and re-embeds listed chunks whose
vectors are missing (see :mod:`knowledge.consistency`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from knowledge.consistency import ReconcileReport, survey
from knowledge.embeddings import Embedder
from knowledge.errors import SouffleurError
from knowledge.planning import Plan
from knowledge.registry import Lease, Registry, documents, now
from knowledge.types import Chunk
from knowledge.vectors import VectorStore

log = logging.getLogger("souffleur.knowledge")

# Called with a stage name ("embedded", "committed", "cleaned"): progress and crash tests.
Hook = Callable[[str], None]
EMBED_BATCH = 512


class ConcurrentUpdateError(SouffleurError):
    pass


class IndexWriter:
    """Writes, deletes and repairs the index in the order above; ``on_commit`` is called after
    each change the registry commits (the retriever drops its snapshot)."""

    def __init__(
        self,
        registry: Registry,
        vectors: VectorStore,
        embedder: Embedder,
        on_commit: Callable[[], None],
    ) -> None:
        self.registry = registry
        self.vectors = vectors
        self.embedder = embedder
        self.on_commit = on_commit

    def write(self, planned: Sequence[Plan], removed: list[str], hook: Hook | None) -> None:
        """The new versions made visible and the ``removed`` documents gone, in one commit."""
        # 1. vectors first, under fresh ids, held by a lease until the commit point
        lease = Lease(
            secrets.token_hex(8),
            socket.gethostname(),
            os.getpid(),
            frozenset(i.revision for i, _, _ in planned),
            now(),
            now(),
        )
        self.registry.open_lease(lease)
        new_chunks = [c for _, cs, _ in planned for c in cs]
        try:
            self.embed(new_chunks, lambda _: self.registry.renew_lease(lease.lease_id))
            if hook:
                hook("embedded")
            stale = self._commit(lease, planned, removed)
        except BaseException:
            self._abandon(lease, new_chunks)
            raise
        self.on_commit()
        if hook:
            hook("committed")

        # 3. the old versions' vectors go (a crash here leaves dead vectors: repaired at start-up)
        self.vectors.delete(stale)
        self._mark_dirty(False)
        if hook:
            hook("cleaned")

    def embed(
        self, chunks: Sequence[Chunk], after_batch: Callable[[int], None] | None = None
    ) -> None:
        """Embed ``chunks`` and add their vectors, :data:`EMBED_BATCH` at a time;
        ``after_batch`` gets the number done so far (lease heartbeat, progress)."""
        for start in range(0, len(chunks), EMBED_BATCH):
            part = chunks[start : start + EMBED_BATCH]
            vecs = self.embedder.embed([c.context_text for c in part], kind="passage")
            self.vectors.add([c.chunk_id for c in part], vecs, [c.lang for c in part])
            if after_batch:
                after_batch(start + len(part))

    def _abandon(self, lease: Lease, written: Sequence[Chunk]) -> None:
        """An ingestion that failed before its commit point: its vectors are dead."""
        try:
            self.vectors.delete([(c.chunk_id, c.lang) for c in written])
            with self.registry.engine.begin() as conn:
                self.registry.close_lease(conn, lease.lease_id)
        except Exception as exc:
            log.warning("could not release ingestion lease %s: %s", lease.lease_id, exc)

    def _commit(
        self, lease: Lease, planned: Sequence[Plan], removed: list[str]
    ) -> list[tuple[str, str]]:
        """2. the commit point: the new versions become visible and the lease is released."""
        with self.registry.engine.begin() as conn:
            current = self.registry.documents_by_id(
                conn, [i.doc_id for i, _, _ in planned], for_update=True
            )
            for info, _, existed in planned:
                cur = current.get(info.doc_id)
                if (cur.version if cur else 0) != info.version - 1 or (cur is not None) != existed:
                    raise ConcurrentUpdateError(
                        f"'{info.doc_id}' was changed by another upload while this one was indexing.",
                        "Upload the file again.",
                    )
            stale = self.registry.chunk_ids_of(conn, [i.doc_id for i, _, _ in planned] + removed)
            for info, doc_chunks, existed in planned:
                self.registry.write_document(conn, info, doc_chunks, exists=existed)
            if removed:
                self.registry.delete_documents(conn, removed)
            self.registry.set_meta(conn, "embedder", self.embedder.name)
            self.registry.bump_generation(conn)
            self.registry.close_lease(conn, lease.lease_id)
            self.registry.set_meta(conn, "dirty", "1")
        return stale

    def _mark_dirty(self, dirty: bool) -> None:
        with self.registry.engine.begin() as conn:
            self.registry.set_meta(conn, "dirty", "1" if dirty else "0")

    def delete(self, doc_id: str) -> bool:
        """Remove a document and all its chunks; False if it was not there."""
        with self.registry.engine.begin() as conn:
            if not conn.execute(
                sa.select(documents.c.doc_id).where(documents.c.doc_id == doc_id)
            ).first():
                return False
            stale = self.registry.chunk_ids_of(conn, [doc_id])
            self.registry.delete_documents(conn, [doc_id])
            self.registry.set_meta(conn, "dirty", "1")
            self.registry.bump_generation(conn)
        self.on_commit()
        self.vectors.delete(stale)
        self._mark_dirty(False)
        return True

    def reconcile(self) -> ReconcileReport:
        """Delete dead vectors (unlisted, and not held by a live ingestion's lease), drop dead
        leases, and re-embed listed chunks that lack a vector."""
        seen = survey(self.registry, self.vectors)
        if seen.dead_vectors:
            self.vectors.delete(seen.dead_vectors)
        self.embed(seen.missing)
        with self.registry.engine.begin() as conn:
            for lease in seen.dead:
                self.registry.close_lease(conn, lease.lease_id)
            if len(seen.dead) == len(seen.leases):
                self.registry.set_meta(conn, "dirty", "0")
        return ReconcileReport(
            len(seen.dead_vectors),
            len(seen.missing),
            seen.in_flight_vectors,
            len(seen.dead),
        )

    def reindex(self, hook: Hook | None = None) -> int:
        """Rebuild every vector with the configured embedder (after changing embedder)."""
        self.vectors.drop_all()
        chunks = self.registry.active_chunks()
        self.embed(chunks, (lambda done: hook(f"{done}/{len(chunks)}")) if hook else None)
        with self.registry.engine.begin() as conn:
            self.registry.set_meta(conn, "embedder", self.embedder.name)
            self.registry.bump_generation(conn)
        self.on_commit()
        return len(chunks)
