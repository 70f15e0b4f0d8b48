"""Finding possible conflicts: each sentence of the new documents that states a quantity (an
amount, a duration, a percentage) is looked up by keywords among the other documents; a
sentence there on the same subject stating another value of the same kind and unit makes a
pair ("gift wrap 4,90 € per item" against "gift wrap 4,50 € per order")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from knowledge.money import parse_amount
from knowledge.text import content_terms, fold, sentences
from knowledge.types import Hit

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

_NUMBER = r"(\d+(?:[.,\u202f ]\d{3})*(?:[.,]\d+)?)"
_UNITS: dict[str, tuple[str, str]] = {}  # folded unit word -> (kind, canonical unit)
for kind, unit, spellings in (
    ("amount", "EUR", ("€", "eur", "euro", "euros")),
    ("amount", "USD", ("$", "usd", "dollar", "dollars")),
    ("amount", "GBP", ("£", "gbp")),
    ("amount", "CHF", ("chf",)),
    ("percent", "%", ("%", "pourcent", "percent")),
    ("duration", "hour", ("h", "heure", "heures", "hour", "hours")),
    ("duration", "day", ("jour", "jours", "day", "days", "j")),
    ("duration", "week", ("semaine", "semaines", "week", "weeks")),
    ("duration", "month", ("mois", "month", "months")),
    ("duration", "year", ("an", "ans", "annee", "annees", "year", "years")),
):
    for s in spellings:
        _UNITS[s] = (kind, unit)
_UNIT_WORDS = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
# "5 to 10 days", "5-10 jours", "5 à 10 jours ouvrés": a range, read as its two ends
_AFTER = re.compile(
    rf"(?:(\d+(?:[.,]\d+)?)\s*(?:-|–|to|a|au)\s*)?{_NUMBER}\s*"
    rf"(?:working |business |ouvr\w+ )?({_UNIT_WORDS})(?![a-z])",
    re.I,
)
_BEFORE = re.compile(rf"([€$£])\s*{_NUMBER}")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Quantity:
    kind: str  # amount | duration | percent
    unit: str
    value: float
    text: str  # as written
    low: float | None = None  # the first end of a range ("5 to 10 days")
    before: str = ""  # its clause up to the figure, folded ("l'emballage cadeau coute")

    def covers(self, value: float) -> bool:
        return value == self.value or (self.low is not None and self.low <= value <= self.value)


@dataclass(frozen=True)
class Conflict:
    """Two sentences on one subject stating different figures (``new``: the document just
    checked; ``old``: the one already indexed)."""

    new_doc: str
    new_title: str
    new_sentence: str
    new_value: str
    old_doc: str
    old_title: str
    old_sentence: str
    old_value: str
    kind: str


def quantities(sentence: str) -> list[Quantity]:
    """The amounts, durations and percentages a sentence states (read folded, each given as
    the sentence writes it: "3 jours ouvrés", "15.00 EUR")."""
    out: list[Quantity] = []
    if not _DIGIT.search(sentence):
        return out  # every figure has a digit: most sentences have none
    folded, at = _folded_with_offsets(sentence)

    def written(m: re.Match[str]) -> str:
        return sentence[at[m.start()] : at[m.end() - 1] + 1].strip()

    for m in _AFTER.finditer(folded):
        kind, unit = _UNITS[m.group(3).lower()]
        low = parse_amount(m.group(1)) if m.group(1) else None
        before = _CLAUSE.split(folded[: m.start()])[-1]
        out.append(Quantity(kind, unit, parse_amount(m.group(2)), written(m), low, before))
    for m in _BEFORE.finditer(folded):
        kind, unit = _UNITS[m.group(1)]
        before = _CLAUSE.split(folded[: m.start()])[-1]
        out.append(Quantity(kind, unit, parse_amount(m.group(2)), written(m), before=before))
    return out


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)``, and for each of its characters the index of the one it comes from."""
    parts: list[str] = []
    at: list[int] = []
    for i, ch in enumerate(text):
        f = fold(ch)
        parts.append(f)
        at += [i] * len(f)
    return "".join(parts), at


_CLAUSE = re.compile(r"[;:.()!?\n]|,\s")


@lru_cache(maxsize=4096)
def _lead(before: str, lang: str, width: int = 4) -> frozenset[str]:
    """What the figure is the figure of: the last content words of its clause before it
    ("l'emballage cadeau coûte" 4,90 €)."""
    terms = [
        t for t in content_terms(before, lang) if not t[:1].isdigit() and t not in _FIGURE_TERMS
    ]
    return frozenset(terms[-width:])


def _same_lead(a: Quantity, b: Quantity, lang: str, share: float = 0.75) -> bool:
    """The two figures follow the same words (two or more, three quarters of the shorter lead)."""
    la, lb = _lead(a.before, lang), _lead(b.before, lang)
    both = la & lb
    return len(both) >= 2 and len(both) >= share * min(len(la), len(lb))


# the words of the figures themselves ("3 working days", "1 jour ouvré") say nothing of the
# subject: two sentences sharing only them are about different things
_QUALIFIERS = (
    *("working", "business", "ouvre", "ouvres", "ouvrable", "ouvrables", "calendaire"),
    *("within", "under", "after", "per", "from", "sous", "apres", "par", "partir", "des"),
)
_FIGURE_TERMS = {
    term
    for lang in ("fr", "en")
    for word in (*_UNITS, *_QUALIFIERS)
    for term in content_terms(word, lang)
}


def _subject(sentence: str, lang: str) -> set[str]:
    return {
        t for t in content_terms(sentence, lang) if not t[:1].isdigit() and t not in _FIGURE_TERMS
    }


@dataclass
class _Readings:
    """An indexed chunk comes back for many new sentences: each of its sentences is read
    (split, stemmed, its figures found) once."""

    _subjects: dict[str, list[tuple[str, set[str]]]] = field(default_factory=dict)
    _figures: dict[str, list[Quantity]] = field(default_factory=dict)

    def subjects(self, hit: Hit, lang: str) -> list[tuple[str, set[str]]]:
        if hit.chunk_id not in self._subjects:
            self._subjects[hit.chunk_id] = [
                (other, _subject(other, lang)) for other in sentences(hit.chunk.text)
            ]
        return self._subjects[hit.chunk_id]

    def figures(self, sentence: str) -> list[Quantity]:
        if sentence not in self._figures:
            self._figures[sentence] = quantities(sentence)
        return self._figures[sentence]


def _clash(
    said: Sequence[Quantity], stated: Sequence[Quantity], *, whole: bool, lang: str
) -> tuple[Quantity, Quantity] | None:
    """A figure of one sentence (``said``) and another of the same kind and unit that the other
    sentence states (``stated``) and the first does not, on one subject (``whole``: the two
    sentences are; else the words leading to the two figures must be)."""
    for q in said:
        same = [o for o in stated if (o.kind, o.unit) == (q.kind, q.unit)]
        if any(o.covers(q.value) or q.covers(o.value) for o in same):
            continue  # the other sentence states this figure too
        for o in same:
            if not any(x.covers(o.value) for x in said) and (whole or _same_lead(q, o, lang)):
                return q, o
    return None


def find_conflicts(
    kb: KnowledgeBase,
    doc_ids: Sequence[str],
    *,
    k: int = 6,
    overlap: float = 0.5,
    shared_min: int = 3,
    limit: int = 50,
    within: bool = True,
) -> list[Conflict]:
    """Possible conflicts between the documents ``doc_ids`` (just ingested) and the others,
    and between themselves (unless ``within`` is false):
    the same subject (the two sentences' content words overlap by ``overlap`` at least,
    Jaccard, with ``shared_min`` words in common), the same kind and unit, another value."""
    new = set(doc_ids)
    titles = {d.doc_id: d.title for d in kb.registry.documents()}
    if len(titles) < 2 or (not within and not set(titles) - new):
        return []  # nothing to disagree with
    with kb.registry.engine.connect() as conn:
        ids = [cid for cid, _ in kb.registry.chunk_ids_of(conn, list(new))]
    found: dict[tuple[str, str], Conflict] = {}
    read = _Readings()
    for chunk in kb.registry.chunks_by_ids(ids):
        for sentence in sentences(chunk.text):
            said = quantities(sentence)
            subject = _subject(sentence, chunk.lang)
            if not said or len(subject) < shared_min:
                continue
            for hit in kb.search(sentence, k=k, lang=chunk.lang, mode="bm25"):
                if hit.doc_id == chunk.doc_id or (not within and hit.doc_id in new):
                    continue
                for other, theirs in read.subjects(hit, chunk.lang):
                    shared = subject & theirs
                    # the same subject: the whole sentences, or else the words leading to
                    # the two figures ("l'emballage cadeau coûte 4,90 € par article, avec…")
                    whole = len(shared) >= shared_min and len(shared) >= overlap * len(
                        subject | theirs
                    )
                    if (not whole and len(shared) < 2) or (other, sentence) in found:
                        continue  # another subject, or the same pair seen from the other side
                    clash = _clash(said, read.figures(other), whole=whole, lang=chunk.lang)
                    if clash is not None:
                        q, o = clash
                        found.setdefault(
                            (sentence, other),
                            Conflict(
                                new_doc=chunk.doc_id,
                                new_title=titles.get(chunk.doc_id, chunk.doc_id),
                                new_sentence=sentence,
                                new_value=q.text,
                                old_doc=hit.doc_id,
                                old_title=titles.get(hit.doc_id, hit.doc_id),
                                old_sentence=other,
                                old_value=o.text,
                                kind=q.kind,
                            ),
                        )
            if len(found) >= limit:
                return list(found.values())
    return list(found.values())
