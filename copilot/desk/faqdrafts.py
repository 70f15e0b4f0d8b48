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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from copilot.desk.faqarticles import ANSWER_PROMPT, article_from_gap
from copilot.desk.faqmatching import (
    COVER_MIN_TERMS,
    COVERED,
    HEAVY_EDIT,
    SAME_QUESTION,
    Covered,
    Reply,
    agent_message,
    alike,
    answered_message,
    best_passage,
    covering,
    faq_material,
    group_questions,
    question_terms,
    unsupported,
    written_by_agent,
)
from copilot.desk.faqreview import FaqReview
from copilot.desk.faqtable import (
    MIGRATIONS,
    FaqDraft,
    FaqDraftError,
    PersonalDataError,
    unique,
)
from copilot.desk.gaps import Gap, as_placeholders
from copilot.desk.store import ConversationRecord, ConversationStore, drafts
from copilot.types import Suggestion
from knowledge import detect_language
from knowledge.db import migrate

if TYPE_CHECKING:  # the wiring builds the desk: only its type is read here
    from copilot.workspace import Workspace

# what other modules import from here, besides what is defined here (FAQ drafts were one
# module: the matching rules are in faqmatching, the review in faqreview, the table in faqtable,
# the articles written for a gap in faqarticles)
__all__ = [
    "ANSWER_PROMPT",
    "COVERED",
    "COVER_MIN_TERMS",
    "HEAVY_EDIT",
    "SAME_QUESTION",
    "FaqDraft",
    "FaqDraftError",
    "FaqDrafts",
    "PersonalDataError",
    "Proposals",
    "article_from_gap",
    "best_passage",
    "group_questions",
]


@dataclass
class Proposals:
    new: list[FaqDraft] = field(default_factory=list)
    extended: list[FaqDraft] = field(default_factory=list)  # pending drafts given more examples
    covered: list[Covered] = field(default_factory=list)
    decided: list[tuple[str, FaqDraft]] = field(default_factory=list)  # asked again, decided before
    replies: int = 0  # candidate replies read


class FaqDrafts(FaqReview):
    """Proposals from the conversation history, their review, and the approved ones' ingestion."""

    def __init__(self, ws: Workspace, store: ConversationStore | None = None) -> None:
        self.ws = ws
        self.store = store or ConversationStore(ws.engine)
        self.engine = ws.engine
        migrate(
            self.engine, "copilot.faqdrafts", MIGRATIONS
        )  # the namespace databases already record

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
            reply = agent_message(rec, f, used)
            if reply is None:
                continue
            used.add(reply)
            draft = by_id.get(f["draft_id"]) if f["draft_id"] is not None else None
            asked = draft[0] if draft else answered_message(rec, reply)
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
                examples=unique(r.question for r in group),
                lang=lang,
                conversation_ids=unique(r.conversation_id for r in group),
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
            conversation_ids=unique(c for c, _ in sorted(asked)),
            feedback_ids=[r.feedback_id for r in answered],
            author=author,
        )
        return draft, True

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
