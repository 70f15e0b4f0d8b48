"""FAQ drafts from resolved conversations: what agents wrote where the knowledge had nothing,
proposed as question-and-answer entries that a knowledge manager approves, edits or rejects.

A sent reply is a candidate when the agent wrote it (from scratch, or by rewriting the draft:
edit ratio at least :data:`HEAVY_EDIT`) and nothing supported the draft of that message (no
citation, an escalation for missing knowledge, or a confidence under the policy's
``low_confidence``); replies handed to a human on purpose (GDPR, anger...) and thanks are no
FAQ. The question is the customer's message and the answer the agent's text, personal data as
placeholders. Questions that share their content words (Jaccard of stems at least
:data:`SAME_QUESTION`) make one entry with several example questions; an entry whose answer a
passage among the question's top hits already holds (:data:`COVERED` of the answer's content
words) is not proposed. Approval refuses a text that still holds personal data, then ingests
it as a FAQ document with its provenance. ``benchmarks/faq_thresholds.py`` measures the three
thresholds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from copilot.desk.desk import KNOWLEDGE_REASONS, Gap, as_placeholders, gap_terms
from copilot.desk.store import (
    LIGHT_EDIT,
    ConversationRecord,
    ConversationStore,
    as_utc,
    drafts,
    now,
)
from copilot.pipeline.pii import PLACEHOLDER, Masker
from copilot.pipeline.safety import foreign_identities
from copilot.types import Suggestion
from knowledge import Document, KnowledgeBase, detect_language
from knowledge.conflicts import find_conflicts
from knowledge.db import create_tables, migrate, unbounded_strings_on_postgresql
from knowledge.errors import IngestError, SouffleurError
from knowledge.loaders import slug
from knowledge.text import fold

if TYPE_CHECKING:  # the wiring builds the desk: only its type is read here
    from copilot.workspace import Workspace

# An edited draft from this edit ratio on is the agent's own answer: the store's LIGHT_EDIT,
# where "accepted" ends. Measured (benchmarks/faq_thresholds.py): the eval sets' human reference
# answers against the copilot's offline drafts of the same 452 questions are at least 0.48
# apart for 98 % of them and 0.4 for 99.8 %, so a reply an agent wrote is not taken for a draft.
HEAVY_EDIT = LIGHT_EDIT
# A question joins an entry from this mean Jaccard similarity of content stems with its
# questions on. Measured by clustering cdtn-fr's 1,124 query variants (133 groups, each mapped to
# one answer by its editors): the highest F0.5 (precision 0.73, recall 0.36); precision counts
# twice, as one entry answering two different questions is worse than two entries a manager
# merges by rejecting one.
SAME_QUESTION = 0.45
# The knowledge already answers a question when one of its top COVER_HITS passages holds
# COVERED of the answer's content stems, and the answer has COVER_MIN_TERMS stems or more (a few
# words in common prove nothing). Measured (benchmarks/faq_thresholds.py) on 1,202 reference
# answers of the eval sets, mtrag-support-en and cdtn-fr, whole and cut to their first sentence,
# searched with and without their reference documents: of the pairs that take under 5 % of the
# gaps for answered (here 4.8 %), the one that recognises the most answered ones (30 %).
COVERED = 0.6
COVER_MIN_TERMS = 5
COVER_HITS = 3
SOURCE = "faq-drafts"  # the source name of approved FAQ drafts in the knowledge base
STATUSES = ("pending", "approved", "rejected")

metadata = sa.MetaData()
faq_drafts = sa.Table(
    "faq_drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|approved|rejected
    sa.Column("origin", sa.String(16), nullable=False),  # conversations | gap
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("examples", sa.Text, nullable=False, default="[]"),  # customers' questions, JSON
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("conversation_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("feedback_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("created_by", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("doc_id", sa.String(255), nullable=True),  # the document its approval ingested
)
MIGRATIONS = [create_tables(faq_drafts), unbounded_strings_on_postgresql(faq_drafts)]


class FaqDraftError(SouffleurError):
    """A FAQ draft cannot be approved or rejected as asked."""


class PersonalDataError(FaqDraftError):
    """The text to approve still holds personal data (or a placeholder standing for it)."""


@dataclass(frozen=True)
class FaqDraft:
    id: int
    status: str
    origin: str
    question: str
    answer: str
    examples: tuple[str, ...]
    lang: str
    conversation_ids: tuple[str, ...]
    feedback_ids: tuple[int, ...]
    created_by: str | None
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    doc_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A reply an agent wrote to a question the knowledge did not support."""

    conversation_id: str
    feedback_id: int
    message_id: int  # the customer message it answers
    question: str  # placeholders for personal data, amounts and numbers
    answer: str  # placeholders for personal data and numbers; amounts kept
    lang: str
    at: datetime


@dataclass(frozen=True)
class Covered:
    """A question the knowledge base already answers: not proposed."""

    question: str
    doc_id: str
    title: str
    share: float  # of the answer's content stems the passage holds


@dataclass
class Proposals:
    new: list[FaqDraft] = field(default_factory=list)
    extended: list[FaqDraft] = field(default_factory=list)  # pending drafts given more examples
    covered: list[Covered] = field(default_factory=list)
    decided: list[tuple[str, FaqDraft]] = field(default_factory=list)  # asked again, decided before
    replies: int = 0  # candidate replies read


def question_terms(text: str, lang: str) -> set[str]:
    return set(gap_terms(text, lang))


def similarity(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two questions' content stems."""
    return len(a & b) / len(a | b) if a and b else 0.0


def answer_share(answer: str, passage: str, lang: str) -> float:
    """The share of the answer's content stems that the passage holds."""
    said = set(gap_terms(answer, lang))
    return len(said & set(gap_terms(passage, lang))) / len(said) if said else 0.0


def best_passage(
    kb: KnowledgeBase,
    question: str,
    answer: str,
    lang: str,
    *,
    doc_ids: Sequence[str] | None = None,
) -> tuple[str, str, float] | None:
    """Among the question's top :data:`COVER_HITS` passages, the one holding the largest share
    of the answer's content stems: (doc id, title, share); None when nothing is found."""
    best: tuple[str, str, float] | None = None
    for hit in kb.search(question, k=COVER_HITS, doc_ids=doc_ids):
        share = answer_share(answer, hit.chunk.context_text, lang)
        if best is None or share > best[2]:
            best = (hit.doc_id, hit.title, share)
    return best


def covering(
    kb: KnowledgeBase, question: str, answer: str, lang: str
) -> tuple[str, str, float] | None:
    """The document that already answers ``question`` as ``answer`` does (doc id, title,
    share), or None; None too for an answer of under :data:`COVER_MIN_TERMS` content stems."""
    if len(set(gap_terms(answer, lang))) < COVER_MIN_TERMS:
        return None
    best = best_passage(kb, question, answer, lang)
    return best if best is not None and best[2] >= COVERED else None


def group_questions(
    questions: Sequence[tuple[str, str]], threshold: float = SAME_QUESTION
) -> list[list[int]]:
    """Questions (text, language) asked alike, as groups of their indexes: a question joins the
    group of its language it is most similar to on average, when that average is at least
    ``threshold``, else starts a group (average link: a chain of look-alikes does not make one
    entry of different questions); groups in the order of their first question."""
    groups: list[tuple[str, list[set[str]], list[int]]] = []
    for i, (text, lang) in enumerate(questions):
        terms = question_terms(text, lang)
        best = max(
            ((alike(terms, ts), g) for g, (g_lang, ts, _) in enumerate(groups) if g_lang == lang),
            default=(0.0, -1),
        )
        if best[1] >= 0 and best[0] >= threshold:
            groups[best[1]][1].append(terms)
            groups[best[1]][2].append(i)
        else:
            groups.append((lang, [terms], [i]))
    return [members for _, _, members in groups]


def alike(terms: set[str], group: Sequence[set[str]]) -> float:
    """The mean similarity of a question to a group's questions."""
    return sum(similarity(terms, t) for t in group) / len(group) if group else 0.0


def written_by_agent(feedback: dict[str, Any]) -> bool:
    """The sent text is the agent's own: written without a draft (or after discarding it), or
    a draft rewritten at least :data:`HEAVY_EDIT`."""
    if not str(feedback.get("sent_text") or "").strip():
        return False
    if feedback["outcome"] == "rejected":
        return True
    return feedback["outcome"] == "edited" and (feedback["edit_ratio"] or 0.0) >= HEAVY_EDIT


def unsupported(s: Suggestion | None, low_confidence: float) -> bool:
    """Nothing supported the draft: no citation (of a passage or of the customer's orders), an
    escalation for missing knowledge, or a confidence under the policy's ``low_confidence``.
    No draft at all: nothing is known to have supported the reply."""
    if s is None:
        return True
    return (
        not s.citations
        or bool(set(s.escalation.codes) & KNOWLEDGE_REASONS)
        or s.confidence < low_confidence
    )


def faq_material(s: Suggestion | None) -> bool:
    """Thanks and greetings, and questions a policy trigger hands to a human on purpose (GDPR,
    anger, a legal threat...), make no FAQ."""
    if s is None:
        return True
    return s.intent != "chit_chat" and not set(s.escalation.codes) - KNOWLEDGE_REASONS


_KINDS = {
    "EMAIL": "an e-mail address",
    "PHONE": "a phone number",
    "IBAN": "an IBAN",
    "CARD": "a card number",
    "NATIONAL_ID": "a social-security number",
    "ADDRESS": "a street address",
    "NAME": "a customer's name",
}


def _kind(placeholder: str) -> str:
    return re.sub(r"_\d+$", "", placeholder.strip("[]"))


class FaqDrafts:
    """Proposals from the conversation history, their review, and the approved ones' ingestion."""

    def __init__(self, ws: Workspace, store: ConversationStore | None = None) -> None:
        self.ws = ws
        self.store = store or ConversationStore(ws.engine)
        self.engine = ws.engine
        migrate(
            self.engine, "copilot.faqdrafts", MIGRATIONS
        )  # the namespace databases already record

    # -- reading -----------------------------------------------------------------------
    def entries(self, status: str | None = None) -> list[FaqDraft]:
        q = sa.select(faq_drafts).order_by(faq_drafts.c.id)
        if status is not None:
            if status not in STATUSES:
                raise FaqDraftError(
                    f"There is no FAQ draft status '{status}'.",
                    f"Use one of: {', '.join(STATUSES)}.",
                )
            q = q.where(faq_drafts.c.status == status)
        with self.engine.connect() as conn:
            return [_draft(r) for r in conn.execute(q).mappings()]

    def get(self, draft_id: int) -> FaqDraft:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(faq_drafts).where(faq_drafts.c.id == draft_id))
                .mappings()
                .first()
            )
        if row is None:
            raise FaqDraftError(
                f"There is no FAQ draft {draft_id}.",
                "`souffleur faq list` (or the Knowledge page's FAQ drafts tab) shows them.",
            )
        return _draft(row)

    # -- proposing ---------------------------------------------------------------------
    def replies(self, *, since: datetime | None = None, everything: bool = False) -> list[Reply]:
        """Sent replies the agents wrote to questions nothing supported, oldest first, but for
        those already in a FAQ draft; ``everything``: those too, and whatever supported their
        draft (the replies to a knowledge gap's questions)."""
        taken = set() if everything else self._taken_feedback()
        rows = [
            f
            for f in self.store.feedback_rows(since=since)
            if f["id"] not in taken and written_by_agent(f)
        ]
        low = self.ws.service.policy.settings.low_confidence
        convs: dict[str, ConversationRecord] = {}
        by_id, by_message = self._drafts_of({f["conversation_id"] for f in rows})
        used: set[int] = set()
        out: list[Reply] = []
        for f in rows:
            cid = f["conversation_id"]
            if cid not in convs:
                convs[cid] = self.store.get(cid)
            rec = convs[cid]
            reply = _agent_message(rec, f, used)
            if reply is None:
                continue
            used.add(reply)
            draft = by_id.get(f["draft_id"]) if f["draft_id"] is not None else None
            asked = draft[0] if draft else _answered_message(rec, reply)
            if asked is None:
                continue
            suggestion = draft[1] if draft else by_message.get((cid, asked))
            if not faq_material(suggestion) or not (everything or unsupported(suggestion, low)):
                continue
            question = next(m.text for m in rec.messages if m.id == asked)
            names = self._names(rec, reply)
            shown = as_placeholders(question, names=names)
            out.append(
                Reply(
                    conversation_id=cid,
                    feedback_id=int(f["id"]),
                    message_id=asked,
                    question=shown,
                    answer=as_placeholders(f["sent_text"], amounts=False, names=names),
                    lang=detect_language(shown)[0],
                    at=f["created_at"],
                )
            )
        return out

    def propose(self, *, since: datetime | None = None, author: str | None = None) -> Proposals:
        """Group the new candidate replies into entries, leave out what the knowledge already
        answers or a manager already decided, add the rest to pending drafts (a similar pending
        draft gets the new examples) or store them as new pending drafts."""
        found = self.replies(since=since)
        result = Proposals(replies=len(found))
        existing = self.entries()
        for members in group_questions([(r.question, r.lang) for r in found]):
            group = [found[i] for i in members]
            lang = group[0].lang
            terms = [question_terms(r.question, lang) for r in group]
            match = _closest(existing, terms, lang)
            if match is not None and match.status != "pending":
                result.decided.append((group[0].question, match))
                continue
            if match is not None:
                result.extended.append(self._extend(match, group))
                continue
            answer = group[-1].answer  # the latest agent's wording
            cover = next(
                (c for r in group if (c := covering(self.ws.kb, r.question, answer, lang))),
                None,
            )
            if cover is not None:
                result.covered.append(Covered(group[0].question, *cover))
                continue
            draft = self._insert(
                origin="conversations",
                question=group[0].question,
                answer=answer,
                examples=_unique(r.question for r in group),
                lang=lang,
                conversation_ids=_unique(r.conversation_id for r in group),
                feedback_ids=[r.feedback_id for r in group],
                author=author,
            )
            existing.append(draft)
            result.new.append(draft)
        return result

    def draft_from_gap(self, gap: Gap, *, author: str | None = None) -> tuple[FaqDraft, bool]:
        """A pending draft from a knowledge gap's questions, its answer the latest reply an
        agent wrote in those conversations (empty when none did: the manager writes it).
        Returns (draft, created); a pending draft that already holds one of the gap's questions
        is returned as it is."""
        if not gap.examples:
            raise FaqDraftError("This knowledge gap has no question.", "Pick another gap.")
        for d in self.entries("pending"):
            if set(d.examples) & set(gap.examples):
                return d, False
        with self.engine.connect() as conn:
            asked = {
                (r.conversation_id, r.message_id)
                for r in conn.execute(
                    sa.select(drafts.c.conversation_id, drafts.c.message_id).where(
                        drafts.c.id.in_(gap.draft_ids)
                    )
                )
            }
        answered = [
            r for r in self.replies(everything=True) if (r.conversation_id, r.message_id) in asked
        ]
        lang = detect_language(gap.examples[0])[0]
        draft = self._insert(
            origin="gap",
            question=gap.examples[0],
            answer=answered[-1].answer if answered else "",
            examples=list(gap.examples),
            lang=lang,
            conversation_ids=_unique(c for c, _ in sorted(asked)),
            feedback_ids=[r.feedback_id for r in answered],
            author=author,
        )
        return draft, True

    # -- deciding ----------------------------------------------------------------------
    def personal_data(self, text: str) -> list[str]:
        """What in ``text`` is personal data, each as "what (the value)": e-mail addresses,
        phone numbers, IBANs, cards, social-security numbers and street addresses the knowledge
        base does not already publish (the store's own contacts), customers' names and
        e-mails, their order and tracking numbers; and placeholders left in."""
        masker = Masker()
        masker.mask(text)
        published = self._published(list(masker.mapping.values()))
        found = [
            f"{_KINDS.get(_kind(p), p)} ({v})"
            for p, v in masker.mapping.items()
            if v not in published
        ]
        found += [
            f"a customer's name or e-mail ({v})"
            for v in foreign_identities(text, None, self.ws.orders)
        ]
        quoted = self.ws.orders.quoted(None, text)
        found += [f"an order or tracking number ({n})" for n in (*quoted.foreign, *quoted.unknown)]
        found += [f"the placeholder {p}" for p in dict.fromkeys(PLACEHOLDER.findall(text))]
        return found

    def approve(
        self,
        draft_id: int,
        *,
        by: str | None,
        question: str | None = None,
        answer: str | None = None,
    ) -> FaqDraft:
        """Approve a pending draft (with the manager's edits) and ingest it as a FAQ document;
        text that still holds personal data is refused and nothing is ingested."""
        draft = self._pending(draft_id, "approved")
        q = (question if question is not None else draft.question).strip()
        a = (answer if answer is not None else draft.answer).strip()
        if not q or not a:
            raise FaqDraftError(
                f"FAQ draft {draft_id} has no {'question' if not q else 'answer'}.",
                "Write it, then approve again.",
            )
        problems = [f"{p} in the question" for p in self.personal_data(q)]
        problems += [f"{p} in the answer" for p in self.personal_data(a)]
        if problems:
            raise PersonalDataError(
                f"FAQ draft {draft_id} still holds personal data: {'; '.join(problems)}.",
                "Remove it from the text, and write placeholders out without naming anyone "
                '("Hello [NAME]," becomes "Hello,"), then approve again; nothing was added to '
                "the knowledge base.",
            )
        stamp = now()
        doc = _faq_document(draft, q, a, by=by, at=stamp)
        self._decide(draft_id, "approved", by, stamp, question=q, answer=a, doc_id=doc.doc_id)
        try:
            self.ws.kb.ingest_documents([doc], source_name=SOURCE)
        except BaseException as exc:
            self._pending_again(draft)  # not ingested
            if not isinstance(exc, IngestError):
                raise
            other = self.ws.kb.document(doc.doc_id)
            raise FaqDraftError(
                f"FAQ draft {draft_id} could not be added to the knowledge base "
                f"({exc.problem.rstrip('.')}); it is pending again.",
                f"Delete the document {doc.doc_id} (from {other.source_name}) on the Knowledge "
                "page, then approve again."
                if other is not None
                else "Approve it again once that is fixed.",
            ) from exc
        # like an upload, an approved FAQ that contradicts a document is listed for a decision
        self.ws.kb.conflicts.record(find_conflicts(self.ws.kb, [doc.doc_id]))
        return self.get(draft_id)

    def reject(self, draft_id: int, *, by: str | None) -> FaqDraft:
        self._pending(draft_id, "rejected")
        self._decide(draft_id, "rejected", by, now())
        return self.get(draft_id)

    # -- internals ---------------------------------------------------------------------
    def _published(self, values: Sequence[str]) -> set[str]:
        """Those of ``values`` that an indexed passage states (the store's e-mail address,
        phone number or street address): no customer's data."""
        if not values:
            return set()
        texts = [fold(c.text) for c in self.ws.kb.retriever.snapshot().chunks]
        return {v for v in values if any(fold(v) in t for t in texts)}

    def _pending(self, draft_id: int, verb: str) -> FaqDraft:
        draft = self.get(draft_id)
        if draft.status != "pending":
            raise FaqDraftError(
                f"FAQ draft {draft_id} was already {draft.status}"
                + (f" by {draft.decided_by}" if draft.decided_by else "")
                + (f" on {draft.decided_at:%Y-%m-%d %H:%M}" if draft.decided_at else "")
                + f"; only a pending draft can be {verb}.",
                "To change an approved FAQ, edit or delete its document on the Knowledge page."
                if draft.status == "approved"
                else "Nothing to do: `souffleur faq list --status pending` shows what is left.",
            )
        return draft

    def _pending_again(self, draft: FaqDraft) -> None:
        """Undo an approval whose ingestion failed: the draft is pending, as it was."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft.id)
                .values(
                    status="pending",
                    question=draft.question,
                    answer=draft.answer,
                    decided_by=None,
                    decided_at=None,
                    doc_id=None,
                )
            )

    def _decide(
        self, draft_id: int, status: str, by: str | None, at: datetime, **values: Any
    ) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft_id, faq_drafts.c.status == "pending")
                .values(status=status, decided_by=by, decided_at=at, **values)
            ).rowcount
        if not changed:  # decided by someone else between our read and this write
            self._pending(draft_id, status)
            raise FaqDraftError(  # decided, then set back to pending (its ingestion failed)
                f"FAQ draft {draft_id} changed while you decided.",
                "Read it again (`souffleur faq list --status pending`), then decide.",
            )

    def _insert(
        self,
        *,
        origin: str,
        question: str,
        answer: str,
        examples: Sequence[str],
        lang: str,
        conversation_ids: Sequence[str],
        feedback_ids: Sequence[int],
        author: str | None,
    ) -> FaqDraft:
        with self.engine.begin() as conn:
            key = conn.execute(
                sa.insert(faq_drafts).values(
                    status="pending",
                    origin=origin,
                    question=question,
                    answer=answer,
                    examples=json.dumps(list(examples), ensure_ascii=False),
                    lang=lang,
                    conversation_ids=json.dumps(list(conversation_ids)),
                    feedback_ids=json.dumps(list(feedback_ids)),
                    created_by=author,
                    created_at=now(),
                )
            ).inserted_primary_key
        return self.get(int(key[0]) if key else 0)

    def _extend(self, draft: FaqDraft, group: Sequence[Reply]) -> FaqDraft:
        """More customers asked a pending draft's question: their words and provenance join it."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft.id)
                .values(
                    examples=json.dumps(
                        _unique([*draft.examples, *(r.question for r in group)]),
                        ensure_ascii=False,
                    ),
                    conversation_ids=json.dumps(
                        _unique([*draft.conversation_ids, *(r.conversation_id for r in group)])
                    ),
                    feedback_ids=json.dumps([*draft.feedback_ids, *(r.feedback_id for r in group)]),
                )
            )
        return self.get(draft.id)

    def _taken_feedback(self) -> set[int]:
        with self.engine.connect() as conn:
            return {
                int(i)
                for (ids,) in conn.execute(sa.select(faq_drafts.c.feedback_ids))
                for i in json.loads(ids or "[]")
            }

    def _drafts_of(
        self, conversation_ids: set[str]
    ) -> tuple[dict[int, tuple[int, Suggestion]], dict[tuple[str, int], Suggestion]]:
        """The drafts of these conversations: by id (the customer message it answers, the
        suggestion), and the latest one of each customer message."""
        by_id: dict[int, tuple[int, Suggestion]] = {}
        by_message: dict[tuple[str, int], Suggestion] = {}
        if not conversation_ids:
            return by_id, by_message
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    drafts.c.id, drafts.c.conversation_id, drafts.c.message_id, drafts.c.suggestion
                )
                .where(
                    drafts.c.conversation_id.in_(sorted(conversation_ids)),
                    drafts.c.status.not_in(("proposed", "dismissed")),
                )
                .order_by(drafts.c.id)
            ).all()
        for did, cid, mid, raw in rows:
            s = Suggestion.model_validate_json(raw)
            by_id[int(did)] = (int(mid), s)
            by_message[(cid, int(mid))] = s
        return by_id, by_message

    def _names(self, rec: ConversationRecord, reply_id: int) -> list[str]:
        """The customer's name (from the order feed) and the replying agent's."""
        names = []
        customer = self.ws.orders.customer(rec.customer_id) if rec.customer_id else None
        if customer and customer.name:
            names.append(customer.name)
        agent = next((m.author for m in rec.messages if m.id == reply_id), None)
        if agent:
            names.append(agent)
        return names


def _faq_document(
    draft: FaqDraft, question: str, answer: str, *, by: str | None, at: datetime
) -> Document:
    """An approved FAQ draft as the document it is ingested as, its provenance in metadata."""
    return Document(
        doc_id=f"faq-draft-{draft.id}",
        title=question,
        text=f"## {question}\n\n{answer}\n",
        lang=draft.lang,
        source_name=SOURCE,
        format="faq",
        metadata={
            "faq_draft": draft.id,
            "origin": draft.origin,
            "examples": list(draft.examples),
            "conversation_ids": list(draft.conversation_ids),
            "feedback_ids": list(draft.feedback_ids),
            "approved_by": by,
            "approved_at": at.isoformat(),
        },
    )


def _agent_message(rec: ConversationRecord, feedback: dict[str, Any], used: set[int]) -> int | None:
    """The agent message a feedback row recorded: its text, sent at or before the row."""
    at = as_utc(feedback["created_at"])
    found = [
        m.id
        for m in rec.messages
        if m.role == "agent"
        and m.text == feedback["sent_text"]
        and m.created_at <= at
        and m.id not in used
    ]
    return found[-1] if found else None


def _answered_message(rec: ConversationRecord, reply_id: int) -> int | None:
    """The customer message an agent message answers: the last one before it."""
    asked = None
    for m in rec.messages:
        if m.id == reply_id:
            return asked
        if m.role == "customer":
            asked = m.id
    return None


def _closest(drafts_: Sequence[FaqDraft], terms: Sequence[set[str]], lang: str) -> FaqDraft | None:
    """The FAQ draft (any status) asked alike: the highest mean similarity of a group's
    questions to its examples, at least :data:`SAME_QUESTION`."""
    best: tuple[float, FaqDraft | None] = (SAME_QUESTION, None)
    for d in drafts_:
        if d.lang != lang or not d.examples:
            continue
        theirs = [question_terms(e, lang) for e in d.examples]
        score = sum(alike(t, theirs) for t in terms) / len(terms)
        if score >= best[0]:
            best = (score, d)
    return best[1]


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def _draft(row: Any) -> FaqDraft:
    return FaqDraft(
        id=int(row["id"]),
        status=row["status"],
        origin=row["origin"],
        question=row["question"],
        answer=row["answer"],
        examples=tuple(json.loads(row["examples"] or "[]")),
        lang=row["lang"],
        conversation_ids=tuple(json.loads(row["conversation_ids"] or "[]")),
        feedback_ids=tuple(int(i) for i in json.loads(row["feedback_ids"] or "[]")),
        created_by=row["created_by"],
        created_at=as_utc(row["created_at"]),
        decided_by=row["decided_by"],
        decided_at=as_utc(row["decided_at"]) if row["decided_at"] else None,
        doc_id=row["doc_id"],
    )


# -- write an article from a gap ---------------------------------------------------------
ANSWER_PROMPT = {"en": "(Write the answer here.)", "fr": "(Écrivez la réponse ici.)"}


@dataclass(frozen=True)
class ArticleDraft:
    """A Markdown article to write for a knowledge gap: a title and the customers' questions."""

    title: str
    body: str
    lang: str

    def file(self, title: str, body: str, *, taken: Collection[str] = ()) -> tuple[str, bytes]:
        """The Markdown file to upload (name, content) once the manager has written it; an
        article with no title, whose answer is still to write, or whose file name is one of
        ``taken`` (the knowledge base's files: an upload of that name would replace it), is
        refused."""
        if not title.strip():
            raise FaqDraftError("The article has no title.", "Give it one, then save.")
        name = f"{slug(title)[:60]}.md"
        if name in taken:
            raise FaqDraftError(
                f"The knowledge base already has a file named {name}; saving would replace it.",
                "Change the title, or edit that document from the Documents tab.",
            )
        if not body.strip() or ANSWER_PROMPT[self.lang] in body:
            raise FaqDraftError(
                "The article has no answer yet.",
                f"Replace '{ANSWER_PROMPT[self.lang]}' with the answer, then save.",
            )
        text = f"---\nlang: {self.lang}\n---\n# {title.strip()}\n\n{body.strip()}\n"
        return name, text.encode("utf-8")


def article_from_gap(gap: Gap) -> ArticleDraft:
    """An article to write for a gap: titled by its first question, its questions listed."""
    first = re.sub(r"\s+", " ", PLACEHOLDER.sub("", gap.example)).strip()
    lang = "fr" if detect_language(first)[0] == "fr" else "en"
    title = re.split(r"(?<=[?.!])\s", first, maxsplit=1)[0][:80].strip()
    asked = "Questions des clients" if lang == "fr" else "Customers asked"
    lines = [f"{asked}:", "", *(f"- {q}" for q in gap.examples), "", ANSWER_PROMPT[lang]]
    return ArticleDraft(title[:1].upper() + title[1:], "\n".join(lines), lang)
