"""Which sent replies may become a FAQ, and which questions are one: the agent wrote the reply
where nothing supported the draft, questions asked alike (Jaccard of content stems), and an
answer the knowledge base already holds. The thresholds are measured by
``benchmarks/faq_thresholds.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.desk.gaps import KNOWLEDGE_REASONS, gap_terms
from copilot.desk.store import LIGHT_EDIT, ConversationRecord, as_utc
from copilot.types import Suggestion
from knowledge import KnowledgeBase

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


def agent_message(rec: ConversationRecord, feedback: dict[str, Any], used: set[int]) -> int | None:
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


def answered_message(rec: ConversationRecord, reply_id: int) -> int | None:
    """The customer message an agent message answers: the last one before it."""
    asked = None
    for m in rec.messages:
        if m.id == reply_id:
            return asked
        if m.role == "customer":
            asked = m.id
    return None
