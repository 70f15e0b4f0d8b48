"""BM25 over chunks, in the app (Chroma's sparse search is Cloud-only).

Each chunk is tokenised in its own language: accents folded, stop words dropped, Snowball
stems (French or English). The index is a sparse matrix of precomputed BM25 term weights, so
a query is a sum of a few columns; filtering is a boolean mask over rows, at no extra cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from knowledge.text import content_terms


class BM25Index:
    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.vocab: dict[str, int] = {}
        self.weights = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.idf = np.zeros(0, dtype=np.float32)
        self.n_docs = 0

    @classmethod
    def build(
        cls, texts: Sequence[str], langs: Sequence[str], *, k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        self = cls(k1=k1, b=b)
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            terms = content_terms(text, lang)
            lengths[i] = len(terms)
            for term, tf in Counter(terms).items():
                rows.append(i)
                cols.append(self.vocab.setdefault(term, len(self.vocab)))
                tfs.append(tf)
        self.n_docs = len(texts)
        if not rows:
            self.weights = sparse.csc_matrix((self.n_docs, 0), dtype=np.float32)
            return self
        r = np.asarray(rows)
        c = np.asarray(cols)
        tf_arr = np.asarray(tfs, dtype=np.float32)
        df = np.bincount(c, minlength=len(self.vocab)).astype(np.float32)
        idf = np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))
        self.idf = idf.astype(np.float32)
        avgdl = float(lengths.mean()) or 1.0
        norm = k1 * (1.0 - b + b * lengths[r] / avgdl)
        w = idf[c] * tf_arr * (k1 + 1.0) / (tf_arr + norm)
        self.weights = sparse.csc_matrix(
            (w, (r, c)), shape=(self.n_docs, len(self.vocab)), dtype=np.float32
        )
        return self

    def scores(self, query: str, langs: Sequence[str]) -> np.ndarray:
        """BM25 score of every row; the query is stemmed in each of ``langs`` (terms unioned)."""
        terms: set[str] = set()
        for lang in langs:
            terms.update(content_terms(query, lang))
        cols = sorted({self.vocab[t] for t in terms if t in self.vocab})
        if not cols or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.weights[:, cols].sum(axis=1)).ravel()

    def query_stats(self, query: str, langs: Sequence[str]) -> dict[str, float]:
        """Evidence about the query itself: how much of it the index knows, how specific it is,
        and the best BM25 score any chunk could reach (to normalise scores across indexes)."""
        terms: set[str] = set()
        for lang in langs:
            terms.update(content_terms(query, lang))
        if not terms:
            return {"terms": 0.0, "oov_rate": 1.0, "mean_idf": 0.0, "max_score": 0.0}
        known = [self.vocab[t] for t in terms if t in self.vocab]
        idfs = self.idf[known] if known else np.zeros(0)
        # per-language stemming can produce the same word twice: count distinct surface terms once
        n_terms = max(1, len(terms) // max(1, len(langs)))
        return {
            "terms": float(n_terms),
            "oov_rate": 1.0 - min(1.0, len(known) / max(1, len(terms))),
            "mean_idf": float(idfs.mean()) if len(idfs) else 0.0,
            "max_score": float(idfs.sum() * (self.k1 + 1.0)),
        }

    def term_weights(self, query: str, lang: str) -> dict[str, float]:
        """IDF of each of the query's stemmed terms (0 for a term the index never saw)."""
        return {
            t: float(self.idf[self.vocab[t]]) if t in self.vocab else 0.0
            for t in content_terms(query, lang)
        }

    def top(
        self, query: str, langs: Sequence[str], n: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``n`` (row, score) with a positive score, restricted to ``mask`` rows if given."""
        s = self.scores(query, langs)
        if mask is not None:
            s = np.where(mask, s, 0.0)
        positive = np.flatnonzero(s > 0)
        if positive.size == 0:
            return []
        if positive.size > n:
            part = np.argpartition(-s[positive], n - 1)[:n]
            positive = positive[part]
        order = positive[np.argsort(-s[positive], kind="stable")]
        return [(int(i), float(s[i])) for i in order]
