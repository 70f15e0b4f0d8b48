"""The fitted intent model: its features (TF-IDF character n-grams of the folded text, and the
message's e5 embedding), the calibrated regression that reads them, the n-gram gate that lets
clearly ordinary messages skip the embedding, and its file (arrays only, never pickle)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

from knowledge.errors import SouffleurError
from knowledge.text import fold

INTENTS_DIR = Path(__file__).parent / "policy" / "intents"
DEFAULT_EXAMPLES = INTENTS_DIR / "examples.jsonl"
DEFAULT_MODEL = INTENTS_DIR / "model.npz"
NONE = "none"
NGRAMS = (2, 5)
# The e5 embedding costs about 7 ms a chat message (int8, one core); a model of the character n-grams
# alone reads a message in well under a millisecond. A message whose every reason has a
# probability under GATE for it is 'none' without the embedding. Measured under grouped CV:
# the gate lets 18 % of the dev sets' customer messages through to e5 and drops 4 of the 878
# examples the full model catches.
GATE = 0.05


class IntentError(SouffleurError):
    pass


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

    # ``grams``: the texts' n-grams (``self.grams.transform(texts)``) when the caller has them:
    # a message the gate passes on is read by the gate and the full model, from one transform

    def features(
        self, texts: Sequence[str], vectors: np.ndarray, grams: csr_matrix | None = None
    ) -> csr_matrix:
        grams = self.grams.transform(texts) if grams is None else grams
        return hstack([grams, csr_matrix(vectors)]).tocsr()

    def gate_proba(
        self, texts: Sequence[str], grams: csr_matrix | None = None
    ) -> np.ndarray | None:
        """The n-gram model's probabilities (None when the model has no gate)."""
        if self.gate_coef is None or self.gate_intercept is None:
            return None
        grams = self.grams.transform(texts) if grams is None else grams
        z = np.asarray(grams @ self.gate_coef.T) + self.gate_intercept
        return softmax(z / self.gate_temperature)

    def passes_gate(self, row: np.ndarray) -> bool:
        """Some reason is likely enough, by the n-grams alone, to ask the embedding."""
        return bool(reaches_gate(row[None, :], self.labels)[0])

    def logits(
        self, texts: Sequence[str], vectors: np.ndarray, grams: csr_matrix | None = None
    ) -> np.ndarray:
        return np.asarray(self.features(texts, vectors, grams) @ self.coef.T) + self.intercept

    def proba(
        self, texts: Sequence[str], vectors: np.ndarray, grams: csr_matrix | None = None
    ) -> np.ndarray:
        """Calibrated probability of each label, one row per text."""
        return softmax(self.logits(texts, vectors, grams) / self.temperature)

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
