"""What a draft quotes from the retrieved passages: the few sentences that answer the question
(:func:`select_sentences`), and the source quote shown beside a drafted sentence
(:func:`source_quote`); both read a passage's sentences as a chat shows them (:func:`plain`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import NamedTuple

from copilot.pipeline.drafter import Passage
from knowledge.screening import is_instruction
from knowledge.text import content_terms, fold, pieces

_EMPHASIS = re.compile(r"(\*\*|__|`)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_PLACEHOLDER = re.compile(r"x{3,}|\b[A-Z]{2,5}-?\d{5,}\b", re.I)


def terminated(sentence: str) -> str:
    """A heading or list item used as a sentence gets its full stop: run into the next one
    ("Rupture du CDI Le CDI se caractérise…"), it read as one garbled sentence."""
    return sentence if sentence[-1:] in ".!?…:;" else sentence + "."


def plain(sentence: str) -> str:
    """A sentence as it reads in a chat: Markdown emphasis and links removed."""
    return _EMPHASIS.sub("", _LINK.sub(r"\1", sentence)).strip()


QUOTE_CHARS = 320


def source_quote(sentence: str, chunk_text: str, lang: str) -> str:
    """What the agent is shown as the source of a drafted ``sentence``: the passage's sentence
    that holds it (or, for a reworded one, shares the most words with it), followed by the next
    while the quote stays short, Markdown stripped. The drafted sentence is never cut off."""
    sents = [s for s, _ in _plain_pieces(chunk_text) if s]
    if not sents:
        return ""
    said = fold(plain(sentence)).rstrip(".!?… ")
    start = next((i for i, s in enumerate(sents) if said and said in fold(s)), None)
    if start is None:
        terms = set(content_terms(sentence, lang))
        start = max(
            range(len(sents)), key=lambda i: (len(terms & set(content_terms(sents[i], lang))), -i)
        )
    quote = sents[start]
    for nxt in sents[start + 1 :]:
        if len(quote) + 1 + len(nxt) > QUOTE_CHARS:
            break
        quote = f"{quote} {nxt}"
    return quote


@lru_cache(maxsize=2048)
def _plain_pieces(text: str) -> tuple[tuple[str, str | None], ...]:
    """A passage's pieces (see ``pieces``) as a chat reads them, a row with its cells: the
    same passages come back suggestion after suggestion."""
    return tuple((plain(raw), cells) for raw, cells in pieces(text))


class _Quotable(NamedTuple):
    """A passage's sentence or table row that a draft may quote."""

    at: int  # its place among the passage's pieces
    text: str
    row: bool  # a table row, read with its header
    terms: frozenset[str]
    own: frozenset[str]  # a row's own cells' terms (the column names are every row's)


@lru_cache(maxsize=2048)
def _quotable(text: str, lang: str) -> tuple[tuple[_Quotable, ...], tuple[tuple[int, str], ...]]:
    """A passage's sentences and rows that read whole and instruct no assistant (a document
    is data: such a sentence is never quoted), with their terms; and all its table rows
    (place, text). Read once per passage, whatever the question."""
    quotable, rows = [], []
    for i, (s, cells) in enumerate(_plain_pieces(text)):
        if cells is not None:
            rows.append((i, s))
        if not (_usable(s) if cells is None else _usable_row(s)) or is_instruction(s):
            continue
        terms = frozenset(content_terms(s, lang))
        own = terms if cells is None else frozenset(content_terms(plain(cells), lang))
        quotable.append(_Quotable(i, s, cells is not None, terms, own))
    return tuple(quotable), tuple(rows)


def _usable(s: str) -> bool:
    """A complete, self-contained sentence: not a heading, table row or list fragment."""
    if not 25 <= len(s) <= 450 or "|" in s or _PLACEHOLDER.search(s):
        return False
    if s.endswith(("?", ":", ";", ",")) or not s.endswith((".", "!", "…", ")", "»", '"')):
        return False
    first = s.lstrip("«\"'( ")[:1]
    if re.match(r"(oui|non|yes|no)\b", s, re.I):  # a FAQ answer that needs its question
        return False
    if s.count("(") != s.count(")") or s.count('"') % 2 or s.count("«") != s.count("»"):
        return False  # a fragment cut inside brackets or quotes
    head, sep, _ = s.partition(":")
    if sep and len(head) < 25 and s.count(",") >= 3:
        return False  # an enumeration ("E27: lamp A, lamp B, lamp C, ..."), not an answer
    return first.isupper() or first.isdigit()


def _usable_row(s: str) -> bool:
    """A table row read with its header ("Colissimo — Price: €4.90, free from €60."): its
    commas and colons are the table's, not an enumeration's."""
    return 15 <= len(s) <= 450 and not _PLACEHOLDER.search(s)


# A question that asks for a figure (a price, a delay, an hour): its answer has digits in it.
_ASKS_FIGURE = re.compile(
    r"\b(how (much|many|long|soon)|what time|when\b|until when|combien|quel(le)?s? (prix|tarif|delai|heure|montant|duree|cout)|a quelle heure|quand|jusqu.a quand|(price|cost|fee|prix|tarif|cout|frais|delai)s?\b)"
)
_DIGIT = re.compile(r"\d")
_FIGURE_BONUS = 0.6


_EXAMPLE_HEADING = re.compile(r"\b(?:exemples?|examples?)\b")


Scored = tuple[float, int, int, str, Passage]  # score, passage rank, position, sentence, passage


def select_sentences(
    passages: list[Passage],
    query: str,
    lang: str,
    n: int,
    variant: int = 0,
    *,
    skip_examples: bool = False,
    term_weights: dict[str, float] | None = None,
    own: Sequence[str] = (),
    items: Sequence[str] = (),
    keep: Callable[[str], bool] | None = None,
    only_theirs: bool = False,
) -> list[tuple[str, Passage]]:
    """The ``n`` most relevant sentences of the best passages, in reading order.

    The answer rests on one article, the best-ranked one: another article's sentences are
    used only when the first gives fewer than two usable sentences (a reply that mixes two
    articles is harder to trust and to check). With ``skip_examples`` (the reply states the
    customer's own order), sections headed "Example" are left out: "You order a lamp on
    Tuesday at 4 pm…" would read as a claim about their order. ``own``: the words that name
    the customer's own order (its items, their categories, its carrier); a table row headed by
    one of them is theirs, and the passage's other rows are about someone else's. ``items``:
    the names and categories of their order's items; a row they label whole is their case in
    a table of cases (their fare, plan or category), quoted even when general sentences
    outscore it, if its passage is about the question and the drafter would ``keep`` it.
    ``only_theirs``: that row alone, or nothing.
    """
    asked = set(content_terms(query, lang))
    share = _share_of_question(asked, term_weights)
    wants_figure = bool(_ASKS_FIGURE.search(fold(query)))
    if skip_examples:
        passages = [
            p
            for p in passages
            if not any(_EXAMPLE_HEADING.search(fold(h)) for h in p.hit.chunk.heading_path)
        ]
    theirs = _naming_terms(own, lang)
    # next to their order's facts, a table row speaks of one case among others (a status, a
    # plan, a fare): it is quoted only when its header names their order or what they asked
    named = theirs | asked if skip_examples else None
    kinds = _naming_terms(items, lang)
    scored, personal = _scored(
        passages, lang, share, wants_figure, theirs, named, asked, kinds, _quantities(query)
    )
    scored.sort(key=lambda x: -x[0])
    if variant:
        scored = scored[variant % max(len(scored), 1) :] + scored[: variant % max(len(scored), 1)]
    primary = passages[0].hit.doc_id if passages else None
    first = [x for x in scored if x[4].hit.doc_id == primary]
    if len(first) < min(n, 2):
        first = scored
    chosen = _chosen(first, personal, n, lang, keep, only_theirs)
    chosen.sort(key=lambda x: (x[1], x[2]))
    return [(s, p) for _, _, _, s, p in chosen]


def _chosen(
    ranked: list[Scored],
    personal: set[tuple[int, int]],
    n: int,
    lang: str,
    keep: Callable[[str], bool] | None,
    only_theirs: bool,
) -> list[Scored]:
    """The best ``n`` that say different things; the row of their case is the personal answer:
    it is quoted even when general sentences outscore it ("cancel my train" -> the row of
    their ticket's fare), unless the drafter would not ``keep`` it."""
    row = next(
        (x for x in ranked if (x[1], x[2]) in personal and (keep is None or keep(x[3]))), None
    )
    if only_theirs:
        return [] if row is None else [row]
    chosen = _without_repeats(ranked, n, lang)
    if row is not None and chosen and not any((x[1], x[2]) in personal for x in chosen):
        chosen = _without_repeats([row, *(x for x in ranked if x is not row)], n, lang)
    return chosen


def _naming_terms(names: Sequence[str], lang: str) -> set[str]:
    """The terms of names from the feed (item names, categories, a carrier), numbers left out."""
    return {t for t in content_terms(" ".join(names), lang) if not t.isdigit()}


def _share_of_question(
    q: set[str], term_weights: dict[str, float] | None
) -> Callable[[AbstractSet[str]], float]:
    """How much of the question (its terms ``q``) a set of terms covers (see ``share``)."""
    weights = term_weights or {}
    total = sum(weights.get(t, 1.0) for t in q)

    def share(terms: AbstractSet[str]) -> float:
        """The part of the question ``terms`` cover, each query word weighted by its IDF."""
        return sum(weights.get(t, 1.0) for t in q & terms) / total if total else 0.0

    return share


_ROW_LABEL = re.compile(r" — |: ")


def _label(row: str) -> str:
    """A table row's label: its first cell, as the row is read ("Promo — Refund: …")."""
    return _ROW_LABEL.split(row, maxsplit=1)[0]


_THEIR_ROW_BONUS = 1.0


def _their_rows(rows: Sequence[tuple[int, str]], theirs: set[str], lang: str) -> set[int]:
    """The table rows (position, text) headed by a word that names the customer's order."""
    if not theirs:
        return set()
    return {i for i, s in rows if _headed_by(s, theirs, lang)}


def _asked_rows(
    rows: Sequence[tuple[int, str]],
    asked: set[str],
    amounts: Sequence[tuple[float, str]],
    lang: str,
) -> set[int]:
    """The table rows (position, text) the question names whole, or whose range holds a
    quantity it gives."""
    return {
        i
        for i, row in rows
        if (asked and _labelled_by(row, asked, lang)) or _in_range(row, amounts)
    }


def _headed_by(row: str, terms: set[str], lang: str) -> bool:
    """The row's label (its first cell) names one of ``terms``, or a cognate of one: a feed's
    English category code ("accessories") names the French help centre's row ("Accessoires")."""
    label = set(content_terms(_label(row), lang))
    return bool(label & terms) or any(_cognates(a, b) for a in label for b in terms)


# A quantity the question gives ("65 minutes", "8 ans") and the ranges table rows are labelled
# with ("60 to 119 minutes", "de 2 à 11 ans", "moins de 2 ans", "60 minutes or more").
_QUANTITY = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")
_RANGES = (
    (re.compile(r"(\d+)\s*(?:to|a|-|–)\s*(\d+)\s*([a-z]+)"), "between"),
    (re.compile(r"(\d+)\s*([a-z]+)\s*(?:or more|and more|and over|ou plus|et plus)\b"), "from"),
    (re.compile(r"(?:under|less than|below|moins de)\s*(\d+)\s*([a-z]+)"), "below"),
    (re.compile(r"(?:over|more than|plus de|from|des|a partir de)\s*(\d+)\s*([a-z]+)"), "above"),
    (re.compile(r"(?:up to|jusqu.a)\s*(\d+)\s*([a-z]+)"), "upto"),
)


_ABBREVIATED = {"min": "minute", "mn": "minute", "hr": "hour", "yr": "year"}


def _unit(word: str) -> str:
    """A unit word, singular and unabbreviated ("mins" and "minutes": "minute")."""
    word = word[:-1] if len(word) > 2 and word.endswith("s") else word
    return _ABBREVIATED.get(word, word)


def _quantities(text: str) -> list[tuple[float, str]]:
    """The numbers of a text with the word that follows each (its unit)."""
    return [(float(n.replace(",", ".")), _unit(u)) for n, u in _QUANTITY.findall(fold(text))]


def _in_range(row: str, asked: Sequence[tuple[float, str]]) -> bool:
    """The row's label is a range ("30 to 59 minutes") that holds a quantity the question
    gives in the same unit ("65 minutes" holds for "60 minutes or more")."""
    label = fold(_label(row))
    for pattern, kind in _RANGES:
        m = pattern.search(label)
        if m is None:
            continue
        if kind == "between":
            lo, hi, unit = float(m[1]), float(m[2]), m[3]
        elif kind == "from":
            lo, hi, unit = float(m[1]), float("inf"), m[2]
        elif kind == "above":
            lo, hi, unit = float(m[1]) + 1e-9, float("inf"), m[2]
        elif kind == "below":
            lo, hi, unit = float("-inf"), float(m[1]) - 1e-9, m[2]
        else:
            lo, hi, unit = float("-inf"), float(m[1]), m[2]
        return any(u == _unit(unit) and lo <= x <= hi for x, u in asked)
    return False


def _labelled_by(row: str, terms: set[str], lang: str) -> bool:
    """Every word of the row's label is one of ``terms`` (or a cognate): the question names the
    row whole ("a Promo ticket" is the "Promo" row's, "express delivery" not "DHL Express")."""
    label = set(content_terms(_label(row), lang))
    return bool(label) and all(a in terms or any(_cognates(a, b) for b in terms) for a in label)


def _cognates(a: str, b: str) -> bool:
    """Two word stems that share most of their beginning ("accessor"/"accessoir")."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return n >= 5 and n >= 0.6 * min(len(a), len(b))


def _scored(
    passages: list[Passage],
    lang: str,
    share: Callable[[AbstractSet[str]], float],
    wants_figure: bool,
    theirs: set[str],
    named: set[str] | None = None,
    asked: set[str] | None = None,
    kinds: set[str] | None = None,
    amounts: Sequence[tuple[float, str]] = (),
) -> tuple[list[Scored], set[tuple[int, int]]]:
    """The usable sentences and table rows of the best four passages that are about the
    question (or open a section that is), each with its score: the question's share it covers,
    its section's, its passage's rank and its place in it, a figure when one is asked, a row
    headed by what names their order (``theirs``), labelled by words of the question
    (``asked``: "is a Promo ticket refundable?" is the Promo row's) or by a range that holds
    a quantity it gives (``amounts``: "65 minutes late" is the "60 minutes or more" row's);
    such a row's siblings are left out. Also the rows (passage rank, position) their items
    label whole (``kinds``), in a passage about the question."""
    scored: list[Scored] = []
    personal: set[tuple[int, int]] = set()
    for p_rank, p in enumerate(passages[:4]):
        head_terms = set(content_terms(" ".join((p.hit.title, *p.hit.chunk.heading_path)), lang))
        head_match = share(head_terms)
        quotable, rows = _quotable(p.hit.chunk.text, lang)
        mine = _their_rows(rows, theirs, lang) | _asked_rows(rows, asked or set(), amounts, lang)
        for i, s, row, terms, own in quotable:
            if row and mine and i not in mine:
                continue  # another row of the table is theirs: this one is someone else's
            if row and named is not None and not _headed_by(s, named, lang):
                continue  # a row about a case they did not name, beside their order's facts
            # a row: its own cells count, the column names (shared by all rows) half
            overlap = share(own) + 0.5 * share(terms - own) if row else share(terms)
            if overlap == 0 and i not in mine and not (head_match >= 0.5 and i <= 1):
                continue  # neither the sentence nor its section is about the question (a
                # row that names their order is theirs: "Accessories: 1 year" under "Warranty")
            on_topic = overlap > 0 or head_match > 0
            if row and kinds and on_topic and _labelled_by(s, kinds, lang):
                personal.add((p_rank, i))  # the row of their case, in a passage about the question
            score = (
                (_THEIR_ROW_BONUS if i in mine else 0.0)
                + (_FIGURE_BONUS if wants_figure and _DIGIT.search(s) else 0.0)
                + 2.0 * overlap
                + 0.8 * head_match / (1 + i)
                + 1.5 / (1 + p_rank)
                + (0.3 if i == 0 else 0.0)
                - 0.04 * i
            )
            scored.append((score, p_rank, i, s, p))
    return scored, personal


def _without_repeats(ranked: list[Scored], n: int, lang: str) -> list[Scored]:
    """The best ``n`` sentences that each say something the others do not, from at most two
    articles."""
    chosen: list[Scored] = []
    seen_terms: list[set[str]] = []
    for item in ranked:
        terms = set(content_terms(item[3], lang))
        if any(
            len(terms & t) / max(len(terms | t), 1) > 0.6 or len(terms & t) >= 0.8 * len(terms)
            for t in seen_terms
        ):
            continue  # the same thing again, or nothing a chosen sentence does not say
        if len({c[4].hit.doc_id for c in chosen} | {item[4].hit.doc_id}) > 2:
            continue
        chosen.append(item)
        seen_terms.append(terms)
        if len(chosen) == n:
            break
    return chosen
