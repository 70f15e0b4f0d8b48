"""The eval harness end to end on small datasets (instant embedder): files, resume, cache,
validation; and a slice of a real dev set when ../shared is here."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from copilot import Settings
from copilot.pipeline.llm import Completion, LLMUnavailable
from copilot.testing import DEFAULT_REPLY
from evals import DatasetError, RunConfig, load_dataset, run_eval
from evals.cache import CachingChatModel
from evals.compare import compare_runs, format_comparison
from evals.runner import code_version
from knowledge import HashEmbedder
from tests.builders import (
    case_result,
    case_row,
    human_request_case,
    order_case,
    order_row,
    write_dataset,
)
from tests.conftest import shared_set

KB = [
    {
        "doc_id": "returns",
        "title": "Returns",
        "url": "",
        "lang": "en",
        "text": "You have 30 days after delivery to return an item. Returns are free with Colissimo.",
        "metadata": {},
    },
    {
        "doc_id": "delivery",
        "title": "Delivery times",
        "url": "",
        "lang": "en",
        "text": "Standard delivery takes 3 to 5 working days. Express delivery arrives in 24 hours.",
        "metadata": {},
    },
    {
        "doc_id": "paiement",
        "title": "Paiement",
        "url": "",
        "lang": "fr",
        "text": "Vous pouvez payer en 3 ou 4 fois sans frais avec Alma à partir de 100 euros.",
        "metadata": {},
    },
]
ORDERS = [
    order_row(),
    order_row(
        order_number="ZZ-200002",
        customer_id="K2",
        customer_name="Bob Roy",
        email="bob@example.com",
        total=90.0,
        carrier="DHL Express",
        tracking_number="9988776655",
        estimated_delivery="2026-11-24",
    ),
]


CASES = [
    case_row(
        1,
        "How many days do I have to return an item?",
        reference_doc_ids=["returns"],
        required_facts=["30 days"],
    ),
    case_row(2, "How long does standard delivery take?", reference_doc_ids=["delivery"]),
    case_row(
        3,
        "Puis-je payer en plusieurs fois ?",
        lang="fr",
        reference_doc_ids=["paiement"],
        required_facts=["3 ou 4 fois"],
    ),
    order_case(4, forbidden_facts=["9988776655"]),
    human_request_case(5),
    case_row(
        6, "it doesn't work", expected_action="clarify", reference_answer="What does not work?"
    ),
]


def test_a_run_writes_every_artefact(tmp_path: Path, settings: Settings) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    progress: list[tuple[int, int]] = []
    res = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "run", workers=2),
        settings,
        embedder=HashEmbedder(),
        progress=lambda d, t: progress.append((d, t)),
    )
    for name in ("manifest.json", "results.jsonl", "summary.json", "report.md", "report.html"):
        assert (res.folder / name).exists(), name
    assert progress[-1] == (6, 6)
    manifest = json.loads((res.folder / "manifest.json").read_text())
    for key in (
        "git_sha",
        "dataset_hash",
        "kb_hash",
        "settings",
        "prompt_versions",
        "seed",
        "mode",
        "embedder",
        "threshold",
    ):
        assert key in manifest
    recs = {r["id"]: r for r in res.records}
    assert (
        recs["t4"]["verdicts"]["facts_required_ok"] == 1 and "6A11112222333" in recs["t4"]["draft"]
    )
    assert recs["t4"]["verdicts"]["leaks"] == [] and "9988776655" not in recs["t4"]["draft"]
    assert recs["t5"]["escalate"] and "human_request" in recs["t5"]["reasons"]
    assert recs["t1"]["retrieved_doc_ids"][0] == "returns"
    s = res.summary
    assert s["clarify_cases"] == 1 and s["deflection"]["n"] == 5 and s["retrieval"]["n"] == 4
    html = (res.folder / "report.html").read_text()
    assert (
        "<svg" in html
        and "Risk–coverage" in html
        and "Reliability diagram" in html
        and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    )
    assert "Deflection rate" in (res.folder / "report.md").read_text()
    # calibration before (the model's raw score) and after its isotonic map, on the same cases
    assert s["calibration_raw"]["n"] == s["calibration"]["n"] == 5
    assert all(0 < r["confidence_raw"] < 1 for r in res.records if r["status"] == "scored")
    assert "before calibration (the model's raw score)" in (res.folder / "report.md").read_text()


def test_a_run_reads_intents_as_the_settings_ask(tmp_path: Path, settings: Settings) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    fast = settings.model_copy(update={"intent_features": "ngrams"})
    res = run_eval(RunConfig(dataset=ds, out=tmp_path / "run"), fast, embedder=HashEmbedder())
    manifest = json.loads((res.folder / "manifest.json").read_text())
    assert manifest["intents"] == "ngrams"
    assert manifest["settings"]["intent_features"] == "ngrams"
    recs = {r["id"]: r for r in res.records}
    assert recs["t5"]["escalate"] and "human_request" in recs["t5"]["reasons"]


def test_the_index_is_cached_and_a_run_resumes(tmp_path: Path, settings: Settings) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    first = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "run", limit=3), settings, embedder=HashEmbedder()
    )
    assert first.manifest["index_build_s"] >= 0
    # an interrupted run: keep 2 of 6 results, then run again into the same folder
    lines = (first.folder / "results.jsonl").read_text().splitlines()[:2]
    (first.folder / "results.jsonl").write_text("\n".join(lines) + "\n")
    again = run_eval(RunConfig(dataset=ds, out=tmp_path / "run"), settings, embedder=HashEmbedder())
    assert again.manifest["resumed_cases"] == 2 and len(again.records) == 6
    ids = [json.loads(x)["id"] for x in (again.folder / "results.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(c["id"] for c in CASES)  # nothing run twice
    index_dirs = list((settings.data_dir / "evals" / "index").iterdir())
    assert len(index_dirs) == 1  # the second run reused the index
    assert again.manifest["code_version"] == code_version()


def test_a_run_folder_made_by_other_code_is_run_again_not_resumed(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    first = run_eval(RunConfig(dataset=ds, out=tmp_path / "run"), settings, embedder=HashEmbedder())
    manifest = json.loads((first.folder / "manifest.json").read_text())
    manifest["code_version"] = "made-by-older-code"
    (first.folder / "manifest.json").write_text(json.dumps(manifest))
    again = run_eval(RunConfig(dataset=ds, out=tmp_path / "run"), settings, embedder=HashEmbedder())
    assert again.manifest["resumed_cases"] == 0 and len(again.records) == len(CASES)
    assert "made by other code" in caplog.text


def test_a_drafter_written_in_code_gets_a_new_version_when_its_code_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot.pipeline.drafter import source_version

    (tmp_path / "phrasebank_probe.py").write_text('HELLO = "Bonjour"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    before = source_version("offline", "phrasebank_probe")
    assert before == source_version("offline", "phrasebank_probe")  # stable
    (tmp_path / "phrasebank_probe.py").write_text('HELLO = "Bonjour !"\n')
    after = source_version("offline", "phrasebank_probe")
    assert after != before and after.startswith("offline-")


def test_compare_two_runs_and_gate(tmp_path: Path, settings: Settings) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    a = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "a", threshold=0.0), settings, embedder=HashEmbedder()
    )
    b = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "b", threshold=1.01), settings, embedder=HashEmbedder()
    )
    c = compare_runs(a.folder, b.folder, margin=0.02)
    assert c["n_paired"] == 5
    dr = next(m for m in c["metrics"] if m["metric"] == "deflected")
    assert dr["b"] == 0 and dr["delta"] <= 0
    assert (dr["wins"] + dr["ties"] + dr["losses"]) == 5
    if dr["delta"] < 0:
        assert not c["gate"]["passed"] and "deflection" in c["gate"]["reason"]
    assert "gate" in format_comparison(c)


def test_a_number_per_case_is_one_measure_in_the_table_and_the_comparison(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a per-case number (a Verdicts field) is one Measure on an evaluator: the run's metrics
    # table and the comparison (CLI and page share its rows) show it with no other edit
    from evals import judge
    from evals.compare import comparison_rows
    from evals.outcomes import scored
    from evals.summary_table import summary_rows

    class ClaimCount:
        name = "claim_count"
        fills: tuple[str, ...] = ()
        outcomes: tuple[judge.Outcome, ...] = ()
        measures = (judge.Measure("claims per draft", "claims"),)
        section = None

        def evaluate(self, x: object, v: object) -> None: ...

        def summary_rows(self, section: dict[str, Any]) -> list[judge.Row]:
            return []

    monkeypatch.setattr(judge, "EVALUATORS", [*judge.EVALUATORS, ClaimCount()])
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    runs = [
        run_eval(
            RunConfig(dataset=ds, out=tmp_path / n, threshold=0.0),
            settings,
            embedder=HashEmbedder(),
        )
        for n in ("a", "b")
    ]
    table = dict(summary_rows(runs[0].summary))
    sent = [r for r in runs[0].records if r["status"] == "scored" and not r["escalate"]]
    words = [len(r["draft"].split()) for r in sent]
    assert sent and table["Draft length (words), mean"].startswith(f"{sum(words) / len(words):.3f}")
    assert table["Draft length (words), mean"].endswith(f"over {len(sent)} drafts")
    assert "Claims per draft, mean" in table

    c = compare_runs(runs[0].folder, runs[1].folder, margin=0.02)
    rows = {r["metric"]: r for r in comparison_rows(c)}
    length = rows["draft length (words)"]
    assert length["better"] == "lower" and length["A"] == length["B"] != "n/a"
    paired = [r for r in scored(runs[0].records) if not r["escalate"]]
    assert "%" not in length["A"] and length["W/T/L"] == f"0/{len(paired)}/0"
    assert rows["claims per draft"]["delta B−A [95% CI]"].startswith("+0 ")
    text = format_comparison(c)
    assert "draft length (words)" in text and "claims per draft" in text


def test_dataset_validation_names_line_and_field(tmp_path: Path) -> None:
    bad = [
        case_row(1, "ok"),
        {"id": "t2", "conversation": [{"role": "agent", "text": "hi"}]},
        {"id": "t1", "conversation": [{"role": "customer", "text": "x"}]},
    ]
    ds = write_dataset(tmp_path / "bad", KB, ORDERS, bad)
    (ds / "cases.jsonl").write_text(
        (ds / "cases.jsonl").read_text()
        + "\n{not json\n"
        + json.dumps(case_row(9, "x", expected_action="maybe"))
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(ds)
    msg = str(info.value)
    assert (
        "line 2, conversation" in msg
        and "customer turn" in msg
        and "line 3, id: 't1' already used on line 1" in msg
    )
    assert "line 4: not valid JSON" in msg and "line 5, expected_action" in msg
    with pytest.raises(DatasetError, match=r"no cases\.jsonl"):
        load_dataset(tmp_path)


class Boom:
    name = "m"

    def __init__(self) -> None:
        self.calls = 0

    def complete(
        self, messages: list[dict[str, str]], *, on_text: object = None, json_mode: bool = True
    ) -> Completion:
        self.calls += 1
        if self.calls == 1:
            raise LLMUnavailable("timeout")
        return Completion("{}", "m", 10, 2)


def test_llm_cache_never_stores_errors(tmp_path: Path) -> None:
    inner = Boom()
    cache = CachingChatModel(inner, tmp_path / "cache")
    msgs = [{"role": "user", "content": "hi"}]
    with pytest.raises(LLMUnavailable):
        cache.complete(msgs)
    assert not list((tmp_path / "cache").rglob("*.json"))
    assert cache.complete(msgs).text == "{}" and cache.complete(msgs).text == "{}"
    assert inner.calls == 2 and (cache.hits, cache.misses) == (1, 1)


@pytest.mark.slow
def test_a_slice_of_the_english_dev_set(tmp_path: Path, settings: Settings) -> None:
    ds = shared_set("mtrag-support-en")
    res = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "run", limit=25), settings, embedder=HashEmbedder()
    )
    assert len(res.records) == 25 and all(r["status"] == "scored" for r in res.records)
    assert res.summary["retrieval"]["n"] > 0 and res.summary["cases_per_second"] > 0


@pytest.mark.slow
def test_the_bundled_demo_eval_set_runs_end_to_end(tmp_path: Path, settings: Settings) -> None:
    from evals.dataset import load_dataset as load

    demo = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "demo"
    ds = load(demo)
    assert len(ds.cases) >= 80 and {c.lang for c in ds.cases} == {"fr", "en"}
    assert {c.expected_action for c in ds.cases} >= {"answer", "escalate", "clarify"}
    res = run_eval(
        RunConfig(dataset=demo, out=tmp_path / "run", workers=2), settings, embedder=HashEmbedder()
    )
    assert all(r["status"] == "scored" for r in res.records)
    s = res.summary
    assert s["personalisation"]["facts_required"] > 0 and s["retrieval"]["n"] > 0
    # the copilot never answers a prompt injection or another customer's order on its own
    for r in res.records:
        if r["gold_reason"] in ("injection", "foreign_order"):
            assert r["escalate"], r["id"]


def _run_folder(root: Path, name: str, records: list[dict[str, Any]]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"threshold": 0.5}), encoding="utf-8")
    (folder / "results.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records), encoding="utf-8"
    )
    return folder


def _case(i: int, *, g: bool, esc: bool, ok: bool = True, conf: float = 0.9) -> dict[str, Any]:
    return case_result(
        id=f"c{i:03d}",
        group=f"g{i}",
        expected_action="escalate" if g else "answer",
        should_escalate=g,
        escalate=esc,
        reasons=["human_request"] if esc else [],
        confidence=conf,
        ok=ok,
        verdicts={"leaks": [], "forbidden_found": []},
    ).record()


def test_the_gate_refuses_a_candidate_with_more_false_deflections_and_fewer_escalations(
    tmp_path: Path,
) -> None:
    # A: 60 answerable cases deflected, 40 that need a human escalated. B deflects the same
    # and lets 10 of the 40 through: per-case false deflections +10 pp, escalation recall -25 pp.
    a = [_case(i, g=False, esc=False) for i in range(60)] + [
        _case(i, g=True, esc=True) for i in range(60, 100)
    ]
    b = [dict(r) for r in a]
    for r in b[60:70]:
        r.update(escalate=False, reasons=[])
    c = compare_runs(_run_folder(tmp_path, "a", a), _run_folder(tmp_path, "b", b), margin=0.02)
    status = {x["check"]: x["status"] for x in c["gate"]["checks"]}
    assert not c["gate"]["passed"]
    assert status["false deflections per case"] == "fail"
    assert status["escalation recall"] == "fail"
    assert status["FDR non-inferiority"] == "fail"
    assert status["leaks"] == "pass" and status["deflection non-inferiority"] == "pass"
    # the same run against itself passes every check
    same = compare_runs(_run_folder(tmp_path, "a2", a), _run_folder(tmp_path, "b2", a))
    assert same["gate"]["passed"], same["gate"]["reason"]


def test_the_gate_counts_a_check_it_cannot_measure_as_not_passed(tmp_path: Path) -> None:
    # nothing answered in either run: the false-deflection rate is n/a, never a pass
    a = [_case(i, g=i % 2 == 0, esc=True) for i in range(20)]
    c = compare_runs(_run_folder(tmp_path, "a", a), _run_folder(tmp_path, "b", a))
    fdr = next(x for x in c["gate"]["checks"] if x["check"] == "FDR non-inferiority")
    assert fdr["status"] == "n/a" and not c["gate"]["passed"]
    assert "[ n/a] FDR non-inferiority" in format_comparison(c)


def test_the_gate_refuses_new_leaks(tmp_path: Path) -> None:
    a = [_case(i, g=False, esc=False) for i in range(40)]
    b = [dict(r) for r in a]
    for r in b[:8]:
        r["verdicts"] = {"leaks": ["another customer's tracking number"], "forbidden_found": []}
    c = compare_runs(_run_folder(tmp_path, "a", a), _run_folder(tmp_path, "b", b))
    assert {x["check"]: x["status"] for x in c["gate"]["checks"]}["leaks"] == "fail"


class OneSlot:
    """A model server with one slot: a request that arrives while another runs times out."""

    name = "one-slot"

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self.calls = 0
        self.timeouts = 0

    def complete(
        self, messages: list[dict[str, str]], *, on_text: object = None, json_mode: bool = True
    ) -> Completion:
        self.calls += 1
        if not self.busy.acquire(blocking=False):
            time.sleep(0.05)
            self.timeouts += 1
            raise LLMUnavailable("timeout", "the only slot is taken")
        try:
            time.sleep(0.1)
            return Completion(DEFAULT_REPLY, self.name, 100, 20)
        finally:
            self.busy.release()


@pytest.mark.fault
def test_an_overloaded_model_gets_one_case_at_a_time(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    again = [{**c, "id": f"{c['id']}-again", "group_id": f"{c['id']}-again"} for c in CASES]
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, [*CASES, *again])
    chat = OneSlot()
    with caplog.at_level("WARNING", logger="evals.runner"):
        res = run_eval(
            RunConfig(dataset=ds, drafter="llm", out=tmp_path / "run", workers=2),
            settings,
            embedder=HashEmbedder(),
            chat=chat,
        )
    assert "the model is overloaded: 1 case(s) at once from now on" in caplog.text
    assert all(r["status"] == "scored" for r in res.records)
    # only the cases sent before the model was seen to be overloaded timed out
    timed_out = [r for r in res.records if r["llm_unavailable"]]
    assert 1 <= len(timed_out) <= 2 and chat.timeouts == len(timed_out)


SAME = ("cases", "status", "escalation", "escalation_suggested", "correctness", "retrieval",
        "grounding", "personalisation", "deflection", "needs_review", "by_action")  # fmt: skip
# A case's confidence reads its dense scores, and Chroma's nearest-neighbour search may return
# slightly different neighbours in the process that built the index and in one that reopened
# it (seen: one case of 87, 1.3e-8 against 1.1e-8): the mean confidence per expected action is
# the one figure left out; every count, rate and decision is compared.
NOT_COMPARED = {"mean_confidence"}


@pytest.mark.fault
@pytest.mark.slow
def test_a_run_killed_mid_write_resumes_to_the_same_summary(tmp_path: Path) -> None:
    """kill -9 while `souffleur eval run` writes its results, a torn last line included: the
    same command again resumes, and its summary equals that of a run never interrupted."""
    import os
    import signal
    import subprocess
    import sys

    demo = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "demo"
    env = {
        **os.environ,
        "SOUFFLEUR_DATA_DIR": str(tmp_path / "data"),
        "SOUFFLEUR_EMBEDDER": "hash",
        "SOUFFLEUR_DEMO_AUTOLOAD": "false",
    }
    env.pop("SOUFFLEUR_LLM_BASE_URL", None)

    def command(out: Path) -> list[str]:
        # the whole demo set, one case at a time: the kill lands mid-run on a busy machine too
        return [sys.executable, "-m", "faces.cli", "eval", "run", "--dataset", str(demo),
                "--workers", "1", "--out", str(out)]  # fmt: skip

    whole = tmp_path / "whole"
    subprocess.run(command(whole), env=env, check=True, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        command(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results = killed / "results.jsonl"
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_text(encoding="utf-8").count("\n") >= 5):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with results.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "demo-0')  # the torn write of a killed process
    assert not (killed / "summary.json").exists()

    again = subprocess.run(command(killed), env=env, check=True, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((killed / "manifest.json").read_text(encoding="utf-8"))
    assert 5 <= manifest["resumed_cases"] < a_total(whole)
    a = json.loads((whole / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((killed / "summary.json").read_text(encoding="utf-8"))
    # the same figures (the records come in another order, so means are compared with a
    # tolerance) ...
    assert _same({k: a[k] for k in SAME}, {k: b[k] for k in SAME}), (a, b)
    # ... and every case once, with the same draft and the same decisions
    whole_cases = _records(whole)
    resumed_cases = _records(killed)
    assert resumed_cases.keys() == whole_cases.keys()
    for case_id, rec in whole_cases.items():
        again_rec = resumed_cases[case_id]
        for key in ("status", "draft", "escalate", "reasons", "needs_review"):
            assert again_rec[key] == rec[key], (case_id, key)


def _records(run: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len({r["id"] for r in rows})  # none twice
    return {r["id"]: r for r in rows}


def a_total(run: Path) -> int:
    return int(json.loads((run / "summary.json").read_text(encoding="utf-8"))["cases"])


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) or isinstance(y, float):
        return (
            isinstance(x, int | float)
            and isinstance(y, int | float)
            and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        )
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x if k not in NOT_COMPARED)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y, strict=True))
    return x == y


def test_a_result_line_that_is_no_result_is_named_where_it_is_read(tmp_path: Path) -> None:
    from evals.records import RunFolderError, read_results

    good = case_result(id="c1").line()
    bad = json.dumps({"id": "c2", "status": "scored", "confidence": "high"})
    folder = _run_folder(tmp_path, "run", [])
    (folder / "results.jsonl").write_text(f"{good}\n{bad}\n", encoding="utf-8")
    with pytest.raises(
        RunFolderError, match=r"case c2 is not a result line \(group: Field required"
    ):
        compare_runs(folder, folder)
    # resuming a run leaves it out: that case simply runs again
    assert [r["id"] for r in read_results(folder, torn_ok=True)] == ["c1"]
    # a line keeps exactly the fields it was written with (an unscored case has fewer)
    assert read_results(folder, torn_ok=True)[0] == json.loads(good)
