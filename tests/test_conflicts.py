"""Statements of a new document that disagree with the indexed knowledge are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot import load_settings, open_workspace
from copilot.cli import main
from knowledge import Document, HashEmbedder
from knowledge.conflicts import find_conflicts, quantities

OLD = [
    Document(
        "gift-wrap",
        "Gift wrapping",
        "Gift wrapping is offered for 4.50 € per order. It is available on every item.",
        lang="en",
    ),
    Document("hours", "Opening hours", "Our shop opens at 10 am on Saturdays.", lang="en"),
]


def test_amounts_durations_and_percentages_are_read_in_both_languages() -> None:
    got = quantities("L'emballage coûte 4,50 € ; retours sous 14 jours ; remise de 10 %")
    assert [(q.kind, q.unit, q.value) for q in got] == [
        ("amount", "EUR", 4.5),
        ("duration", "day", 14.0),
        ("percent", "%", 10.0),
    ]
    assert [(q.unit, q.value) for q in quantities("From €1,250.00 or 1 250,50 EUR")] == [
        ("EUR", 1250.5),
        ("EUR", 1250.0),
    ]


def test_a_new_figure_on_the_same_subject_is_a_possible_conflict_and_others_are_not(
    tmp_path: Path,
) -> None:
    ws = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    )
    ws.kb.ingest_documents(OLD, source_name="faq.md")
    new = [
        Document(
            "news",
            "What's new",
            "New: gift wrapping is offered for 4.90 € per item. "
            "Gift wrapping is still offered for 4.50 € per order on sale items. "
            "Our warehouse ships 4.90 € parcels by bike.",
            lang="en",
        )
    ]
    ws.kb.ingest_documents(new, source_name="news.md")
    # one conflict: the same figure (4.50 € per order) and a figure on another subject (the
    # warehouse's parcels) are none
    (c,) = find_conflicts(ws.kb, ["news"])
    assert (c.new_doc, c.old_doc, c.kind) == ("news", "gift-wrap", "amount")
    assert (c.new_value, c.old_value) == ("4.90 €", "4.50 €")
    assert c.new_sentence.startswith("New: gift wrapping") and c.old_title == "Gift wrapping"
    # seen from the older document, the new one is the other side
    back = find_conflicts(ws.kb, ["gift-wrap"])
    assert [(b.new_doc, b.old_doc, b.new_value, b.old_value) for b in back] == [
        ("gift-wrap", "news", "4.50 €", "4.90 €")
    ]


def test_souffleur_ingest_names_the_possible_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "hash")
    monkeypatch.setenv("SOUFFLEUR_DEMO_AUTOLOAD", "false")
    (tmp_path / "faq.md").write_text("# Gift wrapping\n\n" + OLD[0].text, encoding="utf-8")
    (tmp_path / "news.md").write_text(
        "# Gift wrapping, new price\n\nGift wrapping is now offered for 4.90 € per item.",
        encoding="utf-8",
    )
    assert main(["ingest", str(tmp_path / "faq.md")]) == 0
    assert "check" not in capsys.readouterr().out
    assert main(["ingest", str(tmp_path / "news.md")]) == 0  # reported, never refused
    out = capsys.readouterr().out
    assert "check  news says 4.90 € where faq says 4.50 €" in out
