"""The conversation store's tables (conversations, messages, drafts, agent feedback, the audit
log, the model-call log) and their ordered migrations, which databases record under the
namespace "copilot.store" (see :class:`copilot.desk.store.ConversationStore`)."""

from __future__ import annotations

import sqlalchemy as sa

from knowledge.db import create_tables, unbounded_strings_on_postgresql

metadata = sa.MetaData()


def _of_a_conversation() -> sa.Column[str]:
    """The conversation a row belongs to, and goes with when it is deleted."""
    return sa.Column(
        "conversation_id",
        sa.String(64),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(128), nullable=True, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open"),  # open | escalated | closed
    sa.Column("queue", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _of_a_conversation(),
    sa.Column("role", sa.String(16), nullable=False),  # customer | agent | system
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _of_a_conversation(),
    sa.Column("message_id", sa.Integer, nullable=False),  # the customer message it answers
    sa.Column("suggestion", sa.Text, nullable=False),  # the full Suggestion, JSON
    sa.Column("draft_text", sa.Text, nullable=False),
    sa.Column("edited_text", sa.Text, nullable=False),  # autosaved as the agent types
    sa.Column(
        "status", sa.String(16), nullable=False, default="open"
    ),  # open | sent | discarded | escalated | superseded | proposed | dismissed
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("escalate", sa.Boolean, nullable=False),
    sa.Column("query", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("draft_id", sa.Integer, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # accepted | edited | rejected | escalated
    sa.Column("drafted_text", sa.Text, nullable=False),
    sa.Column("sent_text", sa.Text, nullable=False),
    sa.Column("edit_ratio", sa.Float, nullable=True),
    sa.Column("seconds_to_send", sa.Float, nullable=True),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("reasons", sa.Text, nullable=False, default="[]"),
    sa.Column("queue", sa.Text, nullable=True),
    sa.Column("agent", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
audit = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
)
model_calls = sa.Table(
    "model_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("drafter", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("retrieved", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
)
MIGRATIONS = [
    create_tables(conversations, messages, drafts, feedback, audit, model_calls),
    unbounded_strings_on_postgresql(conversations, messages, drafts, feedback, audit, model_calls),
]
