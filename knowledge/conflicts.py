"""Statements of new documents that disagree with the knowledge already indexed.

After an upload, each sentence of the new documents that states a quantity (an amount, a
duration, a percentage) is looked up by keywords among the other documents; a sentence there on
the same subject (most of the new sentence's content words) stating another value of the same
kind and unit is a possible conflict: "gift wrap 4,90 € per item" against "gift wrap 4,50 € per
order". The knowledge manager reads both sources and decides: the drafts would otherwise quote
either figure. Nothing here blocks an upload.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.text import content_terms, fold, sentences

if TYPE_CHECKING:
    from knowledge.base import FileResult, KnowledgeBase

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


@dataclass(frozen=True)
class Quantity:
    kind: str  # amount | duration | percent
    unit: str
    value: float
    text: str  # as written
    low: float | None = None  # the first end of a range ("5 to 10 days")

    def covers(self, value: float) -> bool:
        return value == self.value or (self.low is not None and self.low <= value <= self.value)


@dataclass(frozen=True)
class Conflict:
    new_doc: str
    new_title: str
    new_sentence: str
    new_value: str
    old_doc: str
    old_title: str
    old_sentence: str
    old_value: str
    kind: str


def changed_docs(results: Sequence[FileResult]) -> list[str]:
    """The documents an upload added or changed (those to check)."""
    return [d.doc_id for r in results if r.ok for d in r.docs if d.status in ("added", "updated")]


def quantities(sentence: str) -> list[Quantity]:
    """The amounts, durations and percentages a sentence states."""
    out = []
    folded = fold(sentence)
    for m in _AFTER.finditer(folded):
        kind, unit = _UNITS[m.group(3).lower()]
        low = _value(m.group(1)) if m.group(1) else None
        out.append(Quantity(kind, unit, _value(m.group(2)), m.group(0).strip(), low))
    for m in _BEFORE.finditer(folded):
        kind, unit = _UNITS[m.group(1)]
        out.append(Quantity(kind, unit, _value(m.group(2)), m.group(0).strip()))
    return out


def _value(text: str) -> float:
    t = text.replace("\u202f", "").replace(" ", "")
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t
    elif "," in t:
        head, _, tail = t.rpartition(",")
        t = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else t.replace(",", "")
    return float(t.replace(",", ""))


def _subject(sentence: str, lang: str) -> set[str]:
    return {t for t in content_terms(sentence, lang) if not t[:1].isdigit()}


def find_conflicts(
    kb: KnowledgeBase,
    doc_ids: Sequence[str],
    *,
    k: int = 6,
    overlap: float = 0.5,
    shared_min: int = 3,
    limit: int = 50,
) -> list[Conflict]:
    """Possible conflicts between the documents ``doc_ids`` (just ingested) and the others:
    the same subject (the two sentences' content words overlap by ``overlap`` at least,
    Jaccard, with ``shared_min`` words in common), the same kind and unit, another value."""
    new = set(doc_ids)
    titles = {d.doc_id: d.title for d in kb.registry.documents()}
    if not set(titles) - new:
        return []  # a first upload: nothing to disagree with (cdtn-fr: saves 4 s of searches)
    with kb.registry.engine.connect() as conn:
        ids = [cid for cid, _ in kb.registry.chunk_ids_of(conn, list(new))]
    found: dict[tuple[str, str], Conflict] = {}
    # an indexed chunk comes back for many new sentences: each is read (split, stemmed,
    # its figures found) once
    read: dict[str, list[tuple[str, set[str]]]] = {}
    stated_in: dict[str, list[Quantity]] = {}
    for chunk in kb.registry.chunks_by_ids(ids):
        for sentence in sentences(chunk.text):
            said = quantities(sentence)
            subject = _subject(sentence, chunk.lang)
            if not said or len(subject) < shared_min:
                continue
            for hit in kb.search(sentence, k=k, lang=chunk.lang, mode="bm25"):
                if hit.doc_id in new:
                    continue
                if hit.chunk_id not in read:
                    read[hit.chunk_id] = [
                        (other, _subject(other, chunk.lang)) for other in sentences(hit.chunk.text)
                    ]
                for other, theirs in read[hit.chunk_id]:
                    shared = subject & theirs
                    if len(shared) < shared_min or len(shared) < overlap * len(subject | theirs):
                        continue
                    if other not in stated_in:
                        stated_in[other] = quantities(other)
                    stated = stated_in[other]
                    for q in said:
                        same = [o for o in stated if (o.kind, o.unit) == (q.kind, q.unit)]
                        if any(o.covers(q.value) or q.covers(o.value) for o in same):
                            continue  # the other sentence states this figure too
                        clash = next(
                            (o for o in same if not any(x.covers(o.value) for x in said)), None
                        )
                        if clash is None:
                            continue
                        key = (sentence, other)
                        found.setdefault(
                            key,
                            Conflict(
                                chunk.doc_id,
                                titles.get(chunk.doc_id, chunk.doc_id),
                                sentence,
                                q.text,
                                hit.doc_id,
                                titles.get(hit.doc_id, hit.doc_id),
                                other,
                                clash.text,
                                q.kind,
                            ),
                        )
                        break
            if len(found) >= limit:
                return list(found.values())
    return list(found.values())
