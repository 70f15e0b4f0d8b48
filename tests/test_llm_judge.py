"""The optional LLM judge: verdict parsing, repair, counted failures that never become 0 or NaN,
both-order pairwise, cache keys, self-agreement, real HTTP, and a whole run with a scripted judge."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from copilot import Settings
from copilot.config import setup_offline_tiktoken
from copilot.pipeline.calllog import CallLog
from copilot.pipeline.llm import Completion, LLMUnavailable, Message, parse_json
from copilot.testing import FakeOpenAIServer, ScriptedChatModel
from copilot.types import Citation, Escalation, Suggestion
from evals import RunConfig, run_eval
from evals.cache import CachingChatModel
from evals.dataset import Case, CaseTurn
from evals.judge import JudgeInput, Verdicts, judge_offline
from evals.llm_judge import (
    TEMPLATES,
    ClaimAnswer,
    LLMJudge,
    PairwiseAnswer,
    Question,
    RubricAnswer,
    judge_from_settings,
    pairwise,
    pairwise_counts,
    pairwise_runs,
    self_agreement,
)
from evals.stats import Estimate
from knowledge import HashEmbedder, Order, make_engine
from knowledge.orders import Item
from tests.builders import (
    case_result,
    case_row,
    human_request_case,
    order_case,
    order_row,
    write_dataset,
)

RETURNS = "You have 30 days after delivery to return an item. Returns are free with Colissimo."
DELIVERY = "Standard delivery takes 3 to 5 working days. Express delivery arrives in 24 hours."


def claim(verdict: str, *sources: str) -> str:
    return json.dumps({"verdict": verdict, "supporting_sources": list(sources)})


def rubric(verdict: str) -> str:
    return json.dumps({"reason": "because", "verdict": verdict})


def better(which: str) -> str:
    return json.dumps({"better": which})


def suggestion(draft: str, cites: dict[str, list[str]], *, escalate: bool = False) -> Suggestion:
    return Suggestion(
        draft=draft,
        citations=[
            Citation(sentence=s, chunk_ids=ids, doc_ids=ids, titles=ids, snippets=[])
            for s, ids in cites.items()
        ],
        escalation=Escalation(escalate=escalate),
        confidence=0.9,
        language="en",
        register_="formal",
    )


def a_case(**kw: Any) -> Case:
    base: dict[str, Any] = {
        "id": "c1",
        "conversation": [CaseTurn(role="customer", text="Can I return my lamp?")],
    }
    base.update(kw)
    return Case(**base)


ORDER = Order(
    order_number="ZZ-100001",
    customer_id="K1",
    customer_name="Ann Lee",
    email="ann@example.com",
    created_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
    status="in_transit",
    items=(Item("L1", "Desk lamp", 1, 40.0),),
    total=40.0,
    currency="EUR",
    carrier="Colissimo",
    tracking_number="6A11112222333",
    estimated_delivery=date(2026, 11, 25),
    delivered_at=None,
)


@pytest.fixture(autouse=True, scope="module")
def _offline_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Judge usage without API counts is estimated with tiktoken, from the vendored files."""
    setup_offline_tiktoken(tmp_path_factory.mktemp("tiktoken"))


CHUNKS = {"returns#0": RETURNS, "delivery#0": DELIVERY}
DRAFT = (
    "Hello Ann, thank you for your message. You have 30 days to return an item. "
    "Returns cost 5 euros. Our shop is the best in town."
)
CITES = {
    "You have 30 days to return an item.": ["returns#0", "delivery#0"],
    "Returns cost 5 euros.": ["returns#0"],
}


def offline(s: Suggestion, case: Case, orders: list[Order] | None = None) -> Verdicts:
    return judge_offline(
        JudgeInput(
            s,
            chunk_texts=CHUNKS,
            own_orders=orders or [],
            other_identifiers={},
            reference_doc_ids=case.reference_doc_ids,
            required_facts=case.required_facts,
            forbidden_facts=case.forbidden_facts,
            order_facts=case.order_facts,
            reference_answer=case.reference_answer,
            lang="en",
        )
    )


def judge_with(chat: ScriptedChatModel, **kw: Any) -> LLMJudge:
    return LLMJudge(chat, **kw)


# ------------------------------------------------------------------------- parsing


def test_answers_are_validated_with_pydantic_and_lenient_on_form_only() -> None:
    a = parse_json(
        '```json\n{"verdict": "Not in context", "supporting_sources": []}\n```', ClaimAnswer
    )
    assert a.verdict == "not_in_context"
    assert parse_json('Sure: {"verdict": true}', RubricAnswer).verdict == "yes"
    assert parse_json('{"better": "Reply 2"}', PairwiseAnswer).better == "2"
    assert parse_json('{"better": 1}', PairwiseAnswer).better == "1"
    cases: list[tuple[str, type[BaseModel], str]] = [
        ("", ClaimAnswer, "empty"),
        ("supported", ClaimAnswer, "no JSON object"),
        ('{"verdict": "supported",}', ClaimAnswer, "JSON is invalid"),
        ('{"verdict": "probably"}', ClaimAnswer, "verdict"),
        ('{"verdict": "maybe"}', RubricAnswer, "verdict"),
        ('{"better": "both"}', PairwiseAnswer, "better"),
    ]
    for text, schema, why in cases:
        with pytest.raises(ValueError, match=why):
            parse_json(text, schema)
    q = Question("claim", [], ("S1", "ORDER"))
    assert isinstance(q.parse(claim("supported", "[s1]", "ORDER")), ClaimAnswer)
    with pytest.raises(ValueError, match="allowed labels: S1, ORDER"):
        q.parse(claim("supported", "S3"))


# ------------------------------------------------------------------------- verdicts


def test_claim_verdicts_make_groundedness_and_citation_support() -> None:
    chat = ScriptedChatModel("judge-m").enqueue(
        claim("supported", "S1"),  # 30 days: S1 (returns) supports it, S2 (delivery) does not
        claim("contradicted"),  # 5 euros: the passage says free
        rubric("yes"),
    )
    case = a_case(reference_answer="You can return it within 30 days, for free.")
    s = suggestion(DRAFT, CITES)
    j = judge_with(chat).judge(s, offline(s, case), case=case, chunk_texts=CHUNKS, own_orders=[])
    v = j.verdicts
    # greeting not a claim; the uncited claim has no context at all: not asked, not supported
    assert len(chat.calls) == 3 and v.judge == "llm:judge-m"
    assert (v.claims, v.supported, v.grounded) == (3, 1, False)
    assert (v.citations, v.citations_supporting, v.claims_supported_by_citation) == (3, 1, 1)
    assert v.unsupported == ["Returns cost 5 euros.", "Our shop is the best in town."]
    assert v.correct is True and v.correct_basis == "llm_reference_rubric"
    d = j.as_dict()
    assert d["llm"]["contradicted"] == ["Returns cost 5 euros."] and d["fallback"] == []
    assert d["judged_by"]["grounded"] == "llm:judge-m" and j.failures == []
    first = chat.calls[0]
    assert first[0]["role"] == "system" and "Length, tone" in first[0]["content"]
    assert RETURNS in first[1]["content"] and 'label="S2"' in first[1]["content"]
    assert "<claim>You have 30 days to return an item.</claim>" in first[1]["content"]
    assert j.usage.calls == 3 and j.usage.estimated and j.usage.prompt_tokens > 0


def test_a_return_deadline_is_checked_by_recomputing_it() -> None:
    """The drafter states "until <delivery + window>": the judge recomputes that date from the
    order record and the policy instead of calling it unsupported, or taking it on trust."""
    delivered = dataclasses.replace(
        ORDER,
        order_number="ZZ-100002",
        status="delivered",
        delivered_at=datetime(2026, 11, 2, 15, tzinfo=UTC),
    )

    def verdict(sentence: str, window: int | None) -> Verdicts:
        s = suggestion(sentence, {sentence: ["order:ZZ-100002"]})
        return judge_offline(
            JudgeInput(
                s,
                chunk_texts=CHUNKS,
                own_orders=[delivered],
                other_identifiers={},
                reference_doc_ids=[],
                required_facts=[],
                forbidden_facts=[],
                order_facts={},
                reference_answer=None,
                lang="en",
                return_window_days=window,
            )
        )

    right = "You can return an item until 2 December 2026 (30 days after delivery)."
    wrong = "You can return an item until 9 December 2026 (30 days after delivery)."
    assert verdict(right, 30).unsupported == []
    assert verdict(wrong, 30).unsupported == [wrong]
    assert verdict(right, 14).unsupported == [right]  # another policy, another deadline
    assert verdict(right, None).unsupported == [right]  # no policy: nothing to check it with


def test_the_order_record_is_context_and_personalisation_stays_deterministic() -> None:
    chat = ScriptedChatModel("judge-m").enqueue(claim("supported", "ORDER"))
    case = a_case(order_facts={"tracking_number": "6A11112222333"})
    s = suggestion("Your parcel's tracking number is 6A11112222333.", {})
    off = offline(s, case, [ORDER])
    j = judge_with(chat, mask_pii=True).judge(
        s, off, case=case, chunk_texts=CHUNKS, own_orders=[ORDER]
    )
    prompt = chat.calls[0][1]["content"]
    assert "tracking number: 6A11112222333" in prompt and "[EMAIL_1]" in prompt
    assert "ann@example.com" not in prompt  # masked before it leaves the machine
    assert j.verdicts.grounded is True and j.verdicts.claims_supported_by_citation == 0
    assert (j.verdicts.personal, j.verdicts.facts_required_ok) == (
        off.personal,
        off.facts_required_ok,
    )


def test_required_facts_stay_the_decision_and_the_llm_verdict_is_recorded() -> None:
    chat = ScriptedChatModel().enqueue(
        claim("supported", "S1"), claim("supported", "S1"), rubric("no")
    )
    case = a_case(reference_answer="30 days, free of charge.", required_facts=["30 days"])
    s = suggestion(DRAFT, CITES)
    off = offline(s, case)
    j = judge_with(chat).judge(s, off, case=case, chunk_texts=CHUNKS, own_orders=[])
    assert off.correct is True and j.verdicts.correct is True
    assert j.verdicts.correct_basis == "required_facts" and j.extra["llm"]["correct"] is False


def test_one_repair_round_on_invalid_json() -> None:
    chat = ScriptedChatModel().enqueue("Supported, clearly.", claim("supported", "S1"))
    judge = judge_with(chat)
    q = judge.claim_question("You have 30 days.", "You have 30 days.", [("S1", RETURNS)], [])
    asked = judge.ask(q)
    assert isinstance(asked.answer, ClaimAnswer) and asked.answer.verdict == "supported"
    assert len(chat.calls) == 2 and asked.tally.calls == 2
    repair = chat.calls[1]
    assert repair[-2] == {"role": "assistant", "content": "Supported, clearly."}
    assert (
        "no JSON object" in repair[-1]["content"]
        and '"supporting_sources"' in repair[-1]["content"]
    )


def test_a_judge_failure_is_counted_and_falls_back_to_the_offline_verdict() -> None:
    chat = ScriptedChatModel().enqueue(
        "nope",
        "still nope",
        LLMUnavailable("timeout"),  # claim 1 twice invalid; correctness down
    )
    case = a_case(reference_answer="You can return it within 30 days.")
    s = suggestion(DRAFT, CITES)
    off = offline(s, case)
    result = case_result(unscored_reason="x")
    j = judge_with(chat).apply(result, s, off, case=case, chunk_texts=CHUNKS, own_orders=[])
    assert len(chat.calls) == 3  # the other claims are not asked once groundedness failed
    rec = result.record()
    v = rec["verdicts"]
    assert rec["judge_failures"] == 2 and len(j.failures) == 2
    assert v["fallback"] == ["grounded", "correct"]
    assert v["llm"]["grounded"] is None and v["llm"]["correct"] is None
    for key in ("claims", "supported", "grounded", "citations", "citations_supporting", "correct"):
        assert v[key] == getattr(off, key), key  # the offline verdict, not a 0 or a NaN
    assert v["correct_basis"] == off.correct_basis and "fallback" in v["judged_by"]["correct"]
    assert rec["ok"] == (
        None
        if off.correct is None
        else bool(off.correct and off.grounded is not False and off.personal)
    )
    assert "invalid JSON twice" in v["llm"]["failures"][0]["error"]
    assert "LLMUnavailable" in v["llm"]["failures"][1]["error"]
    assert rec["judge_usage"]["calls"] == 2  # the failed call costs nothing


def test_escalated_drafts_are_not_asked_about_groundedness() -> None:
    chat = ScriptedChatModel()
    case = a_case()
    s = suggestion(
        "I am passing your request to a colleague who will get back to you.", {}, escalate=True
    )
    j = judge_with(chat).judge(s, offline(s, case), case=case, chunk_texts=CHUNKS, own_orders=[])
    assert chat.calls == [] and j.verdicts.grounded is None and j.failures == []


# ------------------------------------------------------------------------- pairwise


def test_pairwise_counts_a_win_only_when_both_orders_agree() -> None:
    chat = ScriptedChatModel().enqueue(
        better("1"), better("2"),  # A first, then A second: A wins in both orders
        better("1"), better("1"),  # always the first shown: position bias -> tie
        better("2"), better("1"),  # B both times
        better("tie"), better("2"),  # one order ties -> tie
        better("1"), LLMUnavailable("server_error"),  # a failure is not a tie
    )  # fmt: skip
    judge = judge_with(chat)
    results = [
        pairwise(
            judge, conversation="Can I return it?", draft_a=f"A says {i}.", draft_b=f"B says {i}."
        )
        for i in range(5)
    ]
    assert [r.winner for r in results] == ["a", "tie", "b", "tie", None]
    assert results[1].first == "a" and results[1].second == "b" and not results[1].consistent
    assert results[4].failures == 1 and "LLMUnavailable" in results[4].errors[0]
    # the second question shows B first
    assert "<reply_1>\nA says 0.\n</reply_1>" in chat.calls[0][1]["content"]
    assert "<reply_1>\nB says 0.\n</reply_1>" in chat.calls[1][1]["content"]
    counts = pairwise_counts(results)
    assert counts == {
        "n": 5,
        "a_wins": 1,
        "b_wins": 1,
        "ties": 2,
        "order_disagreements": 2,
        "judge_failures": 1,
    }
    same = pairwise(judge, conversation="?", draft_a="Same text.", draft_b="same  text.")
    assert same.winner == "tie" and len(chat.calls) == 10  # identical drafts: no call


def test_pairwise_over_two_runs_pairs_cases_by_id() -> None:
    chat = ScriptedChatModel().enqueue(better("2"), better("1"))
    rec = {"status": "scored", "question": "Can I return it?"}
    run_a = [{**rec, "id": "x", "draft": "Yes."}, {**rec, "id": "y", "draft": "Same."}]
    run_b = [
        {**rec, "id": "y", "draft": "Same."},
        {**rec, "id": "x", "draft": "Yes, within 30 days."},
    ]
    out = pairwise_runs(LLMJudge(chat), run_a, run_b, references={"x": "30 days."})
    assert out["counts"]["b_wins"] == 1 and out["counts"]["ties"] == 1
    assert [c["id"] for c in out["cases"]] == ["x", "y"] and len(chat.calls) == 2
    assert "<reference_answer>\n30 days.\n</reference_answer>" in chat.calls[0][1]["content"]


# ------------------------------------------------------------------------- cache


def test_the_cache_key_has_the_template_version_and_never_stores_failures(
    tmp_path: Path, settings: Settings
) -> None:
    other = tmp_path / "templates"
    shutil.copytree(TEMPLATES, other)
    (other / "judge_repair.md").write_text("Fix it: {error}\nFormat: {format}\n", encoding="utf-8")
    a = judge_from_settings(settings, chat=ScriptedChatModel("m"))
    b = judge_from_settings(settings, chat=ScriptedChatModel("m"), templates_folder=other)
    assert a.template_version != b.template_version and "judge_repair@" in a.template_version
    q = a.claim_question("You have 30 days.", "You have 30 days.", [("S1", RETURNS)], [])
    assert (
        q.messages
        == b.claim_question(
            "You have 30 days.", "You have 30 days.", [("S1", RETURNS)], []
        ).messages
    )
    assert isinstance(a.chat, CachingChatModel) and isinstance(b.chat, CachingChatModel)
    assert a.chat.key(q.messages) != b.chat.key(q.messages)  # same messages, other templates
    assert a.chat.params == {"temperature": 0.0, "seed": 0, "template_version": a.template_version}
    folder = settings.data_dir / "evals" / "judge-cache"

    def stored() -> int:
        return len(list(folder.rglob("*.json")))

    inner_a = a.chat.inner
    assert isinstance(inner_a, ScriptedChatModel)
    inner_a.enqueue(LLMUnavailable("timeout"), "bad", "worse")
    assert a.ask(q).answer is None and stored() == 0  # an exception is not stored
    assert a.ask(q).answer is None and stored() == 0  # invalid twice: both answers dropped
    inner_a.enqueue("bad", claim("supported", "S1"))
    assert a.ask(q).answer is not None and stored() == 2  # repaired: replayable
    calls = len(inner_a.calls)
    again = a.ask(q)
    assert isinstance(again.answer, ClaimAnswer) and again.answer.verdict == "supported"
    assert len(inner_a.calls) == calls and again.tally.cached_calls == 2


# ------------------------------------------------------------------------- self-agreement


def test_self_agreement_reports_the_majority_vote_agreement() -> None:
    keep = ScriptedChatModel().enqueue(claim("supported", "S1"), claim("not_in_context"))
    judge = judge_with(keep, keep_questions=True)
    for text in ("You have 30 days.", "Returns are free."):
        judge.ask(judge.claim_question(text, text, [("S1", RETURNS)], []))
    assert [label for _, label in judge.asked] == ["supported", "not_in_context"]
    samplers = [
        ScriptedChatModel().enqueue(claim("supported", "S1"), claim("supported", "S1")),
        ScriptedChatModel().enqueue(claim("supported", "S1"), claim("contradicted")),
        ScriptedChatModel().enqueue(claim("supported", "S1"), claim("supported", "S1")),
    ]
    r = self_agreement(judge, samplers)
    assert (r["k"], r["items"], r["failed_items"]) == (3, 2, 0)
    assert r["unanimous_rate"] == 0.5 and r["majority_agreement"] == pytest.approx((1 + 2 / 3) / 2)
    assert r["t0_matches_majority"] == 0.5  # the second item's T=0 verdict lost the vote
    broken = [ScriptedChatModel(default="no json")] * 3
    r2 = self_agreement(judge, broken, subset=1)
    assert r2["items"] == 0 and r2["failed_items"] == 1 and r2["majority_agreement"] is None


# ------------------------------------------------------------------------- over real HTTP


def test_over_http_the_judge_sends_t0_a_seed_and_its_own_model(tmp_path: Path) -> None:
    from copilot import load_settings

    with FakeOpenAIServer() as srv:
        settings = load_settings(
            data_dir=tmp_path / "data",
            demo_autoload=False,
            llm_base_url="http://127.0.0.1:9/v1",  # the drafter's endpoint, not used here
            judge_base_url=srv.base_url,
            judge_model="judge-x",
            llm_max_retries=0,
            llm_timeout_s=5,
        )
        judge = judge_from_settings(settings, seed=7)
        assert judge.describe()["endpoint"] == srv.base_url and judge.describe()["notes"] == []
        q = judge.claim_question("You have 30 days.", "You have 30 days.", [("S1", RETURNS)], [])
        srv.reply("I think it is supported", usage=(120, 6)).reply(
            claim("supported", "S1"), usage=(150, 8)
        )
        asked = judge.ask(q)
        assert isinstance(asked.answer, ClaimAnswer) and asked.answer.supporting_sources == ["S1"]
        body = srv.chat_requests[0]
        assert body["temperature"] == 0 and body["seed"] == 7 and body["model"] == "judge-x"
        assert body["response_format"] == {"type": "json_object"}
        assert asked.tally.as_dict() == {
            "prompt_tokens": 270,
            "completion_tokens": 14,
            "estimated": False,
            "cost_usd": 0.0,
            "calls": 2,
            "cached_calls": 0,
        }
        srv.error(500, "down")
        other = judge.claim_question("Returns are free.", "x", [("S1", RETURNS)], [])
        failed = judge.ask(other)
        assert failed.answer is None and "LLMUnavailable" in (failed.error or "")
        assert len(srv.chat_requests) == 3


# ------------------------------------------------------------------------- a whole run

KB = [
    {"doc_id": "returns", "title": "Returns", "url": "", "lang": "en", "text": RETURNS, "metadata": {}},
    {"doc_id": "delivery", "title": "Delivery", "url": "", "lang": "en", "text": DELIVERY, "metadata": {}},
]  # fmt: skip
ORDERS = [order_row()]


CASES = [
    case_row(
        1,
        "How many days do I have to return an item?",
        reference_doc_ids=["returns"],
        required_facts=["30 days"],
        reference_answer="You have 30 days after delivery.",
    ),
    case_row(
        2,
        "How long does standard delivery take?",
        reference_answer="Standard delivery takes 3 to 5 working days.",
    ),
    order_case(3),
    human_request_case(4),
]


class RuleJudge:
    """A scripted judge for concurrent runs: every claim supported by its first source (or the
    order record), every reply consistent with its reference."""

    def __init__(self, name: str = "rule-judge") -> None:
        self.name = name
        self.calls: list[list[Message]] = []
        self._lock = threading.Lock()

    def complete(
        self, messages: list[Message], *, on_text: object = None, json_mode: bool = True
    ) -> Completion:
        with self._lock:
            self.calls.append(messages)
        user = messages[-1]["content"]
        if "<claim>" in user:
            first = "S1" if 'label="S1"' in user else "ORDER"
            text = claim("supported", first) if first in user else claim("not_in_context")
        else:
            text = rubric("yes")
        return Completion(text, self.name, 200, 12)


def no_nan(obj: Any, where: str = "summary") -> None:
    if isinstance(obj, Estimate):
        no_nan(obj.as_dict(), where)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            no_nan(v, f"{where}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            no_nan(v, f"{where}[{i}]")
    elif isinstance(obj, float):
        assert not math.isnan(obj), where


def test_a_run_with_the_llm_judge(tmp_path: Path, settings: Settings) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    judge = RuleJudge()
    res = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "run", judge="llm", workers=2),
        settings,
        embedder=HashEmbedder(),
        judge_chat=judge,
    )
    recs = {r["id"]: r for r in res.records}
    assert all(r["verdicts"]["judge"] == "llm:rule-judge" for r in res.records)
    assert all(r["judge_failures"] == 0 for r in res.records) and res.summary["judge_failures"] == 0
    assert recs["t2"]["verdicts"]["correct_basis"] == "llm_reference_rubric"
    assert recs["t2"]["verdicts"]["correct"] is True and recs["t2"]["unscored_reason"] is None
    assert recs["t1"]["verdicts"]["correct_basis"] == "required_facts"
    assert recs["t1"]["verdicts"]["llm"]["correct"] is True
    answered = [r for r in res.records if not r["escalate"]]
    assert answered and all(
        r["verdicts"]["judged_by"]["grounded"] == "llm:rule-judge" for r in answered
    )
    assert res.summary["grounding"]["label"] == "llm:rule-judge"
    assert res.summary["cost"]["judge_tokens"] == 212 * len(judge.calls)
    assert res.summary["judge"]["calls"] == len(judge.calls) > 0
    logged = CallLog(make_engine(settings.db_url)).list(role="judge", limit=1000)
    assert len(logged) == len(judge.calls) and all(c.outcome == "ok" for c in logged)
    assert {c.case_id for c in logged} <= set(recs) and {c.purpose for c in logged} <= {
        "judge:claim",
        "judge:correct",
    }
    assert res.manifest["prompt_versions"]["judge"].startswith("judge_system@")
    assert res.manifest["judge"]["seed"] == 0 and res.manifest["mode"]["judge"] == "llm"
    no_nan(res.summary)
    summary_file = json.loads((res.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary_file["judge_failures"] == 0
    # a second run hits the judge cache: no new call
    calls = len(judge.calls)
    again = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "run2", judge="llm"),
        settings,
        embedder=HashEmbedder(),
        judge_chat=judge,
    )
    assert len(judge.calls) == calls and again.summary["judge"]["cached_calls"] == calls
    # answers from the cache are no model call: nothing more logged
    assert len(CallLog(make_engine(settings.db_url)).list(role="judge", limit=1000)) == calls


def test_a_run_whose_judge_always_fails_keeps_the_offline_figures(
    tmp_path: Path, settings: Settings
) -> None:
    ds = write_dataset(tmp_path / "ds", KB, ORDERS, CASES)
    base = run_eval(RunConfig(dataset=ds, out=tmp_path / "off"), settings, embedder=HashEmbedder())
    broken = ScriptedChatModel("broken", default="I cannot answer in JSON.")
    res = run_eval(
        RunConfig(dataset=ds, out=tmp_path / "llm", judge="llm", workers=1),
        settings,
        embedder=HashEmbedder(),
        judge_chat=broken,
    )
    assert res.summary["judge_failures"] == sum(r["judge_failures"] for r in res.records) > 0
    assert res.summary["judge"]["fallbacks"]["grounded"] > 0
    failures = f"{res.summary['judge_failures']} failures in"
    for report in ("report.md", "report.html"):  # the evaluator reads them in the reports too
        text = (res.folder / report).read_text(encoding="utf-8")
        assert "LLM judge (llm:broken)" in text and failures in text, report
    by_id = {r["id"]: r for r in base.records}
    for r in res.records:
        off = by_id[r["id"]]
        assert r["ok"] == off["ok"], r["id"]
        for key in ("grounded", "correct", "supported", "claims", "personal"):
            assert r["verdicts"][key] == off["verdicts"][key], (r["id"], key)
    for metric in ("grounding", "correctness", "deflection"):
        a, b = res.summary[metric], base.summary[metric]
        rate = {
            "grounding": "grounded_rate",
            "correctness": "correct_rate",
            "deflection": "deflection_rate",
        }[metric]
        assert a[rate].as_dict() == b[rate].as_dict(), metric
    no_nan(res.summary)
    assert not list((settings.data_dir / "evals" / "judge-cache").rglob("*.json"))


def test_each_verdict_field_has_one_evaluator_and_the_comparison_counts_theirs() -> None:
    from dataclasses import fields

    from evals.judge import EVALUATORS, comparison_outcomes

    filled = [f for e in EVALUATORS for f in e.fills]
    assert len(filled) == len(set(filled))  # no field is written by two evaluators
    assert set(filled) == {f.name for f in fields(Verdicts)} - {"judge"}
    keys = {o.key for o in comparison_outcomes()}
    assert keys == {"leaks", "forbidden_found"} and keys <= set(filled)


def test_the_judge_tells_claims_from_formulas_with_its_own_list() -> None:
    import evals.facts
    import evals.judge
    from evals.judge import is_claim

    assert is_claim.__module__ == "evals.facts"
    for module in (evals.judge, evals.facts):  # not the drafter's bank
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "PHRASES" not in source
        assert "copilot.pipeline.offline" not in source
        assert "copilot.pipeline.phrases" not in source
    formulas = [
        "Hello Camille,",
        "Thanks a lot for your patience!",
        "I am passing your request to our billing team, who will get back to you shortly.",
        "Votre demande est transmise à notre service client.",
        "Désolée pour ce contretemps.",
        "Could you send me the number on your confirmation e-mail?",
        "N'hésitez pas à revenir vers nous. Bonne soirée !",
    ]
    claims = [
        "Sorry, this lamp is out of stock.",  # a fact behind an apology
        "Votre colis a été transmis au transporteur hier.",  # a parcel, not a request, handed on
        "I am passing your refund of €120 to our team.",  # a figure makes it a claim
        "Returns are free within 30 days.",
    ]
    assert [is_claim(s) for s in formulas] == [False] * len(formulas)
    assert [is_claim(s) for s in claims] == [True] * len(claims)
