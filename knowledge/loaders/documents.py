"""The document family: PDF and Word (.docx); with the guard on Office archives (zip bombs,
XML entities) that the Excel loader shares."""

from __future__ import annotations

import io
import re
import zipfile

from knowledge.errors import IngestError
from knowledge.loaders.cleaning import clean_text
from knowledge.loaders.reading import (
    MD_HEADING,
    doc_id_from_name,
    markdown_table,
    tick,
    title_from_name,
)
from knowledge.types import Document

# A DOCX/XLSX is a zip: refuse archives that inflate beyond this, or by more than this ratio.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100


def load_pdf(name: str, data: bytes, encoding: str | None) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(name, "is not a PDF (no %PDF header).", "Upload the original PDF file.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(
                name,
                "is password-protected.",
                "Remove the password (e.g. print it to a new PDF) and upload it again.",
            )
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            tick(f"page {number}")
            pages.append(page.extract_text() or "")
        info_title = (reader.metadata.title if reader.metadata else None) or ""
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise IngestError(
            name,
            f"is a damaged PDF ({exc.__class__.__name__}: {exc}).",
            "Re-export it from the original document.",
        ) from exc
    except Exception as exc:  # pypdf raises a wide range of errors on broken files
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise IngestError(
                name,
                "is encrypted and cannot be opened.",
                "Remove the password and upload it again.",
            ) from exc
        raise IngestError(
            name,
            f"is a damaged PDF ({exc.__class__.__name__}: {exc}).",
            "Re-export it from the original document.",
        ) from exc
    text = clean_text("\n\n".join(pages))
    if not text:
        raise IngestError(
            name,
            "has no extractable text (a scanned PDF?).",
            "Run OCR on it first, or upload the source document.",
        )
    title = str(info_title).strip() or text.splitlines()[0].strip()[:120] or title_from_name(name)
    return [
        Document(
            doc_id_from_name(name),
            title,
            text,
            source_name=name,
            format="pdf",
            metadata={"pages": len(pages)},
        )
    ]


def open_zip(name: str, data: bytes, kind: str) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(
            name,
            f"is not a valid {kind} file (not a zip archive).",
            f"Re-save it from the original application as {kind}.",
        )
    zf = zipfile.ZipFile(io.BytesIO(data))
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNZIPPED_BYTES or (
            info.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO
        ):
            raise IngestError(
                name,
                f"expands to more than {MAX_UNZIPPED_BYTES // 1_000_000} MB or compresses {ratio:.0f}:1 (a zip bomb?).",
                "Upload the document as saved by Word/Excel; if it is genuine, split it.",
            )
    return zf


def load_docx(name: str, data: bytes, encoding: str | None) -> list[Document]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    open_zip(name, data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise IngestError(
            name, f"is not a readable Word document ({exc}).", "Re-save it from Word as .docx."
        ) from exc
    lines: list[str] = []
    title = (document.core_properties.title or "").strip()
    for number, para in enumerate(document.paragraphs, start=1):
        if not number % 256:
            tick(f"paragraph {number:,}")
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style == "Title":
            title = title or text
            continue
        m = re.match(r"Heading (\d)", style)
        lines.append(f"\n{'#' * int(m.group(1))} {text}\n" if m else text)
    for table in document.tables:
        lines.append(markdown_table([[c.text for c in row.cells] for row in table.rows]))
    text = clean_text("\n".join(lines))
    if not title:
        h = MD_HEADING.search(text)
        title = h.group(1).strip() if h else title_from_name(name)
    return [Document(doc_id_from_name(name), title, text, source_name=name, format="docx")]


def entity_refusal(name: str, exc: BaseException) -> IngestError | None:
    """The error for XML that declares entities, found by defusedxml (which openpyxl uses when
    it is installed) anywhere in the chain of ``exc``; None for any other failure."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return IngestError(
                name,
                "declares XML entities (a DTD), which are refused: they can expand to gigabytes "
                "or read files of the server.",
                "Export it again from its usual application; genuine Office files declare none.",
            )
        seen = seen.__cause__ or seen.__context__
    return None
