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

``detection``: the pairs found; ``stored``: their table; ``book``: the decisions, and what the
drafter and the agent read of them; ``passages``: a decision applied to a passage;
``upload``: the check after an upload.
"""

from knowledge.conflicts.book import KEEPS, REFRESH_S, ConflictBook, ConflictDecisionError, Keep
from knowledge.conflicts.detection import Conflict, Quantity, find_conflicts, quantities
from knowledge.conflicts.stored import MIGRATIONS, StoredConflict, conflicts_table, metadata
from knowledge.conflicts.upload import (
    BATCH_CHECKED_WITHIN,
    UploadCheck,
    changed_docs,
    check_upload,
)

__all__ = [
    "BATCH_CHECKED_WITHIN",
    "KEEPS",
    "MIGRATIONS",
    "REFRESH_S",
    "Conflict",
    "ConflictBook",
    "ConflictDecisionError",
    "Keep",
    "Quantity",
    "StoredConflict",
    "UploadCheck",
    "changed_docs",
    "check_upload",
    "conflicts_table",
    "find_conflicts",
    "metadata",
    "quantities",
]
