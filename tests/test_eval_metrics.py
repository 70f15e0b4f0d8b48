"""Every metric and interval on tiny fixtures with hand-computed expectations, cross-checked
against well-kept libraries (statsmodels, scipy, trec_eval through pytrec_eval)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from evals import metrics as m
from evals.stats import (
    bootstrap,
    clopper_pearson_upper,
    intragroup_correlation,
    mcnemar_exact,
    mean,
    paired_mde,
    percentile,
    ratio,
    unpaired_mde,
    wilson,
)


def rec(
    i: int,
    *,
    g: bool = False,
    esc: bool = False,
    conf: float = 0.9,
    ok: bool | None = True,
    action: str = "answer",
    retrieved: list[str] | None = None,
    refs: list[str] | None = None,
    group: str | None = None,
) -> dict[str, object]:
    return {
        "id": f"c{i}",
        "group": group or f"g{i}",
        "lang": "en",
        "expected_action": action,
        "should_escalate": g,
        "gold_reason": None,
        "weight": 1.0,
        "status": "scored",
        "unscored_reason": None,
        "retrieved_doc_ids": retrieved or [],
        "reference_doc_ids": refs or [],
        "draft": "",
        "citations": [],
        "escalate": esc,
        "reasons": [],
        "confidence": conf,
        "ok": ok,
        "timings": {"total_ms": 10.0 * (i + 1)},
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0},
        "judge_usage": {},
        "cached": False,
        "verdicts": {
            "judge": "offline-lexical",
            "claims": 2,
            "supported": 2 if ok else 1,
            "citations": 2,
            "citations_supporting": 2 if ok else 1,
            "claims_supported_by_citation": 2 if ok else 1,
            "grounded": bool(ok),
            "correct": ok,
            "correct_basis": "cites_reference_doc",
            "facts_stated": 0,
            "facts_correct": 0,
            "facts_required": 0,
            "facts_required_ok": 0,
            "leaks": [],
            "personal": True,
            "token_f1": None,
            "rouge_l": None,
        },
    }


def test_wilson_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 10), (3, 10), (10, 10), (47, 200), (1, 1124)]:
        e = wilson(k, n)
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (
            e.value == pytest.approx(k / n)
            and e.low == pytest.approx(lo, abs=1e-9)
            and e.high == pytest.approx(hi, abs=1e-9)
        )
    assert wilson(0, 0).value is None


def test_clopper_pearson_upper_bound() -> None:
    from statsmodels.stats.proportion import proportion_confint

    # one-sided 95% upper bound = upper end of the two-sided 90% interval
    for k, n in [(0, 60), (2, 100), (5, 40)]:
        assert clopper_pearson_upper(k, n) == pytest.approx(
            proportion_confint(k, n, alpha=0.10, method="beta")[1], abs=1e-9
        )
    assert clopper_pearson_upper(0, 60) == pytest.approx(
        1 - 0.05 ** (1 / 60)
    )  # exact for zero failures (≈ rule of three)
    assert clopper_pearson_upper(3, 3) == 1.0 and clopper_pearson_upper(0, 0) == 1.0


def test_mcnemar_exact_matches_statsmodels_and_scipy() -> None:
    from scipy.stats import binomtest
    from statsmodels.stats.contingency_tables import mcnemar

    for b, c in [(0, 0), (1, 5), (7, 2), (12, 12), (0, 9)]:
        expected = mcnemar(np.array([[10, b], [c, 10]]), exact=True).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(expected)
        if b + c:
            assert mcnemar_exact(b, c) == pytest.approx(
                min(1.0, binomtest(min(b, c), b + c, 0.5).pvalue)
            )


def test_mde_table_of_evals_md() -> None:
    assert paired_mde(0.10, 200) == pytest.approx(0.0626, abs=5e-4)
    assert paired_mde(0.20, 500) == pytest.approx(0.056, abs=5e-4)
    assert unpaired_mde(200) == pytest.approx(0.140, abs=5e-4)
    assert unpaired_mde(1000) == pytest.approx(0.0626, abs=5e-4)


def test_percentile_is_linear_interpolation_and_bootstrap_is_deterministic() -> None:
    assert (
        percentile([1, 2, 3, 4], 50) == 2.5
        and percentile([10], 95) == 10
        and percentile([], 50) is None
    )
    a = bootstrap([0, 1, 1, 0, 1], mean, seed=3)
    b = bootstrap([0, 1, 1, 0, 1], mean, seed=3)
    assert a == b and a.value == pytest.approx(0.6) and a.low is not None and a.low <= 0.6 <= a.high  # type: ignore[operator]
    clustered = bootstrap(
        np.array([[1, 1], [0, 1], [1, 0], [0, 0]]), ratio, groups=["a", "a", "b", "b"]
    )
    assert (
        clustered.value == pytest.approx(1.0) and "cluster" in clustered.method
    )  # (1+0+1+0)/(1+1+0+0)


def test_deflection_and_false_deflection_by_hand() -> None:
    rs = [
        rec(0, conf=0.9, ok=True),  # answered, ok -> D
        rec(1, conf=0.9, ok=False),  # answered, wrong -> FD wrong
        rec(2, conf=0.9, g=True, ok=None),  # answered, needed a human -> FD policy
        rec(3, conf=0.3, ok=True),  # below threshold -> escalated, not deflected
        rec(4, esc=True, conf=0.95, g=True, ok=None),  # escalated correctly
        rec(5, conf=0.9, ok=True, action="clarify"),  # clarify: out of DR/FDR
    ]
    d = m.deflection(rs, 0.5, clustered=False)
    assert d["n"] == 5 and d["answered"] == 3 and d["deflected"] == 1 and d["false_deflected"] == 2
    assert d["deflection_rate"].value == pytest.approx(1 / 5)
    assert d["deflection_rate_addressable"].value == pytest.approx(1 / 3)
    assert d["false_deflection_rate"].value == pytest.approx(2 / 3)
    assert d["coverage"].value == pytest.approx(3 / 5)
    assert (d["fd_policy"], d["fd_wrong"]) == (1, 1)
    # coverage = DR + FD/N
    assert d["coverage"].value == pytest.approx(
        d["deflection_rate"].value + d["false_deflected"] / d["n"]
    )
    e = m.escalation(rs, 0.5)
    assert (e["tp"], e["fp"], e["fn"]) == (1, 1, 1)
    assert (
        e["precision"].value == 0.5
        and e["recall"].value == 0.5
        and e["f1"] == pytest.approx(0.5)
        and e["f2"] == pytest.approx(0.5)
    )
    assert e["expected_cost"] == 5 * 1 + 1 * 1
    by = {a["expected_action"]: a for a in m.by_action(rs, 0.5)}
    assert by["clarify"]["n"] == 1 and by["answer"]["deflected"] == 1


def test_unanswered_run_has_no_fdr_and_rule_of_three() -> None:
    rs = [rec(i, conf=0.1) for i in range(4)]
    d = m.deflection(rs, 0.5, clustered=False)
    assert d["false_deflection_rate"].value is None and d["answered"] == 0
    ok = [rec(i, conf=0.9) for i in range(30)]
    assert m.deflection(ok, 0.5, clustered=False)["rule_of_three"] == pytest.approx(0.1)


def test_retrieval_metrics_match_trec_eval() -> None:
    import pytrec_eval

    rs = [
        rec(0, retrieved=["a", "b", "c", "d", "e", "f"], refs=["b", "e", "z"]),
        rec(1, retrieved=["x", "y"], refs=["y"]),
        rec(2, retrieved=["q", "r", "s", "t", "u", "v"], refs=["w"]),
        rec(3, retrieved=["k"], refs=["k", "m"]),
    ]
    # by hand
    assert [m.hit_at(r, 1) for r in rs] == [0, 0, 0, 1]
    assert (
        m.recall_at(rs[0], 5) == pytest.approx(2 / 3) and m.mrr(rs[0]) == 0.5 and m.mrr(rs[2]) == 0
    )
    assert m.ndcg_at(rs[1], 5) == pytest.approx(1 / math.log2(3))
    qrels = {r["id"]: {d: 1 for d in r["reference_doc_ids"]} for r in rs}
    run = {
        r["id"]: {
            d: float(len(r["retrieved_doc_ids"]) - i) for i, d in enumerate(r["retrieved_doc_ids"])
        }
        for r in rs
    }
    ev = pytrec_eval.RelevanceEvaluator(
        qrels, {"recip_rank", "ndcg_cut.5", "recall.5", "success.1,5"}
    )
    res = ev.evaluate(run)
    for r in rs:
        t = res[r["id"]]
        assert m.mrr(r) == pytest.approx(t["recip_rank"])
        assert m.ndcg_at(r, 5) == pytest.approx(t["ndcg_cut_5"])
        assert m.recall_at(r, 5) == pytest.approx(t["recall_5"])
        assert m.hit_at(r, 5) == pytest.approx(t["success_5"]) and m.hit_at(r, 1) == pytest.approx(
            t["success_1"]
        )
    summary = m.retrieval(rs)
    assert summary["n"] == 4 and summary["hit@5"].value == pytest.approx(0.75)


def test_calibration_ece_and_brier_by_hand() -> None:
    rs = [
        rec(0, conf=0.9, ok=True),
        rec(1, conf=0.8, ok=False),
        rec(2, conf=0.2, ok=False),
        rec(3, conf=0.1, ok=True),
    ]
    cal = m.calibration(rs, bins=2)
    # bins by confidence: {0.1 (y=1), 0.2 (y=0)} and {0.8 (y=0), 0.9 (y=1)}
    assert cal["ece"] == pytest.approx(0.5 * abs(0.5 - 0.15) + 0.5 * abs(0.5 - 0.85))
    assert cal["brier"] == pytest.approx(((0.9 - 1) ** 2 + 0.8**2 + 0.2**2 + (0.1 - 1) ** 2) / 4)


def test_risk_coverage_aurc_and_threshold_choice() -> None:
    rs = [rec(i, conf=1 - i / 100, ok=i not in (3, 7)) for i in range(10)]
    rc = m.risk_coverage(rs)
    assert rc["points"][0]["coverage"] == pytest.approx(0.1) and rc["points"][-1]["coverage"] == 1.0
    assert rc["points"][-1]["fdr"] == pytest.approx(0.2)
    expected = np.mean([sum(1 for j in range(k) if j in (3, 7)) / k for k in range(1, 11)])
    assert rc["aurc"] == pytest.approx(expected)
    # 72 clean cases: the upper bound (at alpha/2, one of two sequences) with 0 failures is
    # ~5.0 %, under 5 %; 71 are not enough
    clean = [rec(i, conf=1 - i / 1000) for i in range(72)] + [rec(100, conf=0.001, ok=False)]
    tau = m.choose_threshold(clean, 0.05)
    assert tau is not None and tau > 0.001
    assert m.choose_threshold(clean[:71], 0.05) is None
    # Two wrong labels among the ten most confident cases stop the sequence that starts at
    # 72 cases, not the one that starts at 230: 300 cases with 2 failures still pass.
    noisy = [rec(i, conf=1 - i / 1000, ok=i not in (2, 7)) for i in range(300)]
    tau = m.choose_threshold(noisy, 0.05)
    assert tau == pytest.approx(1 - 299 / 1000)
    assert m.choose_threshold(noisy[:229], 0.05) is None


def test_the_threshold_sweep_counts_ties_together_and_skips_escalations() -> None:
    rng = np.random.default_rng(3)
    rs = [
        rec(
            i,
            conf=float(rng.choice([0.2, 0.5, 0.5, 0.7, 0.9])),  # many ties
            ok=bool(rng.random() < 0.7),
            g=bool(rng.random() < 0.1),
            esc=bool(rng.random() < 0.1),
        )
        | {"group": f"q{int(rng.integers(30))}"}  # variants of 30 questions
        for i in range(200)
    ]
    sweep = list(m.risk_by_threshold(rs))
    assert [step.threshold for step in sweep] == [0.9, 0.7, 0.5, 0.2]
    for tau, n, fd, size in sweep:  # the definition, case by case
        answered = [r for r in m.scored(rs) if m.answered(r, tau)]
        assert n == len(answered)
        assert fd == sum(m.outcome(r, tau)[1] for r in answered)
        per_group = Counter(r["group"] for r in answered)
        assert size == pytest.approx(sum(c * c for c in per_group.values()) / n)


def test_intragroup_correlation() -> None:
    # each group all right or all wrong: fully correlated
    assert intragroup_correlation([1, 1, 1, 0, 0, 0], ["a"] * 3 + ["b"] * 3) == 1.0
    # every group half right: the groups say nothing (negative estimate clipped to 0)
    assert intragroup_correlation([1, 0, 1, 0], ["a", "a", "b", "b"]) == 0.0
    # no group with two cases: nothing to estimate
    assert intragroup_correlation([1, 0, 1], ["a", "b", "c"]) == 0.0
    # balanced groups: the textbook ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW)
    groups = [[1, 1, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0], [1, 1, 1, 1]]
    y = np.array(groups, dtype=float)
    msb = 4 * ((y.mean(axis=1) - y.mean()) ** 2).sum() / 3
    msw = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum() / (16 - 4)
    values = [v for grp in groups for v in grp]
    labels = [str(i) for i, grp in enumerate(groups) for _ in grp]
    assert intragroup_correlation(values, labels) == pytest.approx((msb - msw) / (msb + 3 * msw))


def test_variants_that_fail_together_count_as_less_evidence() -> None:
    """240 clean answers certify 5 % when they are 240 questions, not when they are 30
    questions asked 8 ways each and the wrong answers also come by whole questions."""

    def cases(group_of: Callable[[int], str]) -> list[dict[str, object]]:
        # 240 right answers, then 80 wrong ones, all confidently ranked
        return [rec(i, conf=1 - i / 1000, ok=i < 240, group=group_of(i)) for i in range(320)]

    independent = cases(lambda i: f"q{i}")
    assert m.error_correlation(independent) == 0.0
    tau = m.choose_threshold(independent, 0.05)
    assert tau is not None and tau <= 1 - 200 / 1000
    variants = cases(lambda i: f"q{i // 8}")
    assert m.error_correlation(variants) == 1.0
    # the top 240 are 30 questions: 30 effective cases, fewer than the 72 needed
    assert m.choose_threshold(variants, 0.05) is None
    step = list(m.risk_by_threshold(variants))[239]
    assert step.group_size == 8.0
    assert m.fdr_upper(step, 1.0) == pytest.approx(clopper_pearson_upper(0, 30))
    assert m.fdr_upper(step, 0.0) == pytest.approx(clopper_pearson_upper(0, 240))


def test_the_observed_fdr_rule_of_the_naive_baselines() -> None:
    from evals.calibrate import largest_point_threshold

    # confidences 0.99 .. 0.80; failures at ranks 3 and 12 (0-based)
    rs = [rec(i, conf=0.99 - i / 100, ok=i not in (3, 12)) for i in range(20)]
    # answering k cases fails 0 (k<=3), 1 (4<=k<=12), 2 (k>=13) times: FDR <= 10 % up to k=12
    # (1/12), then 2/13 > 10 %, 2/20 = 10 % again at k=20: the lowest passing threshold wins
    assert largest_point_threshold(rs, 0.10) == pytest.approx(0.80)
    assert largest_point_threshold(rs, 0.09) == pytest.approx(0.99 - 11 / 100)  # 1/12 <= 9 %
    assert largest_point_threshold(rs, 0.0) == pytest.approx(0.97)  # the 3 clean first ones
    # the bound-based rule answers nothing on so few cases
    assert m.choose_threshold(rs, 0.10) is None


def test_failures_at_and_below_the_threshold() -> None:
    rs = [
        rec(0, conf=0.95, ok=False),  # answered and wrong: a false deflection
        rec(1, conf=0.9, g=True),  # answered but should have escalated
        rec(2, conf=0.85),  # answered and right
        rec(3, conf=0.6, ok=False, esc=True) | {"reasons": ["low_confidence"]},  # held back
        rec(4, conf=0.7, g=True),  # held back, should have escalated
        rec(5, conf=0.75, ok=False, esc=True) | {"reasons": ["legal_threat"]},  # a trigger: not
        rec(6, conf=0.65),  # held back but right
    ]
    assert [r["id"] for r in m.worst_failures(rs, 0.8)] == ["c0", "c1"]
    assert [r["id"] for r in m.held_back_failures(rs, 0.8)] == ["c4", "c3"]
    # at a lower threshold c4 goes out (a false deflection); c3 stays held by its own flag
    assert [r["id"] for r in m.worst_failures(rs, 0.5)] == ["c0", "c1", "c4"]
    assert [r["id"] for r in m.held_back_failures(rs, 0.5)] == ["c3"]


def test_escalation_by_triggers_alone_leaves_confidence_out() -> None:
    rs = [
        rec(0, g=True, esc=True) | {"reasons": ["legal_threat"]},  # caught by a trigger
        rec(1, g=True, esc=True) | {"reasons": ["low_confidence"]},  # caught by confidence only
        rec(2, g=True, conf=0.1),  # caught by the threshold only
        rec(3, esc=True) | {"reasons": ["human_request", "low_confidence"]},  # unneeded
        rec(4),
    ]
    overall = m.escalation(rs, 0.5)
    assert (overall["tp"], overall["fp"], overall["fn"]) == (3, 1, 0)
    t = m.trigger_escalation(rs)
    assert (t["tp"], t["fp"], t["fn"]) == (1, 1, 2)
    assert t["precision"].value == pytest.approx(0.5) and t["recall"].value == pytest.approx(1 / 3)


def test_split_by_group_keeps_groups_together() -> None:
    rs = [rec(i, group=f"grp{i // 3}") for i in range(60)]
    dev, test = m.split_by_group(rs)
    assert not {r["group"] for r in dev} & {r["group"] for r in test} and dev and test


def test_unscored_cases_are_counted_not_averaged() -> None:
    rs = [
        rec(0),
        rec(1, ok=None),
        {**rec(2), "status": "unscored", "unscored_reason": "timeout after 5 s", "ok": None},
    ]
    rs[1]["unscored_reason"] = "no reference documents or required facts to verify correctness"
    s = m.summarize(rs, tau=0.5, target_fdr=0.05)
    assert s["deflection"]["n"] == 1 and s["status"] == {"scored": 2, "unscored": 1}
    assert set(s["unscored_reasons"]) == {
        "timeout after 5 s",
        "no reference documents or required facts to verify correctness",
    }
    import json

    from evals.report import jsonable

    text = json.dumps(jsonable(s))
    assert "NaN" not in text


def test_rouge_l_longest_common_subsequence_matches_the_dynamic_programme() -> None:
    """The bit-parallel LCS behind ROUGE-L equals the textbook dynamic programme."""
    import random

    from evals.judge import _lcs_length, rouge_l

    def dp(a: list[str], b: list[str]) -> int:
        prev = [0] * (len(b) + 1)
        for x in a:
            cur = [0]
            for j, y in enumerate(b, start=1):
                cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
            prev = cur
        return prev[-1]

    rng = random.Random(0)
    for _ in range(500):
        a = [rng.choice("abcdef") for _ in range(rng.randint(1, 80))]
        b = [rng.choice("abcdefg") for _ in range(rng.randint(1, 90))]
        assert _lcs_length(a, b) == dp(a, b)
    # "the cat sat on the mat" / "the cat on a mat": LCS "the cat on mat" = 4 words
    assert rouge_l("The cat sat on the mat", "the cat on a mat") == pytest.approx(
        2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5)
    )
    assert rouge_l("", "anything") == 0.0


def test_suggested_escalation_is_the_hand_over_flag_overall_and_per_reason() -> None:
    rs = [
        rec(0, g=True, esc=True) | {"gold_reason": "legal", "reasons": ["legal_threat"]},
        rec(1, g=True, esc=True)
        | {"gold_reason": "legal", "reasons": ["anger"]},  # caught, misnamed
        rec(2, g=True, conf=0.1) | {"gold_reason": "legal"},  # only held for review: a miss
        rec(3, g=True, esc=True) | {"reasons": ["no_knowledge"]},  # no label: the KB cannot answer
        rec(4, esc=True) | {"reasons": ["legal_threat"]},  # unneeded
        rec(5, conf=0.1),  # held for review, rightly not escalated
        rec(6),
    ]
    a = m.suggested_escalation(rs)
    assert (a["tp"], a["fp"], a["fn"]) == (3, 1, 1)
    assert a["precision"].value == pytest.approx(0.75) and a["recall"].value == pytest.approx(0.75)
    legal = a["by_reason"]["legal"]
    assert legal["n"] == 3 and legal["caught"].value == pytest.approx(2 / 3)
    assert (legal["tp"], legal["fp"], legal["fn"]) == (1, 1, 2)
    assert a["by_reason"]["no_kb_answer"]["recall"].value == 1.0
    assert a["by_code"]["legal_threat"]["n"] == 2
    assert a["by_code"]["legal_threat"]["needed"].value == pytest.approx(0.5)
    # (b) not automated counts the review hold too: its recall is higher and says less
    b = m.escalation(rs, 0.5)
    assert (b["tp"], b["fn"]) == (4, 0)
    nr = m.needs_review(rs, 0.5)
    assert nr["n"] == 2 and nr["of_which_need_a_human"] == 1
