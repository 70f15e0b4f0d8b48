"""What every loader shares: the reading budget, decoding text, ids and titles from a file's
name, tables as Markdown, and the documents of one file with their notes."""

from __future__ import annotations

import codecs
import contextvars
import hashlib
import re
import time
from collections.abc import Iterable
from pathlib import Path

from knowledge.errors import IngestError
from knowledge.text import fold
from knowledge.types import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_BUDGET_S = 30.0  # reading time allowed per file
deadline: contextvars.ContextVar[tuple[str, float, float] | None] = contextvars.ContextVar(
    "souffleur_parse_deadline", default=None
)

MD_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.M)
# A document id: letters (any script), digits, '-', '_', '.', ':' or '/'; 1-1000 characters.
DOC_ID = re.compile(r"[^\W_][\w.:/-]{0,999}")
# A language: an ISO 639-1 code, optionally with a region ("fr", "en-GB", "fr_CA").
LANG = re.compile(r"[a-z]{2}(?:[-_][a-z]{2,4})?", re.I)


class OverBudget(IngestError):
    """The file took longer than its reading budget."""


def tick(where: str) -> None:
    """Refuse the file being read once its time budget is spent (the loaders call it in their
    loops over pages, paragraphs, records, rows and HTML nodes)."""
    current = deadline.get()
    if current is not None and time.monotonic() > current[1]:
        name, _, budget = current
        raise OverBudget(
            name,
            f"took more than {budget:g} s to read (stopped at {where}).",
            "Split it into smaller files, or export it again in a simpler format.",
        )


class Loaded(list[Document]):
    """The documents of one file, with notes on what was left out and why (a record with no
    words): shown with the file's result, never dropped in silence."""

    def __init__(self, docs: Iterable[Document] = ()) -> None:
        super().__init__(docs)
        self.notes: list[str] = []


_BOMS = (  # longest first: the UTF-32 LE BOM starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(name: str, data: bytes, encoding: str | None) -> str:
    bom = next((enc for mark, enc in _BOMS if data.startswith(mark)), None)
    wide = encoding and re.fullmatch(r"utf[-_]?(16|32)(-?[lb]e)?", encoding.lower())
    if bom and (not encoding or wide):
        encoding = bom  # the byte-order mark says it (an explicit utf-16/32 agrees)
    if wide or (bom and encoding == bom):
        try:
            return data.decode(encoding or "utf-8")
        except (LookupError, UnicodeDecodeError) as exc:
            raise IngestError(
                name, f"cannot be decoded as {encoding} ({exc}).", "Check the encoding."
            ) from exc
    head = data[:8192]
    if b"\x00" in head or _control_ratio(head) > 0.1:
        raise IngestError(
            name,
            "looks like binary data, not text.",
            "Was a PDF, Word or image file renamed? Upload the original file with its real extension.",
        )
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise IngestError(
                name, f"cannot be decoded as {encoding} ({exc}).", "Check the encoding."
            ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = data[exc.start : exc.start + 1].decode("cp1252", errors="replace")
        raise IngestError(
            name,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02X} at position {exc.start}, "
            f"'{guess}' in Windows-1252/Latin-1, common for French files).",
            "Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`), or ingest it with "
            "`souffleur ingest --encoding latin-1`.",
        ) from exc


def listing(problems: list[str], most: int = 10) -> str:
    more = f" (and {len(problems) - most} more)" if len(problems) > most else ""
    return "; ".join(problems[:most]) + more


def _control_ratio(chunk: bytes) -> float:
    if not chunk:
        return 0.0
    bad = sum(1 for b in chunk if b < 32 and b not in (9, 10, 12, 13))
    return bad / len(chunk)


def slug(name: str) -> str:
    """An id from a name: accents folded, letters of any script kept ('退货政策' stays itself,
    so two such names never meet on one id); a name with no letter or digit gets a hash."""
    s = re.sub(r"[\W_]+", "-", fold(name).lower()).strip("-")
    return s or "document-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def title_from_name(name: str) -> str:
    stem = Path(name).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else name


def doc_id_from_name(name: str) -> str:
    return slug(Path(name).stem)


def markdown_table(rows: list[list[str]]) -> str:
    """A table as Markdown, its first row as the header: drafts then read each row with its
    column names ("Colissimo — Price: €4.90")."""
    rows = [
        [" ".join(c.replace("|", "/").split()) for c in r]
        for r in rows
        if any(c.strip() for c in r)
    ]
    if not rows:
        return ""
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)
