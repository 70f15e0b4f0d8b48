"""What the drafters' versions digest, and the versions that a move of code keeps.

The offline drafter's version, and the ORDER FACTS part of the LLM prompt's, are digests of
their modules' source (``drafter.source_version``):
any change to its phrase bank or its rules is a new version, as a change to a prompt file is.
Moving that code from one module to another changes the digest but not one draft. Such a move
is recorded here once its drafts were checked identical: the digest of the code as moved, and
the version it keeps. The next change to those modules gives a digest not listed here: a new
version. (This module is not part of the digest: it names the modules and the digests.)
"""

from __future__ import annotations

# The modules whose source writes the order facts: the offline drafter states them, and the
# LLM drafter sends them as its prompt's ORDER FACTS; both versions digest them.
ORDER_FACTS_MODULES = (
    "copilot.pipeline.orderfacts",
    "copilot.pipeline.orderchoice",
    "copilot.pipeline.orderdates",
    "copilot.pipeline.orderreturns",
)

# the digest of moved code -> the version it keeps (the offline drafter's, and the LLM
# prompt's ORDER FACTS part)
KEPT: dict[str, str] = {
    # offline.py and orderfacts.py split by concept (the phrase bank, the quoted sentences, the
    # order chosen, dates and amounts, returns), select_sentences and _return_sentences split
    # along their steps: the demo conversations (3 option sets each) and the first 40 cases of
    # the telecom and rail eval sets gave the same drafts, citations, escalations, confidence
    # and features, and the same LLM prompts
    "offline-b4d1d4948f": "offline-840e93825d",
    # the order-fact modules' names written once, here, for both drafters' versions (the same
    # modules in the same order: offline.py's text changed, no rule or phrase did)
    "offline-3d8eea33e7": "offline-840e93825d",
    # the hand-off sentences moved from the phrase bank to their triggers in the default
    # policy file (the same sentences, now digested from there): 1,777 cases of the demo,
    # telecom, rail and both dev sets gave the same drafts and verdicts
    "offline-4fbd65c37a": "offline-840e93825d",
    # review of session 8: one look-up of the hand-off sentence, one reading of each quoted
    # sentence's step, one alternation of month names (1,777 cases: same drafts and verdicts)
    "offline-ec35043680": "offline-93cc7574d5",
    "facts-8eefe2389a": "facts-d9945b8cac",
    # review of sessions 9-10: the tu/vous words and "cites an order" read where they were
    # already defined (reading._FR_TU/_FR_VOUS, Citation.about_order) (1,777 cases: same drafts,
    # reasons, confidences and verdicts)
    "offline-3b25e73217": "offline-b735e36fc8",
}


def kept(version: str) -> str:
    """The version code had before it was only moved; else ``version`` itself."""
    return KEPT.get(version, version)
