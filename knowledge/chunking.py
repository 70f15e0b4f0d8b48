"""Split documents into chunks that follow their headings (langchain-text-splitters)."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge.text import Table, blocks
from knowledge.types import Chunk, Document

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]


@dataclass(frozen=True)
class ChunkingConfig:
    chunk_size: int = 900
    chunk_overlap: int = 120
    # Sections shorter than this are merged with the next one under the same parent heading.
    min_section: int = 200

    @property
    def fingerprint(self) -> str:
        # v2: a chunk that starts inside a table repeats the table's header
        return f"md-headers-v2/{self.chunk_size}/{self.chunk_overlap}/{self.min_section}"


def chunk_id(doc_id: str, revision: str, position: int) -> str:
    return f"{doc_id}::{revision}::{position}"


def chunk_document(
    doc: Document, *, version: int, revision: str, lang: str, config: ChunkingConfig | None = None
) -> list[Chunk]:
    """Chunks of one document version; ``revision`` makes chunk ids unique per ingestion."""
    cfg = config or ChunkingConfig()
    header_splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=cfg.chunk_size,
        chunk_overlap=cfg.chunk_overlap,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
    )
    sections: list[tuple[tuple[str, ...], str]] = []
    for part in header_splitter.split_text(doc.text):
        path = tuple(str(part.metadata[k]) for _, k in _HEADERS if k in part.metadata)
        if path and path[0].strip().casefold() == doc.title.strip().casefold():
            path = path[1:]
        body = part.page_content.strip()
        if not body:
            continue
        # Merge a short section into the previous one when it shares the parent heading.
        if sections and len(sections[-1][1]) < cfg.min_section and sections[-1][0][:1] == path[:1]:
            prev_path, prev_body = sections[-1]
            heading = (
                " > ".join(path[len(prev_path) :])
                if path[: len(prev_path)] == prev_path
                else " > ".join(path)
            )
            sections[-1] = (
                prev_path,
                f"{prev_body}\n\n{heading}\n{body}" if heading else f"{prev_body}\n\n{body}",
            )
            continue
        sections.append((path, body))
    chunks: list[Chunk] = []
    for path, body in sections:
        headers = _table_headers(body)
        for raw in splitter.split_text(body):
            piece = raw.strip()
            if not piece:
                continue
            piece = _with_table_header(piece, headers)
            pos = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, revision, pos),
                    doc_id=doc.doc_id,
                    version=version,
                    position=pos,
                    text=piece,
                    title=doc.title,
                    heading_path=path,
                    lang=lang,
                    url=doc.url,
                )
            )
    return chunks


def _table_headers(body: str) -> dict[str, str]:
    """Each Markdown table row of a section -> its table's header and rule lines."""
    out: dict[str, str] = {}
    for table in blocks(body):
        if isinstance(table, Table):
            for row in table.rows:
                out.setdefault(row, f"{table.header}\n{table.rule}")
    return out


def _with_table_header(piece: str, headers: dict[str, str]) -> str:
    """A chunk cut inside a table gets the table's header back, so its rows still say what
    their columns are ("Price: €39" rather than "| Geodis | €39 |")."""
    first = piece.split("\n", 1)[0].strip()
    head = headers.get(first)
    return f"{head}\n{piece}" if head else piece
