"""The vectors of item names that order resolution compares, kept in the database: embedded
once for every process that shares it, the customer's own words never kept, and a database
that does not answer is only a cache miss."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from copilot.pipeline.intents import DEFAULT_MODEL, IntentClassifier, IntentModel
from knowledge.db import make_engine
from knowledge.embeddings import HashEmbedder
from knowledge.orders import OrderBook
from knowledge.orders.itemvectors import ItemVectors

NAMES = ["Smartwatch strap", "Desk lamp", "Smartwatch strap", "Billet Paris → Londres"]


@pytest.fixture(scope="module")
def model() -> IntentModel:
    return IntentModel.load(DEFAULT_MODEL)


class _Counting:
    """A cheap embedder under the intent model's name, keeping every text it embeds."""

    dim = 64

    def __init__(self, name: str) -> None:
        self.name, self.texts, self.inner = name, [], HashEmbedder(self.dim)

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'souffleur.db'}"


def test_item_names_are_embedded_once_for_all_the_processes_of_a_database(
    model: IntentModel, tmp_path: Path
) -> None:
    first_book, other_book = (
        OrderBook(make_engine(_url(tmp_path))),
        OrderBook(make_engine(_url(tmp_path))),
    )  # two processes' views of one database
    first = _Counting(model.embedder)
    rows = IntentClassifier(model, first).meanings(  # type: ignore[arg-type]
        "bracelet montre", NAMES, stored=first_book.item_vectors
    )
    assert first.texts == ["bracelet montre", "Smartwatch strap", "Desk lamp", NAMES[3]]

    other = _Counting(model.embedder)
    again = IntentClassifier(model, other).meanings(  # type: ignore[arg-type]
        "the lamp", NAMES, stored=other_book.item_vectors
    )
    assert other.texts == ["the lamp"]  # the names come from the database
    assert again.dtype == np.float32 and np.array_equal(again[1:], rows[1:])
    assert np.array_equal(again[0], other.inner.embed(["the lamp"])[0])

    kept = other_book.item_vectors.get(model.embedder, [*NAMES, "bracelet montre", "the lamp"], 64)
    assert set(kept) == set(NAMES)  # the customer's words are never kept


def test_vectors_of_another_embedder_or_width_are_not_read(tmp_path: Path) -> None:
    store = OrderBook(make_engine(_url(tmp_path))).item_vectors
    store.put("e5", {"Desk lamp": np.ones(4, dtype=np.float32)})
    assert set(store.get("e5", ["Desk lamp"], 4)) == {"Desk lamp"}
    assert store.get("minilm", ["Desk lamp"], 4) == {}
    assert store.get("e5", ["Desk lamp"], 8) == {}
    store.put("e5", {"Desk lamp": np.full(8, 2.0, dtype=np.float32)})  # made again: written over
    assert store.get("e5", ["Desk lamp"], 8)["Desk lamp"].tolist() == [2.0] * 8


def test_a_database_that_does_not_answer_is_a_cache_miss(
    model: IntentModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ItemVectors(make_engine(_url(tmp_path)))  # no table: every statement fails
    embedder = _Counting(model.embedder)
    clf = IntentClassifier(model, embedder)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="knowledge.orders.itemvectors"):
        rows = clf.meanings("bracelet", NAMES, stored=broken)
    assert np.array_equal(rows, embedder.inner.embed(["bracelet", *NAMES]))
    said = [r.getMessage() for r in caplog.records]
    assert any("not read" in m for m in said) and any("not kept" in m for m in said)
