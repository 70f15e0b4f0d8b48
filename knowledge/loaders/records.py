"""The record family: a JSON list or a JSONL file of documents, one object each ("doc_id" and
"text"; optional title, url, lang, metadata). A record that is wrong refuses the whole file,
naming its line; a record whose text is only markup is left out with a note."""

from __future__ import annotations

import json
from typing import Any

from knowledge.errors import IngestError
from knowledge.loaders.cleaning import clean_text, strip_controls
from knowledge.loaders.reading import DOC_ID, LANG, Loaded, decode, listing, tick
from knowledge.types import Document


def _json_records(name: str, text: str) -> tuple[list[tuple[int, Any]], list[str]]:
    """(line number, record) of a JSON list or a JSONL file, and its lines that are not JSON
    (a JSON file that is not JSON at all is refused whole)."""
    records: list[tuple[int, Any]] = []
    problems: list[str] = []
    if name.lower().endswith(".json"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(
                name,
                f"is not valid JSON (line {exc.lineno}: {exc.msg}).",
                "Fix the JSON, or use JSONL (one document per line).",
            ) from exc
        if not isinstance(parsed, list):
            parsed = [parsed]
        records = [(i + 1, r) for i, r in enumerate(parsed)]
    else:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(f"line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})")
    return records, problems


def load_jsonl(name: str, data: bytes, encoding: str | None) -> list[Document]:
    records, problems = _json_records(name, decode(name, data, encoding))
    docs = Loaded()
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for lineno, rec in records:
        if not lineno % 256:
            tick(f"line {lineno:,}")
        doc_id, problem = _identified(lineno, rec)
        if problem is None and not clean_text(rec["text"]):
            skipped.append(f"line {lineno} (doc_id {doc_id}): its text is only markup, no words")
            continue
        problem = problem or _misfit(lineno, rec, doc_id, seen)
        if problem is not None:
            problems.append(problem)
            continue
        seen[doc_id] = lineno
        docs.append(_document(name, rec, doc_id))
    if problems:
        raise IngestError(
            name,
            f"has {len(problems)} invalid line(s): {listing(problems)}.",
            "Each line must be one JSON object with 'doc_id' and 'text' (optional: title, url, lang, metadata). Nothing from this file was indexed.",
        )
    docs.notes.extend(f"skipped {s}" for s in skipped)
    return docs


def _identified(lineno: int, rec: Any) -> tuple[str, str | None]:
    """A record's document id, and what keeps it from being a document (no object, no valid
    id, no text), or None."""
    if not isinstance(rec, dict):
        return "", f"line {lineno}: expected a JSON object"
    raw_id = rec.get("doc_id") or rec.get("id") or ""
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        return "", f"line {lineno}: 'doc_id' must be a string, not {type(raw_id).__name__}"
    doc_id = str(raw_id).strip()
    body = rec.get("text")
    if not doc_id:
        return doc_id, f"line {lineno}: missing 'doc_id'"
    if not DOC_ID.fullmatch(doc_id):
        return doc_id, f"line {lineno}: doc_id {doc_id[:60]!r} is not a valid id"
    if not isinstance(body, str) or not body.strip():
        return doc_id, f"line {lineno}: 'text' is missing or empty (doc_id {doc_id})"
    return doc_id, None


def _misfit(lineno: int, rec: dict[str, Any], doc_id: str, seen: dict[str, int]) -> str | None:
    """What is wrong with a record that has an id and a text: its language, or an id that an
    earlier line took (``seen``: id -> line)."""
    lang = rec.get("lang")
    if lang not in (None, "") and not (isinstance(lang, str) and LANG.fullmatch(lang)):
        return f"line {lineno}: lang {lang!r} is not a language code such as fr"
    if doc_id in seen:
        return f"line {lineno}: duplicate doc_id '{doc_id}' (first on line {seen[doc_id]})"
    return None


def _document(name: str, rec: dict[str, Any], doc_id: str) -> Document:
    lang = rec.get("lang")
    meta = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
    return Document(
        doc_id=doc_id,
        title=strip_controls(str(rec.get("title") or "")).strip() or doc_id,
        text=clean_text(rec["text"]),
        lang=(str(lang).lower()[:2] if lang else None),
        url=str(rec.get("url") or ""),
        source_name=name,
        format="jsonl",
        metadata=dict(meta or {}),
    )
