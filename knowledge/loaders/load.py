"""The one entry point: a file's name and bytes in, its documents out (or an
:class:`~knowledge.errors.IngestError` naming the file, the problem and the fix)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from knowledge.errors import IngestError
from knowledge.loaders.documents import entity_refusal, load_docx, load_pdf
from knowledge.loaders.faq import load_csv, load_xlsx
from knowledge.loaders.markup import load_html, load_markdown, load_text
from knowledge.loaders.reading import (
    DEFAULT_BUDGET_S,
    DEFAULT_MAX_BYTES,
    DOC_ID,
    LANG,
    Loaded,
    deadline,
)
from knowledge.loaders.records import load_jsonl
from knowledge.types import Document

_LOADERS: dict[str, Callable[[str, bytes, str | None], list[Document]]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_csv,
    ".xlsx": load_xlsx,
    ".jsonl": load_jsonl,
    ".json": load_jsonl,
}


def supported_extensions() -> tuple[str, ...]:
    return tuple(sorted(_LOADERS))


def load_path(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> list[Document]:
    """Read a file from disk (see :func:`load_source`)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise IngestError(p.name, f"cannot be read ({exc.strerror}).", "Check the path.") from exc
    _check_size(p.name, size, max_bytes)
    return load_source(p.name, p.read_bytes(), max_bytes=max_bytes, encoding=encoding)


def load_source(
    name: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
) -> Loaded:
    """Parse one knowledge file. ``encoding`` overrides UTF-8 for the text formats; a file that
    takes longer than ``budget_s`` to read is refused (an error for that file only)."""
    ext = Path(name).suffix.lower()
    loader = _LOADERS.get(ext)
    if loader is None:
        shown = ext or "no extension"
        raise IngestError(
            name,
            f"has {shown}, which Souffleur cannot read.",
            f"Upload one of: {', '.join(supported_extensions())}.",
        )
    _check_size(name, len(data), max_bytes)
    if not data.strip():
        raise IngestError(name, "is empty.", "Upload the file again, with its content.")
    token = deadline.set((name, time.monotonic() + budget_s, budget_s))
    try:
        docs = loader(name, data, encoding)
    except IngestError:
        raise
    except RecursionError as exc:
        raise IngestError(
            name, "is nested too deeply to be read.", "Flatten its structure and upload it again."
        ) from exc
    except Exception as exc:
        raise entity_refusal(name, exc) or IngestError(
            name,
            f"could not be parsed ({exc.__class__.__name__}: {str(exc)[:200]}).",
            "Check that it opens in its usual application, then export it again.",
        ) from exc
    finally:
        deadline.reset(token)
    for doc in docs:
        _check_document(name, doc)
    notes = list(getattr(docs, "notes", []))
    docs = Loaded(d for d in docs if d.text.strip())
    docs.notes.extend(notes)
    if not docs:
        raise IngestError(
            name,
            "contains no text to index.",
            "Check that it is the right file (a scanned PDF needs OCR first).",
        )
    return docs


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:  # MB as SOUFFLEUR_MAX_UPLOAD_MB counts them (2^20 bytes)
        raise IngestError(
            name,
            f"is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit.",
            "Split it into smaller files, or raise SOUFFLEUR_MAX_UPLOAD_MB.",
        )


def _check_document(name: str, doc: Document) -> None:
    if not DOC_ID.fullmatch(doc.doc_id):
        raise IngestError(
            name,
            f"gives the document id {doc.doc_id[:60]!r}, which is not a valid id.",
            "Use letters, digits, '-', '_' or '.' (e.g. id: returns-policy-fr), up to 1000 "
            "characters; check the front matter's syntax.",
        )
    if doc.lang is not None and not LANG.fullmatch(doc.lang):
        raise IngestError(
            name,
            f"gives the language {doc.lang[:20]!r} for '{doc.doc_id}', which is not a language code.",
            "Use a two-letter code such as fr or en, or leave lang out to detect it.",
        )
