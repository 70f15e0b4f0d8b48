"""evals.browse: what the Evals page lists, loads and tabulates, on two real tiny runs of the
demo eval set (8 cases, instant embedder) and on hand-made records."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from copilot import load_settings
from evals import RunConfig, RunResult, browse, load_dataset, run_eval
from evals.report import charts as report_charts
from evals.report import html, summary_rows
from evals.runner import new_run_folder
from evals.stats import Estimate


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult]:
    """The first 8 demo cases at a selective threshold, and at τ = 0 (everything that is not
    escalated is answered: false deflections appear)."""
    data = tmp_path_factory.mktemp("browse") / "data"
    settings = load_settings(data_dir=data, embedder="hash", llm_base_url=None, demo_autoload=False)
    root = browse.runs_dir(data)
    everything = run_eval(
        RunConfig(
            dataset=browse.DEMO_DATASET,
            limit=8,
            threshold=0.0,
            out=new_run_folder(root, browse.DEMO_DATASET, "offline"),
        ),
        settings,
    )
    # the selective run: τ = the median confidence of the answered cases (answers about half)
    confidences = sorted(r["confidence"] for r in everything.records if not r["escalate"])
    selective = run_eval(
        RunConfig(
            dataset=browse.DEMO_DATASET,
            limit=8,
            threshold=confidences[len(confidences) // 2],
            out=new_run_folder(root, browse.DEMO_DATASET, "offline"),
        ),
        settings,
    )
    return selective, everything


def record(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c1",
        "status": "scored",
        "expected_action": "answer",
        "should_escalate": False,
        "escalate": False,
        "confidence": 0.9,
        "ok": True,
        "verdicts": {"correct": True, "grounded": True, "personal": True},
        "question": "q",
        "gold_reason": None,
    }
    return base | kw


# -- datasets ------------------------------------------------------------------------
def test_the_demo_set_and_the_dev_sets(tmp_path: Path) -> None:
    demo = browse.demo_dataset()
    assert (
        demo is not None
        and demo.bundled
        and demo.cases == len(load_dataset(browse.DEMO_DATASET).cases)
    )
    assert demo.name == "atelier-lumen-demo" and f"{demo.cases:,} cases" in demo.label

    assert browse.demo_dataset(tmp_path / "absent") is None  # an install without the sources
    assert browse.dev_sets(tmp_path / "absent") is None  # the page says so
    (tmp_path / "b-set").mkdir()
    (tmp_path / "b-set" / "cases.jsonl").write_text('{"id": 1}\n\n{"id": 2}\n', encoding="utf-8")
    (tmp_path / "a-set").mkdir()
    (tmp_path / "a-set" / "cases.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    (tmp_path / "a-set" / "dataset.json").write_text('{"name": "alpha"}', encoding="utf-8")
    (tmp_path / "notes").mkdir()  # no cases.jsonl: not a dataset
    (tmp_path / "README.md").write_text("x", encoding="utf-8")
    found = browse.dev_sets(tmp_path)
    assert found is not None
    assert [(d.name, d.cases, d.path.name) for d in found] == [
        ("alpha", 1, "a-set"),
        ("b-set", 2, "b-set"),
    ]
    assert found[1].label == "b-set (2 cases)"


def test_the_shared_dev_sets_when_present() -> None:
    found = browse.dev_sets()
    if found is None:
        pytest.skip("../shared/data is not here")
    assert {"cdtn-fr", "mtrag-support-en"} <= {d.path.name for d in found}
    assert all(d.cases > 100 for d in found)


# -- run folders ---------------------------------------------------------------------
def test_runs_are_listed_newest_first_with_their_label(
    two_runs: tuple[RunResult, RunResult],
) -> None:
    a, b = two_runs
    runs = browse.list_runs(a.folder.parent)
    assert [r.folder for r in runs] == [a.folder, b.folder]  # the selective run was made last
    assert all(r.complete and r.cases == 8 and r.dataset == "atelier-lumen-demo" for r in runs)
    oldest = runs[1]
    assert oldest.threshold == 0.0 and oldest.seed == 0
    assert oldest.deflection == b.summary["deflection"]["deflection_rate"].value
    assert oldest.label.startswith("atelier-lumen-demo · offline · 20")
    assert f"deflection {100 * oldest.deflection:.1f}%" in oldest.label and "τ 0.00" in oldest.label
    assert browse.list_runs(a.folder.parent / "nothing-here") == []


def test_a_new_run_folder_is_never_an_existing_one(tmp_path: Path) -> None:
    first = new_run_folder(tmp_path, browse.DEMO_DATASET, "offline")
    second = new_run_folder(tmp_path, browse.DEMO_DATASET, "offline")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.endswith("-atelier-lumen-demo-offline")


def test_an_interrupted_run_is_listed_and_resumes(
    two_runs: tuple[RunResult, RunResult], tmp_path: Path
) -> None:
    a, _ = two_runs
    root = tmp_path / "runs"
    folder = root / "interrupted"
    shutil.copytree(a.folder, folder)
    (folder / "summary.json").unlink()
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "results.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (info,) = browse.list_runs(root)
    assert not info.complete and (info.done, info.cases) == (3, 8)
    assert "incomplete (3/8 cases)" in info.label
    cfg = browse.resume_config(info)
    assert (cfg.dataset, cfg.limit, cfg.out, cfg.threshold) == (
        browse.DEMO_DATASET,
        8,
        folder,
        a.summary["deflection"]["threshold"],
    )
    settings = load_settings(
        data_dir=a.folder.parents[2], embedder="hash", llm_base_url=None, demo_autoload=False
    )
    resumed = run_eval(cfg, settings)
    assert resumed.manifest["resumed_cases"] == 3 and len(resumed.records) == 8
    (info,) = browse.list_runs(root)  # its files changed: listed again, finished
    assert info.complete


# -- one run -------------------------------------------------------------------------
def test_a_loaded_run_reads_like_the_one_just_computed(
    two_runs: tuple[RunResult, RunResult],
) -> None:
    _, b = two_runs
    run = browse.load_run(b.folder)
    assert summary_rows(run.summary) == summary_rows(b.summary)  # intervals came back as Estimates
    assert isinstance(run.summary["deflection"]["deflection_rate"], Estimate)
    assert run.threshold == 0.0 and [r["id"] for r in run.records] == sorted(
        r["id"] for r in b.records
    )
    assert run.record(b.records[0]["id"]) == b.records[0] and run.record("nope") is None
    assert browse.load_run(b.folder) is run  # cached while the files are unchanged


def test_summary_notes() -> None:
    summary: dict[str, Any] = {
        "deflection": {"fd_by_reason": {"wrong:incorrect": 3, "policy:legal": 1}},
        "unscored_reasons": {"timeout after 120 s": 2},
    }
    assert browse.summary_notes(summary) == [
        "False deflections by reason: policy:legal 1, wrong:incorrect 3",
        "Unscored: timeout after 120 s (2)",
    ]
    assert browse.summary_notes({"deflection": {"fd_by_reason": {}}, "unscored_reasons": {}}) == []


def test_the_charts_are_the_reports_and_carry_no_dataset_text(
    two_runs: tuple[RunResult, RunResult],
) -> None:
    for result in two_runs:
        run = browse.load_run(result.folder)
        charts = report_charts(run.summary, run.records)
        assert len(charts) == 6 and all(c.startswith("<svg ") for c in charts)
        report = html(result.manifest, result.summary, result.records)
        assert all(c in report for c in charts)  # the very same SVG as report.html
        questions = [r["question"] for r in run.records]
        assert not any(q in c for q in questions for c in charts)
    first, risk = report_charts(browse.load_run(two_runs[1].folder).summary, two_runs[1].records)[
        :2
    ]
    assert "τ=0.00" in first  # the threshold is marked on the deflection vs FDR curve
    assert "τ=0.00" in risk and "target 5%" in risk  # and on the risk-coverage curve


def test_outcomes_and_failures_on_hand_made_records() -> None:
    tau = 0.5
    assert browse.outcome_label(record(), tau) == "deflected"
    assert browse.outcome_label(record(confidence=0.2), tau) == "escalated"
    assert browse.outcome_label(record(escalate=True), tau) == "escalated"
    assert browse.outcome_label(record(should_escalate=True, ok=None), tau) == "false-deflected"
    assert browse.outcome_label(record(ok=False), tau) == "false-deflected"
    assert browse.outcome_label(record(status="unscored"), tau) == "unscored"
    assert browse.outcome_label(record(expected_action="clarify"), tau) == "clarify (answered)"
    assert browse.outcome_label(record(ok=None), 0.95) == "not verifiable (escalated)"

    assert browse.why_failed(record(should_escalate=True, gold_reason="legal")) == (
        "answered a case that needs a human (legal)"
    )
    assert browse.why_failed(
        record(ok=False, verdicts={"correct": False, "grounded": True, "personal": False})
    ) == ("wrong answer: not correct, not personal")

    records = [
        record(id="ok"),
        record(id="policy", should_escalate=True, ok=None, confidence=0.7),
        record(id="wrong", ok=False, confidence=0.95),
        record(id="low", ok=False, confidence=0.1),
    ]
    rows = browse.failure_rows(records, tau)
    assert [r["id"] for r in rows] == ["wrong", "policy"]  # most confident first
    assert browse.case_order(records, tau) == ["wrong", "policy", "low", "ok"]
    assert [r["id"] for r in browse.held_back_rows(records, tau)] == ["low"]
    assert {r["id"]: r["outcome"] for r in browse.case_rows(records, tau)} == {
        "ok": "deflected",
        "policy": "false-deflected",
        "wrong": "false-deflected",
        "low": "escalated",
    }
    assert browse.verdict_line(None) == "no verdicts (unscored)"
    assert browse.verdict_line(
        {
            "correct": False,
            "grounded": True,
            "personal": None,
            "required_found": 0,
            "required_total": 1,
            "forbidden_found": ["C1002"],
            "claims": 3,
            "supported": 2,
            "facts_required": 2,
            "facts_required_ok": 1,
            "leaks": ["LUM-1 of C2"],
        }
    ) == (
        "correct: no · grounded: yes · personal: n/a · required facts found 0/1 · "
        "forbidden facts stated 1 · claims supported 2/3 · order facts right 1/2 · leaks 1"
    )
    cited = record(citations=[{"sentence": "S.", "doc_ids": ["d1", "d2"], "titles": ["T1", "T2"]}])
    assert browse.citation_rows(cited) == [
        {"sentence": "S.", "documents": "d1, d2", "titles": "T1 | T2"}
    ]
    assert browse.citation_rows(record()) == []


# -- comparing -----------------------------------------------------------------------
def comparison(
    dr_low: float | None, fdr_high: float | None, margin: float = 0.02
) -> dict[str, Any]:
    def metric(name: str, low: float | None, high: float | None, better: str) -> dict[str, Any]:
        return {
            "metric": name,
            "a": 0.5,
            "b": 0.55,
            "delta": 0.05,
            "low": low,
            "high": high,
            "mcnemar_p": 0.25 if name == "deflected" else None,
            "wins": 3 if name == "deflected" else None,
            "ties": 10,
            "losses": 1,
            "mde": 0.08 if name == "deflected" else None,
            "better": better,
        }

    return {
        "n_paired": 14,
        "only_a": 0,
        "only_b": 0,
        "metrics": [
            metric("deflected", dr_low, 0.1, "higher"),
            metric("false-deflection rate (of answered)", -0.1, fdr_high, "lower"),
        ],
        "gate": {"margin": margin, "passed": True, "reason": ""},
    }


def test_gate_rows_give_each_bound_its_headroom() -> None:
    rows = browse.gate_rows(comparison(dr_low=-0.01, fdr_high=0.05))
    assert [(r["check"], r["bound"], r["limit"], r["headroom"], r["passes"]) for r in rows[:2]] == [
        ("FDR non-inferiority", "+5.0 pp", "+2.0 pp", "-3.0 pp", False),
        ("deflection non-inferiority", "-1.0 pp", "-2.0 pp", "+1.0 pp", True),
    ]
    # checks whose metric is not in the comparison are n/a: never a pass
    assert {r["check"]: r["status"] for r in rows[2:]} == {
        "false deflections per case": "n/a",
        "leaks": "n/a",
        "forbidden facts": "n/a",
        "escalation recall": "n/a",
    }
    fdr_row = browse.gate_rows(comparison(dr_low=0.0, fdr_high=None))[0]
    assert fdr_row["bound"] == "n/a" and fdr_row["status"] == "n/a" and not fdr_row["passes"]


def test_comparison_rows_and_notes() -> None:
    rows = browse.comparison_rows(comparison(dr_low=-0.01, fdr_high=0.05))
    assert rows[0] == {
        "metric": "deflected",
        "better": "higher",
        "A": "50.0%",
        "B": "55.0%",
        "delta B−A [95% CI]": "+5.0 pp [-1.0 pp, +10.0 pp]",
        "McNemar p": "0.250",
        "W/T/L": "3/10/1",
        "MDE": "8.0 pp",
    }
    assert rows[1]["McNemar p"] == "–" and rows[1]["W/T/L"] == "–" and rows[1]["MDE"] == "–"

    same = {"dataset": "x", "dataset_hash": "h", "kb_hash": "k"}
    c = comparison(0.0, 0.0)
    assert browse.comparison_notes(same, same, c) == []
    assert (
        "different case files" in browse.comparison_notes(same, same | {"dataset_hash": "g"}, c)[0]
    )
    assert browse.comparison_notes(same, same | {"kb_hash": "j"}, c) == [
        "The knowledge differs between the runs."
    ]
    c.update(only_a=2, n_paired=0)
    notes = browse.comparison_notes(same, same, c)
    assert notes[0].startswith("2 case(s) scored only in A") and "nothing to compare" in notes[1]


def test_compare_is_cached_until_a_run_changes(two_runs: tuple[RunResult, RunResult]) -> None:
    a, b = two_runs
    first = browse.compare(a.folder, b.folder, 0.02)
    assert browse.compare(a.folder, b.folder, 0.02) is first
    assert first["n_paired"] == 8 and not first["gate"]["passed"]  # τ 0 answers wrong drafts
    manifest = b.folder / "manifest.json"
    stat = manifest.stat()
    os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = browse.compare(a.folder, b.folder, 0.02)
    assert again is not first and again["metrics"] == first["metrics"]
    json.loads(manifest.read_text(encoding="utf-8"))  # untouched content
