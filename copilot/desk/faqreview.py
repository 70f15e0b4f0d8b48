"""A knowledge manager's decision on a FAQ draft: personal data found in its text, approval
(refused while personal data remains, then ingested as a FAQ document with its provenance) and
rejection."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from copilot.desk.faqtable import FaqDraft, FaqDraftError, FaqTable, PersonalDataError
from copilot.desk.store import now
from copilot.pipeline.pii import PLACEHOLDER, Masker
from copilot.pipeline.safety import foreign_identities
from knowledge import Document
from knowledge.conflicts import find_conflicts
from knowledge.errors import IngestError
from knowledge.text import fold

if TYPE_CHECKING:  # the wiring builds the desk: only its type is read here
    from copilot.workspace import Workspace

SOURCE = "faq-drafts"  # the source name of approved FAQ drafts in the knowledge base

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


class FaqReview(FaqTable):
    """The deciding part of :class:`copilot.desk.faqdrafts.FaqDrafts`."""

    ws: Workspace

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
