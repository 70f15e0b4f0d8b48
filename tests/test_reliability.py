"""Reliability with counts: every hostile upload of tests/hostile.py, one by one through the
loader and all at once through a real workspace, plus hostile order-feed rows.

No wall-clock assertion here (benchmarks/reliability.py reports parse times). A case marked
``bug`` in the corpus is a known product defect: its test is ``xfail(strict=True)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import knowledge
from copilot import Workspace, load_settings, open_workspace
from knowledge.base import FileResult
from tests.hostile import (
    FAMILIES,
    LIMIT,
    LIMIT_MB,
    Case,
    OrderRow,
    cases,
    check_case,
    check_error,
    check_order_row,
    check_texts,
    order_feed,
    order_rows,
)

CASES = cases()
ROWS = order_rows()


def _param(case: Case | OrderRow, name: str) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=name, marks=marks)


def _workspace(data_dir: Path) -> Workspace:
    return open_workspace(
        load_settings(data_dir=data_dir, demo_autoload=False, max_upload_mb=LIMIT_MB),
        embedder=knowledge.HashEmbedder(),
        drafter=None,
    )


# ------------------------------------------------------------------ the corpus itself


def test_the_corpus_is_large_unique_and_deterministic() -> None:
    assert len(CASES) >= 60
    assert {c.family for c in CASES} == set(FAMILIES)
    assert all(c.expect in ("docs", "error") for c in CASES)
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names), "file names are unique (one batch holds them all)"
    assert len(ROWS) >= 15 and len({r.label for r in ROWS}) == len(ROWS)
    again = cases()
    assert [c.name for c in again] == names
    salted = {"encrypted.pdf"}  # pypdf salts its encryption: the one file that varies
    assert [(c.name, c.data) for c in again if c.name not in salted] == [
        (c.name, c.data) for c in CASES if c.name not in salted
    ]
    ids = [
        d.doc_id
        for c in CASES
        if c.expect == "docs" and not c.batch_error and not c.bug
        for d in knowledge.load_source(c.name, c.data, max_bytes=LIMIT, encoding=c.encoding)
    ]
    assert len(set(ids)) == len(ids), (
        "good files define distinct ids (only the takeover reuses one)"
    )
    counts = Counter(c.family for c in CASES)
    assert all(counts[f] >= 3 for f in FAMILIES), counts


# ------------------------------------------------------------------ one by one


@pytest.mark.parametrize("case", [_param(c, f"{c.family}:{c.name}") for c in CASES])
def test_each_hostile_upload_meets_its_expectation(case: Case) -> None:
    reason, _ = check_case(case)
    assert reason is None, f"{case.family}/{case.name}: {reason}"


def test_two_cjk_file_names_get_distinct_ids() -> None:
    cjk = [c for c in CASES if c.family == "ids" and not c.name.isascii()]
    ids = [knowledge.load_source(c.name, c.data)[0].doc_id for c in cjk]
    assert len(ids) == 2 and len(set(ids)) == 2 and not any(i.startswith("document-") for i in ids)


# ------------------------------------------------------------------ all at once, in a workspace


@pytest.fixture(scope="module")
def batch(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, dict[str, FileResult]]]:
    """The whole corpus ingested into one workspace: one batch per encoding flag (the flag
    applies to a whole upload), the files without one all together."""
    ws = _workspace(tmp_path_factory.mktemp("reliability") / "data")
    groups: dict[str | None, list[Case]] = {}
    for case in CASES:
        groups.setdefault(case.encoding, []).append(case)
    results: dict[str, FileResult] = {}
    for encoding, group in groups.items():
        out = ws.kb.ingest_sources([(c.name, c.data) for c in group], encoding=encoding)
        assert [r.name for r in out] == [c.name for c in group]
        results.update({r.name: r for r in out})
    yield ws, results


def _indexed(ws: Workspace, case: Case, result: FileResult) -> str | None:
    """Why the good file ``case`` is not (properly) in the index, or None."""
    if not result.ok:
        return f"refused: {result.error}"
    live = [d for d in result.docs if d.status != "removed"]
    if not live:
        return "no document indexed"
    for d in live:
        info = ws.kb.document(d.doc_id)
        if info is None or info.source_name != case.name or info.status != "active":
            return f"'{d.doc_id}' is not an active document of {case.name} ({info})"
        if not ws.kb.chunks_of(d.doc_id):
            return f"'{d.doc_id}' has no searchable chunk"
    texts = [c.text for d in live for c in ws.kb.chunks_of(d.doc_id)]
    return check_texts(case, [d.doc_id for d in live], texts, result.notes)


def test_a_batch_of_every_hostile_file_escapes_nothing(
    batch: tuple[Workspace, dict[str, FileResult]],
) -> None:
    _, results = batch
    assert set(results) == {c.name for c in CASES}
    good = [c for c in CASES if c.expect == "docs" and not c.batch_error]
    bad = [c for c in CASES if c.expect == "error" or c.batch_error]
    assert sum(results[c.name].ok for c in good) == len(good)
    assert sum(not results[c.name].ok for c in bad) == len(bad)


@pytest.mark.parametrize(
    "case", [_param(c, c.name) for c in CASES if c.expect == "docs" and not c.batch_error]
)
def test_every_good_file_of_the_batch_is_indexed(
    batch: tuple[Workspace, dict[str, FileResult]], case: Case
) -> None:
    ws, results = batch
    reason = _indexed(ws, case, results[case.name])
    assert reason is None, f"{case.name}: {reason}"


@pytest.mark.parametrize(
    "case", [_param(c, c.name) for c in CASES if c.expect == "error" or c.batch_error]
)
def test_every_bad_file_of_the_batch_has_its_own_error(
    batch: tuple[Workspace, dict[str, FileResult]], case: Case
) -> None:
    ws, results = batch
    result = results[case.name]
    assert not result.ok and result.error and case.name in result.error
    assert not result.docs
    if case.batch_error:
        assert case.batch_error in result.error
    else:
        assert case.error_contains in result.error
    assert not any(d.source_name == case.name for d in ws.kb.documents())


def test_the_batch_left_a_consistent_index(batch: tuple[Workspace, dict[str, FileResult]]) -> None:
    ws, results = batch
    report = ws.kb.check()
    assert report.consistent, report
    indexed = sum(len(r.docs) for r in results.values() if r.ok)
    assert ws.kb.stats()["documents"] == indexed


# ------------------------------------------------------------------ id takeover (two uploads)


def test_a_file_cannot_take_over_another_files_id(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "data")
    a = ws.kb.ingest_file("a.md", b"---\nid: returns\n---\n# Returns\n\nYou have 30 days.")
    assert a.ok and [d.doc_id for d in a.docs] == ["returns"]
    b = ws.kb.ingest_file("b.md", b"---\nid: returns\n---\n# Returns\n\nRefunds of 500 EUR.")
    assert not b.ok and b.error and "belongs to" in b.error and "'a.md'" in b.error
    assert "b.md" in b.error
    info = ws.kb.document("returns")
    assert info is not None and info.source_name == "a.md"
    text = " ".join(c.text for c in ws.kb.chunks_of("returns"))
    assert "30 days" in text and "500 EUR" not in text
    again = ws.kb.ingest_file("a.md", b"---\nid: returns\n---\n# Returns\n\nYou have 45 days.")
    assert again.ok and again.docs[0].status == "updated"  # its owner may still replace it


# ------------------------------------------------------------------ order feed


@pytest.fixture(scope="module")
def orders_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _workspace(tmp_path_factory.mktemp("orders") / "data")


def test_a_hostile_order_feed_reports_bad_rows_by_number_and_imports_the_rest(
    orders_ws: Workspace,
) -> None:
    rows = [r for r in ROWS if not r.bug]  # a known bug would stop the whole file (see below)
    report = orders_ws.orders.import_file("orders.jsonl", order_feed(rows))
    expected_bad = [n for n, r in enumerate(rows, start=1) if not r.valid]
    valid = [r for r in rows if r.valid]
    assert len(expected_bad) >= 15
    assert report.invalid_rows == expected_bad
    assert report.imported == len(valid)
    for n, row in enumerate(rows, start=1):
        if not row.valid:
            fields = {p.field for p in report.problems if p.row == n}
            assert row.field in fields, (row.label, fields)
            assert all(str(p).startswith(f"row {n}, ") for p in report.problems if p.row == n)
    for row in valid:
        rec = row.record
        (order,) = orders_ws.orders.orders_of(rec["customer_id"])
        assert order.order_number == rec["order_number"]
        assert order.customer_name == rec["customer_name"]  # stored as data, verbatim
    (first,) = orders_ws.orders.orders_of("CUST-1")
    assert first.customer_name == "Camille Martin"  # the duplicate row did not overwrite it


@pytest.mark.parametrize("row", [_param(r, r.label) for r in ROWS])
def test_each_hostile_order_row(orders_ws: Workspace, row: OrderRow) -> None:
    before = [ROWS[0]] if row.label == "duplicate" else []
    reason = check_order_row(orders_ws.orders, row, before)
    assert reason is None, f"{row.label}: {reason}"


def test_an_injection_in_a_customer_name_is_kept_as_data(orders_ws: Workspace) -> None:
    row = next(r for r in ROWS if r.label == "injection-name")
    orders_ws.orders.import_file("injection.jsonl", order_feed([row]))
    customer = orders_ws.orders.customer(row.record["customer_id"])
    assert customer is not None and customer.name == row.record["customer_name"]
    assert orders_ws.orders.quoted("CUST-1", "where is order HOS-00030?").own == ()


def test_error_checker_flags_a_wrong_exception() -> None:
    case = next(c for c in CASES if c.expect == "error")
    assert check_error(case, ValueError("boom")) is not None
    assert check_error(case, knowledge.IngestError("other.md", "bad.", "fix")) is not None
