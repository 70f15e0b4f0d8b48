"""Typo tolerance for the keyword search: a customer's misspelt word ("demmission",
"harceelement", "suplementaire") is read as the knowledge base's closest word.

Only words the knowledge base never uses, even inflected (a known stem is no typo), and only
long ones (short words have too many neighbours) are corrected. The correction is a word of the
same language's articles, used at least twice, that starts with the same letter and is one
typing slip away (two from ten letters on): a letter missing, doubled or added, or two letters
swapped. A different letter is not taken for a slip: "teasing" is not "teaming", "formal" not
"format". Among equals, the most frequent wins. The meaning search reads the customer's own
words: its sub-word model is already tolerant of typos.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Indel

from knowledge.text import LETTER_RUN, STOPWORDS, content_terms, fold, words

MIN_LETTERS = 6  # shorter words are left alone: "lunch" is one letter from "launch"


def _max_distance(word: str) -> int:
    return 2 if len(word) >= 10 else 1


class Speller:
    def __init__(self) -> None:
        # language -> first letter -> length -> {word: count}
        self._by_key: dict[str, dict[tuple[str, int], dict[str, int]]] = {}
        self._known: dict[str, set[str]] = {}  # surface words and their stems
        # corrected queries: a suggestion's search and its draft ask for the same one
        self._corrected: dict[tuple[str, tuple[str, ...]], str] = {}
        # (language, bucket) -> a bucket's words by their sorted letters (see _anagrams)
        self._letters: dict[tuple[str, tuple[str, int]], dict[str, list[str]]] = {}

    @classmethod
    def build(cls, texts: Sequence[str], langs: Sequence[str]) -> Speller:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text, lang in zip(texts, langs, strict=True):
            counts[lang].update(word_counts(text))
        return cls.from_counts(counts)

    @classmethod
    def from_counts(cls, counts: Mapping[str, Mapping[str, int]]) -> Speller:
        """From each language's word counts (kept up to date by a caller that adds and removes
        chunks, so nothing is read again)."""
        self = cls()
        for lang, counter in counts.items():
            stop = STOPWORDS.get(lang, STOPWORDS["en"])
            by_key: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
            known: set[str] = set()
            for word, n in counter.items():
                if n <= 0:
                    continue
                known.add(word)
                known.update(_stems(word, lang))
                if len(word) >= MIN_LETTERS - 2 and word not in stop and n >= 2:
                    by_key[(word[0], len(word))][word] = n
            self._by_key[lang] = dict(by_key)
            self._known[lang] = known
        return self

    def corrections(self, query: str, langs: Sequence[str]) -> dict[str, str]:
        """``{typo: correction}`` for the query's words that no article uses."""
        out: dict[str, str] = {}
        for word in dict.fromkeys(words(query)):
            if len(word) < MIN_LETTERS or not word.isalpha():
                continue
            if any(self._knows(word, lang) for lang in langs):
                continue
            best = self._closest(word, langs)
            if best:
                out[word] = best
        return out

    def _knows(self, word: str, lang: str) -> bool:
        """The articles use ``word``, or another form of it (its stem)."""
        known = self._known.get(lang, set())
        return word in known or set(content_terms(word, lang)) <= known

    def correct(self, query: str, langs: Sequence[str]) -> str:
        """The query with its misspelt words replaced by their corrections (folded);
        memoised (a speller is never changed: a knowledge change builds a new one)."""
        key = (query, tuple(langs))
        done = self._corrected.get(key)
        if done is None:
            fixes = self.corrections(query, langs)
            done = (
                LETTER_RUN.sub(lambda m: fixes.get(fold(m.group()), m.group()), query)
                if fixes
                else query
            )
            if len(self._corrected) >= 4096:
                self._corrected.clear()
            self._corrected[key] = done
        return done

    def forget(self) -> None:
        """Empty the memo (benchmarks measure queries never seen)."""
        self._corrected.clear()

    def _closest(self, word: str, langs: Sequence[str]) -> str | None:
        """The most frequent of the words fewest typing slips away, if any is within the word's
        limit. Slips: letters missing or added (Indel distance), or swapped (the same letters in
        another order: Damerau-Levenshtein); a substituted letter counts twice, so it is never
        one slip. Each bucket's distances are computed by rapidfuzz in one call, and the words
        with the same letters are looked up (one by one in Python, an unknown word's 300-400
        candidates took 1-5 ms)."""
        limit = _max_distance(word)
        letters = "".join(sorted(word))
        best: tuple[int, int, str] | None = None  # (distance, -count, word)
        for lang in langs:
            by_key = self._by_key.get(lang, {})
            for length in range(len(word) - limit, len(word) + limit + 1):
                bucket = by_key.get((word[0], length))
                if not bucket:
                    continue
                near = {
                    cand: int(d)
                    for cand, d, _ in process.extract(
                        word, list(bucket), scorer=Indel.distance, score_cutoff=limit, limit=None
                    )
                }
                if length == len(word):  # swapped letters: more than ``limit`` insertions
                    for cand in self._anagrams(lang, (word[0], length)).get(letters, ()):
                        if cand not in near:
                            near[cand] = DamerauLevenshtein.distance(word, cand, score_cutoff=limit)
                for cand, d in near.items():
                    if d <= limit and (best is None or (d, -bucket[cand], cand) < best):
                        best = (d, -bucket[cand], cand)
        return best[2] if best else None

    def _anagrams(self, lang: str, key: tuple[str, int]) -> dict[str, list[str]]:
        """A bucket's words by their letters in order, made the first time it is asked for."""
        got = self._letters.get((lang, key))
        if got is None:
            got = defaultdict(list)
            for cand in self._by_key[lang][key]:
                got["".join(sorted(cand))].append(cand)
            self._letters[(lang, key)] = got = dict(got)
        return got


def learnable(tokens: Iterable[str]) -> Iterator[str]:
    """The words (from :func:`words`) the speller learns from: letters only."""
    return (w for w in tokens if w.isalpha())


def word_counts(text: str) -> Counter[str]:
    """The words of ``text`` the speller learns from, counted."""
    return Counter(learnable(words(text)))


@lru_cache(maxsize=262144)
def _stems(word: str, lang: str) -> tuple[str, ...]:
    """The forms a word of the articles makes known: its stem (stop words have none)."""
    return tuple(content_terms(word, lang))
