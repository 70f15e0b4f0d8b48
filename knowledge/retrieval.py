"""Hybrid retrieval: dense (Chroma) + BM25 (in the app), fused by reciprocal rank.

The :class:`HybridRetriever` reads an in-memory snapshot of the active chunks (texts for BM25
and snippets, ids to ignore stale vectors; see :mod:`knowledge.snapshot`), rebuilt when the
registry's generation changes, so several processes (app, CLI) can share one data directory.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.errors import IndexUnavailableError, SouffleurError
from knowledge.language import SUPPORTED, detect_language
from knowledge.registry import Registry
from knowledge.snapshot import Snapshot, Snapshots
from knowledge.text import content_terms, sentences
from knowledge.types import Chunk, Hit
from knowledge.vectors import VectorStore

log = logging.getLogger(__name__)
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


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 30  # taken from each signal before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
    snippet_chars: int = 240
    # How often another process's changes are looked for (this process's own are immediate).
    refresh_s: float = 0.5
    # After the vector index failed (a Chroma server restarting), hybrid search runs on the
    # keyword signals alone for this long before it tries the index again.
    dense_retry_s: float = 5.0


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
        self._snapshots = Snapshots(registry)
        self._sentence_terms: OrderedDict[str, list[tuple[str, frozenset[str]]]] = OrderedDict()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        # (until when the index is left alone, what failed): None while it answers
        self._dense_down: tuple[float, str] | None = None

    def dense_status(self) -> str | None:
        """Why hybrid search is running on keywords alone right now, or None."""
        down = self._dense_down
        return down[1] if down is not None and time.monotonic() < down[0] else None

    # -- snapshot (see knowledge.snapshot) ----------------------------------------------
    def snapshot(self) -> Snapshot:
        return self._snapshots.current(self.config.refresh_s)

    def invalidate(self) -> None:
        self._snapshots.invalidate()

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
        if mode == "dense" or (mode == "hybrid" and self.dense_status() is None):
            dense = self._dense(snap, query, n, lang, allowed, over_fetch=bool(doc_ids), mode=mode)
        qlangs = [lang] if lang else self._query_langs(query, snap)
        # the keyword signals read misspelt words as the knowledge base's closest ones (the
        # meaning search reads the customer's own words: it is tolerant of typos already)
        keywords = _spelled(snap, query, qlangs)
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "bm25"):
            lexical = snap.bm25.top(keywords, qlangs, n, allowed)

        titled: list[tuple[int, float]] = []
        if mode == "hybrid" and snap.titles is not None:
            titled = snap.titles.top(keywords, qlangs, n, allowed)

        q_terms = set(content_terms(keywords, lang or detect_language(query)[0]))
        return self._fused(snap, (dense, lexical, titled), k, q_terms)

    def _dense(
        self,
        snap: Snapshot,
        query: str,
        n: int,
        lang: str | None,
        allowed: np.ndarray | None,
        *,
        over_fetch: bool,
        mode: Mode,
    ) -> list[tuple[int, float]]:
        """The meaning search's ``n`` best rows. The vector index down (a Chroma server
        restarting): no rows, said once, tried again after a pause (a wrong set-up raises)."""
        qvec = self.query_vector(query)
        # Over-fetch a little: stale vectors of replaced versions are skipped until cleaned.
        fetch = n * 3 if over_fetch else n + 10
        try:
            found = self.vectors.query(qvec, fetch, [lang] if lang else None)
        except Exception as exc:
            # a wrong set-up (an index built with another embedder) is said, not hidden
            misconfigured = isinstance(exc, SouffleurError) and not isinstance(
                exc, IndexUnavailableError
            )
            if mode == "dense" or misconfigured:
                raise
            # the keyword signals still answer, and the index is tried again after a pause
            found = []
            reason = f"{type(exc).__name__}: {str(exc)[:120]}"
            self._dense_down = (time.monotonic() + self.config.dense_retry_s, reason)
            log.warning("vector search failed (%s): keyword search only for now", reason)
        else:
            self._dense_down = None
        dense: list[tuple[int, float]] = []
        for cid, sim in found:
            row = snap.row_of.get(cid)
            if row is not None and (allowed is None or allowed[row]):
                dense.append((row, sim))
                if len(dense) >= n:
                    break
        return dense

    def _fused(
        self,
        snap: Snapshot,
        rankings: tuple[list[tuple[int, float]], ...],
        k: int,
        q_terms: set[str],
    ) -> list[Hit]:
        """Reciprocal rank fusion of the meaning, keyword and title rankings: the ``k`` best
        rows as hits, each with its own scores and ranks and a snippet for the question."""
        dense, lexical, _ = rankings
        fused: dict[int, float] = {}
        for ranking in rankings:
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
                    snippet=make_snippet(
                        self._sentences_of(chunk), q_terms, self.config.snippet_chars
                    ),
                )
            )
        return hits

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, memoised (regenerate, the language probe and evals reuse it)."""
        vec = self._query_vectors.get(query)
        if vec is None:
            vec = self.embedder.embed([query], kind="query")[0]
            self._remember(query, vec)
        return vec

    def warm(self, queries: Sequence[str], batch: int = 64) -> None:
        """Embed many queries in batches ahead of time (an eval run knows all its queries)."""
        todo = list(dict.fromkeys(q for q in queries if q.strip() and q not in self._query_vectors))
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            for q, vec in zip(part, self.embedder.embed(part, kind="query"), strict=True):
                self._remember(q, vec)

    def forget_queries(self) -> None:
        """Empty the memos kept per query, its vector and its spelling (benchmarks measure
        queries never seen)."""
        self._query_vectors.clear()
        speller = self.snapshot().speller
        if speller is not None:
            speller.forget()

    def _remember(self, query: str, vec: np.ndarray) -> None:
        self._query_vectors[query] = vec
        if len(self._query_vectors) > 8192:
            self._query_vectors.popitem(last=False)

    def _sentences_of(self, chunk: Chunk) -> list[tuple[str, frozenset[str]]]:
        """A chunk's sentences with their stemmed terms (memoised: snippets are per query)."""
        cached = self._sentence_terms.get(chunk.chunk_id)
        if cached is None:
            cached = [(s, frozenset(content_terms(s, chunk.lang))) for s in sentences(chunk.text)]
            self._sentence_terms[chunk.chunk_id] = cached
            if len(self._sentence_terms) > 20000:
                self._sentence_terms.popitem(last=False)
        return cached

    def spelled(self, query: str, lang: str | None = None) -> str:
        """The query with the words no article uses read as the articles' closest words."""
        snap = self.snapshot()
        return _spelled(snap, query, [lang] if lang else self._query_langs(query, snap))

    def query_stats(self, query: str, *, lang: str | None = None) -> dict[str, float]:
        """How much of the query the knowledge base knows (see :meth:`BM25Index.query_stats`)."""
        snap = self.snapshot()
        langs = [lang] if lang else self._query_langs(query, snap)
        return snap.bm25.query_stats(query, langs)

    def term_weights(self, query: str, lang: str) -> dict[str, float]:
        """How specific each query term is in this knowledge base (IDF)."""
        return self.snapshot().bm25.term_weights(query, lang)

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


def _spelled(snap: Snapshot, query: str, langs: Sequence[str]) -> str:
    return snap.speller.correct(query, langs) if snap.speller else query


def make_snippet(
    sents: list[tuple[str, frozenset[str]]], q_terms: set[str], limit: int = 240
) -> str:
    """From the first sentence sharing the most terms with the query, about ``limit`` chars."""
    if not sents:
        return ""
    start = 0
    if q_terms:
        overlap, neg_index = max((len(q_terms & terms), -i) for i, (_, terms) in enumerate(sents))
        start = -neg_index if overlap > 0 else 0
    out = ""
    for sentence, _ in sents[start:]:
        out = f"{out} {sentence}".strip()
        if len(out) >= limit * 0.6:
            break
    return out if len(out) <= limit else out[: limit - 1].rsplit(" ", 1)[0] + "…"
