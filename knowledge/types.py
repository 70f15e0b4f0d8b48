"""Plain value types of the knowledge layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Document:
    """One knowledge document as read from a source file, before chunking.

    ``text`` is Markdown-ish: headings as ``#`` lines, so chunking can follow the structure
    whatever the original format was.
    """

    doc_id: str
    title: str
    text: str
    lang: str | None = None
    url: str = ""
    source_name: str = ""
    format: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable piece of a document version."""

    chunk_id: str
    doc_id: str
    version: int
    position: int
    text: str
    title: str
    heading_path: tuple[str, ...]
    lang: str
    url: str = ""

    @property
    def context_text(self) -> str:
        """What the embedder and BM25 see: title and headings give the chunk its context."""
        head = " > ".join(h for h in (self.title, *self.heading_path) if h)
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True, slots=True)
class Hit:
    """A scored chunk returned by retrieval, with the score of each signal."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None
    snippet: str = ""

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def title(self) -> str:
        return self.chunk.title
