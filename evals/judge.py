"""Atomic verdicts on one draft: grounded, correct, personal, leaks (EVALS.md §1.5–1.7).

The offline judge is lexical and deterministic: it extracts atomic facts (amounts, numbers,
dates, durations, order and tracking numbers, e-mails) with regular expressions and
normalisers (:mod:`evals.facts`). A claim passes when every atomic fact in it appears in what
it cites (or the order record) and its content words are recalled by the best cited sentence
(>= theta, :mod:`evals.overlap`). High precision, low recall: failures are labelled
"unsupported (lexical)", not "hallucinated".

The judge is a list of registered evaluators (:data:`EVALUATORS`): each fills its own fields of
the verdicts, and declares what the comparison of two runs counts from it (its outcomes) and
the rows it adds to a run's metrics table (its summary rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from evals.facts import (
    atomic_facts,
    fact_in,
    facts_found,
    identifiers,
    is_claim,
    normalise,
)
from evals.overlap import (
    _lcs_length,  # noqa: F401  (read here by the tests, as it always was)
    rouge_l,
    supported,
    token_f1,
)
from evals.stats import fmt
from evals.verdicts import JudgeInput, Verdicts
from knowledge.text import sentences

Row = tuple[str, str]  # (figure, value) of a run's metrics table


@dataclass(frozen=True)
class Outcome:
    """A per-case outcome an evaluator adds to the comparison of two runs: 1 when the case's
    verdicts list something under ``key``."""

    label: str
    key: str
    better: Literal["higher", "lower"] = "lower"


@dataclass(frozen=True)
class Measure:
    """A number an evaluator gives each draft, the Verdicts field ``key`` (None: not measured
    on that case). A run's metrics table shows its mean over the drafts the customer would get
    (scored, not handed over) with a 95 % interval; the comparison of two runs, the paired
    difference of the means with its interval and the cases that moved each way."""

    label: str
    key: str
    better: Literal["higher", "lower"] = "higher"


class Evaluator(Protocol):
    """One part of the offline judge: it fills its own fields of the verdicts."""

    name: str
    fills: tuple[str, ...]  # the Verdicts fields it sets
    outcomes: tuple[Outcome, ...]  # what the comparison of two runs counts from it
    measures: tuple[Measure, ...]  # the numbers per case the table and the comparison show
    section: str | None  # its aggregate in the run summary (evals.aggregates), read by its rows

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None: ...

    def summary_rows(self, section: dict[str, Any]) -> list[Row]:
        """The rows it adds to a run's metrics table, from its ``section`` of the summary."""
        ...


class Groundedness:
    """§1.5: each claim is supported by what it cites (or the order record)."""

    name = "grounded"
    fills: tuple[str, ...] = (
        "claims",
        "supported",
        "unsupported",
        "citations",
        "citations_supporting",
        "claims_supported_by_citation",
        "grounded",
    )
    outcomes: tuple[Outcome, ...] = ()
    measures: tuple[Measure, ...] = ()
    section: str | None = "grounding"

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        s = x.suggestion
        by_order = {o.order_number: o for o in x.own_orders}
        order_values = set(x.order_texts.values())
        cited_by_sentence = {normalise(c.sentence): c for c in s.citations}
        for sent in sentences(s.draft):
            if not is_claim(sent):
                continue
            v.claims += 1
            cit = cited_by_sentence.get(normalise(sent))
            sources: list[str] = []
            if cit is not None:
                for cid in cit.chunk_ids:
                    if cid.startswith("order:"):
                        o = by_order.get(cid.split(":", 1)[1])
                        if o is not None:
                            sources.append(x.order_texts[o.order_number])
                    elif cid in x.chunk_texts:
                        sources.append(x.chunk_texts[cid])
            ok = supported(
                sent,
                sources,
                x.lang,
                order_cited=bool(cit and any(c.startswith("order:") for c in cit.chunk_ids)),
            )
            if ok:
                v.supported += 1
            else:
                v.unsupported.append(sent)
            if cit is not None:
                v.citations += len(cit.chunk_ids)
                v.citations_supporting += sum(
                    1
                    for src in sources
                    if supported(sent, [src], x.lang, order_cited=src in order_values)
                )
                if ok:
                    v.claims_supported_by_citation += 1
        if not s.escalation.escalate:
            v.grounded = v.claims > 0 and v.supported == v.claims

    def summary_rows(self, g: dict[str, Any]) -> list[Row]:
        if not g.get("n"):
            return []
        return [
            (
                f"Groundedness ({g['label']})",
                f"grounded {fmt(g['grounded_rate'])}; faithfulness {fmt(g['faithfulness'])}; citation precision {fmt(g['citation_precision'])}, recall {fmt(g['citation_recall'])}",
            )
        ]


class Correctness:
    """§1.6: the required facts are stated (or the reply rests on a reference article), and no
    forbidden fact is."""

    name = "correct"
    fills: tuple[str, ...] = (
        "forbidden_found",
        "correct_basis",
        "required_total",
        "required_found",
        "correct",
    )
    outcomes: tuple[Outcome, ...] = (Outcome("drafts with forbidden facts", "forbidden_found"),)
    measures: tuple[Measure, ...] = ()
    section: str | None = "correctness"

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        for f in x.forbidden_facts:
            if normalise(f) and normalise(f) in x.norm_draft:
                v.forbidden_found.append(f)
        if x.required_facts:
            v.correct_basis = "required_facts"
            v.required_total = len(x.required_facts)
            v.required_found = sum(1 for f in x.required_facts if fact_in(f, x.norm_draft))
            v.correct = v.required_found == v.required_total and not v.forbidden_found
        elif x.reference_doc_ids:
            # the article the reply rests on (its first knowledge citation) must be a reference
            v.correct_basis = "primary_source_is_reference"
            kb_docs = [d for d in x.suggestion.cited_doc_ids if not d.startswith("order:")]
            v.correct = (
                bool(kb_docs) and kb_docs[0] in set(x.reference_doc_ids) and not v.forbidden_found
            )
        elif x.forbidden_facts:
            v.correct_basis = "forbidden_only"
            v.correct = not v.forbidden_found

    def summary_rows(self, c: dict[str, Any]) -> list[Row]:
        if not c.get("n"):
            return []
        return [
            (
                "Correctness (non-escalated drafts)",
                f"{fmt(c['correct_rate'])}; basis {c['basis']}",
            )
        ]


class Personalisation:
    """§1.7: the identifiers the draft states are the customer's own (or were typed by them,
    or are in the knowledge), the required order facts are there, and nothing leaks."""

    name = "personal"
    fills: tuple[str, ...] = (
        "leaks",
        "facts_stated",
        "facts_correct",
        "facts_required",
        "facts_required_ok",
        "personal",
    )
    outcomes: tuple[Outcome, ...] = (Outcome("leaking drafts", "leaks"),)
    measures: tuple[Measure, ...] = ()
    section: str | None = "personalisation"

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        draft = x.suggestion.draft
        stated_ids = {
            f
            for f in atomic_facts(draft)
            if re.fullmatch(r"[a-z]{2,5}\d{5,}|(?=(?:[a-z]*\d){6})[a-z0-9]{8,}", f) or "@" in f
        }
        own = x.own_orders
        own_ids = set().union(*(identifiers(o) for o in own)) if own else set()
        order_facts_all = (
            set().union(*(atomic_facts(t) for t in x.order_texts.values())) if own else set()
        )
        typed = atomic_facts(x.conversation_text)  # repeating what the customer typed is no leak
        for f in stated_ids:
            if f in x.other_identifiers and f not in own_ids and f not in typed:
                v.leaks.append(x.other_identifiers[f])
        v.facts_stated = len(stated_ids)
        v.facts_correct = sum(
            1
            for f in stated_ids
            if f in own_ids
            or f in order_facts_all
            or f in typed
            or f in atomic_facts(" ".join(x.chunk_texts.values()))
        )
        v.facts_required = len(x.order_facts)
        v.facts_required_ok = facts_found(x.order_facts.values(), draft)
        precision_ok = v.facts_correct == v.facts_stated
        recall_ok = v.facts_required_ok == v.facts_required
        v.personal = precision_ok and recall_ok and not v.leaks

    def summary_rows(self, p: dict[str, Any]) -> list[Row]:
        rows = [
            (
                "Personalisation fact precision / recall; leaks",
                f"{fmt(p['fact_precision'])} / {fmt(p['fact_recall'])}; {p['leaks']} leaks"
                + (
                    f" (rule of three: ≤ {100 * p['leak_rule_of_three']:.2f}%)"
                    if p.get("leak_rule_of_three")
                    else ""
                ),
            )
        ]
        if p.get("facts_required"):
            rows.append(
                (
                    "Required order facts in the draft / in the context (what an LLM would receive)",
                    f"{fmt(p['fact_recall'])} / {fmt(p.get('context_fact_recall'))} of {p['facts_required']}",
                )
            )
        return rows


class ReferenceOverlap:
    """Word overlap with the reference answer, when the case has one (diagnostics: a right
    answer may be worded otherwise)."""

    name = "reference_overlap"
    fills: tuple[str, ...] = ("token_f1", "rouge_l")
    outcomes: tuple[Outcome, ...] = ()
    measures: tuple[Measure, ...] = (
        Measure("token F1 with the reference answer", "token_f1"),
        Measure("ROUGE-L with the reference answer", "rouge_l"),
    )
    section: str | None = None  # no row of its own: its measures have theirs

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        if x.reference_answer:
            v.token_f1 = token_f1(x.suggestion.draft, x.reference_answer, x.lang)
            v.rouge_l = rouge_l(x.suggestion.draft, x.reference_answer)

    def summary_rows(self, section: dict[str, Any]) -> list[Row]:
        return []


class Length:
    """How long the draft is, in words: padding shows here (a reply should answer the question
    asked, and only it)."""

    name = "length"
    fills: tuple[str, ...] = ("draft_words",)
    outcomes: tuple[Outcome, ...] = ()
    measures: tuple[Measure, ...] = (Measure("draft length (words)", "draft_words", "lower"),)
    section: str | None = None

    def evaluate(self, x: JudgeInput, v: Verdicts) -> None:
        v.draft_words = len(x.suggestion.draft.split())

    def summary_rows(self, section: dict[str, Any]) -> list[Row]:
        return []


# the offline judge: each fills its own fields, in this order; add one here to judge more
EVALUATORS: list[Evaluator] = [
    Groundedness(),
    Correctness(),
    Personalisation(),
    ReferenceOverlap(),
    Length(),
]


def comparison_outcomes() -> list[Outcome]:
    """The per-case outcomes the registered evaluators add to a comparison of two runs."""
    return [o for e in EVALUATORS for o in e.outcomes]


def registered_measures() -> list[Measure]:
    """The numbers per case the registered evaluators give (summary and comparison)."""
    return [m for e in EVALUATORS for m in e.measures]


def summary_rows(summary: dict[str, Any]) -> list[Row]:
    """The rows the registered evaluators add to a run's metrics table, in their order: their
    sections', then one per measure (a run saved before a measure existed has no row for it)."""
    rows = [row for e in EVALUATORS if e.section for row in e.summary_rows(summary[e.section])]
    for m in registered_measures():
        got = summary.get("measures", {}).get(m.key)
        if got and got.get("n"):
            rows.append(
                (
                    f"{m.label[:1].upper()}{m.label[1:]}, mean",
                    f"{fmt(got['mean'], False)} over {got['n']} drafts",
                )
            )
    return rows


def judge_offline(x: JudgeInput) -> Verdicts:
    """Atomic verdicts for one draft: each registered evaluator fills its own fields."""
    v = Verdicts()
    for evaluator in EVALUATORS:
        evaluator.evaluate(x, v)
    return v


def today_iso(d: date) -> str:
    return d.isoformat()
