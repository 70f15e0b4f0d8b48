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

# One chunk's terms: their ids in a vocabulary, how often each occurs, and the chunk's length.
Counts = tuple[np.ndarray, np.ndarray, int]


def count_terms(terms: Sequence[str], vocab: dict[str, int]) -> Counts:
    """Terms (from :func:`content_terms`) as ids of ``vocab`` (new terms are added to it),
    with their counts."""
    counted = Counter(terms)
    ids = np.array([vocab.setdefault(t, len(vocab)) for t in counted], dtype=np.int64)
    tfs = np.array(list(counted.values()), dtype=np.float32)
    return ids, tfs, len(terms)


class BM25Index:
    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.vocab: dict[str, int] = {}
        self.weights = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.idf = np.zeros(0, dtype=np.float32)
        self.df = np.zeros(0, dtype=np.int64)
        self.n_docs = 0

    @classmethod
    def build(
        cls, texts: Sequence[str], langs: Sequence[str], *, k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        vocab: dict[str, int] = {}
        counts = [
            count_terms(content_terms(t, lang), vocab) for t, lang in zip(texts, langs, strict=True)
        ]
        return cls.from_counts(counts, vocab, k1=k1, b=b)

    @classmethod
    def from_counts(
        cls, counts: Sequence[Counts], vocab: dict[str, int], *, k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        """The index of these rows. ``vocab`` may hold more terms than they use (a vocabulary
        kept across updates): a term no row uses is unknown here, as in an index built afresh,
        and the vocabulary may grow later without changing this index."""
        self = cls(k1=k1, b=b)
        self.vocab = vocab
        self.n_docs = len(counts)
        n_terms = len(vocab)
        if not counts or not any(len(c[0]) for c in counts):
            self.weights = sparse.csc_matrix((self.n_docs, n_terms), dtype=np.float32)
            self.idf = np.zeros(n_terms, dtype=np.float32)
            self.df = np.zeros(n_terms, dtype=np.int64)
            return self
        r = np.repeat(np.arange(self.n_docs), [len(c[0]) for c in counts])
        c = np.concatenate([c[0] for c in counts])
        tf_arr = np.concatenate([c[1] for c in counts]).astype(np.float32)
        lengths = np.asarray([c[2] for c in counts], dtype=np.float32)
        self.df = np.bincount(c, minlength=n_terms)
        df = self.df.astype(np.float32)
        idf = np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))
        self.idf = idf.astype(np.float32)
        avgdl = float(lengths.mean()) or 1.0
        norm = k1 * (1.0 - b + b * lengths[r] / avgdl)
        w = idf[c] * tf_arr * (k1 + 1.0) / (tf_arr + norm)
        self.weights = sparse.csc_matrix(
            (w, (r, c)), shape=(self.n_docs, n_terms), dtype=np.float32
        )
        return self

    def _known(self, term: str) -> int | None:
        """The term's column when some row of this index uses it."""
        col = self.vocab.get(term)
        if col is None or col >= len(self.df) or self.df[col] == 0:
            return None
        return col

    def scores(self, query: str, langs: Sequence[str]) -> np.ndarray:
        """BM25 score of every row; the query is stemmed in each of ``langs`` (terms unioned).
        Terms are summed in alphabetical order, so an index built afresh and one kept up to
        date give the same floats."""
        terms: set[str] = set()
        for lang in langs:
            terms.update(content_terms(query, lang))
        cols = [c for t in sorted(terms) if (c := self._known(t)) is not None]
        out = np.zeros(self.n_docs, dtype=np.float32)
        # each term's column added to the rows that use it, term after term: the float32 sums
        # scipy's column sum makes, without copying the columns (0.6 ms a query at 100k chunks)
        w = self.weights  # canonical: a row appears once in a column
        for c in cols:
            part = slice(w.indptr[c], w.indptr[c + 1])
            out[w.indices[part]] += w.data[part]
        return out

    def query_stats(self, query: str, langs: Sequence[str]) -> dict[str, float]:
        """Evidence about the query itself: how much of it the index knows, how specific it is,
        and the best BM25 score any chunk could reach (to normalise scores across indexes)."""
        terms: set[str] = set()
        for lang in langs:
            terms.update(content_terms(query, lang))
        if not terms:
            return {"terms": 0.0, "oov_rate": 1.0, "mean_idf": 0.0, "max_score": 0.0}
        known = [c for t in sorted(terms) if (c := self._known(t)) is not None]
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
            t: float(self.idf[c]) if (c := self._known(t)) is not None else 0.0
            for t in content_terms(query, lang)
        }

    def top(
        self, query: str, langs: Sequence[str], n: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``n`` (row, score) with a positive score, restricted to ``mask`` rows if given."""
        s = self.scores(query, langs)
        keep = s > 0
        if mask is not None:
            keep &= mask
        positive = np.flatnonzero(keep)
        if positive.size == 0:
            return []
        if positive.size > n:
            part = np.argpartition(-s[positive], n - 1)[:n]
            positive = positive[part]
        order = positive[np.argsort(-s[positive], kind="stable")]
        return [(int(i), float(s[i])) for i in order]
