"""The optional LLM judge (EVALS.md §1.5–1.7, §1.12): atomic binary verdicts, same schema.

It runs after the offline judge and only replaces what it can judge better:

- groundedness (§1.5): the draft is split into claim sentences exactly as the offline judge
  splits it (:func:`evals.judge.is_claim`); each claim is one question ("do the cited passages
  and the customer's order record support it?": supported / contradicted / not_in_context,
  plus which cited source supports it on its own), from which supported, grounded, citation
  precision and recall follow as in the offline judge. Escalated drafts are not asked about
  (they are scored by escalation only), as offline;
- correctness (§1.6): when the case has a reference answer, one binary rubric question ("does
  the reply resolve the question consistently with the reference and contradict nothing?").
  When the case has required facts, the deterministic required-facts check stays the decision
  and the LLM verdict is recorded beside it (``verdicts["llm"]["correct"]``);
- personalisation (§1.7) stays deterministic: the offline values are kept.

Every request is sent at temperature 0 with a fixed seed; the JSON answer is validated with
pydantic, and an invalid one gets one repair round. A question that still fails (transport
error after the SDK's retries, or invalid JSON twice) is a *judge failure*: it is counted
(``judge_failures`` on the record and in the summary), its LLM verdict is ``None``, and the
metric it feeds falls back to the offline verdict for that case, which the record says
(``verdicts["fallback"]``, ``verdicts["judged_by"]``). A failure never becomes a 0 or a NaN.

Also here: :func:`pairwise` (two drafts for one case, judged in both orders; a win counts only
when both orders agree) and :func:`self_agreement` (k samples at temperature > 0 on a subset,
majority vote). The prompt templates live in ``evals/templates/``; their names and hashes are
the template version, which is part of the cache key.
"""

from __future__ import annotations

from evals.llm_judge.agreement import samplers_from_settings, self_agreement
from evals.llm_judge.draft import LLMJudgement
from evals.llm_judge.pairwise import PairwiseResult, pairwise, pairwise_counts, pairwise_runs
from evals.llm_judge.questions import (
    TEMPLATES,
    ClaimAnswer,
    PairwiseAnswer,
    Question,
    RubricAnswer,
    order_record,
)
from evals.llm_judge.runs import judge_from_settings, judge_summary
from evals.llm_judge.verdicts import LLMJudge

__all__ = [
    "TEMPLATES",
    "ClaimAnswer",
    "LLMJudge",
    "LLMJudgement",
    "PairwiseAnswer",
    "PairwiseResult",
    "Question",
    "RubricAnswer",
    "judge_from_settings",
    "judge_summary",
    "order_record",
    "pairwise",
    "pairwise_counts",
    "pairwise_runs",
    "samplers_from_settings",
    "self_agreement",
]
