"""Whether the registry (SQL) and the vectors (Chroma) agree: the ingestion leases and whether
their process still runs, and the survey of both sides that the repair and the check read.

Vectors that the registry does not list are either in flight (their revision is held by a
live lease: another process is mid-ingestion, they must stay) or dead (a crash before the
commit point, or stale versions after it). A lease is live while its process runs (same host)
or, seen from another host, while its heartbeat is recent.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from knowledge.registry import Lease, Registry, now
from knowledge.types import Chunk
from knowledge.vectors import VectorStore

# A lease seen from another host is live while its heartbeat is younger than this (the
# ingestion renews it after every embedding batch).
LEASE_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class ReconcileReport:
    deleted_vectors: int
    reembedded_chunks: int
    in_flight_vectors: int = 0  # kept: an ingestion of another live process is writing them
    dead_leases: int = 0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_is_live(lease: Lease) -> bool:
    if lease.host == socket.gethostname():
        return lease.pid == os.getpid() or _process_alive(lease.pid)
    return now() - lease.heartbeat_at < LEASE_TTL


def revision_of(chunk_id: str) -> str:
    """The revision part of a chunk id (``doc::revision::position``)."""
    parts = chunk_id.rsplit("::", 2)
    return parts[1] if len(parts) == 3 else ""


@dataclass(frozen=True)
class ConsistencyReport:
    chunks: int
    vectors: int
    missing_vectors: int  # listed chunks with no vector: invisible to meaning search
    dead_vectors: int  # vectors of no listed chunk and no live ingestion
    in_flight_vectors: int  # vectors another live process is writing (not yet committed)
    live_leases: int
    dead_leases: int
    damaged: tuple[str, ...] = ()  # languages whose vectors cannot all be read back: reindex

    @property
    def consistent(self) -> bool:
        return not (self.missing_vectors or self.dead_vectors or self.dead_leases or self.damaged)


@dataclass(frozen=True)
class Survey:
    leases: list[Lease]
    dead: list[Lease]  # leases whose process is gone
    active: dict[str, Chunk]  # chunk id -> listed chunk
    stored: dict[str, str]  # chunk id -> language, of every vector
    dead_vectors: list[tuple[str, str]]  # of no listed chunk and no live lease
    in_flight_vectors: int  # of no listed chunk, held by a live lease
    missing: list[Chunk]  # listed chunks with no vector


def survey(registry: Registry, vectors: VectorStore) -> Survey:
    """The registry and the vectors side by side; each lease's liveness read once."""
    leases = registry.leases()
    live = [lease for lease in leases if lease_is_live(lease)]
    in_flight = set().union(*(lease.revisions for lease in live))
    stored = vectors.all_ids()
    active = {c.chunk_id: c for c in registry.active_chunks()}
    unlisted = [(cid, lang) for cid, lang in stored.items() if cid not in active]
    return Survey(
        leases=leases,
        dead=[lease for lease in leases if lease not in live],
        active=active,
        stored=stored,
        dead_vectors=[(c, lang) for c, lang in unlisted if revision_of(c) not in in_flight],
        in_flight_vectors=sum(1 for c, _ in unlisted if revision_of(c) in in_flight),
        missing=[c for cid, c in active.items() if cid not in stored],
    )


def check(registry: Registry, vectors: VectorStore) -> ConsistencyReport:
    """What disagrees between the registry and the vectors, without changing anything."""
    seen = survey(registry, vectors)
    return ConsistencyReport(
        chunks=len(seen.active),
        vectors=len(seen.stored),
        missing_vectors=len(seen.missing),
        dead_vectors=len(seen.dead_vectors),
        in_flight_vectors=seen.in_flight_vectors,
        live_leases=len(seen.leases) - len(seen.dead),
        dead_leases=len(seen.dead),
        damaged=tuple(vectors.unreadable()),
    )


def needs_reconcile(registry: Registry, vectors: VectorStore) -> bool:
    """True when vectors may disagree with the registry: an interrupted ingestion or deletion
    (a dead lease, the dirty flag), or vector and chunk counts that differ while no other
    process is ingesting."""
    leases = registry.leases()
    if any(not lease_is_live(lease) for lease in leases):
        return True
    if registry.get_meta("dirty", "0") == "1" and not leases:
        return True
    return not leases and vectors.count() != registry.counts()[1]
