"""The knowledge base: ingestion (load -> chunk -> embed -> index -> register) and search.

Consistency between the registry (SQL) and the vectors (Chroma), which cannot share a
transaction:

1. vectors of the new versions are written first, under fresh chunk ids (invisible: the
   registry does not list them yet);
2. one SQL transaction switches the registry to the new versions (the commit point);
3. vectors of the old versions are deleted.

A crash before 2 leaves the old version visible plus unused vectors; a crash after 2 leaves
the new version visible plus stale vectors. Searches only return chunks the registry lists,
and :meth:`KnowledgeBase.reconcile` (run at start-up) deletes unlisted vectors and re-embeds
listed chunks whose vectors are missing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from knowledge.chunking import ChunkingConfig, chunk_document
from knowledge.embeddings import Embedder
from knowledge.errors import IngestError, SouffleurError
from knowledge.language import detect_language
from knowledge.loaders import DEFAULT_MAX_BYTES, load_source
from knowledge.registry import DocumentInfo, Registry, documents, now
from knowledge.retrieval import HybridRetriever, Mode, RetrievalConfig
from knowledge.types import Chunk, Document, Hit
from knowledge.vectors import VectorStore, mismatch_error

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


class ConcurrentUpdateError(SouffleurError):
    pass


def content_hash(doc: Document, lang: str, chunking: ChunkingConfig) -> str:
    h = hashlib.sha256()
    for part in (doc.title, doc.text, lang, doc.url, chunking.fingerprint):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


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
        default_lang: str = "en",
        check_embedder: bool = True,
    ) -> None:
        self.registry = registry
        self.vectors = vectors
        self.embedder = embedder
        self.chunking = chunking or ChunkingConfig()
        self.max_bytes = max_bytes
        self.default_lang = default_lang
        self.retriever = HybridRetriever(registry, vectors, embedder, retrieval)
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
        try:
            docs = load_source(name, data, max_bytes=self.max_bytes, encoding=encoding)
            return FileResult(
                name, self.ingest_documents(docs, source_name=name, replace_source=True, hook=hook)
            )
        except SouffleurError as exc:
            return FileResult(name, error=str(exc))

    def ingest_paths(
        self,
        paths: Iterable[str | Path | tuple[str, str | Path]],
        *,
        encoding: str | None = None,
        hook: Hook | None = None,
    ) -> list[FileResult]:
        """Ingest files one by one; a bad file is reported and the batch goes on.

        An item is a path (its file name is the source name) or ``(source name, path)``.
        """
        results = []
        for item in paths:
            name, path = (
                (item[0], Path(item[1]))
                if isinstance(item, tuple)
                else (Path(item).name, Path(item))
            )
            try:
                data = path.read_bytes()
            except OSError as exc:
                results.append(
                    FileResult(
                        name, error=f"{path}: cannot be read ({exc.strerror}). Check the path."
                    )
                )
                continue
            results.append(self.ingest_file(name, data, encoding=encoding, hook=hook))
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
        ids = [d.doc_id for d in docs]
        dupes = {i for i in ids if ids.count(i) > 1} if len(set(ids)) != len(ids) else set()
        if dupes:
            raise IngestError(
                source_name,
                f"defines the same document id twice: {', '.join(sorted(dupes))}.",
                "Give each document a unique id.",
            )
        with self.registry.engine.connect() as conn:
            existing = self.registry.documents_by_id(conn, ids)
            previous_of_source = (
                self.registry.doc_ids_of_source(conn, source_name) if replace_source else []
            )
        planned: list[tuple[DocumentInfo, list[Chunk], bool]] = []
        results: list[DocResult] = []
        stamp = now()
        for doc in docs:
            lang = (doc.lang or "").lower()[:2] or detect_language(
                f"{doc.title}\n{doc.text}", self.default_lang
            )[0]
            digest = content_hash(doc, lang, self.chunking)
            old = existing.get(doc.doc_id)
            if old is not None and old.content_hash == digest and old.status == "active":
                results.append(
                    DocResult(
                        doc.doc_id, doc.title, "unchanged", old.version, old.chunk_count, old.lang
                    )
                )
                continue
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
            planned.append((info, doc_chunks, old is not None))
            results.append(
                DocResult(
                    doc.doc_id,
                    doc.title,
                    "updated" if old else "added",
                    version,
                    len(doc_chunks),
                    lang,
                )
            )
        removed = [d for d in previous_of_source if d not in set(ids)]
        if not planned and not removed:
            return results

        # 1. vectors first, under fresh ids (flagged so a crash is repaired at the next start)
        self._mark_dirty(True)
        new_chunks = [c for _, cs, _ in planned for c in cs]
        if new_chunks:
            vecs = self.embedder.embed([c.context_text for c in new_chunks], kind="passage")
            self.vectors.add([c.chunk_id for c in new_chunks], vecs, [c.lang for c in new_chunks])
        if hook:
            hook("embedded")

        # 2. the commit point
        with self.registry.engine.begin() as conn:
            current = self.registry.documents_by_id(conn, [i.doc_id for i, _, _ in planned])
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
        self.retriever.invalidate()
        if hook:
            hook("committed")
        results.extend(DocResult(d, d, "removed", 0, 0, "") for d in removed)

        # 3. clean up the old versions' vectors
        self.vectors.delete(stale)
        self._mark_dirty(False)
        if hook:
            hook("cleaned")
        return results

    def _mark_dirty(self, dirty: bool) -> None:
        with self.registry.engine.begin() as conn:
            self.registry.set_meta(conn, "dirty", "1" if dirty else "0")

    @property
    def needs_reconcile(self) -> bool:
        """True when an ingestion was interrupted (vectors may disagree with the registry)."""
        return self.registry.get_meta("dirty", "0") == "1"

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
        return True

    # -- consistency -------------------------------------------------------------------
    def reconcile(self) -> ReconcileReport:
        """Delete vectors the registry does not list; re-embed listed chunks that lack one."""
        stored = self.vectors.all_ids()
        active = {c.chunk_id: c for c in self.registry.active_chunks()}
        orphans = [(cid, lang) for cid, lang in stored.items() if cid not in active]
        missing = [c for cid, c in active.items() if cid not in stored]
        if orphans:
            self.vectors.delete(orphans)
        if missing:
            vecs = self.embedder.embed([c.context_text for c in missing], kind="passage")
            self.vectors.add([c.chunk_id for c in missing], vecs, [c.lang for c in missing])
        self._mark_dirty(False)
        return ReconcileReport(len(orphans), len(missing))

    def reindex(self, hook: Hook | None = None) -> int:
        """Rebuild every vector with the configured embedder (after changing embedder)."""
        self.vectors.drop_all()
        chunks = self.registry.active_chunks()
        for start in range(0, len(chunks), 512):
            part = chunks[start : start + 512]
            vecs = self.embedder.embed([c.context_text for c in part], kind="passage")
            self.vectors.add([c.chunk_id for c in part], vecs, [c.lang for c in part])
            if hook:
                hook(f"{min(start + 512, len(chunks))}/{len(chunks)}")
        with self.registry.engine.begin() as conn:
            self.registry.set_meta(conn, "embedder", self.embedder.name)
            self.registry.bump_generation(conn)
        self.retriever.invalidate()
        return len(chunks)

    # -- reading -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int = 5,
        lang: str | None = None,
        doc_ids: Sequence[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        return self.retriever.search(query, k=k, lang=lang, doc_ids=doc_ids, mode=mode)

    def documents(self) -> list[DocumentInfo]:
        return self.registry.documents()

    def document(self, doc_id: str) -> DocumentInfo | None:
        return self.registry.document(doc_id)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.retriever.snapshot().chunks if c.doc_id == doc_id]

    def stats(self) -> dict[str, int]:
        n_docs, n_chunks = self.registry.counts()
        return {"documents": n_docs, "chunks": n_chunks, "vectors": self.vectors.count()}
