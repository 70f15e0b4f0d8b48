"""The in-memory snapshot of the active chunks that search reads: their texts (BM25 and
snippets), their ids (stale vectors are ignored), the title index and the speller. It is
rebuilt when the registry's generation changes, re-reading only the chunks added since."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.lexical import BM25Index, Counts, count_terms
from knowledge.registry import Registry
from knowledge.spelling import Speller, word_counts
from knowledge.text import content_terms, terms_of_words, words
from knowledge.types import Chunk


@dataclass
class Snapshot:
    generation: int
    chunks: list[Chunk]
    row_of: dict[str, int]
    bm25: BM25Index
    lang_rows: dict[str, np.ndarray] = field(default_factory=dict)
    titles: BM25Index | None = None  # None when titles do not tell documents apart
    speller: Speller | None = None
    built_in_s: float = 0.0


@dataclass(frozen=True)
class _Entry:
    """What the keyword signals keep of one chunk between snapshots."""

    chunk: Chunk
    body: Counts  # its terms in the BM25 vocabulary
    title: Counts  # its title and headings' terms in the title vocabulary


class Snapshots:
    """The current snapshot, shared by the searches of one retriever."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        # Kept across snapshots, so a change re-reads and re-tokenises only the chunks it
        # added (a removed chunk's words are subtracted): the chunks' terms, the vocabularies
        # of the two keyword indexes, and each language's word counts for the speller.
        self._entries: dict[str, _Entry] = {}
        self._vocab: dict[str, int] = {}
        self._title_vocab: dict[str, int] = {}
        self._words: dict[str, Counter[str]] = {}

    def current(self, refresh_s: float) -> Snapshot:
        """The snapshot of the registry's current generation (looked up at most every
        ``refresh_s`` seconds: this process's own changes invalidate it at once)."""
        snap = self._snapshot
        if snap is not None and time.monotonic() - self._checked_at < refresh_s:
            return snap
        gen = self.registry.generation()
        self._checked_at = time.monotonic()
        if snap is not None and snap.generation == gen:
            return snap
        with self._lock:
            if self._snapshot is not None and self._snapshot.generation == gen:
                return self._snapshot
            t0 = time.perf_counter()
            entries = self._catch_up()
            chunks = [e.chunk for e in entries]
            langs = np.array([c.lang for c in chunks])
            snap = Snapshot(
                generation=gen,
                chunks=chunks,
                row_of={c.chunk_id: i for i, c in enumerate(chunks)},
                bm25=BM25Index.from_counts([e.body for e in entries], self._vocab),
                lang_rows={lang: langs == lang for lang in sorted(set(langs.tolist()))},
                titles=_title_index(chunks, [e.title for e in entries], self._title_vocab),
                speller=Speller.from_counts(self._words),
            )
            snap.built_in_s = time.perf_counter() - t0
            self._snapshot = snap
            return snap

    def _catch_up(self) -> list[_Entry]:
        """The active chunks in document order, reading only those not seen before."""
        if not self._entries:  # a new process: one ordered read of everything
            fresh = self.registry.active_chunks()
            ids = [c.chunk_id for c in fresh]
        else:
            fresh = None
            ids = self.registry.active_chunk_ids()
        live = set(ids)
        for gone in [i for i in self._entries if i not in live]:
            old = self._entries.pop(gone)
            counts = self._words[old.chunk.lang]
            learnt = word_counts(old.chunk.context_text)  # read again: rarer than additions
            counts.subtract(learnt)
            for word in learnt:
                if counts[word] <= 0:
                    del counts[word]
        new = (
            fresh
            if fresh is not None
            else self.registry.chunks_by_ids([i for i in ids if i not in self._entries])
        )
        for chunk in new:
            tokens = words(chunk.context_text)  # split once: read by BM25 and by the speller
            head = " ".join((chunk.title, *chunk.heading_path))
            self._entries[chunk.chunk_id] = _Entry(
                chunk,
                count_terms(terms_of_words(tokens, chunk.lang), self._vocab),
                count_terms(content_terms(head, chunk.lang), self._title_vocab),
            )
            self._words.setdefault(chunk.lang, Counter()).update(w for w in tokens if w.isalpha())
        # a chunk deleted between the two reads is left out: the next generation catches up
        return [self._entries[i] for i in ids if i in self._entries]

    def invalidate(self) -> None:
        self._snapshot = None


def _title_index(
    chunks: Sequence[Chunk],
    counts: Sequence[Counts],
    vocab: dict[str, int],
    *,
    min_distinct: float = 0.9,
) -> BM25Index | None:
    """BM25 over titles and headings, the third signal of the fusion: help-centre articles are
    titled with the questions customers ask. Only when titles tell documents apart (at least
    90 % distinct, and not just the document id): passages that share one page title, or have
    none, would only add noise."""
    titles: dict[str, str] = {}
    for c in chunks:
        titles.setdefault(c.doc_id, c.title)
    if not titles:
        return None
    real = [t for d, t in titles.items() if t and t != d]
    if len(real) < min_distinct * len(titles) or len(set(real)) < min_distinct * len(real):
        return None
    return BM25Index.from_counts(counts, vocab)
