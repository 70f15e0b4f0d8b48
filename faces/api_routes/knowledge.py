"""Knowledge routes: list, upload (with the conflicts an upload brings) and delete documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from faces.api_routes.auth import KnowledgeToken
from faces.api_routes.errors import ApiError
from faces.api_routes.services import ServicesDep
from knowledge.conflicts import check_upload

router = APIRouter(tags=["knowledge"])


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    lang: str
    chunks: int


class ConflictOut(BaseModel):
    """A statement of this file that another document contradicts (decide on the Knowledge
    page or with `souffleur conflicts resolve ID`)."""

    id: int
    document: str
    says: str
    sentence: str
    other_document: str
    other_says: str
    other_sentence: str
    status: str


class UploadOut(BaseModel):
    source: str
    ok: bool
    documents: list[str]
    chunks: int
    error: str | None
    notes: list[str]
    conflicts: list[ConflictOut] = Field(default_factory=list)


@router.get("/v1/knowledge")
def documents(_: KnowledgeToken, services: ServicesDep) -> list[DocumentOut]:
    return [
        DocumentOut(
            doc_id=d.doc_id,
            title=d.title,
            source=d.source_name,
            lang=d.lang,
            chunks=d.chunk_count,
        )
        for d in services.ws.kb.documents()
    ]


@router.post("/v1/knowledge")
def upload(
    files: Annotated[list[UploadFile], File()], _: KnowledgeToken, services: ServicesDep
) -> list[UploadOut]:
    """Index files (each replaces the previous version of the same name); a bad file is
    reported and the others are indexed."""
    kb = services.ws.kb
    sources = [(f.filename or "upload", f.file.read()) for f in files]
    results = kb.ingest_sources(sources)
    found = check_upload(kb, results).conflicts
    return [
        UploadOut(
            source=r.name,
            ok=r.ok,
            documents=[d.doc_id for d in r.docs],
            chunks=r.chunks,
            error=r.error,
            notes=r.notes,
            conflicts=[
                ConflictOut(
                    id=c.id,
                    document=c.new_doc,
                    says=c.new_value,
                    sentence=c.new_sentence,
                    other_document=c.old_doc,
                    other_says=c.old_value,
                    other_sentence=c.old_sentence,
                    status=c.status,
                )
                for c in found
                if {c.new_doc, c.old_doc} & {d.doc_id for d in r.docs}
            ],
        )
        for r in results
    ]


@router.delete("/v1/knowledge/{doc_id}")
def delete_document(doc_id: str, _: KnowledgeToken, services: ServicesDep) -> dict[str, str]:
    if not services.ws.kb.delete(doc_id):
        raise ApiError(
            404, "unknown_document", f"No document '{doc_id}'.", "GET /v1/knowledge lists them."
        )
    return {"deleted": doc_id}
