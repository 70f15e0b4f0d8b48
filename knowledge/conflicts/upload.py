"""What an upload brings: the pairs its changed documents make, found and recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.conflicts.detection import find_conflicts
from knowledge.conflicts.stored import StoredConflict

if TYPE_CHECKING:
    from knowledge.base import FileResult, KnowledgeBase

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
