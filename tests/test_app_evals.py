"""The Evals page driven by ``AppTest``: run the demo eval with a progress bar and read its
metrics and plots, drill into a failure, compare two runs with the gate; dataset text stays
text; agents do not see the page.

Each test points the app at its own copy of a data directory that already holds the demo
eval's knowledge index and two runs of its first 8 cases (the calibrated threshold, then
τ = 0, where false deflections appear); the cached workspace is cleared after each test.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from copilot import load_settings
from evals import RunConfig, browse, run_eval
from evals.runner import new_run_folder
from tests.conftest import unset_local_settings, use_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "faces/pages/evals.py"
XSS = "<script>alert(1)</script> ![x](http://evil/img.png) $x$ :red[boom] <b>bold</b>"


@pytest.fixture(scope="module")
def eval_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("evals-page") / "data"
    settings = load_settings(data_dir=data, embedder="hash", llm_base_url=None, demo_autoload=False)
    root = browse.runs_dir(data)
    # Two runs of the same cases: one answering everything the policy allows (τ=0), one more
    # selective (τ = the median confidence of the first: it answers about half of them).
    out = new_run_folder(root, browse.DEMO_DATASET, "offline")
    first = run_eval(
        RunConfig(dataset=browse.DEMO_DATASET, limit=8, threshold=0.0, out=out), settings
    )
    confidences = sorted(r["confidence"] for r in first.records if not r["escalate"])
    tau = confidences[len(confidences) // 2]
    out = new_run_folder(root, browse.DEMO_DATASET, "offline")
    run_eval(RunConfig(dataset=browse.DEMO_DATASET, limit=8, threshold=tau, out=out), settings)
    return data


@pytest.fixture
def data_dir(tmp_path: Path, eval_store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    shutil.copytree(eval_store, data)
    use_store(monkeypatch, data)  # the page needs no demo store
    unset_local_settings(monkeypatch)
    yield data
    st.cache_resource.clear()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def evals_page(user: str = "eve", tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = user
    ok(at.run())
    ok(at.switch_page(PAGE).run())
    if tab:
        at.session_state["eval_tab"] = tab
        ok(at.run())
    return at


def plain(markdown: str) -> str:
    """What an escaped Markdown string reads as."""
    return re.sub(r"\\(.)", r"\1", markdown)


def runs_of(data: Path) -> list[browse.RunInfo]:
    return browse.list_runs(browse.runs_dir(data))


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def svg_images(at: AppTest) -> list[str]:
    out = []
    for img in at.get("image"):
        for item in img.proto.imgs:
            head, _, body = item.url.partition(",")
            if head == "data:image/svg+xml;base64":
                out.append(base64.b64decode(body).decode("utf-8"))
    return out


def test_run_the_demo_eval_and_read_its_metrics(data_dir: Path) -> None:
    shutil.rmtree(browse.runs_dir(data_dir))  # no run yet: the page opens on the run tab
    at = evals_page()
    assert at.title[0].value == "Evals"
    assert [tab.label for tab in at.tabs] == [
        "Run an eval",
        "Results",
        "Failures and cases",
        "Compare two runs",
    ]
    datasets = at.radio(key="eval_dataset")
    assert datasets.value == str(browse.DEMO_DATASET)  # the bundled set is picked by default
    assert at.radio(key="eval_drafter").disabled  # no LLM endpoint configured: offline only

    at.number_input(key="eval_limit").set_value(8)
    ok(at.button(key="eval_start").click().run())
    (run,) = runs_of(data_dir)
    assert run.complete and run.cases == 8 and (run.folder / "report.html").is_file()
    assert at.session_state["eval_tab"] == "Results"  # the page opened the new run
    assert plain(at.success[0].value).startswith("Run finished: 8 cases")
    metrics = at.table[0].value
    values = {
        plain(k): plain(v)
        for k, v in zip(metrics["metric"], metrics["value [95% CI]"], strict=True)
    }
    assert values["Cases (scored for deflection)"].startswith("8 (")
    rate = next(v for k, v in values.items() if k.startswith("Deflection rate @ τ="))
    assert "[" in rate and "%" in rate  # with its interval
    assert {"expected_action", "deflected", "false_deflected"} <= set(
        frame_with(at, "expected_action").columns
    )
    charts = svg_images(at)
    assert len(charts) == 6 and "Risk–coverage" in charts[1] and "Reliability diagram" in charts[2]
    report = (run.folder / "report.html").read_text(encoding="utf-8")
    assert all(c in report for c in charts)  # the report's own plots
    (download,) = at.get("download_button")
    assert download.proto.label == "Download report.html"


def test_a_run_that_never_deflects_still_lists_its_wrong_drafts(data_dir: Path) -> None:
    calibrated = max(runs_of(data_dir), key=lambda r: r.threshold or 0)
    records = browse.load_run(calibrated.folder).records
    expected = [r["id"] for r in browse.held_back_rows(records, calibrated.threshold or 0)]
    at = evals_page(tab="Failures and cases")
    ok(at.selectbox(key="eval_run__cases").set_value(calibrated.name).run())
    frames = [d.value for d in at.dataframe if "why" in d.value.columns]
    assert expected  # the fixture's 8 demo cases include wrong drafts under the threshold
    assert list(frames[-1]["id"]) == expected
    assert frames[-1]["confidence"].is_monotonic_decreasing


def test_open_a_failure_and_any_case(data_dir: Path) -> None:
    _, tau0 = sorted(runs_of(data_dir), key=lambda r: r.threshold or 0, reverse=True)
    at = evals_page(tab="Failures and cases")
    ok(at.selectbox(key="eval_run__cases").set_value(tau0.name).run())
    records = {r["id"]: r for r in browse.load_run(tau0.folder).records}
    failures = frame_with(at, "why")
    assert len(failures) >= 1
    worst = failures["id"].iloc[0]
    assert failures["confidence"].is_monotonic_decreasing
    assert list(failures["id"]) == [
        r["id"] for r in browse.failure_rows(list(records.values()), 0.0)
    ]

    picker = at.selectbox(key="eval_case")
    assert picker.value == worst  # the worst failure is shown first
    assert at.text[0].value == records[worst]["question"]
    assert at.code[0].value == records[worst]["draft"]
    assert "false-deflected" in [m.value for m in at.metric]

    other = next(i for i in records if i not in set(failures["id"]))  # a case that went well
    ok(picker.set_value(other).run())
    rec = records[other]
    assert at.code[0].value == (rec["draft"] or "(no draft)")
    shown = plain("\n".join(m.value for m in at.markdown))
    assert browse.verdict_line(rec["verdicts"]) in shown
    assert ("Copilot escalated" in shown) == bool(rec["escalate"])
    if rec["citations"]:
        cited = frame_with(at, "sentence")
        assert list(cited["sentence"]) == [c["sentence"] for c in rec["citations"]]
    at.session_state["eval_tab"] = "Results"
    ok(at.run())
    assert at.selectbox(key="eval_run__results").value == tau0.name  # the same run in both tabs


def test_compare_two_runs_and_read_the_gate(data_dir: Path) -> None:
    calibrated, tau0 = sorted(runs_of(data_dir), key=lambda r: r.threshold or 0, reverse=True)
    at = evals_page(tab="Compare two runs")
    at.selectbox(key="eval_cmp_a").set_value(calibrated.name)
    ok(at.selectbox(key="eval_cmp_b").set_value(tau0.name).run())
    assert not at.exception, [e.value for e in at.exception]
    verdict = plain(at.error[0].value)
    assert verdict.startswith("Gate (margin 2.0 pp): FAIL — ")
    assert "FDR non-inferiority: upper bound of the FDR" in verdict
    gate = frame_with(at, "headroom")
    assert not gate["passes"].all()
    table = frame_with(at, "delta B−A [95% CI]")
    assert {"deflected", "false-deflection rate (of answered)"} <= set(table["metric"])
    assert {"McNemar p", "W/T/L", "MDE"} <= set(table.columns)
    changed = frame_with(at, "question")
    assert len(changed) >= 1 and set(changed["B"]) >= {"false-deflected"}
    assert [m.label for m in at.metric][:2] == ["Latency p50 (B)", "Latency p95 (B)"]

    # B hands off every case A deflected (a threshold above any confidence): the FDR cannot
    # get worse, so the gate fails on the deflection bound instead.
    settings = load_settings(data_dir=data_dir, embedder="hash", demo_autoload=False)
    never = run_eval(
        RunConfig(
            dataset=browse.DEMO_DATASET,
            limit=8,
            threshold=1.01,
            out=new_run_folder(browse.runs_dir(data_dir), browse.DEMO_DATASET, "offline"),
        ),
        settings,
    )
    ok(at.run())
    at.selectbox(key="eval_cmp_a").set_value(tau0.name)
    ok(at.selectbox(key="eval_cmp_b").set_value(never.folder.name).run())
    assert "lower bound of the deflection delta" in plain(at.error[0].value)
    ok(at.selectbox(key="eval_cmp_b").set_value(calibrated.name).run())

    # The same configuration again (another seed): no change, within the margins.
    out = new_run_folder(browse.runs_dir(data_dir), browse.DEMO_DATASET, "offline")
    again = run_eval(
        RunConfig(
            dataset=browse.DEMO_DATASET, limit=8, seed=1, threshold=calibrated.threshold, out=out
        ),
        settings,
    )
    ok(at.run())  # listed now, newest first: the picks stay on the runs they named
    assert (at.selectbox(key="eval_cmp_a").value, at.selectbox(key="eval_cmp_b").value) == (
        tau0.name,
        calibrated.name,
    )
    at.selectbox(key="eval_cmp_a").set_value(calibrated.name)
    ok(at.selectbox(key="eval_cmp_b").set_value(again.folder.name).run())
    # the same cases again: every check passes but escalation recall, which these 8 cases
    # (none needs a human) cannot measure, and n/a is not a pass
    assert plain(at.error[0].value) == (
        "Gate (margin 2.0 pp): FAIL — escalation recall: n/a (escalation suggested (recall) not measurable)"
    )
    gate = frame_with(at, "headroom")
    assert dict(zip(gate["check"], gate["status"], strict=True)) == {
        "FDR non-inferiority": "pass",
        "deflection non-inferiority": "pass",
        "false deflections per case": "pass",
        "leaks": "pass",
        "forbidden facts": "pass",
        "escalation recall": "n/a",
    }
    assert "No case changed outcome." in [c.value for c in at.caption]
    ok(at.selectbox(key="eval_cmp_b").set_value(calibrated.name).run())
    assert "Pick two different runs." in at.info[0].value


def test_dataset_text_stays_text(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset typed by path, without ../shared: its customer text is never markup."""
    monkeypatch.setattr(browse, "SHARED_DATA", tmp_path / "no-shared")
    ds = tmp_path / "tricky"
    ds.mkdir()
    kb = {"doc_id": "returns", "title": "Returns", "url": "", "lang": "en", "metadata": {}}
    kb["text"] = "You have 30 days after delivery to return an item. Returns are free."
    (ds / "kb.jsonl").write_text(json.dumps(kb) + "\n", encoding="utf-8")
    case = {
        "id": "x-1",
        "conversation": [{"role": "customer", "text": f"How long to return? {XSS}"}],
        "reference_doc_ids": ["returns"],
        "required_facts": ["30 days"],
    }
    (ds / "cases.jsonl").write_text(json.dumps(case) + "\n", encoding="utf-8")

    at = evals_page(tab="Run an eval")
    assert any("No dev sets here" in c.value for c in at.caption)
    ok(at.radio(key="eval_dataset").set_value("__other__").run())
    assert at.button(key="eval_start").disabled  # no folder typed yet
    ok(at.text_input(key="eval_dataset_path").input(str(ds)).run())
    at.number_input(key="eval_threshold").set_value(0.0)
    ok(at.button(key="eval_start").click().run())
    assert at.session_state["eval_tab"] == "Results"
    at.session_state["eval_tab"] = "Failures and cases"
    ok(at.run())
    assert at.selectbox(key="eval_case").value == "x-1"
    assert at.text[0].value == f"How long to return? {XSS}"  # as typed, in a text element
    markup = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in m or "<b>" in m for m in markup)

    missing = tmp_path / "missing"
    at.session_state["eval_tab"] = "Run an eval"
    ok(at.run())
    ok(at.text_input(key="eval_dataset_path").input(str(missing)).run())
    ok(at.button(key="eval_start").click().run())
    assert (
        plain(at.error[0].value)
        == f"{missing}: is not a folder. Pass a dataset folder holding cases.jsonl and kb.jsonl."
    )


def test_resume_an_interrupted_run_and_the_llm_drafter_option(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUFFLEUR_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # never called here
    calibrated = max(runs_of(data_dir), key=lambda r: r.threshold or 0)
    (calibrated.folder / "summary.json").unlink()
    lines = (calibrated.folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    (calibrated.folder / "results.jsonl").write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")

    at = evals_page(tab="Run an eval")
    assert not at.radio(key="eval_drafter").disabled  # an endpoint is configured
    assert any("incomplete (5/8 cases)" in t.value for t in at.text)
    ok(at.button(key=f"eval_resume_{calibrated.name}").click().run())
    assert at.session_state["eval_tab"] == "Results"
    assert at.selectbox(key="eval_run__results").value == calibrated.name
    manifest = json.loads((calibrated.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["resumed_cases"] == 5 and manifest["mode"]["drafter"] == "offline"
    assert all(r.complete for r in runs_of(data_dir))


def test_agents_do_not_see_the_evals_page(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = "alice"
    ok(at.run())
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
