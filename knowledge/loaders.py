"""Read knowledge files into :class:`~knowledge.types.Document` objects.

One entry point, :func:`load_source`, takes a file name and its bytes (an upload or a file on
disk) and returns the documents it holds, or raises :class:`~knowledge.errors.IngestError`
naming the file, the problem and the fix. Nothing here touches the index.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from knowledge.errors import IngestError
from knowledge.text import fold
from knowledge.types import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A DOCX/XLSX is a zip: refuse archives that inflate beyond this, or by more than this ratio.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100

_SCRIPT_OPEN = re.compile(r"<(script|style|noscript|template)\b", re.I)
_SCRIPT_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "noscript", "template")
}
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]{0,64}(?:\s[^<>]{0,4096})?/?>")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_MD_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.M)

QUESTION_COLUMNS = ("question", "questions", "q", "intitule", "title", "titre")
ANSWER_COLUMNS = ("answer", "answers", "reponse", "reponses", "a", "response", "text", "texte")
LANG_COLUMNS = ("lang", "langue", "language")


DEFAULT_BUDGET_S = 30.0  # reading time allowed per file
_deadline: contextvars.ContextVar[tuple[str, float, float] | None] = contextvars.ContextVar(
    "souffleur_parse_deadline", default=None
)


class OverBudget(IngestError):
    """The file took longer than its reading budget."""


def _tick(where: str) -> None:
    """Refuse the file being read once its time budget is spent (the loaders call it in their
    loops over pages, paragraphs, records, rows and HTML nodes)."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline[1]:
        name, _, budget = deadline
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
    token = _deadline.set((name, time.monotonic() + budget_s, budget_s))
    try:
        docs = loader(name, data, encoding)
    except IngestError:
        raise
    except RecursionError as exc:
        raise IngestError(
            name, "is nested too deeply to be read.", "Flatten its structure and upload it again."
        ) from exc
    except Exception as exc:
        raise _entity_refusal(name, exc) or IngestError(
            name,
            f"could not be parsed ({exc.__class__.__name__}: {str(exc)[:200]}).",
            "Check that it opens in its usual application, then export it again.",
        ) from exc
    finally:
        _deadline.reset(token)
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


# A document id: letters (any script), digits, '-', '_', '.', ':' or '/'; 1-1000 characters.
_DOC_ID = re.compile(r"[^\W_][\w.:/-]{0,999}")
# A language: an ISO 639-1 code, optionally with a region ("fr", "en-GB", "fr_CA").
_LANG = re.compile(r"[a-z]{2}(?:[-_][a-z]{2,4})?", re.I)


def _check_document(name: str, doc: Document) -> None:
    if not _DOC_ID.fullmatch(doc.doc_id):
        raise IngestError(
            name,
            f"gives the document id {doc.doc_id[:60]!r}, which is not a valid id.",
            "Use letters, digits, '-', '_' or '.' (e.g. id: returns-policy-fr), up to 1000 "
            "characters; check the front matter's syntax.",
        )
    if doc.lang is not None and not _LANG.fullmatch(doc.lang):
        raise IngestError(
            name,
            f"gives the language {doc.lang[:20]!r} for '{doc.doc_id}', which is not a language code.",
            "Use a two-letter code such as fr or en, or leave lang out to detect it.",
        )


# ---------------------------------------------------------------------------- text helpers


_BOMS = (  # longest first: the UTF-32 LE BOM starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(name: str, data: bytes, encoding: str | None) -> str:
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


def _listing(problems: list[str], most: int = 10) -> str:
    more = f" (and {len(problems) - most} more)" if len(problems) > most else ""
    return "; ".join(problems[:most]) + more


def _control_ratio(chunk: bytes) -> float:
    if not chunk:
        return 0.0
    bad = sum(1 for b in chunk if b < 32 and b not in (9, 10, 12, 13))
    return bad / len(chunk)


# C0 control characters other than tab, newline, form feed and carriage return (NUL among them:
# PostgreSQL refuses it in text, and none of them means anything in a help article).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_text(text: str) -> str:
    """Drop script/style blocks, stray markup tags and control characters; normalise blank
    lines. Linear in the text's length, whatever it holds (unclosed blocks, tag openers)."""
    text = _TAG.sub(" ", _drop_hidden(_drop_script_blocks(strip_controls(text))))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_HIDDEN_OPEN = re.compile(
    r"<([A-Za-z][A-Za-z0-9]{0,15})\b[^<>]{0,4096}?(?:display\s*:\s*none|visibility\s*:\s*hidden"
    r"|aria-hidden\s*=\s*[\"']?true|\shidden(?=[\s/>=])|class\s*=\s*[\"'][^\"'<>]*\b(?:hidden|sr-only|d-none)\b)"
    r"[^<>]{0,4096}>",
    re.I,
)


def _drop_hidden(text: str) -> str:
    """Inline HTML that a reader never sees (in Markdown, text or a JSONL record) removed with
    its content, as the HTML loader does; an unclosed element runs to the end."""
    return _drop_elements(
        text, _HIDDEN_OPEN, lambda m: re.compile(rf"</{re.escape(m.group(1))}\s*>", re.I), ""
    )


def _drop_script_blocks(text: str) -> str:
    """``<script>…</script>`` (and style, noscript, template) removed; a block never closed runs
    to the end."""
    return _drop_elements(text, _SCRIPT_OPEN, lambda m: _SCRIPT_CLOSE[m.group(1).lower()], " ")


def _drop_elements(
    text: str,
    opener: re.Pattern[str],
    closer_of: Callable[[re.Match[str]], re.Pattern[str]],
    gap: str,
) -> str:
    """``text`` without each element ``opener`` finds, up to its closer (to the end when it has
    none), ``gap`` in its place. One scan: each search starts where the previous one stopped."""
    out: list[str] = []
    pos = 0
    while (m := opener.search(text, pos)) is not None:
        out.append(text[pos : m.start()])
        out.append(gap)
        close = closer_of(m).search(text, m.end())
        if close is None:
            return "".join(out)
        pos = close.end()
    out.append(text[pos:])
    return "".join(out)


def slug(name: str) -> str:
    """An id from a name: accents folded, letters of any script kept ('退货政策' stays itself,
    so two such names never meet on one id); a name with no letter or digit gets a hash."""
    s = re.sub(r"[\W_]+", "-", fold(name).lower()).strip("-")
    return s or "document-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def _title_from_name(name: str) -> str:
    stem = Path(name).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else name


def _doc_id_from_name(name: str) -> str:
    return slug(Path(name).stem)


# ---------------------------------------------------------------------------- formats


def _load_markdown(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = _decode(name, data, encoding)
    meta: dict[str, str] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip().lower()] = value.strip().strip("'\"")
        text = text[m.end() :]
    text = clean_text(text)
    title = meta.pop("title", "")
    if not title:
        h = _MD_HEADING.search(text)
        title = h.group(1).strip() if h else _title_from_name(name)
    return [
        Document(
            doc_id=meta.pop("id", "") or _doc_id_from_name(name),
            title=title,
            text=text,
            lang=meta.pop("lang", None) or None,
            url=meta.pop("url", ""),
            source_name=name,
            format="markdown",
            metadata=meta,
        )
    ]


def _load_text(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = clean_text(_decode(name, data, encoding))
    return [
        Document(
            _doc_id_from_name(name), _title_from_name(name), text, source_name=name, format="text"
        )
    ]


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


def _load_html(name: str, data: bytes, encoding: str | None) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(name, data, encoding), "lxml")  # C parser: linear time
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    lang = None
    html_tag = soup.find("html")
    if html_tag is not None and html_tag.get("lang"):
        lang = str(html_tag.get("lang"))[:2].lower()
    text = clean_text(_render_html(soup))
    if not title:
        first = _MD_HEADING.search(text)
        title = first.group(1).strip() if first else _title_from_name(name)
    return [
        Document(_doc_id_from_name(name), title, text, lang=lang, source_name=name, format="html")
    ]


# Elements whose content is never article text, and blocks that end a paragraph.
_HTML_SKIP = frozenset(
    [
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "form",
        "button",
        "select",
    ]
)
_HTML_BLOCKS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "blockquote",
        "pre",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "address",
        "hr",
    ]
)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|"
    r"opacity\s*:\s*0(?![.\d]*[1-9])|(?<![\w-])(width|height)\s*:\s*0(px)?\s*(;|$)",
    re.I,
)


def _hidden(tag: Any) -> bool:
    """Text a reader of the page never sees: skipped, so it can neither answer nor instruct."""
    if tag.name in _HTML_SKIP or tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    classes = {str(c).lower() for c in (tag.get("class") or [])}
    if classes & {"hidden", "sr-only", "visually-hidden", "d-none"}:
        return True
    return bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


class _Literal(str):
    """Text the renderer emits itself (a separator), not text of the page."""


def _render_html(root: Any, *, inline: bool = False) -> str:
    """The visible text of ``root`` as Markdown-ish text: headings as ``#``, list items as
    ``-``, tables as Markdown tables, blocks separated by blank lines. One iterative walk (no
    recursion, no tree edits), so time is linear and depth unbounded. ``inline`` renders a
    heading, item or cell's content on one line (nested structure read as plain text)."""
    from bs4.element import NavigableString, Tag

    out: list[str] = []
    stack: list[Any] = [root]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if not seen % 512:
            _tick(f"HTML node {seen:,}")
        if isinstance(node, _Literal):
            out.append(node)
            continue
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a comment, doctype or CDATA
                out.append(str(node))
            continue
        if not isinstance(node, Tag) or (node is not root and _hidden(node)):
            continue
        name = node.name
        if not inline and node is not root:
            if re.fullmatch(r"h[1-6]", name):
                out.append(f"\n\n{'#' * int(name[1])} {_render_html(node, inline=True)}\n\n")
                continue
            if name == "li":
                out.append(f"\n- {_render_html(node, inline=True)}\n")
                continue
            if name == "table":
                rows = [[_render_html(c, inline=True) for c in cells] for cells in _rows(node)]
                out.append(f"\n\n{markdown_table(rows)}\n\n")
                continue
        if name == "br":
            out.append(" " if inline else "\n")
            continue
        sep = _Literal(" " if inline else "\n\n") if name in _HTML_BLOCKS else None
        if sep:
            stack.append(sep)
        stack.extend(reversed(node.contents))
        if sep:
            stack.append(sep)
    text = "".join(out)
    return " ".join(text.split()) if inline else text


def _rows(table: Any) -> list[list[Any]]:
    """The cells of each row of ``table`` (a nested table stays inside its cell)."""
    from bs4.element import Tag

    rows: list[list[Any]] = []
    stack: list[Any] = list(reversed(table.contents))
    while stack:
        node = stack.pop()
        if not isinstance(node, Tag) or node.name == "table" or _hidden(node):
            continue
        if node.name == "tr":
            rows.append([c for c in node.find_all(["td", "th"], recursive=False) if not _hidden(c)])
            continue
        stack.extend(reversed(node.contents))
    return rows


def _load_pdf(name: str, data: bytes, encoding: str | None) -> list[Document]:
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
            _tick(f"page {number}")
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
    title = str(info_title).strip() or text.splitlines()[0].strip()[:120] or _title_from_name(name)
    return [
        Document(
            _doc_id_from_name(name),
            title,
            text,
            source_name=name,
            format="pdf",
            metadata={"pages": len(pages)},
        )
    ]


def _open_zip(name: str, data: bytes, kind: str) -> zipfile.ZipFile:
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


def _load_docx(name: str, data: bytes, encoding: str | None) -> list[Document]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _open_zip(name, data, ".docx")
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
            _tick(f"paragraph {number:,}")
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
        h = _MD_HEADING.search(text)
        title = h.group(1).strip() if h else _title_from_name(name)
    return [Document(_doc_id_from_name(name), title, text, source_name=name, format="docx")]


def _faq_documents(
    name: str, header: list[str], rows: Iterable[tuple[int, list[Any]]], kind: str
) -> list[Document]:
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
    by_lang: dict[str | None, list[str]] = {}
    problems: list[str] = []
    for rownum, row in rows:
        if not rownum % 256:
            _tick(f"row {rownum:,}")
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
            f"has incomplete FAQ rows: {_listing(problems)}.",
            "Fill in or delete those rows, then upload it again.",
        )
    if not by_lang:
        raise IngestError(
            name,
            "has a header row but no question and answer rows.",
            "Add one question and its answer per row under the header.",
        )
    base, title = _doc_id_from_name(name), _title_from_name(name)
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


def _load_csv(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = _decode(name, data, encoding)
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


def _entity_refusal(name: str, exc: BaseException) -> IngestError | None:
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


def _load_xlsx(name: str, data: bytes, encoding: str | None) -> list[Document]:
    import openpyxl

    _open_zip(name, data, ".xlsx")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on broken workbooks
        raise _entity_refusal(name, exc) or IngestError(
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


def _load_jsonl(name: str, data: bytes, encoding: str | None) -> list[Document]:
    records, problems = _json_records(name, _decode(name, data, encoding))
    docs = Loaded()
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for lineno, rec in records:
        if not lineno % 256:
            _tick(f"line {lineno:,}")
        if not isinstance(rec, dict):
            problems.append(f"line {lineno}: expected a JSON object")
            continue
        raw_id = rec.get("doc_id") or rec.get("id") or ""
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
            problems.append(
                f"line {lineno}: 'doc_id' must be a string, not {type(raw_id).__name__}"
            )
            continue
        doc_id = str(raw_id).strip()
        body = rec.get("text")
        if not doc_id:
            problems.append(f"line {lineno}: missing 'doc_id'")
            continue
        if not _DOC_ID.fullmatch(doc_id):
            problems.append(f"line {lineno}: doc_id {doc_id[:60]!r} is not a valid id")
            continue
        if not isinstance(body, str) or not body.strip():
            problems.append(f"line {lineno}: 'text' is missing or empty (doc_id {doc_id})")
            continue
        if not clean_text(body):
            skipped.append(f"line {lineno} (doc_id {doc_id}): its text is only markup, no words")
            continue
        lang = rec.get("lang")
        if lang not in (None, "") and not (isinstance(lang, str) and _LANG.fullmatch(lang)):
            problems.append(f"line {lineno}: lang {lang!r} is not a language code such as fr")
            continue
        if doc_id in seen:
            problems.append(
                f"line {lineno}: duplicate doc_id '{doc_id}' (first on line {seen[doc_id]})"
            )
            continue
        seen[doc_id] = lineno
        meta = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
        docs.append(
            Document(
                doc_id=doc_id,
                title=strip_controls(str(rec.get("title") or "")).strip() or doc_id,
                text=clean_text(body),
                lang=(str(lang).lower()[:2] if lang else None),
                url=str(rec.get("url") or ""),
                source_name=name,
                format="jsonl",
                metadata=dict(meta or {}),
            )
        )
    if problems:
        raise IngestError(
            name,
            f"has {len(problems)} invalid line(s): {_listing(problems)}.",
            "Each line must be one JSON object with 'doc_id' and 'text' (optional: title, url, lang, metadata). Nothing from this file was indexed.",
        )
    docs.notes.extend(f"skipped {s}" for s in skipped)
    return docs


_LOADERS: dict[str, Callable[[str, bytes, str | None], list[Document]]] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv,
    ".xlsx": _load_xlsx,
    ".jsonl": _load_jsonl,
    ".json": _load_jsonl,
}
