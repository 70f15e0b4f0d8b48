from __future__ import annotations

import json
from pathlib import Path

import pytest

from faces.cli import main
from tests.conftest import use_store


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_store(monkeypatch, tmp_path / "data")
    return tmp_path


def test_ingest_a_folder_then_search(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = env / "docs"
    (docs / "fr").mkdir(parents=True)
    (docs / "fr" / "retours.md").write_text(
        "# Retours\n\nVous avez 30 jours pour retourner un article non utilisé.", encoding="utf-8"
    )
    (docs / "hours.txt").write_text(
        "We answer Monday to Friday from 9:00 to 18:00.", encoding="utf-8"
    )
    (docs / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    assert main(["ingest", str(docs)]) == 1  # one file failed, the others went in
    out = capsys.readouterr().out
    assert "ok     fr/retours.md: 1 added; 1 chunks; lang fr" in out
    assert "error  broken.jsonl: has 1 invalid line(s): line 1" in out
    assert "2/3 files ingested" in out

    assert main(["search", "délai pour retourner un article", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "1. Retours" in out and "rrf" in out and "bm25" in out

    assert main(["search", "retourner", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["doc_id"] == "retours" and hits[0]["bm25_rank"] == 1

    assert main(["docs"]) == 0
    assert "2 documents" in capsys.readouterr().out
    assert main(["docs", "delete", "hours"]) == 0
    assert "deleted hours" in capsys.readouterr().out


def test_orders_import_prints_the_validation_report(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = env / "orders.jsonl"
    feed.write_text(
        json.dumps(
            {
                "order_number": "LUM-1",
                "customer_id": "C1",
                "created_at": "2026-11-01",
                "status": "shipped",
            }
        )
        + "\n"
        + json.dumps(
            {
                "order_number": "LUM-2",
                "customer_id": "C1",
                "created_at": "yesterday",
                "status": "shipped",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["orders", "import", str(feed)]) == 1
    out = capsys.readouterr().out
    assert "1 new, 0 updated, 1 invalid rows" in out and "row 2, created_at" in out
    assert main(["orders", "list", "--customer", "C1"]) == 0
    assert "LUM-1" in capsys.readouterr().out


def test_errors_are_printed_with_their_fix_and_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (env / "a.md").write_text("# A\n\nabc", encoding="utf-8")
    assert main(["ingest", str(env / "a.md")]) == 0
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "minilm")
    assert main(["search", "abc"]) == 2
    err = capsys.readouterr().err
    assert "built with the embedder 'hash-256'" in err and "souffleur reindex" in err
    assert main(["reindex"]) == 0
    assert main(["search", "abc"]) == 0


def test_status_never_prints_a_password_and_check_repairs(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOUFFLEUR_LLM_BASE_URL", "https://bob:s3cret-pw@llm.example.com/v1")
    doc = env / "a.md"
    doc.write_text("# Returns\n\nYou have 30 days to return an unused item.", encoding="utf-8")
    assert main(["ingest", str(doc)]) == 0
    capsys.readouterr()
    assert main(["status", "--check"]) == 0
    out = capsys.readouterr().out
    assert "s3cret-pw" not in out and "bob" not in out and "***@llm.example.com" in out
    assert "0 chunks without a vector" in out and "consistent" in out
