"""Statements of a new document that disagree with the indexed knowledge are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot import load_settings, open_workspace
from copilot.types import Conversation, DraftOptions, Suggestion, Turn
from copilot.workspace import Workspace
from faces.cli import main
from knowledge import Document, HashEmbedder
from knowledge.conflicts import ConflictDecisionError, check_upload, find_conflicts, quantities
from tests.conftest import use_store

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
    use_store(monkeypatch, tmp_path / "data")
    (tmp_path / "faq.md").write_text("# Gift wrapping\n\n" + OLD[0].text, encoding="utf-8")
    (tmp_path / "news.md").write_text(
        "# Gift wrapping, new price\n\nGift wrapping is now offered for 4.90 € per item.",
        encoding="utf-8",
    )
    assert main(["ingest", str(tmp_path / "faq.md")]) == 0
    assert "check" not in capsys.readouterr().out
    assert main(["ingest", str(tmp_path / "news.md")]) == 0  # reported, never refused
    out = capsys.readouterr().out
    assert "check  #1 news says 4.90 € where faq says 4.50 €" in out
    assert "souffleur conflicts resolve ID" in out

    assert main(["conflicts", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 open"
    assert main(["conflicts", "resolve", "1", "--keep", "both"]) == 2  # the scopes are missing
    assert "give both scopes" in capsys.readouterr().err
    assert (
        main(
            [
                *("conflicts", "resolve", "1", "--keep", "both"),
                *("--scope-new", "per item", "--scope-old", "per order", "--by", "kim"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "#1 kept both"
    assert main(["conflicts", "resolve", "1", "--keep", "new"]) == 2
    assert "already kept both by kim: reopen it first" in capsys.readouterr().err
    assert main(["conflicts", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert "[kept both by kim: 4.90 € for per item; 4.50 € for per order]" in out
    assert out.splitlines()[-1] == "0 open, 1 in all"
    # ingesting the same file again finds the same pair: it stays decided, nothing to check
    (tmp_path / "news.md").write_text(
        "# Gift wrapping, new price\n\nGift wrapping is now offered for 4.90 € per item.\n\nMore.",
        encoding="utf-8",
    )
    assert main(["ingest", str(tmp_path / "news.md")]) == 0
    assert "check" not in capsys.readouterr().out
    assert main(["conflicts", "reopen", "1"]) == 0
    assert main(["conflicts", "resolve", "7", "--keep", "new"]) == 2
    assert "no conflict 7" in capsys.readouterr().err


NEWS = Document(
    "news",
    "What's new",
    "New: gift wrapping is offered for 4.90 € per item. Our warehouse ships parcels by bike.",
    lang="en",
)
ASK = "How much does gift wrapping cost?"


def _workspace(tmp_path: Path) -> Workspace:
    ws = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    )
    ws.kb.ingest_documents(OLD, source_name="faq.md")
    ws.kb.ingest_documents([NEWS], source_name="news.md")
    return ws


def _draft(ws: Workspace, text: str = ASK) -> Suggestion:
    return ws.service.suggest(Conversation(turns=[Turn(role="customer", text=text)]))


def test_an_open_conflict_tells_the_agent_and_a_decision_sets_the_other_figure_aside(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path)
    before = _draft(ws)
    assert "4.50" in before.draft or "4.90" in before.draft, before.draft
    assert not any("disagree" in h for h in before.review_hints)  # not recorded: nobody checked
    (c,) = ws.kb.conflicts.record(find_conflicts(ws.kb, ["news"]))
    assert c.is_open and (c.new_doc, c.old_doc) == ("news", "gift-wrap")
    s = _draft(ws)
    assert s.needs_review
    assert any(
        h.startswith(
            "Sources disagree (not settled yet): “What's new” says 4.90 €, “Gift wrapping” says 4.50 €"
        )
        for h in s.review_hints
    ), s.review_hints
    # the French agent reads it in French
    fr = ws.service.suggest(
        Conversation(turns=[Turn(role="customer", text=ASK)]), DraftOptions(ui_lang="fr")
    )
    assert any(h.startswith("Sources en désaccord") for h in fr.review_hints)

    ws.kb.conflicts.decide(c.id, "new", actor="kim")
    hits = ws.kb.search("gift wrapping price per order", k=5)
    faq = next(h for h in hits if h.doc_id == "gift-wrap")
    # the existing passage reads the kept statement in place of the one set aside
    assert "4.50" not in faq.chunk.text and "4.90 € per item" in faq.chunk.text
    assert "available on every item" in faq.chunk.text
    after = _draft(ws)
    assert "4.50" not in after.draft and "4.90" in after.draft, after.draft
    assert not any("disagree" in h for h in after.review_hints)
    # another process (another book on the same database) applies the decision too
    other = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    )
    assert "4.50" not in _draft(other).draft

    ws.kb.conflicts.reopen(c.id)
    ws.kb.conflicts.decide(c.id, "old")
    kept_old = _draft(ws)
    assert "4.90" not in kept_old.draft and "4.50" in kept_old.draft, kept_old.draft
    # the new document's other sentence is still there
    assert any("bike" in h.chunk.text for h in ws.kb.search("warehouse parcels bike", k=3))

    ws.kb.conflicts.reopen(c.id)
    both = ws.kb.conflicts.decide(
        c.id, "both", new_scope="engraved items", old_scope="other orders"
    )
    assert both.status == "kept_both"
    s = _draft(ws)
    assert any(
        h.startswith("Two cases: 4.90 € (engraved items, “What's new”) or 4.50 € (other orders")
        for h in s.review_hints
    ), s.review_hints


def test_decisions_are_checked_and_a_pair_whose_sentence_left_is_gone(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (c,) = ws.kb.conflicts.record(find_conflicts(ws.kb, ["news"]))
    # found again from the other side: the same pair, not a second one
    (again,) = ws.kb.conflicts.record(find_conflicts(ws.kb, ["gift-wrap"]))
    assert again.id == c.id and len(ws.kb.conflicts.all()) == 1
    with pytest.raises(ConflictDecisionError, match="choose new"):
        ws.kb.conflicts.decide(c.id, "mine")
    with pytest.raises(ConflictDecisionError, match="give both scopes"):
        ws.kb.conflicts.decide(c.id, "both", new_scope="engraved items")
    with pytest.raises(ConflictDecisionError, match="no conflict 99"):
        ws.kb.conflicts.decide(99, "new")
    assert ws.kb.conflicts.get(c.id).is_open  # a refused decision changes nothing
    ws.kb.delete("news")  # closes its pairs at once: no draft is told of a deleted document
    assert ws.kb.conflicts.get(c.id).status == "gone" and not ws.kb.conflicts.open()
    assert ws.kb.conflicts.prune(ws.kb) == 0
    with pytest.raises(ConflictDecisionError, match="is gone"):
        ws.kb.conflicts.reopen(c.id)
    # the sentence is back: the pair opens again
    ws.kb.ingest_documents([NEWS], source_name="news.md")
    (back,) = ws.kb.conflicts.record(find_conflicts(ws.kb, ["news"]))
    assert back.id == c.id and back.is_open


def test_documents_of_one_batch_are_checked_against_each_other(tmp_path: Path) -> None:
    ws = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    )
    results = ws.kb.ingest_sources(
        [
            ("faq.md", b"# Gift wrapping\n\n" + OLD[0].text.encode()),
            ("news.md", b"# News\n\n" + NEWS.text.encode()),
        ]
    )
    (c,) = check_upload(ws.kb, results).conflicts
    assert {c.new_value, c.old_value} == {"4.90 €", "4.50 €"}
    # sentences sharing only their figures' words are about different things
    results = ws.kb.ingest_sources(
        [
            ("a.md", b"# Damage\n\nWe answer damage reports within 1 working day."),
            ("b.md", b"# Warranty\n\nWe answer warranty reports within 3 working days."),
        ]
    )
    assert [x.id for x in check_upload(ws.kb, results).conflicts] == []


def test_a_big_first_batch_is_not_checked_within_and_a_scan_checks_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_store(monkeypatch, tmp_path / "data")
    ws = open_workspace(load_settings(), embedder=HashEmbedder())
    results = ws.kb.ingest_sources(
        [
            ("faq.md", b"# Gift wrapping\n\n" + OLD[0].text.encode()),
            ("news.md", b"# News\n\n" + NEWS.text.encode()),
        ]
    )
    check = check_upload(ws.kb, results, within_max=1)
    assert check.conflicts == [] and check.unchecked_within == 2
    assert main(["conflicts", "scan"]) == 0
    out = capsys.readouterr().out
    assert "says 4.90 € where" in out or "says 4.50 € where" in out
    assert out.splitlines()[-1].startswith("2 documents checked in ")
    assert out.splitlines()[-1].endswith(": 1 pairs, 1 open")


def test_figures_grouped_in_thousands_by_dots_are_read_not_refused() -> None:
    # "1.000.000 €" stopped the whole upload check (float('1.000.000'))
    assert [q.value for q in quantities("Le plafond est de 1.000.000 € par an.")] == [1e6]
    assert [q.value for q in quantities("Up to 1.000.000,50 € or 2,000,000 $.")] == [
        1000000.5,
        2e6,
    ]


def test_a_figure_is_given_as_the_sentence_writes_it() -> None:
    # read folded, shown as written: the French agent is not told "5 a 10 jours ouvres"
    said = quantities("Livraison en 5 à 10 jours ouvrés ; gravure 15.00 EUR.")
    assert [q.text for q in said] == ["5 à 10 jours", "15.00 EUR"]


TABLE = (
    "# Shipping\n\n| Carrier | Delivery time | Price |\n|---|---|---|\n"
    "| Colissimo home delivery | 3-5 working days | 4.90 € |\n"
    "| Relay point | 4-6 working days | 3.90 € |\n"
)


def test_a_table_row_that_disagrees_stays_open_tells_the_agent_and_can_be_set_aside(
    tmp_path: Path,
) -> None:
    ws = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    )
    check_upload(ws.kb, ws.kb.ingest_sources([("shipping.md", TABLE.encode())]))
    news = b"# News\n\nColissimo home delivery price is now 5.90 \xe2\x82\xac for every parcel delivery."
    (c,) = check_upload(ws.kb, ws.kb.ingest_sources([("news.md", news)])).conflicts
    assert c.old_sentence.startswith("Colissimo home delivery — ") and c.old_value == "4.90 €"
    # the row is read with its header: not in the text as such, still in the document
    assert ws.kb.conflicts.prune(ws.kb) == 0 and ws.kb.conflicts.get(c.id).is_open
    (table,) = ws.kb.chunks_of("shipping")
    assert ws.kb.conflicts.hints([table], "en")  # citing the table alone tells the agent

    ws.kb.conflicts.decide(c.id, "new")
    (hit,) = [
        h for h in ws.kb.search("Colissimo home delivery price", k=3) if h.doc_id == "shipping"
    ]
    assert "4.90" not in hit.chunk.text and "now 5.90 €" in hit.chunk.text
    assert "| Relay point | 4-6 working days | 3.90 € |" in hit.chunk.text  # the other row stays


def test_a_decision_taken_meanwhile_by_another_process_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path)
    (c,) = ws.kb.conflicts.record(find_conflicts(ws.kb, ["news"]))
    other = open_workspace(
        load_settings(data_dir=tmp_path, demo_autoload=False), embedder=HashEmbedder()
    ).kb.conflicts
    book = ws.kb.conflicts
    read_before = [book.get(c.id)]  # this process read it open...
    other.decide(c.id, "old", actor="lea")  # ...then another one decided
    real_get = type(book).get
    monkeypatch.setattr(
        book, "get", lambda i: read_before.pop() if read_before else real_get(book, i)
    )
    with pytest.raises(ConflictDecisionError, match="already kept old by lea"):
        book.decide(c.id, "new", actor="kim")
    assert other.get(c.id).status == "kept_old"
