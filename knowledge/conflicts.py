"""Statements of new documents that disagree with the knowledge already indexed.

After an upload, each sentence of the new documents that states a quantity (an amount, a
duration, a percentage) is looked up by keywords among the other documents; a sentence there on
the same subject (most of the new sentence's content words) stating another value of the same
kind and unit is a possible conflict: "gift wrap 4,90 € per item" against "gift wrap 4,50 € per
order". The knowledge manager reads both sources and decides: the drafts would otherwise quote
either figure. Nothing here blocks an upload.

Each pair found is kept in the database (:class:`ConflictBook`) until a knowledge manager
decides: keep the new statement (wherever the other one is found, the drafter reads the new
one in its place), keep the existing one (the same, the other way round), or keep both, each with the case it holds for (its scope,
"per order" / "engraved items"). While a pair is open, or kept both, a draft that cites either
sentence tells the agent which figures disagree, and where.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from knowledge.db import create_tables, migrate, unbounded_strings_on_postgresql
from knowledge.errors import SouffleurError
from knowledge.money import parse_amount
from knowledge.text import content_terms, fold, pieces, sentences
from knowledge.types import Chunk, Hit

if TYPE_CHECKING:
    from knowledge.base import FileResult, KnowledgeBase

REFRESH_S = 2.0  # another process's decision applies here within this many seconds
Keep = Literal["new", "old", "both"]
KEEPS: tuple[Keep, ...] = ("new", "old", "both")

metadata = sa.MetaData()
conflicts_table = sa.Table(
    "knowledge_conflicts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "pair", sa.String(64), nullable=False, unique=True
    ),  # the two sentences, either order
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("new_doc", sa.Text, nullable=False),
    sa.Column("new_title", sa.Text, nullable=False),
    sa.Column("new_sentence", sa.Text, nullable=False),
    sa.Column("new_value", sa.Text, nullable=False),
    sa.Column("old_doc", sa.Text, nullable=False),
    sa.Column("old_title", sa.Text, nullable=False),
    sa.Column("old_sentence", sa.Text, nullable=False),
    sa.Column("old_value", sa.Text, nullable=False),
    # open | kept_new | kept_old | kept_both | gone (a side left its document)
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("new_scope", sa.Text, nullable=False, default=""),
    sa.Column("old_scope", sa.Text, nullable=False, default=""),
    sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.String(128), nullable=True),
)
MIGRATIONS = [create_tables(conflicts_table), unbounded_strings_on_postgresql(conflicts_table)]


class ConflictDecisionError(SouffleurError):
    """A decision that cannot be taken (unknown pair, already decided, scope missing)."""


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


@dataclass(frozen=True)
class StoredConflict(Conflict):
    id: int = 0
    status: str = "open"
    new_scope: str = ""
    old_scope: str = ""
    found_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def sides(self) -> tuple[tuple[str, str, str, str, str], tuple[str, str, str, str, str]]:
        """(doc, title, sentence, value, scope) of the new side, then of the existing one."""
        return (
            (self.new_doc, self.new_title, self.new_sentence, self.new_value, self.new_scope),
            (self.old_doc, self.old_title, self.old_sentence, self.old_value, self.old_scope),
        )


def _pair(c: Conflict) -> str:
    ends = sorted([f"{c.new_doc}\x00{c.new_sentence}", f"{c.old_doc}\x00{c.old_sentence}"])
    return hashlib.sha256("\x01".join(ends).encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class ConflictBook:
    """The pairs found, and the knowledge manager's decisions, in the knowledge database.

    A process re-reads them at most every ``refresh_s`` seconds (one small query), and at once
    after its own decisions."""

    def __init__(self, engine: Engine, *, refresh_s: float = REFRESH_S) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        migrate(engine, "knowledge.conflicts", MIGRATIONS)
        self._lock = threading.Lock()
        self._cached: list[StoredConflict] | None = None
        self._read_at = 0.0

    # -- writing -------------------------------------------------------------------------
    def record(self, found: Iterable[Conflict]) -> list[StoredConflict]:
        """Keep each pair found (the same two sentences found again, from either side, are the
        same pair: a decided one stays decided); returns the stored pairs, in order."""
        out: list[StoredConflict] = []
        for c in found:
            key = _pair(c)
            try:
                row = self._keep(c, key)
            except IntegrityError:  # another process recorded the same pair meanwhile
                row = self._keep(c, key)
            out.append(_stored(row))
        self._changed()
        return out

    def _keep(self, c: Conflict, key: str) -> Any:
        with self.engine.begin() as conn:
            row = _row(conn, conflicts_table.c.pair == key)
            if row is None:
                conn.execute(
                    sa.insert(conflicts_table).values(
                        pair=key,
                        status="open",
                        found_at=datetime.now(UTC),
                        **{f.name: getattr(c, f.name) for f in fields(Conflict)},
                    )
                )
            elif row["status"] == "gone":  # both sentences are back: open again
                conn.execute(
                    sa.update(conflicts_table)
                    .where(conflicts_table.c.pair == key, conflicts_table.c.status == "gone")
                    .values(status="open", decided_at=None, decided_by=None)
                )
            return _row(conn, conflicts_table.c.pair == key)

    def decide(
        self,
        conflict_id: int,
        keep: str,
        *,
        new_scope: str = "",
        old_scope: str = "",
        actor: str | None = None,
    ) -> StoredConflict:
        """Keep the new statement, the existing one, or both (each with the case it holds
        for: both scopes are required, so the agent can tell which applies)."""
        if keep not in KEEPS:
            raise ConflictDecisionError(
                f"cannot keep {keep!r}: choose new (the document just added), old (the one "
                "already indexed) or both (each with its scope)"
            )
        if keep == "both" and not (new_scope.strip() and old_scope.strip()):
            raise ConflictDecisionError(
                "keeping both needs the case each statement holds for (e.g. 'per item, "
                "engraved' and 'per order'): give both scopes"
            )
        self._refuse_decided(self.get(conflict_id))
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(conflicts_table)
                .where(conflicts_table.c.id == conflict_id, conflicts_table.c.status == "open")
                .values(
                    status=f"kept_{keep}",
                    new_scope=new_scope.strip() if keep == "both" else "",
                    old_scope=old_scope.strip() if keep == "both" else "",
                    decided_at=datetime.now(UTC),
                    decided_by=actor,
                )
            ).rowcount
        self._changed()
        if not changed:  # decided by someone else between our read and this write
            self._refuse_decided(self.get(conflict_id))
            raise ConflictDecisionError(
                f"conflict {conflict_id} changed while you decided: read it again, then decide"
            )
        return self.get(conflict_id)

    @staticmethod
    def _refuse_decided(current: StoredConflict) -> None:
        if current.status == "gone":
            raise ConflictDecisionError(
                f"conflict {current.id} is gone: one of its sentences is no longer in its "
                "document (nothing to decide)"
            )
        if not current.is_open:
            raise ConflictDecisionError(
                f"conflict {current.id} is already {current.status.replace('_', ' ')}"
                f"{' by ' + current.decided_by if current.decided_by else ''}: reopen it first "
                "to decide again"
            )

    def reopen(self, conflict_id: int) -> StoredConflict:
        current = self.get(conflict_id)
        if current.status == "gone":
            raise ConflictDecisionError(
                f"conflict {conflict_id} is gone: one of its sentences is no longer in its "
                "document (nothing to decide)"
            )
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(conflicts_table)
                .where(conflicts_table.c.id == conflict_id)
                .values(status="open", new_scope="", old_scope="", decided_at=None, decided_by=None)
            )
        self._changed()
        return self.get(conflict_id)

    def prune(self, kb: KnowledgeBase) -> int:
        """Mark ``gone`` the pairs one of whose sentences left its document (the document was
        deleted or replaced by a version without it); returns how many."""
        gone = []
        current = [c for c in self.all() if c.status != "gone"]
        named = {doc for c in current for doc in (c.new_doc, c.old_doc)}
        texts: dict[str, list[str]] = {}
        for ch in kb.retriever.snapshot().chunks if current else []:
            if ch.doc_id in named:  # the page checks at every view: keep only what it reads
                texts.setdefault(ch.doc_id, []).append(ch.text)
        for c in current:
            for doc, sentence in ((c.new_doc, c.new_sentence), (c.old_doc, c.old_sentence)):
                if not any(_holds(text, sentence) for text in texts.get(doc, ())):
                    gone.append(c.id)
                    break
        if gone:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(conflicts_table)
                    .where(conflicts_table.c.id.in_(gone))
                    .values(status="gone")
                )
            self._changed()
        return len(gone)

    # -- reading -------------------------------------------------------------------------
    def get(self, conflict_id: int) -> StoredConflict:
        with self.engine.connect() as conn:
            row = _row(conn, conflicts_table.c.id == conflict_id)
        if row is None:
            raise ConflictDecisionError(
                f"no conflict {conflict_id}: `souffleur conflicts list --all` lists them"
            )
        return _stored(row)

    def all(self) -> list[StoredConflict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(conflicts_table).order_by(conflicts_table.c.id))
            return [_stored(r) for r in rows.mappings()]

    def open(self) -> list[StoredConflict]:
        return [c for c in self.all() if c.is_open]

    def _current(self) -> list[StoredConflict]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._read_at >= self.refresh_s:
                self._cached = [c for c in self.all() if c.status != "gone"]
                self._read_at = time.monotonic()
            return self._cached

    def _changed(self) -> None:
        with self._lock:
            self._cached = None

    # -- what the drafter reads, what the agent is told ----------------------------------
    def screen(self, hits: list[Hit]) -> list[Hit]:
        """The hits as the decisions read them: a statement set aside reads as the one kept
        (the drafts quote the right figure wherever the passage is found)."""
        superseded: dict[str, list[tuple[str, str]]] = {}
        for c in self._current():
            if c.status == "kept_new":
                superseded.setdefault(c.old_doc, []).append((c.old_sentence, c.new_sentence))
            elif c.status == "kept_old":
                superseded.setdefault(c.new_doc, []).append((c.new_sentence, c.old_sentence))
        if not superseded:
            return hits
        out = []
        for h in hits:
            text = h.chunk.text
            for sentence, kept in superseded.get(h.doc_id, ()):
                text = _set_aside(text, sentence, kept)
            out.append(h if text == h.chunk.text else replace(h, chunk=replace(h.chunk, text=text)))
        return out

    def hints(self, cited: Sequence[Chunk], lang: str) -> list[str]:
        """What the agent should check when a draft cites a sentence of an open pair (the
        figures disagree) or of a pair kept both (which case applies)."""
        out = []
        for c in self._current():
            if c.status not in ("open", "kept_both"):
                continue
            if not any(
                ch.doc_id == doc and _holds(ch.text, sentence)
                for ch in cited
                for doc, sentence in ((c.new_doc, c.new_sentence), (c.old_doc, c.old_sentence))
            ):
                continue
            (_, nt, _, nv, ns), (_, ot, _, ov, os_) = c.sides()
            if c.status == "open":
                out.append(
                    f"Sources en désaccord (non tranché) : « {nt} » indique {nv}, « {ot} » "
                    f"indique {ov}. Vérifiez le bon chiffre avant d'envoyer."
                    if lang == "fr"
                    else f"Sources disagree (not settled yet): “{nt}” says {nv}, “{ot}” says "
                    f"{ov}. Check the right figure before sending."
                )
            else:
                out.append(
                    f"Deux cas : {nv} ({ns}, « {nt} ») ou {ov} ({os_}, « {ot} »). "
                    "Vérifiez lequel s'applique à ce client."
                    if lang == "fr"
                    else f"Two cases: {nv} ({ns}, “{nt}”) or {ov} ({os_}, “{ot}”). "
                    "Check which applies to this customer."
                )
        return out


def _holds(text: str, sentence: str) -> bool:
    """The passage states the sentence: as written, or as one of its table rows (a row is read
    with its header, "Colissimo — Price: 4.90 €.", which is nowhere in the text as such)."""
    return sentence in text or ("|" in text and sentence in _sentences(text))


@lru_cache(maxsize=1024)
def _sentences(text: str) -> frozenset[str]:
    return frozenset(sentences(text))


def _set_aside(text: str, sentence: str, kept: str) -> str:
    """The passage with the kept statement in place of the one set aside; a table row set
    aside leaves its table, and the kept statement follows the table."""
    if sentence in text:
        return text.replace(sentence, kept)
    if "|" not in text:
        return text  # no table
    row = next((p.cells for p in pieces(text) if p.text == sentence and p.cells), None)
    if row is None:
        return text
    lines = text.split("\n")
    at = next(
        (
            i
            for i, line in enumerate(lines)
            if line.lstrip().startswith("|")
            and " ".join(c.strip() for c in line.strip().strip("|").split("|")) == row
        ),
        None,
    )
    if at is None:
        return text
    del lines[at]
    end = at
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    lines[end:end] = ["", kept, ""]
    return "\n".join(lines)


def _row(conn: Connection, where: Any) -> Any:
    return conn.execute(sa.select(conflicts_table).where(where)).mappings().first()


def _stored(row: Any) -> StoredConflict:
    got = dict(row)
    got.pop("pair")
    got["found_at"] = _utc(got["found_at"])
    got["decided_at"] = _utc(got["decided_at"])
    return StoredConflict(**got)


# A bigger batch is checked against the documents already indexed, not its documents against
# each other: a first import of cdtn-fr's 491 legal articles took 17 s more and listed 207
# pairs, nearly all the law's own cases (2 months' notice after 2 years, 1 month before).
# `souffleur conflicts scan` checks a whole knowledge base on demand.
BATCH_CHECKED_WITHIN = 100


@dataclass(frozen=True)
class UploadCheck:
    conflicts: list[StoredConflict]
    unchecked_within: int = 0  # documents of a big batch not checked against each other

    @property
    def open(self) -> list[StoredConflict]:
        return [c for c in self.conflicts if c.is_open]


def check_upload(
    kb: KnowledgeBase, results: Sequence[FileResult], *, within_max: int = BATCH_CHECKED_WITHIN
) -> UploadCheck:
    """After an upload: pairs whose sentence left its document are closed, the changed
    documents are checked, and what they bring is kept (decided pairs stay decided)."""
    kb.conflicts.prune(kb)
    changed = changed_docs(results)
    within = len(changed) <= within_max
    found = kb.conflicts.record(find_conflicts(kb, changed, within=within))
    return UploadCheck(found, 0 if within else len(changed))


def changed_docs(results: Sequence[FileResult]) -> list[str]:
    """The documents an upload added or changed (those to check)."""
    return [d.doc_id for r in results if r.ok for d in r.docs if d.status in ("added", "updated")]


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
