"""Word overlap, as the offline judge measures it: a claim's content words recalled by what it
cites (>= :data:`THETA`), and the diagnostics against a reference answer (token F1, ROUGE-L)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evals.facts import atomic_facts
from knowledge.text import content_terms, fold, sentences

THETA = 0.6


def supported(sentence: str, sources: Iterable[str], lang: str, *, order_cited: bool) -> bool:
    srcs = list(sources)
    if not srcs:
        return False
    facts = atomic_facts(sentence)
    pool = set().union(*(atomic_facts(s) for s in srcs))
    if not facts <= pool:
        return False
    if order_cited:
        return True  # a computed order sentence: its facts are what needs checking
    terms = set(content_terms(sentence, lang))
    if not terms:
        return True
    best = 0.0
    for src in srcs:
        for sent in sentences(src):
            overlap = len(terms & set(content_terms(sent, lang))) / len(terms)
            best = max(best, overlap)
            if best >= THETA:
                return True
    return best >= THETA


def token_f1(a: str, b: str, lang: str) -> float:
    ta, tb = content_terms(a, lang), content_terms(b, lang)
    if not ta or not tb:
        return 0.0
    common = sum(min(ta.count(t), tb.count(t)) for t in set(ta))
    if common == 0:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def rouge_l(a: str, b: str, cap: int = 400) -> float:
    wa, wb = fold(a).split()[:cap], fold(b).split()[:cap]
    if not wa or not wb:
        return 0.0
    lcs = _lcs_length(wa, wb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(wa), lcs / len(wb)
    return 2 * p * r / (p + r)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Crochemore et al. 2001): one
    big-integer step per word of ``a`` instead of a row of the dynamic programme."""
    where: dict[str, int] = {}
    for j, word in enumerate(b):
        where[word] = where.get(word, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    for word in a:
        u = v & where.get(word, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()
