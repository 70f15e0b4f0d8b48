"""How well the escalation triggers read the customer's words, per reason.

Two measurements of the same decision the pipeline takes (``Policy.said``: the learned
triggers at their thresholds, plus every trigger's patterns):
- grouped cross-validation on the training examples (French and English groups that hold
  translations of each other kept on one side of a split), each message scored by a model that
  never saw its group;
- the held-out test set ``evals/datasets/intents/test.jsonl``, written separately and never
  trained on, scored by the shipped model.
Next to each, the policy's patterns alone (the detector before the classifier).
A message's prediction is the set of reasons that fire; a reason's precision counts the
messages where it fired, its recall the messages of that reason where it fired.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from copilot.pipeline.escalation import Policy
from copilot.pipeline.intents import (
    DEFAULT_EXAMPLES,
    NONE,
    Example,
    IntentClassifier,
    calibrated_out_of_fold,
    load_examples,
    reaches_gate,
    softmax,
    translation_groups,
)
from evals.stats import wilson

DEFAULT_TEST = Path(__file__).parent / "datasets" / "intents" / "test.jsonl"

Scores = Mapping[str, tuple[float, str]]


@dataclass(frozen=True)
class Labelled:
    text: str
    label: str
    lang: str


def load_test(path: Path = DEFAULT_TEST) -> list[Labelled]:
    return [
        Labelled(str(r["text"]), str(r["label"]), str(r["lang"]))
        for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]


def fired(policy: Policy, text: str, scores: Scores | None, reasons: Sequence[str]) -> set[str]:
    """The reasons (among ``reasons``) the customer's words express for the policy: its word
    triggers that fire on one message, and the intents its computed triggers read (a parcel
    reported missing, which escalates once the order is late enough)."""
    out = set(policy.said([text], scores))
    out |= {
        t.intent_label
        for t in policy.model.triggers
        if t.detector == "computed" and t.intent and policy.reported(t.code, scores)
    }
    return out & set(reasons)


def score(
    gold: Sequence[str], predicted: Sequence[set[str]], reasons: Sequence[str]
) -> dict[str, Any]:
    """Per-reason and overall precision / recall (Wilson intervals) of fired reasons."""
    per: dict[str, Any] = {}
    for r in reasons:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if r in p and g == r)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if r in p and g != r)
        n = sum(1 for g in gold if g == r)
        per[r] = {
            "n": n,
            "tp": tp,
            "fp": fp,
            "precision": wilson(tp, tp + fp).as_dict(),
            "recall": wilson(tp, n).as_dict(),
        }
    pos = [g != NONE for g in gold]
    flagged = [bool(p) for p in predicted]
    tp_any = sum(1 for a, b in zip(pos, flagged, strict=True) if a and b)
    right = sum(1 for g, p in zip(gold, predicted, strict=True) if g != NONE and g in p)
    none_fired = sum(1 for g, p in zip(gold, predicted, strict=True) if g == NONE and p)
    return {
        "reasons": per,
        "any_reason": {
            "precision": wilson(tp_any, sum(flagged)).as_dict(),
            "recall": wilson(tp_any, sum(pos)).as_dict(),
        },
        "right_reason_recall": wilson(right, sum(pos)).as_dict(),
        "none_false_alarm": wilson(none_fired, len(gold) - sum(pos)).as_dict(),
        "n": len(gold),
    }


def _scores_from_proba(row: np.ndarray, labels: Sequence[str], text: str) -> dict[str, Any]:
    return {lab: (float(p), text) for lab, p in zip(labels, row, strict=True) if lab != NONE}


def cross_validated(
    policy: Policy, examples: Sequence[Example], vectors: np.ndarray, *, C: float, folds: int
) -> dict[str, Any]:
    """Grouped CV of the deployed decision; the temperature is fitted on the same out-of-fold
    logits, so the probabilities are calibrated in-sample (the ranking is not)."""
    gold = [e.label for e in examples]
    groups = translation_groups(examples, vectors)
    logits, t, labels = calibrated_out_of_fold(examples, vectors, C=C, folds=folds, groups=groups)
    proba = softmax(logits / t)
    # the deployed cascade: a message the n-grams alone find clearly ordinary skips e5
    none = np.zeros((len(examples), 0))
    gate_logits, gate_t, _ = calibrated_out_of_fold(examples, none, C=C, folds=folds, groups=groups)
    gate = softmax(gate_logits / gate_t)
    reasons = [lab for lab in labels if lab != NONE]
    skipped = ~reaches_gate(gate, labels)
    proba[skipped] = gate[skipped]
    learned = [
        fired(policy, e.text, _scores_from_proba(row, labels, e.text), reasons)
        for e, row in zip(examples, proba, strict=True)
    ]
    patterns = [fired(policy, e.text, None, reasons) for e in examples]
    return {
        "folds": folds,
        "skipped_embedding": float(skipped.mean()),
        "classifier": score(gold, learned, reasons),
        "patterns": score(gold, patterns, reasons),
    }


def held_out(
    policy: Policy, classifier: IntentClassifier, test: Sequence[Labelled]
) -> dict[str, Any]:
    reasons = list(classifier.reasons_known)
    gold = [m.label for m in test]
    learned = [fired(policy, m.text, classifier.reasons([m.text]), reasons) for m in test]
    patterns = [fired(policy, m.text, None, reasons) for m in test]
    by_lang = {
        lang: score(
            [m.label for m in test if m.lang == lang],
            [p for p, m in zip(learned, test, strict=True) if m.lang == lang],
            reasons,
        )
        for lang in ("fr", "en")
    }
    return {
        "classifier": score(gold, learned, reasons),
        "patterns": score(gold, patterns, reasons),
        "classifier_by_lang": by_lang,
    }


def report(
    policy: Policy,
    classifier: IntentClassifier,
    *,
    examples_path: Path = DEFAULT_EXAMPLES,
    test_path: Path = DEFAULT_TEST,
    folds: int = 5,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    examples = load_examples(examples_path)
    say = progress or (lambda _m: None)
    say(f"embedding {len(examples)} training examples")
    vectors = classifier.embedder.embed([e.text for e in examples], kind="query")
    say(f"grouped {folds}-fold cross-validation")
    cv = cross_validated(policy, examples, vectors, C=classifier.model.C, folds=folds)
    test = load_test(test_path)
    say(f"scoring {len(test)} held-out test messages")
    return {
        "model": {
            "embedder": classifier.model.embedder,
            "C": classifier.model.C,
            "temperature": classifier.model.temperature,
            "examples": len(examples),
            "examples_sha256": classifier.model.examples_sha256,
        },
        "thresholds": {t.code: t.threshold for t in policy.learned()},
        "cross_validation": cv,
        "test": held_out(policy, classifier, test),
    }


def _pct(d: Mapping[str, Any]) -> str:
    v = d.get("value")
    return "n/a" if v is None else f"{100 * v:.0f}%"


def render(rep: Mapping[str, Any]) -> str:
    """The report as text tables: CV and test, classifier (with patterns) vs patterns alone."""
    lines = []
    m = rep["model"]
    lines.append(
        f"Intent classifier: {m['examples']} examples, e5 ({m['embedder']}) + char n-grams, "
        f"multinomial logistic regression, C={m['C']:g}, temperature {m['temperature']:.2f}"
    )
    for title, part in (
        ("Grouped cross-validation (training examples)", rep["cross_validation"]),
        ("Held-out test set", rep["test"]),
    ):
        lines.append("")
        lines.append(f"{title}: precision / recall per reason, classifier+patterns | patterns")
        clf, pat = part["classifier"], part["patterns"]
        for reason, s in clf["reasons"].items():
            p = pat["reasons"][reason]
            lines.append(
                f"  {reason:18s} n={s['n']:<4d} {_pct(s['precision']):>5s} / {_pct(s['recall']):>5s}"
                f"   | {_pct(p['precision']):>5s} / {_pct(p['recall']):>5s}"
            )
        for name, key in (("any reason P", "precision"), ("any reason R", "recall")):
            lines.append(
                f"  {name:18s}        {_pct(clf['any_reason'][key]):>5s}"
                f"           | {_pct(pat['any_reason'][key]):>5s}"
            )
        lines.append(
            f"  right-reason recall {_pct(clf['right_reason_recall'])} | {_pct(pat['right_reason_recall'])};"
            f" 'none' messages that fire a reason {_pct(clf['none_false_alarm'])} | {_pct(pat['none_false_alarm'])}"
        )
    return "\n".join(lines)
