"""The table family: a FAQ as a CSV file or an Excel workbook, one question and its answer per
row (an optional language column gives one document per language)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from knowledge.errors import IngestError
from knowledge.loaders.cleaning import clean_text
from knowledge.loaders.documents import entity_refusal, open_zip
from knowledge.loaders.reading import (
    OverBudget,
    decode,
    doc_id_from_name,
    listing,
    tick,
    title_from_name,
)
from knowledge.text import fold
from knowledge.types import Document

QUESTION_COLUMNS = ("question", "questions", "q", "intitule", "title", "titre")
ANSWER_COLUMNS = ("answer", "answers", "reponse", "reponses", "a", "response", "text", "texte")
LANG_COLUMNS = ("lang", "langue", "language")


def _faq_documents(
    name: str, header: list[str], rows: Iterable[tuple[int, list[Any]]], kind: str
) -> list[Document]:
    qi, ai, li = _faq_columns(name, header)
    by_lang = _entries_by_lang(name, rows, qi, ai, li)
    base, title = doc_id_from_name(name), title_from_name(name)
    multi = len(by_lang) > 1
    return [
        Document(
            doc_id=f"{base}-{lang}" if multi and lang else base,
            title=f"{title} ({lang})" if multi and lang else title,
            text="\n".join(entries),
            lang=lang,
            source_name=name,
            format=kind,
            metadata={"faq_entries": len(entries)},
        )
        for lang, entries in by_lang.items()
    ]


def _faq_columns(name: str, header: list[str]) -> tuple[int, int, int | None]:
    """The positions of the question, answer and (optional) language columns."""
    norm = [fold(str(h or "")).strip().replace(" ", "_") for h in header]

    def find(candidates: tuple[str, ...]) -> int | None:
        for c in candidates:
            if c in norm:
                return norm.index(c)
        return None

    qi, ai, li = find(QUESTION_COLUMNS), find(ANSWER_COLUMNS), find(LANG_COLUMNS)
    missing = [label for label, idx in (("question", qi), ("answer", ai)) if idx is None]
    if missing:
        found = ", ".join(str(h) for h in header if h) or "none"
        raise IngestError(
            name,
            f"has no {' and no '.join(missing)} column (found: {found}).",
            "A FAQ table needs a header row with 'question' and 'answer' (or 'réponse') columns; "
            "'lang' is optional.",
        )
    assert qi is not None and ai is not None
    return qi, ai, li


def _entries_by_lang(
    name: str, rows: Iterable[tuple[int, list[Any]]], qi: int, ai: int, li: int | None
) -> dict[str | None, list[str]]:
    """Each row's question and answer as a Markdown entry, grouped by language; a row with
    only one of the two refuses the file, naming the rows."""
    by_lang: dict[str | None, list[str]] = {}
    problems: list[str] = []
    for rownum, row in rows:
        if not rownum % 256:
            tick(f"row {rownum:,}")
        cells = [str(c).strip() if c is not None else "" for c in row]
        if not any(cells):
            continue
        q = cells[qi] if qi < len(cells) else ""
        a = cells[ai] if ai < len(cells) else ""
        if not q or not a:
            problems.append(f"row {rownum}: {'question' if not q else 'answer'} is empty")
            continue
        lang = cells[li][:2].lower() if li is not None and li < len(cells) and cells[li] else None
        by_lang.setdefault(lang, []).append(f"## {clean_text(q)}\n\n{clean_text(a)}\n")
    if problems:
        raise IngestError(
            name,
            f"has incomplete FAQ rows: {listing(problems)}.",
            "Fill in or delete those rows, then upload it again.",
        )
    if not by_lang:
        raise IngestError(
            name,
            "has a header row but no question and answer rows.",
            "Add one question and its answer per row under the header.",
        )
    return by_lang


def load_csv(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = decode(name, data, encoding)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise IngestError(
            name, f"is not valid CSV ({exc}).", "Check the quoting, or save it again as CSV UTF-8."
        ) from exc
    if not rows:
        raise IngestError(name, "is empty.", "Upload a CSV with a header row.")
    return _faq_documents(name, rows[0], ((i + 2, r) for i, r in enumerate(rows[1:])), "csv")


def load_xlsx(name: str, data: bytes, encoding: str | None) -> list[Document]:
    import openpyxl

    open_zip(name, data, ".xlsx")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on broken workbooks
        raise entity_refusal(name, exc) or IngestError(
            name,
            f"is not a readable Excel workbook ({exc.__class__.__name__}).",
            "Re-save it from Excel as .xlsx.",
        ) from exc
    try:
        last_error: IngestError | None = None
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            rows = [r for r in rows if any(c not in (None, "") for c in r)]
            if not rows:
                continue
            try:
                return _faq_documents(
                    name,
                    [str(c or "") for c in rows[0]],
                    ((i + 2, r) for i, r in enumerate(rows[1:])),
                    "xlsx",
                )
            except OverBudget:
                raise
            except IngestError as exc:
                last_error = exc
        raise last_error or IngestError(
            name, "has no rows.", "Upload a workbook with a question/answer table."
        )
    finally:
        wb.close()
