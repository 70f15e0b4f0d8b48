"""What an upload changes: each document's new version and its chunks (nothing when it is
unchanged), the documents its sources no longer hold, and the checks on the batch's ids."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from knowledge.chunking import ChunkingConfig, chunk_document
from knowledge.errors import IngestError
from knowledge.language import detect_language
from knowledge.registry import DocumentInfo, now
from knowledge.types import Chunk, Document

Batch = Sequence[tuple[str, Sequence[Document]]]
# a new version to write: its registry entry, its chunks, whether an older version existed
Plan = tuple[DocumentInfo, list[Chunk], bool]


@dataclass(frozen=True)
class DocResult:
    doc_id: str
    title: str
    status: str  # added | updated | unchanged | removed
    version: int
    chunks: int
    lang: str


def content_hash(doc: Document, lang: str, chunking: ChunkingConfig) -> str:
    h = hashlib.sha256()
    for part in (doc.title, doc.text, lang, doc.url, chunking.fingerprint):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def batch_ids(batch: Batch) -> list[str]:
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


def check_owners(batch: Batch, existing: dict[str, DocumentInfo]) -> None:
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


def plan_batch(
    batch: Batch,
    existing: dict[str, DocumentInfo],
    previous: dict[str, list[str]],
    all_ids: list[str],
    *,
    chunking: ChunkingConfig,
    default_lang: str,
) -> tuple[list[Plan], list[str], list[list[DocResult]]]:
    """The new versions to write, the documents to remove (``previous``: those each source
    held, when the batch replaces its sources), and what the upload reports, per source."""
    planned: list[Plan] = []
    per_source: list[list[DocResult]] = []
    removed: list[str] = []
    stamp = now()
    for source_name, docs in batch:
        results: list[DocResult] = []
        for doc in docs:
            plan, result = plan_document(
                doc,
                source_name,
                existing.get(doc.doc_id),
                stamp,
                chunking=chunking,
                default_lang=default_lang,
            )
            if plan is not None:
                planned.append(plan)
            results.append(result)
        gone = [d for d in previous.get(source_name, []) if d not in set(all_ids)]
        removed.extend(gone)
        results.extend(DocResult(d, d, "removed", 0, 0, "") for d in gone)
        per_source.append(results)
    return planned, removed, per_source


def plan_document(
    doc: Document,
    source_name: str,
    old: DocumentInfo | None,
    stamp: datetime,
    *,
    chunking: ChunkingConfig,
    default_lang: str,
) -> tuple[Plan | None, DocResult]:
    """What indexing ``doc`` takes: nothing when it is unchanged, else its new version and
    chunks (a fresh revision id); and what the upload reports for it."""
    lang = (doc.lang or "").lower()[:2] or detect_language(
        f"{doc.title}\n{doc.text}", default_lang
    )[0]
    digest = content_hash(doc, lang, chunking)
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
    doc_chunks = chunk_document(doc, version=version, revision=revision, lang=lang, config=chunking)
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
