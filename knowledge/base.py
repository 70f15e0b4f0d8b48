"""The knowledge base: ingestion (load -> chunk -> embed -> index -> register) and search.

Consistency between the registry (SQL) and the vectors (Chroma), which cannot share a
transaction:

1. vectors of the new versions are written first, under fresh chunk ids (invisible: the
   registry does not list them yet);
2. one SQL transaction switches the registry to the new versions (the commit point);
3. vectors of the old versions are deleted.

Before 1, the ingestion takes a *lease* in the registry naming the revisions it writes; the
commit point releases it. Vectors that the registry does not list are either in flight (their
revision is held by a live lease: another process is mid-ingestion, they must stay) or dead
(a crash before 2, or stale versions after it). :meth:`KnowledgeBase.reconcile` (run at
start-up when a lease was left behind or the vector and chunk counts disagree, and by
``souffleur status --check``) deletes only dead vectors and re-embeds listed chunks whose
vectors are missing. A lease is live while its process runs (same host) or, seen from another
host, while its heartbeat is recent.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from knowledge.chunking import ChunkingConfig, chunk_document
from knowledge.conflicts import ConflictBook
from knowledge.embeddings import Embedder
from knowledge.errors import IngestError, SouffleurError
from knowledge.language import detect_language
from knowledge.loaders import DEFAULT_BUDGET_S, DEFAULT_MAX_BYTES, load_source
from knowledge.registry import DocumentInfo, Lease, Registry, documents, now
from knowledge.retrieval import HybridRetriever, Mode, RetrievalConfig
from knowledge.screening import instruction_sentences
from knowledge.types import Chunk, Document, Hit
from knowledge.vectors import VectorStore, mismatch_error

log = logging.getLogger("souffleur.knowledge")

# Called with a stage name ("embedded", "committed", "cleaned"): progress and crash tests.
Hook = Callable[[str], None]


@dataclass(frozen=True)
class DocResult:
    doc_id: str
    title: str
    status: str  # added | updated | unchanged | removed
    version: int
    chunks: int
    lang: str


@dataclass
class FileResult:
    name: str
    docs: list[DocResult] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what the file held that was left out

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def chunks(self) -> int:
        return sum(d.chunks for d in self.docs if d.status != "removed")


@dataclass(frozen=True)
class ReconcileReport:
    deleted_vectors: int
    reembedded_chunks: int
    in_flight_vectors: int = 0  # kept: an ingestion of another live process is writing them
    dead_leases: int = 0


# A lease seen from another host is live while its heartbeat is younger than this (the
# ingestion renews it after every embedding batch).
LEASE_TTL = timedelta(minutes=15)
EMBED_BATCH = 512


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

    @property
    def consistent(self) -> bool:
        return not (self.missing_vectors or self.dead_vectors or self.dead_leases)


@dataclass(frozen=True)
class _Survey:
    leases: list[Lease]
    dead: list[Lease]  # leases whose process is gone
    active: dict[str, Chunk]  # chunk id -> listed chunk
    stored: dict[str, str]  # chunk id -> language, of every vector
    dead_vectors: list[tuple[str, str]]  # of no listed chunk and no live lease
    in_flight_vectors: int  # of no listed chunk, held by a live lease
    missing: list[Chunk]  # listed chunks with no vector


class ConcurrentUpdateError(SouffleurError):
    pass


def content_hash(doc: Document, lang: str, chunking: ChunkingConfig) -> str:
    h = hashlib.sha256()
    for part in (doc.title, doc.text, lang, doc.url, chunking.fingerprint):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def _batch_ids(batch: Sequence[tuple[str, Sequence[Document]]]) -> list[str]:
    """Every document id of an upload; one used twice in it is refused, naming its file."""
    all_ids: list[str] = []
    for source_name, docs in batch:
        ids = [d.doc_id for d in docs]
        dupes = sorted({i for i in ids if ids.count(i) > 1} | (set(ids) & set(all_ids)))
        if dupes:
            raise IngestError(
                source_name,
                f"defines a document id that is already used in this upload: {', '.join(dupes[:5])}.",
                "Give each document a unique id.",
            )
        all_ids.extend(ids)
    return all_ids


def _check_owners(
    batch: Sequence[tuple[str, Sequence[Document]]], existing: dict[str, DocumentInfo]
) -> None:
    """A file may only update the documents it created: another file's id is refused."""
    for source_name, docs in batch:
        owned = [
            (d.doc_id, existing[d.doc_id].source_name)
            for d in docs
            if d.doc_id in existing and existing[d.doc_id].source_name != source_name
        ]
        if owned:
            doc_id, owner = owned[0]
            raise IngestError(
                source_name,
                f"defines the document id '{doc_id}', which belongs to '{owner}'"
                + (f" (and {len(owned) - 1} more)" if len(owned) > 1 else "")
                + "; nothing of this file was indexed.",
                "Rename the id in this file, or replace the file that owns it.",
            )


class KnowledgeBase:
    def __init__(
        self,
        registry: Registry,
        vectors: VectorStore,
        embedder: Embedder,
        *,
        chunking: ChunkingConfig | None = None,
        retrieval: RetrievalConfig | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        parse_budget_s: float = DEFAULT_BUDGET_S,
        default_lang: str = "en",
        check_embedder: bool = True,
    ) -> None:
        self.registry = registry
        self.vectors = vectors
        self.embedder = embedder
        self.chunking = chunking or ChunkingConfig()
        self.max_bytes = max_bytes
        self.parse_budget_s = parse_budget_s
        self.default_lang = default_lang
        self.retriever = HybridRetriever(registry, vectors, embedder, retrieval)
        # statements that disagree across documents, and the knowledge manager's decisions
        self.conflicts = ConflictBook(registry.engine)
        if check_embedder:
            self.check_embedder()

    def check_embedder(self) -> None:
        """Raise :class:`EmbedderMismatchError` if the index was built with another embedder."""
        recorded = self.registry.get_meta("embedder")
        if recorded and recorded != self.embedder.name and self.registry.counts()[0]:
            raise mismatch_error({recorded}, self.embedder.name)
        self.vectors.check_embedder()

    # -- ingestion ---------------------------------------------------------------------
    def ingest_file(
        self, name: str, data: bytes, *, encoding: str | None = None, hook: Hook | None = None
    ) -> FileResult:
        """Load and index one file; errors become ``FileResult.error`` (never half-indexed)."""
        return self.ingest_sources([(name, data)], encoding=encoding, hook=hook)[0]

    def ingest_paths(
        self,
        paths: Iterable[str | Path | tuple[str, str | Path]],
        *,
        encoding: str | None = None,
        hook: Hook | None = None,
    ) -> list[FileResult]:
        """Ingest files; a bad file is reported and the rest of the batch goes on.

        An item is a path (its file name is the source name) or ``(source name, path)``.
        """
        sources: list[tuple[str, bytes | OSError]] = []
        for item in paths:
            name, path = (
                (item[0], Path(item[1]))
                if isinstance(item, tuple)
                else (Path(item).name, Path(item))
            )
            try:
                sources.append((name, path.read_bytes()))
            except OSError as exc:
                exc.filename = str(path)
                sources.append((name, exc))
        return self.ingest_sources(sources, encoding=encoding, hook=hook)

    def ingest_sources(
        self,
        sources: Sequence[tuple[str, bytes | OSError]],
        *,
        encoding: str | None = None,
        hook: Hook | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[FileResult]:
        """Parse every file, then index all the good ones together (one embedding pass, one
        commit). Each file replaces the previous version of the same name."""
        results: list[FileResult] = []
        batch: list[tuple[int, str, list[Document]]] = []
        for i, (name, data) in enumerate(sources):
            if progress:
                progress(i, len(sources), name)
            if isinstance(data, OSError):
                results.append(
                    FileResult(
                        name,
                        error=f"{data.filename or name}: cannot be read ({data.strerror}). Check the path.",
                    )
                )
                continue
            try:
                docs = load_source(
                    name,
                    data,
                    max_bytes=self.max_bytes,
                    encoding=encoding,
                    budget_s=self.parse_budget_s,
                )
            except SouffleurError as exc:
                results.append(FileResult(name, error=str(exc)))
                continue
            notes = list(docs.notes)
            for doc in docs:
                planted = instruction_sentences(doc.text)
                if planted:
                    notes.append(
                        f"'{doc.doc_id}': {len(planted)} sentence(s) read as instructions to an "
                        f"assistant, never quoted in drafts (check them): «{planted[0][:120]}»"
                    )
            results.append(FileResult(name, notes=notes))
            batch.append((len(results) - 1, name, docs))
        if progress:
            progress(len(sources), len(sources), "indexing")
        if not batch:
            return results
        try:
            per_source = self.ingest_batch([(name, docs) for _, name, docs in batch], hook=hook)
            for (index, _, _), doc_results in zip(batch, per_source, strict=True):
                results[index].docs = doc_results
        except SouffleurError:
            # One file spoils the batch (e.g. an id another file of the batch also defines):
            # index them one by one so that only that file fails.
            for index, name, file_docs in batch:
                try:
                    results[index].docs = self.ingest_batch([(name, file_docs)], hook=hook)[0]
                except SouffleurError as exc:
                    results[index].error = str(exc)
        return results

    def ingest_documents(
        self,
        docs: Sequence[Document],
        *,
        source_name: str,
        replace_source: bool = False,
        hook: Hook | None = None,
    ) -> list[DocResult]:
        """Index documents; with ``replace_source``, documents of that source not in ``docs`` are removed."""
        return self.ingest_batch([(source_name, docs)], replace_source=replace_source, hook=hook)[0]

    def ingest_batch(
        self,
        batch: Sequence[tuple[str, Sequence[Document]]],
        *,
        replace_source: bool = True,
        hook: Hook | None = None,
    ) -> list[list[DocResult]]:
        """Index several sources' documents in one pass; all become visible in one commit."""
        all_ids = _batch_ids(batch)
        with self.registry.engine.connect() as conn:
            existing = self.registry.documents_by_id(conn, all_ids)
            previous = (
                {name: self.registry.doc_ids_of_source(conn, name) for name, _ in batch}
                if replace_source
                else {}
            )
        _check_owners(batch, existing)
        planned: list[tuple[DocumentInfo, list[Chunk], bool]] = []
        per_source: list[list[DocResult]] = []
        removed: list[str] = []
        stamp = now()
        for source_name, docs in batch:
            results: list[DocResult] = []
            for doc in docs:
                plan, result = self._plan(doc, source_name, existing.get(doc.doc_id), stamp)
                if plan is not None:
                    planned.append(plan)
                results.append(result)
            gone = [d for d in previous.get(source_name, []) if d not in set(all_ids)]
            removed.extend(gone)
            results.extend(DocResult(d, d, "removed", 0, 0, "") for d in gone)
            per_source.append(results)
        if not planned and not removed:
            return per_source

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
            self._embed_into_index(new_chunks, lambda _: self.registry.renew_lease(lease.lease_id))
            if hook:
                hook("embedded")
            stale = self._commit(lease, planned, removed)
        except BaseException:
            self._abandon(lease, new_chunks)
            raise
        self.retriever.invalidate()
        if hook:
            hook("committed")

        # 3. the old versions' vectors go (a crash here leaves dead vectors: repaired at start-up)
        self.vectors.delete(stale)
        self._mark_dirty(False)
        if hook:
            hook("cleaned")
        return per_source

    def _plan(
        self, doc: Document, source_name: str, old: DocumentInfo | None, stamp: datetime
    ) -> tuple[tuple[DocumentInfo, list[Chunk], bool] | None, DocResult]:
        """What indexing ``doc`` takes: nothing when it is unchanged, else its new version and
        chunks (a fresh revision id); and what the upload reports for it."""
        lang = (doc.lang or "").lower()[:2] or detect_language(
            f"{doc.title}\n{doc.text}", self.default_lang
        )[0]
        digest = content_hash(doc, lang, self.chunking)
        if (
            old is not None
            and old.content_hash == digest
            and old.status == "active"
            and old.source_name == source_name
        ):
            unchanged = DocResult(
                doc.doc_id, doc.title, "unchanged", old.version, old.chunk_count, old.lang
            )
            return None, unchanged
        version = (old.version + 1) if old else 1
        revision = f"v{version}-{secrets.token_hex(3)}"
        doc_chunks = chunk_document(
            doc, version=version, revision=revision, lang=lang, config=self.chunking
        )
        info = DocumentInfo(
            doc_id=doc.doc_id,
            title=doc.title,
            source_name=source_name,
            format=doc.format or "unknown",
            content_hash=digest,
            version=version,
            revision=revision,
            lang=lang,
            url=doc.url,
            chunk_count=len(doc_chunks),
            status="active",
            metadata=doc.metadata,
            created_at=old.created_at if old else stamp,
            updated_at=stamp,
        )
        status = "updated" if old else "added"
        result = DocResult(doc.doc_id, doc.title, status, version, len(doc_chunks), lang)
        return (info, doc_chunks, old is not None), result

    def _embed_into_index(
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
        self,
        lease: Lease,
        planned: Sequence[tuple[DocumentInfo, list[Chunk], bool]],
        removed: list[str],
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

    @property
    def needs_reconcile(self) -> bool:
        """True when vectors may disagree with the registry: an interrupted ingestion or deletion
        (a dead lease, the dirty flag), or vector and chunk counts that differ while no other
        process is ingesting."""
        leases = self.registry.leases()
        if any(not lease_is_live(lease) for lease in leases):
            return True
        if self.registry.get_meta("dirty", "0") == "1" and not leases:
            return True
        return not leases and self.vectors.count() != self.registry.counts()[1]

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
        self.retriever.invalidate()
        self.vectors.delete(stale)
        self._mark_dirty(False)
        # its pairs are gone: no draft is told of them, no kept statement of it is read
        self.conflicts.prune(self)
        return True

    # -- consistency -------------------------------------------------------------------
    def _survey(self) -> _Survey:
        """The registry and the vectors side by side; each lease's liveness read once."""
        leases = self.registry.leases()
        live = [lease for lease in leases if lease_is_live(lease)]
        in_flight = set().union(*(lease.revisions for lease in live))
        stored = self.vectors.all_ids()
        active = {c.chunk_id: c for c in self.registry.active_chunks()}
        unlisted = [(cid, lang) for cid, lang in stored.items() if cid not in active]
        return _Survey(
            leases=leases,
            dead=[lease for lease in leases if lease not in live],
            active=active,
            stored=stored,
            dead_vectors=[(c, lang) for c, lang in unlisted if revision_of(c) not in in_flight],
            in_flight_vectors=sum(1 for c, _ in unlisted if revision_of(c) in in_flight),
            missing=[c for cid, c in active.items() if cid not in stored],
        )

    def reconcile(self) -> ReconcileReport:
        """Delete dead vectors (unlisted, and not held by a live ingestion's lease), drop dead
        leases, and re-embed listed chunks that lack a vector."""
        survey = self._survey()
        if survey.dead_vectors:
            self.vectors.delete(survey.dead_vectors)
        self._embed_into_index(survey.missing)
        with self.registry.engine.begin() as conn:
            for lease in survey.dead:
                self.registry.close_lease(conn, lease.lease_id)
            if len(survey.dead) == len(survey.leases):
                self.registry.set_meta(conn, "dirty", "0")
        return ReconcileReport(
            len(survey.dead_vectors),
            len(survey.missing),
            survey.in_flight_vectors,
            len(survey.dead),
        )

    def check(self) -> ConsistencyReport:
        """What disagrees between the registry and the vectors, without changing anything."""
        survey = self._survey()
        return ConsistencyReport(
            chunks=len(survey.active),
            vectors=len(survey.stored),
            missing_vectors=len(survey.missing),
            dead_vectors=len(survey.dead_vectors),
            in_flight_vectors=survey.in_flight_vectors,
            live_leases=len(survey.leases) - len(survey.dead),
            dead_leases=len(survey.dead),
        )

    def reindex(self, hook: Hook | None = None) -> int:
        """Rebuild every vector with the configured embedder (after changing embedder)."""
        self.vectors.drop_all()
        chunks = self.registry.active_chunks()
        self._embed_into_index(
            chunks, (lambda done: hook(f"{done}/{len(chunks)}")) if hook else None
        )
        with self.registry.engine.begin() as conn:
            self.registry.set_meta(conn, "embedder", self.embedder.name)
            self.registry.bump_generation(conn)
        self.retriever.invalidate()
        return len(chunks)

    # -- reading -----------------------------------------------------------------------
    def warm(self, queries: Sequence[str]) -> None:
        """Embed many queries ahead of time, in batches (an eval run knows all its queries)."""
        self.retriever.warm(queries)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        lang: str | None = None,
        doc_ids: Sequence[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        """The best passages; a statement set aside by a conflict decision (the other
        document's figure was kept) is not in them."""
        hits = self.retriever.search(query, k=k, lang=lang, doc_ids=doc_ids, mode=mode)
        return self.conflicts.screen(hits)

    def dense_status(self) -> str | None:
        """Why searches run on keywords alone right now (the vector index failed), or None."""
        return self.retriever.dense_status()

    def query_stats(self, query: str, *, lang: str | None = None) -> dict[str, float]:
        return self.retriever.query_stats(query, lang=lang)

    def spelled(self, query: str, lang: str | None = None) -> str:
        return self.retriever.spelled(query, lang)

    def term_weights(self, query: str, lang: str) -> dict[str, float]:
        return self.retriever.term_weights(query, lang)

    def documents(self) -> list[DocumentInfo]:
        return self.registry.documents()

    def document(self, doc_id: str) -> DocumentInfo | None:
        return self.registry.document(doc_id)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.retriever.snapshot().chunks if c.doc_id == doc_id]

    def stats(self) -> dict[str, int]:
        n_docs, n_chunks = self.registry.counts()
        return {"documents": n_docs, "chunks": n_chunks, "vectors": self.vectors.count()}
