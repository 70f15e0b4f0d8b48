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

The model and its features are in ``intentmodel``, its training in ``intenttraining``; here,
the classifier the pipeline asks.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal

import numpy as np

from copilot.pipeline.intentmodel import (
    DEFAULT_EXAMPLES,
    DEFAULT_MODEL,
    NONE,
    IntentError,
    IntentModel,
    reaches_gate,
    softmax,
)
from copilot.pipeline.intenttraining import (
    Example,
    calibrated_out_of_fold,
    examples_digest,
    intent_embedder,
    load_examples,
    train,
    translation_groups,
)
from copilot.pipeline.intentworker import ChildFuture, ReaderProcess, read_message
from knowledge import ItemVectors
from knowledge.embeddings import Embedder

# what other modules import from here (the model and its training were here)
__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_MODEL",
    "NONE",
    "Example",
    "IntentClassifier",
    "IntentError",
    "IntentModel",
    "calibrated_out_of_fold",
    "examples_digest",
    "load_examples",
    "reaches_gate",
    "shipped_labels",
    "softmax",
    "train",
    "translation_groups",
]


class IntentClassifier:
    """The fitted model with its embedder: probabilities of each intent for a message.

    Thread-safe (one embedder call at a time) and memoised per message, since every
    suggestion of a conversation reads its earlier customer turns again. A message can be
    read ahead, in the background (:meth:`read_ahead`).
    """

    def __init__(
        self,
        model: IntentModel,
        embedder: Embedder,
        *,
        cache_size: int = 4096,
        features: Literal["e5", "ngrams"] = "e5",
        process: ReaderProcess | None = None,
    ) -> None:
        if embedder.name != model.embedder:
            raise IntentError(
                f"The intent model was fitted on '{model.embedder}' vectors, not '{embedder.name}'.",
                "Retrain it with `souffleur intents train`.",
            )
        if features == "ngrams" and model.gate_coef is None:
            raise IntentError(
                "The intent model has no n-gram model to read messages without the embedding.",
                "Retrain it with `souffleur intents train`, or set SOUFFLEUR_INTENT_FEATURES=e5.",
            )
        self.model = model
        self.embedder = embedder
        # "ngrams": the n-gram model alone reads every message (no embedding at all)
        self.features = features
        self.reasons_known = tuple(lab for lab in model.labels if lab != NONE)
        self._lock = threading.Lock()  # the memos
        self._engine = threading.Lock()  # one embedder call at a time
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        # messages read ahead, while the suggestion finds orders and passages (see read_ahead):
        # by a child process running this model and embedder when there is one, else a thread
        self.process = process
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="intents")
        self._pending: dict[str, Future[np.ndarray]] = {}
        # e5 loaded in this process too, the first time vectors are asked while the child
        # reads a message (see _query_vectors); None until then
        self._loaded_here: Future[np.ndarray] | None = None

    @classmethod
    def default(
        cls,
        features: Literal["e5", "ngrams"] = "e5",
        model_cache: Path | None = None,
        reader: Literal["process", "thread"] = "process",
    ) -> IntentClassifier:
        """The shipped model; its e5 graph is made in ``model_cache`` (SOUFFLEUR_MODEL_CACHE).
        Messages are read ahead by a child process (``reader``; a thread on one core)."""
        return _shipped(features, model_cache, reader)

    def proba(self, text: str) -> dict[str, float]:
        """Calibrated probability of each label (``none`` included) for one message."""
        return dict(zip(self.model.labels, (float(p) for p in self._row(text)), strict=True))

    def _row(self, text: str) -> np.ndarray:
        key = text.strip()
        with self._lock:
            row = self._cache.get(key)
            if row is not None:
                self._cache.move_to_end(key)
            pending = self._pending.get(key)
        if row is None:
            row = self._read(key) if pending is None else self._awaited(key, pending)
        return row

    @property
    def reads_aside(self) -> bool:
        """Messages are read by a child process, on the other core: a suggestion that would
        wait for one has work to do meanwhile (in-process, the n-grams take a millisecond
        and a reader thread would share the interpreter with it)."""
        return self.features == "e5" and self.process is not None

    def read_ahead(self, texts: Sequence[str]) -> None:
        """Start reading messages in the background: the suggestion finds the customer's
        orders and the passages meanwhile, then :meth:`proba` waits for what is left."""
        if self.features == "ngrams":
            return  # a millisecond: nothing to overlap
        with self._lock:
            keys = [
                k
                for k in {t.strip() for t in texts} - self._cache.keys() - self._pending.keys()
                if k
            ]
        for key in keys:
            # sent unlocked: a write waits while the child catches up, and the child's answers
            # take this lock (two agents reading one message at once: read twice, kept once)
            fut = self.process.submit(key) if self.process is not None else None
            with self._lock:
                if key in self._cache or key in self._pending:
                    continue
                self._pending[key] = fut or self._ahead.submit(self._read, key)
            if fut is not None:  # (the callback of a future already answered runs here)
                fut.add_done_callback(partial(self._answered, key))

    def _answered(self, key: str, fut: Future[np.ndarray]) -> None:
        """The child process's row: kept as a read here would be (if not forgotten since)."""
        if fut.exception() is None:
            self._keep(key, fut.result(), fut)
        else:
            with self._lock:  # asked again, it is read again (here)
                if self._pending.get(key) is fut:
                    del self._pending[key]

    def _awaited(self, key: str, pending: Future[np.ndarray]) -> np.ndarray:
        """A row read ahead; a child process that stopped or hangs: read here instead."""
        if not isinstance(pending, ChildFuture) or self.process is None:
            return pending.result()  # a thread of this process: its failure is raised
        rows = self.process.collect([pending])
        return rows[0] if rows is not None else self._read(key)

    def _read(self, key: str) -> np.ndarray:
        try:
            row = read_message(self.model, self.features, key, self._embed)
        except BaseException:
            with self._lock:  # asked again, it is read again
                self._pending.pop(key, None)
            raise
        self._keep(key, row)
        return row

    def _embed(self, text: str) -> np.ndarray:
        with self._engine:
            return self.embedder.embed([text], kind="query")

    def _keep(self, key: str, row: np.ndarray, fut: Future[np.ndarray] | None = None) -> None:
        """Memoise ``key``'s row; a row read ahead only while its read is still awaited."""
        with self._lock:
            if fut is not None and self._pending.get(key) is not fut:
                return  # forgotten since (benchmarks measure unseen messages)
            self._cache[key] = row
            self._pending.pop(key, None)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self) -> None:
        """Empty the per-message memo (benchmarks measure the classifier on unseen messages)."""
        with self._lock:
            self._cache.clear()
            self._vectors.clear()
            self._pending.clear()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit query vectors of short texts from the classifier's multilingual embedder,
        memoised (order resolution compares item names with them, see ``orderfacts``)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            made = self._query_vectors(missing)
        with self._lock:
            if missing:
                self._vectors.update(zip(missing, made, strict=True))
            rows = [self._vectors[t] for t in texts]
            while len(self._vectors) > self._cache_size:
                self._vectors.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)

    def meanings(
        self, said: str, names: Sequence[str], stored: ItemVectors | None = None
    ) -> np.ndarray:
        """Order resolution's vectors (see ``orderchoice.Meanings``): the message's content
        words, then each item name. With ``stored`` (the order book's, in the database), an
        item name is embedded once for every process and kept over restarts; the customer's
        words are never stored."""
        if stored is None:
            return self.vectors([said, *names])
        with self._lock:
            lacking = [n for n in dict.fromkeys(names) if n not in self._vectors]
        kept = stored.get(self.embedder.name, lacking, self.embedder.dim) if lacking else {}
        with self._lock:
            self._vectors.update(kept)
        rows = self.vectors([said, *names])  # the words and the names not kept, in one request
        row_of = {n: 1 + i for i, n in enumerate(names)}
        made = {n: rows[row_of[n]] for n in lacking if n not in kept}
        stored.put(self.embedder.name, made)
        return rows

    def _query_vectors(self, texts: list[str]) -> np.ndarray:
        """The texts' e5 query vectors: by the child process when there is one and it is
        free, else here (the same vectors, to the bit)."""
        if self.process is not None and not self._made_here_sooner():
            fut = self.process.submit_vectors(texts)
            got = self.process.collect([fut]) if fut is not None else None
            if got is not None:
                return got[0].reshape(len(texts), -1)
        with self._engine:
            return self.embedder.embed(texts, kind="query")

    def _made_here_sooner(self) -> bool:
        """Whether vectors asked now come sooner from this process: the child is reading a
        message (order resolution would wait for that read first: 12-16 ms for a demo message
        against 5-7 ms here, on the other core) and e5 is loaded here. The first time, e5 is
        loaded in the background (0.5 s, about 135 MB) and the child answers meanwhile: this
        process loads e5 only once vectors have waited for a read."""
        with self._lock:
            busy = any(isinstance(f, ChildFuture) and not f.done() for f in self._pending.values())
            loaded = self._loaded_here
            if busy and loaded is None:
                self._loaded_here = self._ahead.submit(self._embed, "")
        return busy and loaded is not None and loaded.done() and loaded.exception() is None

    def reasons(self, messages: Sequence[str]) -> dict[str, tuple[float, str]]:
        """For each reason, its highest probability over ``messages`` and that message."""
        return self._best((text, self._row(text)) for text in messages if text.strip())

    def reasons_so_far(self, messages: Sequence[str]) -> tuple[dict[str, tuple[float, str]], bool]:
        """What :meth:`reasons` says from the messages read by now, without waiting for the
        others; and whether none was left out."""
        with self._lock:
            rows = [(t, self._cache.get(t.strip())) for t in messages if t.strip()]
        read = [(t, row) for t, row in rows if row is not None]
        return self._best(read), len(read) == len(rows)

    def _best(self, rows: Iterable[tuple[str, np.ndarray]]) -> dict[str, tuple[float, str]]:
        best: dict[str, tuple[float, str]] = {}
        for text, row in rows:
            for label, p in zip(self.model.labels, row, strict=True):
                if label != NONE and p > best.get(label, (-1.0, ""))[0]:
                    best[label] = (float(p), text)
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


@lru_cache(maxsize=4)
def _shipped(
    features: Literal["e5", "ngrams"] = "e5",
    model_cache: Path | None = None,
    reader: Literal["process", "thread"] = "process",
) -> IntentClassifier:
    """One classifier per process, features, cache and reader (the model file and the e5
    engine are read once). The n-grams alone need no reader (a millisecond), nor one core."""
    wanted = reader == "process" and features == "e5" and (os.cpu_count() or 1) >= 2
    model = IntentModel.load(DEFAULT_MODEL)
    return IntentClassifier(
        model,
        intent_embedder(model_cache),
        features=features,
        process=ReaderProcess(
            DEFAULT_MODEL, model_cache, features, model_sha256=model.examples_sha256
        )
        if wanted
        else None,
    )
