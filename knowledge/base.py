"""The knowledge base: ingestion (load -> chunk -> embed -> index -> register) and search.

Reading the files and planning the new versions happen here and in :mod:`knowledge.planning`;
writing them so that the registry (SQL) and the vectors (Chroma) stay consistent, and the
repair when they do not, in :mod:`knowledge.indexing` and :mod:`knowledge.consistency`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.chunking import ChunkingConfig
from knowledge.conflicts import ConflictBook
from knowledge.consistency import ConsistencyReport, ReconcileReport, check, needs_reconcile
from knowledge.embeddings import Embedder
from knowledge.errors import SouffleurError
from knowledge.indexing import Hook, IndexWriter
from knowledge.loaders import DEFAULT_BUDGET_S, DEFAULT_MAX_BYTES, Loaded, load_source
from knowledge.planning import Batch, DocResult, batch_ids, check_owners, plan_batch
from knowledge.registry import DocumentInfo, Registry
from knowledge.retrieval import HybridRetriever, Mode, RetrievalConfig
from knowledge.screening import instruction_sentences
from knowledge.types import Chunk, Document, Hit
from knowledge.vectors import VectorStore, mismatch_error


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
        self.writer = IndexWriter(registry, vectors, embedder, self.retriever.invalidate)
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
            result, docs = self._read_source(name, data, encoding)
            results.append(result)
            if docs is not None:
                batch.append((len(results) - 1, name, docs))
        if progress:
            progress(len(sources), len(sources), "indexing")
        if batch:
            self._index_files(batch, results, hook)
        return results

    def _read_source(
        self, name: str, data: bytes | OSError, encoding: str | None
    ) -> tuple[FileResult, Loaded | None]:
        """A file's documents, with notes on what it holds that drafts never quote; or its
        result with the error that keeps it out."""
        if isinstance(data, OSError):
            error = f"{data.filename or name}: cannot be read ({data.strerror}). Check the path."
            return FileResult(name, error=error), None
        try:
            docs = load_source(
                name,
                data,
                max_bytes=self.max_bytes,
                encoding=encoding,
                budget_s=self.parse_budget_s,
            )
        except SouffleurError as exc:
            return FileResult(name, error=str(exc)), None
        notes = list(docs.notes)
        for doc in docs:
            planted = instruction_sentences(doc.text)
            if planted:
                notes.append(
                    f"'{doc.doc_id}': {len(planted)} sentence(s) read as instructions to an "
                    f"assistant, never quoted in drafts (check them): «{planted[0][:120]}»"
                )
        return FileResult(name, notes=notes), docs

    def _index_files(
        self,
        batch: list[tuple[int, str, list[Document]]],
        results: list[FileResult],
        hook: Hook | None,
    ) -> None:
        """Index the files read (``index``: the file's place in ``results``) in one batch."""
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
        batch: Batch,
        *,
        replace_source: bool = True,
        hook: Hook | None = None,
    ) -> list[list[DocResult]]:
        """Index several sources' documents in one pass; all become visible in one commit."""
        all_ids = batch_ids(batch)
        with self.registry.engine.connect() as conn:
            existing = self.registry.documents_by_id(conn, all_ids)
            previous = (
                {name: self.registry.doc_ids_of_source(conn, name) for name, _ in batch}
                if replace_source
                else {}
            )
        check_owners(batch, existing)
        planned, removed, per_source = plan_batch(
            batch,
            existing,
            previous,
            all_ids,
            chunking=self.chunking,
            default_lang=self.default_lang,
        )
        if planned or removed:
            self.writer.write(planned, removed, hook)
        return per_source

    def delete(self, doc_id: str) -> bool:
        """Remove a document and all its chunks; False if it was not there."""
        if not self.writer.delete(doc_id):
            return False
        # its pairs are gone: no draft is told of them, no kept statement of it is read
        self.conflicts.prune(self)
        return True

    # -- consistency (see knowledge.indexing) ------------------------------------------
    @property
    def needs_reconcile(self) -> bool:
        """True when vectors may disagree with the registry: an interrupted ingestion or deletion
        (a dead lease, the dirty flag), or vector and chunk counts that differ while no other
        process is ingesting."""
        return needs_reconcile(self.registry, self.vectors)

    def reconcile(self) -> ReconcileReport:
        """Delete dead vectors (unlisted, and not held by a live ingestion's lease), drop dead
        leases, and re-embed listed chunks that lack a vector."""
        return self.writer.reconcile()

    def check(self) -> ConsistencyReport:
        """What disagrees between the registry and the vectors, without changing anything."""
        return check(self.registry, self.vectors)

    def reindex(self, hook: Hook | None = None) -> int:
        """Rebuild every vector with the configured embedder (after changing embedder)."""
        return self.writer.reindex(hook)

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
