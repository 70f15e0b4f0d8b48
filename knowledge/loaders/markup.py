"""The markup family: Markdown (with its front matter), plain text and HTML."""

from __future__ import annotations

import re
from typing import Any

from knowledge.loaders.cleaning import clean_text
from knowledge.loaders.reading import (
    MD_HEADING,
    decode,
    doc_id_from_name,
    markdown_table,
    tick,
    title_from_name,
)
from knowledge.types import Document

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def load_markdown(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = decode(name, data, encoding)
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
        h = MD_HEADING.search(text)
        title = h.group(1).strip() if h else title_from_name(name)
    return [
        Document(
            doc_id=meta.pop("id", "") or doc_id_from_name(name),
            title=title,
            text=text,
            lang=meta.pop("lang", None) or None,
            url=meta.pop("url", ""),
            source_name=name,
            format="markdown",
            metadata=meta,
        )
    ]


def load_text(name: str, data: bytes, encoding: str | None) -> list[Document]:
    text = clean_text(decode(name, data, encoding))
    return [
        Document(
            doc_id_from_name(name), title_from_name(name), text, source_name=name, format="text"
        )
    ]


def load_html(name: str, data: bytes, encoding: str | None) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(name, data, encoding), "lxml")  # C parser: linear time
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    lang = None
    html_tag = soup.find("html")
    if html_tag is not None and html_tag.get("lang"):
        lang = str(html_tag.get("lang"))[:2].lower()
    text = clean_text(_render_html(soup))
    if not title:
        first = MD_HEADING.search(text)
        title = first.group(1).strip() if first else title_from_name(name)
    return [
        Document(doc_id_from_name(name), title, text, lang=lang, source_name=name, format="html")
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
            tick(f"HTML node {seen:,}")
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
