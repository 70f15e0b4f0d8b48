"""The document registry: what is indexed, in which version, in SQL (source of truth).

The vector index holds embeddings keyed by chunk id; this registry says which chunk ids are
*active*. A document version becomes visible in one transaction, so a crash at any point
leaves either the old or the new version visible, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from knowledge.db import as_utc, create_tables, migrate, now, unbounded_strings_on_postgresql
from knowledge.types import Chunk

metadata = sa.MetaData()

documents = sa.Table(
    "kb_documents",
    metadata,
    sa.Column("doc_id", sa.String(255), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source_name", sa.String(512), nullable=False, index=True),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("revision", sa.String(80), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False, default=""),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="active"),
    sa.Column("metadata", sa.Text, nullable=False, default="{}"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

chunks = sa.Table(
    "kb_chunks",
    metadata,
    sa.Column("chunk_id", sa.String(400), primary_key=True),
    sa.Column(
        "doc_id",
        sa.String(255),
        sa.ForeignKey("kb_documents.doc_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("heading_path", sa.Text, nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False, default=""),
)

kb_meta = sa.Table(
    "kb_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# An ingestion in flight: the revisions whose vectors it is writing before its commit point.
# Repair never deletes the vectors of a live lease (another process may be mid-ingestion).
kb_leases = sa.Table(
    "kb_leases",
    metadata,
    sa.Column("lease_id", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("revisions", sa.Text, nullable=False, default="[]"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)

MIGRATIONS = [
    create_tables(documents, chunks, kb_meta),
    unbounded_strings_on_postgresql(documents, chunks, kb_meta),
    create_tables(kb_leases),
]


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    source_name: str
    format: str
    content_hash: str
    version: int
    revision: str
    lang: str
    url: str
    chunk_count: int
    status: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Lease:
    """An ingestion between its first vector and its commit point, held by one process."""

    lease_id: str
    host: str
    pid: int
    revisions: frozenset[str]
    started_at: datetime
    heartbeat_at: datetime


class Registry:
    """SQL access for documents, chunks and index metadata."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine, "knowledge.registry", MIGRATIONS)

    # -- metadata ----------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(kb_meta.c.value).where(kb_meta.c.key == key)).first()
        return row[0] if row else default

    @staticmethod
    def set_meta(conn: Connection, key: str, value: str) -> None:
        updated = conn.execute(
            sa.update(kb_meta).where(kb_meta.c.key == key).values(value=value)
        ).rowcount
        if not updated:
            conn.execute(sa.insert(kb_meta).values(key=key, value=value))

    @staticmethod
    def bump_generation(conn: Connection) -> None:
        # FOR UPDATE: two concurrent commits on PostgreSQL must not both write the same next
        # generation (other processes would miss the second change); a no-op on SQLite.
        row = conn.execute(
            sa.select(kb_meta.c.value).where(kb_meta.c.key == "generation").with_for_update()
        ).first()
        Registry.set_meta(conn, "generation", str(int(row[0]) + 1 if row else 1))

    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    # -- ingestion leases --------------------------------------------------------------
    def open_lease(self, lease: Lease) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(kb_leases).values(
                    lease_id=lease.lease_id,
                    host=lease.host,
                    pid=lease.pid,
                    revisions=json.dumps(sorted(lease.revisions)),
                    started_at=lease.started_at,
                    heartbeat_at=lease.heartbeat_at,
                )
            )

    def renew_lease(self, lease_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(kb_leases)
                .where(kb_leases.c.lease_id == lease_id)
                .values(heartbeat_at=now())
            )

    @staticmethod
    def close_lease(conn: Connection, lease_id: str) -> None:
        conn.execute(sa.delete(kb_leases).where(kb_leases.c.lease_id == lease_id))

    def leases(self) -> list[Lease]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(kb_leases)).mappings().all()
        return [
            Lease(
                r["lease_id"],
                r["host"],
                int(r["pid"]),
                frozenset(json.loads(r["revisions"] or "[]")),
                as_utc(r["started_at"]),
                as_utc(r["heartbeat_at"]),
            )
            for r in rows
        ]

    # -- documents ---------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(documents).order_by(documents.c.updated_at.desc(), documents.c.doc_id)
                )
                .mappings()
                .all()
            )
        return [_doc_info(r) for r in rows]

    def document(self, doc_id: str) -> DocumentInfo | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(documents).where(documents.c.doc_id == doc_id))
                .mappings()
                .first()
            )
        return _doc_info(row) if row else None

    def documents_by_id(
        self, conn: Connection, doc_ids: list[str], *, for_update: bool = False
    ) -> dict[str, DocumentInfo]:
        """The documents with these ids; ``for_update`` locks their rows until the end of the
        transaction (PostgreSQL: a concurrent writer waits, then sees the committed version;
        SQLite already serialises writers and has no row locks)."""
        out: dict[str, DocumentInfo] = {}
        for start in range(0, len(doc_ids), 500):
            part = doc_ids[start : start + 500]
            query = sa.select(documents).where(documents.c.doc_id.in_(part))
            for row in conn.execute(query.with_for_update() if for_update else query).mappings():
                out[row["doc_id"]] = _doc_info(row)
        return out

    def doc_ids_of_source(self, conn: Connection, source_name: str) -> list[str]:
        return [
            r[0]
            for r in conn.execute(
                sa.select(documents.c.doc_id).where(documents.c.source_name == source_name)
            )
        ]

    @staticmethod
    def chunk_ids_of(conn: Connection, doc_ids: list[str]) -> list[tuple[str, str]]:
        """(chunk_id, lang) of the current chunks of these documents."""
        out: list[tuple[str, str]] = []
        for start in range(0, len(doc_ids), 500):
            part = doc_ids[start : start + 500]
            out.extend(
                (r[0], r[1])
                for r in conn.execute(
                    sa.select(chunks.c.chunk_id, chunks.c.lang).where(chunks.c.doc_id.in_(part))
                )
            )
        return out

    @staticmethod
    def delete_documents(conn: Connection, doc_ids: list[str]) -> None:
        for start in range(0, len(doc_ids), 500):
            part = doc_ids[start : start + 500]
            conn.execute(sa.delete(chunks).where(chunks.c.doc_id.in_(part)))
            conn.execute(sa.delete(documents).where(documents.c.doc_id.in_(part)))

    @staticmethod
    def write_document(
        conn: Connection, info: DocumentInfo, doc_chunks: list[Chunk], *, exists: bool
    ) -> None:
        conn.execute(sa.delete(chunks).where(chunks.c.doc_id == info.doc_id))
        values = {
            "title": info.title,
            "source_name": info.source_name,
            "format": info.format,
            "content_hash": info.content_hash,
            "version": info.version,
            "revision": info.revision,
            "lang": info.lang,
            "url": info.url,
            "chunk_count": info.chunk_count,
            "status": info.status,
            "metadata": json.dumps(info.metadata, ensure_ascii=False, default=str),
            "updated_at": info.updated_at,
        }
        if exists:
            conn.execute(
                sa.update(documents).where(documents.c.doc_id == info.doc_id).values(**values)
            )
        else:
            conn.execute(
                sa.insert(documents).values(
                    doc_id=info.doc_id, created_at=info.created_at, **values
                )
            )
        if doc_chunks:
            conn.execute(
                sa.insert(chunks),
                [
                    {
                        "chunk_id": c.chunk_id,
                        "doc_id": c.doc_id,
                        "version": c.version,
                        "position": c.position,
                        "text": c.text,
                        "title": c.title,
                        "heading_path": json.dumps(list(c.heading_path), ensure_ascii=False),
                        "lang": c.lang,
                        "url": c.url,
                    }
                    for c in doc_chunks
                ],
            )

    # -- chunks ------------------------------------------------------------------------
    def active_chunks(self) -> list[Chunk]:
        """Every chunk of every active document, in document order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(chunks)
                .join(documents, documents.c.doc_id == chunks.c.doc_id)
                .where(documents.c.status == "active")
                .order_by(chunks.c.doc_id, chunks.c.position)
            ).all()
        return [_chunk(r) for r in rows]

    def active_chunk_ids(self) -> list[str]:
        """The ids of :meth:`active_chunks`, in the same order (a cheap query: ids only)."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(chunks.c.chunk_id)
                    .join(documents, documents.c.doc_id == chunks.c.doc_id)
                    .where(documents.c.status == "active")
                    .order_by(chunks.c.doc_id, chunks.c.position)
                ).scalars()
            )

    def chunks_by_ids(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids (any order; unknown ids are left out)."""
        out: list[Chunk] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                out.extend(
                    _chunk(r)
                    for r in conn.execute(sa.select(chunks).where(chunks.c.chunk_id.in_(part)))
                )
        return out

    def counts(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            n_docs = conn.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one()
            n_chunks = conn.execute(sa.select(sa.func.count()).select_from(chunks)).scalar_one()
        return int(n_docs), int(n_chunks)


def _doc_info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        doc_id=row["doc_id"],
        title=row["title"],
        source_name=row["source_name"],
        format=row["format"],
        content_hash=row["content_hash"],
        version=row["version"],
        revision=row["revision"],
        lang=row["lang"],
        url=row["url"] or "",
        chunk_count=row["chunk_count"],
        status=row["status"],
        metadata=json.loads(row["metadata"] or "{}"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _chunk(r: sa.Row[Any]) -> Chunk:
    return Chunk(
        chunk_id=r.chunk_id,
        doc_id=r.doc_id,
        version=r.version,
        position=r.position,
        text=r.text,
        title=r.title,
        heading_path=tuple(json.loads(r.heading_path)),
        lang=r.lang,
        url=r.url,
    )
