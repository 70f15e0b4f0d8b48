"""`souffleur calibrate`: the confidence model, its grouped cross-validation and its threshold,
refitted from labelled runs or from the agents' feedback in the app."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copilot import load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk.desk import Desk
from copilot.pipeline.confidence import ConfidenceModel
from evals import calibrate as cal
from faces.cli import main
from knowledge import HashEmbedder


def synthetic(signal: float, *, groups: int = 400, per_group: int = 3, seed: int = 0) -> list:
    """Cases whose correctness the evidence feature ``coverage_top`` predicts with strength
    ``signal`` (0: not at all); variants of one question share their outcome."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        right = bool(rng.random() < 0.7)
        for v in range(per_group):
            evidence = signal * (1.0 if right else -1.0) + rng.normal(0, 1)
            rows.append(
                {
                    "id": f"q{g}-{v}",
                    "group": f"q{g}",
                    "features": {"coverage_top": float(evidence), "dense_top": float(rng.random())},
                    "reasons": [],
                    "ok": right,
                    "should_escalate": False,
                    "status": "scored",
                    "expected_action": "answer",
                    "confidence": 0.5,
                    "escalate": False,
                    "weight": 1.0,
                }
            )
    return rows


def test_grouped_folds_never_split_a_question() -> None:
    rows = synthetic(1.0, groups=50)
    folds = cal._folds([r["group"] for r in rows], 5, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(rows)))
    seen: dict[str, int] = {}
    for k, idx in enumerate(folds):
        for i in idx:
            assert seen.setdefault(rows[i]["group"], k) == k


def test_cross_validation_certifies_what_the_evidence_supports_and_nothing_else() -> None:
    strong = cal.cross_validate(synthetic(4.0), target=0.10, low_confidence=0.0)
    d = strong["deflection"]
    assert d["deflection_rate"].value > 0.3  # most of the 70 % right answers are let through
    assert d["false_deflection_rate"].value <= 0.10
    assert strong["aurc"] < 0.05
    noise = cal.cross_validate(synthetic(0.0), target=0.10, low_confidence=0.0)
    assert noise["thresholds"] == [1.01] * 5  # no threshold: never deflect
    assert noise["deflection"]["deflection_rate"].value == 0.0
    assert noise["aurc"] > 0.2  # ~ the 30 % error rate: the model ranks no better than chance


def test_three_cases_in_two_folds_fit_a_model_that_deflects_nothing() -> None:
    # one fold holds every question: the other trains on nothing (it used to crash)
    rows = synthetic(4.0, groups=1, per_group=3)
    rep = cal.report({"tiny": rows}, target=0.10, low_confidence=0.0, folds=2, seed=0)
    assert rep["sets"]["tiny"]["cv"]["deflection"]["deflection_rate"].value == 0.0
    model = cal.train(rows, target=0.10, low_confidence=0.0, seed=0)
    assert model.threshold > 1.0  # nothing certified on three cases: never deflect


def test_a_model_fitted_on_one_set_is_tested_on_another() -> None:
    r = cal.report(
        {"a": synthetic(4.0, seed=1), "b": synthetic(4.0, seed=2)},
        target=0.10,
        low_confidence=0.0,
        looser=(0.2,),
    )
    assert [(t["train"], t["test"]) for t in r["transfer"]] == [("a", "b"), ("b", "a")]
    assert all(t["deflection"]["deflection_rate"].value > 0.3 for t in r["transfer"])
    assert r["sets"]["a"]["effective"]["icc"] == pytest.approx(1.0)  # variants share outcomes
    text = cal.format_report(r)
    assert "fit a -> test b" in text and "weigh as" in text and "design effect 3.00" in text
    assert "ECE before (run's confidence)" in text and "Brier" in text


def test_with_three_sets_each_is_also_tested_by_a_model_fitted_on_the_two_others() -> None:
    sets = {k: synthetic(4.0, groups=150, seed=i) for i, k in enumerate("abc")}
    r = cal.report(sets, target=0.10, low_confidence=0.0, looser=())
    pairs = [(t["train"], t["test"]) for t in r["transfer"]]
    assert pairs[6:] == [
        ("b + c", "a"),
        ("b + c", "a, τ from its other half"),
        ("a + c", "b"),
        ("a + c", "b, τ from its other half"),
        ("a + b", "c"),
        ("a + b", "c, τ from its other half"),
    ]
    half = r["transfer"][7]["deflection"]
    assert half["deflection_rate"].n < len(sets["a"])  # measured on the other half only
    assert half["deflection_rate"].value > 0.3


def test_feedback_labels() -> None:
    suggestion = json.dumps({"features": {"coverage_top": 0.5}, "confidence": 0.4})
    drafts = [{"id": i, "conversation_id": f"conv-{i}", "suggestion": suggestion} for i in range(6)]
    feedback = [
        {"draft_id": 0, "outcome": "accepted", "edit_ratio": 0.0},
        {"draft_id": 1, "outcome": "edited", "edit_ratio": 0.05},  # a light touch: still right
        {"draft_id": 2, "outcome": "edited", "edit_ratio": 0.25},  # ambiguous: left out
        {"draft_id": 3, "outcome": "edited", "edit_ratio": 0.6},  # rewritten: wrong
        {"draft_id": 4, "outcome": "escalated", "edit_ratio": None},
        {"draft_id": 5, "outcome": "rejected", "edit_ratio": None},
    ]
    rows = {r["id"]: r for r in cal.feedback_rows(drafts, feedback)}
    assert {k: (r["ok"], r["should_escalate"]) for k, r in rows.items()} == {
        "draft-0": (True, False),
        "draft-1": (True, False),
        "draft-3": (False, False),
        "draft-4": (False, True),
        "draft-5": (False, False),
    }


def test_calibrate_from_the_agents_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(data))
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "hash")
    monkeypatch.setenv("SOUFFLEUR_DEMO_AUTOLOAD", "false")
    ws = open_workspace(load_settings(data_dir=data, demo_autoload=False), embedder=HashEmbedder())
    load_demo(ws, today=ANCHOR)
    ws.service.today = lambda: ANCHOR
    desk = Desk(ws)

    assert main(["calibrate", "--feedback"]) == 2  # nothing sent yet: told what to do
    assert "once agents have sent drafts" in capsys.readouterr().err

    for cid in ("conv-001", "conv-002", "conv-004", "conv-005"):
        d = desk.ensure_draft(cid)
        assert d is not None
        v = desk.view(cid).conversation.version
        desk.send(cid, d.draft_text, agent="alice", expected_version=v)
    for cid in ("conv-003", "conv-006"):
        desk.ensure_draft(cid)
        desk.discard(cid, agent="alice")
    out = tmp_path / "confidence.json"
    assert main(["calibrate", "--feedback", "--folds", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "agent-feedback: 6 labelled cases, 4 positives" in captured.err
    assert "agent-feedback — model, grouped 2-fold CV" in captured.out
    model = ConfidenceModel.load(out)
    assert model.info["trained_on"] == {"agent-feedback": 6}
    assert model.threshold == 1.01  # six cases certify nothing: every draft still needs review
    assert 0.0 <= model.predict(d.suggestion.features) <= 1.0

    # keep the shipped model, choose only its threshold on the feedback it never saw
    assert main(["calibrate", "--feedback", "--threshold-only"]) == 0
    text = capsys.readouterr().out
    assert "only its threshold is chosen" in text and "every draft needs review" in text
    kept = ConfidenceModel.load(data / "confidence.json")
    assert kept.coef == ConfidenceModel.load().coef and kept.info["threshold_from"] == {
        "agent-feedback": 6
    }
    # a model fitted on that feedback cannot certify its threshold on it
    assert main(["calibrate", "--feedback", "--folds", "2"]) == 0
    capsys.readouterr()
    assert main(["calibrate", "--feedback", "--threshold-only"]) == 2
    assert "only hold in-sample" in capsys.readouterr().err


def test_a_threshold_chosen_on_unseen_cases_keeps_the_model() -> None:
    model = cal.train(synthetic(4.0, seed=1), target=0.10, low_confidence=0.0)
    coef = list(model.coef)
    r = cal.recalibrate_threshold(
        model, {"new": synthetic(4.0, seed=2)}, target=0.10, low_confidence=0.0
    )
    assert model.coef == coef and model.threshold == r["threshold"] < 1.0
    assert r["deflection"]["deflection_rate"].value > 0.3
    assert r["deflection"]["false_deflection_rate"].value <= 0.10
    noise = cal.recalibrate_threshold(
        model, {"new": synthetic(0.0, seed=3)}, target=0.10, low_confidence=0.0
    )
    assert noise["threshold"] == 1.01 and model.threshold == 1.01
