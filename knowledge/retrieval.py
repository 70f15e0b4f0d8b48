"""Hybrid retrieval: dense (Chroma) + BM25 (in the app), fused by reciprocal rank.

The :class:`Retriever` keeps an in-memory snapshot of the active chunks (texts for BM25 and
snippets, ids to ignore stale vectors) and rebuilds it when the registry's generation changes,
so several processes (app, CLI) can share one data directory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.language import SUPPORTED, detect_language
from knowledge.lexical import BM25Index
from knowledge.registry import Registry
from knowledge.text import content_terms, sentences
from knowledge.types import Chunk, Hit
from knowledge.vectors import VectorStore

Mode = Literal["hybrid", "dense", "bm25"]


class Retriever(Protocol):
    """The retrieval seam: a query in, ranked scored chunks out."""

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        lang: str | None = None,
        doc_ids: Sequence[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]: ...


@dataclass
class Snapshot:
    generation: int
    chunks: list[Chunk]
    row_of: dict[str, int]
    bm25: BM25Index
    lang_rows: dict[str, np.ndarray] = field(default_factory=dict)
    built_in_s: float = 0.0


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 30  # taken from each signal before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
    snippet_chars: int = 240


class HybridRetriever:
    def __init__(
        self,
        registry: Registry,
        vectors: VectorStore,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.registry = registry
        self.vectors = vectors
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    # -- snapshot ----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        gen = self.registry.generation()
        snap = self._snapshot
        if snap is not None and snap.generation == gen:
            return snap
        with self._lock:
            if self._snapshot is not None and self._snapshot.generation == gen:
                return self._snapshot
            t0 = time.perf_counter()
            chunks = self.registry.active_chunks()
            bm25 = BM25Index.build([c.context_text for c in chunks], [c.lang for c in chunks])
            langs = np.array([c.lang for c in chunks])
            snap = Snapshot(
                generation=gen,
                chunks=chunks,
                row_of={c.chunk_id: i for i, c in enumerate(chunks)},
                bm25=bm25,
                lang_rows={lang: langs == lang for lang in set(langs.tolist())},
            )
            snap.built_in_s = time.perf_counter() - t0
            self._snapshot = snap
            return snap

    def invalidate(self) -> None:
        self._snapshot = None

    # -- search ------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int = 5,
        lang: str | None = None,
        doc_ids: Sequence[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        snap = self.snapshot()
        if not snap.chunks or not query.strip():
            return []
        n = max(self.config.candidates, k)
        mask = self._mask(snap, lang, doc_ids)
        allowed = None if mask is None else mask

        dense: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed([query], kind="query")[0]
            # Over-fetch a little: stale vectors of replaced versions are skipped until cleaned.
            fetch = n * 3 if doc_ids else n + 10
            for cid, sim in self.vectors.query(qvec, fetch, [lang] if lang else None):
                row = snap.row_of.get(cid)
                if row is not None and (allowed is None or allowed[row]):
                    dense.append((row, sim))
                    if len(dense) >= n:
                        break
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "bm25"):
            qlangs = [lang] if lang else self._query_langs(query, snap)
            lexical = snap.bm25.top(query, qlangs, n, allowed)

        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self.config.rrf_k + rank)
        dense_pos = {row: (i + 1, s) for i, (row, s) in enumerate(dense)}
        lex_pos = {row: (i + 1, s) for i, (row, s) in enumerate(lexical)}
        order = sorted(
            fused,
            key=lambda r: (
                -fused[r],
                dense_pos.get(r, (10**9, 0))[0],
                lex_pos.get(r, (10**9, 0))[0],
            ),
        )
        hits = []
        q_terms = set(content_terms(query, lang or detect_language(query)[0]))
        for rank, row in enumerate(order[:k], start=1):
            chunk = snap.chunks[row]
            d = dense_pos.get(row)
            b = lex_pos.get(row)
            hits.append(
                Hit(
                    chunk=chunk,
                    score=fused[row],
                    rank=rank,
                    dense_score=d[1] if d else None,
                    dense_rank=d[0] if d else None,
                    bm25_score=b[1] if b else None,
                    bm25_rank=b[0] if b else None,
                    snippet=make_snippet(chunk, q_terms, self.config.snippet_chars),
                )
            )
        return hits

    @staticmethod
    def _query_langs(query: str, snap: Snapshot) -> list[str]:
        present = [lang for lang in snap.lang_rows if lang in SUPPORTED] or list(SUPPORTED)
        lang, confidence = detect_language(query)
        return [lang] if confidence >= 0.75 and lang in present else present

    @staticmethod
    def _mask(snap: Snapshot, lang: str | None, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        mask = None
        if lang is not None:
            mask = snap.lang_rows.get(lang, np.zeros(len(snap.chunks), dtype=bool)).copy()
        if doc_ids is not None:
            wanted = set(doc_ids)
            doc_mask = np.fromiter(
                (c.doc_id in wanted for c in snap.chunks), dtype=bool, count=len(snap.chunks)
            )
            mask = doc_mask if mask is None else (mask & doc_mask)
        return mask


def make_snippet(chunk: Chunk, q_terms: set[str], limit: int = 240) -> str:
    """The sentence(s) of the chunk that share the most terms with the query, cut to ``limit``."""
    sents = sentences(chunk.text)
    if not sents:
        return chunk.text[:limit]
    if q_terms:
        scored = [
            (len(q_terms & set(content_terms(s, chunk.lang))), -i, s) for i, s in enumerate(sents)
        ]
        best = max(scored)
        start = -best[1] if best[0] > 0 else 0
    else:
        start = 0
    out = ""
    for s in sents[start:]:
        out = f"{out} {s}".strip()
        if len(out) >= limit * 0.6:
            break
    return out if len(out) <= limit else out[: limit - 1].rsplit(" ", 1)[0] + "…"
