from __future__ import annotations

from datetime import date

import pytest

from copilot import Settings, Workspace, open_workspace
from copilot.demo import (
    ANCHOR,
    DEMO_DIR,
    article_paths,
    demo_conversations,
    load_demo,
    read_jsonl,
    shift_dates,
)
from knowledge import HashEmbedder


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from copilot import load_settings

    settings = load_settings(data_dir=tmp_path_factory.mktemp("demo") / "data")  # autoload on
    return open_workspace(settings, embedder=HashEmbedder())


def test_the_demo_store_loads_into_an_empty_data_directory(demo_ws: Workspace) -> None:
    docs = demo_ws.kb.documents()
    by_lang = {lang: [d for d in docs if d.lang == lang] for lang in ("fr", "en")}
    assert len(by_lang["fr"]) >= 30 and len(by_lang["en"]) >= 30
    categories = {d.metadata.get("category") for d in docs}
    assert {
        "delivery",
        "returns",
        "refunds",
        "payment",
        "warranty",
        "account",
        "privacy",
    } <= categories
    assert demo_ws.orders.count() >= 200
    assert len(demo_ws.orders.customers()) >= 60
    assert len(demo_conversations()) >= 30


def test_every_article_loads_without_error(demo_ws: Workspace) -> None:
    results = demo_ws.kb.ingest_paths(article_paths())  # a reload: all unchanged
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert {d.status for r in results for d in r.docs} == {"unchanged"}


def test_conversations_quote_their_own_orders_except_the_foreign_one(demo_ws: Workspace) -> None:
    convs = demo_conversations()
    kinds = {"fr", "en"}
    assert {c["lang"] for c in convs} == kinds
    assert {"vous", "tu"} <= {c["register"] for c in convs}
    tags = {t for c in convs for t in c["tags"]}
    assert {
        "angry",
        "human_request",
        "legal_threat",
        "foreign_order",
        "injection",
        "order_number",
    } <= tags
    for conv in convs:
        assert conv["turns"][-1]["role"] == "customer"
        text = " ".join(t["text"] for t in conv["turns"] if t["role"] == "customer")
        found = demo_ws.orders.quoted(conv["customer_id"], text)
        if "foreign_order" in conv["tags"]:
            assert found.foreign and not found.own, conv["id"]
        elif "order_number" in conv["tags"]:
            assert found.own and not found.foreign, (conv["id"], found)


def test_demo_dates_are_shifted_to_today(settings: Settings) -> None:
    ws = open_workspace(settings, embedder=HashEmbedder())
    load_demo(ws, today=date(2026, 12, 20))
    record = read_jsonl(DEMO_DIR / "orders.jsonl")[0]
    order = ws.orders.order_of(record["customer_id"], record["order_number"])
    assert order is not None
    assert (order.created_at.date() - date.fromisoformat(record["created_at"][:10])).days == 30
    assert shift_dates({"estimated_delivery": "2026-11-20", "x": 1}, 2) == {
        "estimated_delivery": "2026-11-22",
        "x": 1,
    }
    assert date(2026, 11, 20) == ANCHOR


def test_hybrid_search_finds_the_right_article_in_both_languages(demo_ws: Workspace) -> None:
    fr = demo_ws.kb.search("combien de temps pour retourner un article", k=3, lang="fr")
    en = demo_ws.kb.search("how long do I have to return an item", k=3, lang="en")
    assert any(h.doc_id.startswith(("how-to-return", "return-conditions")) for h in fr)
    assert any(h.doc_id.startswith(("how-to-return", "return-conditions")) for h in en)
    assert all(h.chunk.lang == "fr" for h in fr) and all(h.chunk.lang == "en" for h in en)
