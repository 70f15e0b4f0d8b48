"""Learned escalation intents, the policy's detectors, and the lost-parcel rule."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from copilot.pipeline.escalation import Policy, PolicyError, lost_orders
from copilot.pipeline.intents import (
    DEFAULT_EXAMPLES,
    NONE,
    IntentClassifier,
    IntentError,
    IntentModel,
    examples_digest,
    load_examples,
    train,
    translation_groups,
)
from copilot.pipeline.policyrules import DEFAULT_POLICY as DEFAULT_POLICY_FILE
from evals.intents import score
from knowledge import HashEmbedder, Item, Order

REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_model_was_fitted_on_the_shipped_examples() -> None:
    model = IntentModel.load()
    assert model.examples_sha256 == examples_digest(DEFAULT_EXAMPLES), (
        "examples.jsonl changed since the model was fitted: run `souffleur intents train`"
    )
    assert set(model.labels) == {e.label for e in load_examples()}


def test_the_examples_hold_sixty_per_reason_and_language_and_hard_negatives() -> None:
    examples = load_examples()
    counts = Counter((e.label, e.lang) for e in examples)
    reasons = {e.label for e in examples} - {NONE}
    assert len(reasons) == 9
    for reason in reasons:
        assert counts[reason, "fr"] >= 60 and counts[reason, "en"] >= 60, reason
    assert counts[NONE, "fr"] >= 300 and counts[NONE, "en"] >= 300
    texts = [e.text.casefold() for e in examples]
    assert len(set(texts)) == len(texts)


def test_a_bad_example_line_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "ex.jsonl"
    path.write_text('{"text": "hello", "lang": "en", "label": "none", "group": "g"}\n{"text": 3}\n')
    with pytest.raises(IntentError, match="line 2"):
        load_examples(path)


TINY = [
    ("I want to talk to a real person", "en", "human_request"),
    ("get me a human agent please", "en", "human_request"),
    ("can I speak to someone real", "en", "human_request"),
    ("put me through to a person", "en", "human_request"),
    ("je veux parler a un humain", "fr", "human_request"),
    ("passez moi un conseiller humain", "fr", "human_request"),
    ("the charger caught fire", "en", "safety"),
    ("smoke came out of the lamp and it caught fire", "en", "safety"),
    ("the plug sparked and burned my hand", "en", "safety"),
    ("le chargeur a pris feu", "fr", "safety"),
    ("la lampe a pris feu et fume", "fr", "safety"),
    ("where is my parcel", "en", NONE),
    ("how do I return a lamp", "en", NONE),
    ("what are your opening hours", "en", NONE),
    ("ou est mon colis", "fr", NONE),
    ("comment retourner un article", "fr", NONE),
    ("merci beaucoup", "fr", NONE),
    ("thanks a lot", "en", NONE),
]


def tiny_examples(tmp_path: Path) -> Path:
    path = tmp_path / "examples.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"text": t, "lang": lang, "label": lab, "group": f"g{i}"})
            for i, (t, lang, lab) in enumerate(TINY)
        ),
        encoding="utf-8",
    )
    return path


def test_training_learns_the_reasons_and_the_model_round_trips(tmp_path: Path) -> None:
    emb = HashEmbedder()
    model = train(tiny_examples(tmp_path), emb, C=100.0, folds=3)
    assert model.embedder == emb.name and 0.05 <= model.temperature <= 20
    clf = IntentClassifier(model, emb)
    fire = clf.proba("my charger caught fire last night")
    assert max(fire, key=fire.__getitem__) == "safety"
    human = clf.proba("I want to speak to a human")
    assert max(human, key=human.__getitem__) == "human_request"
    assert abs(sum(fire.values()) - 1) < 1e-9
    model.save(tmp_path / "m.npz")
    again = IntentClassifier(IntentModel.load(tmp_path / "m.npz"), emb)
    for text in ("my charger caught fire last night", "ou est mon colis ?"):
        a, b = clf.proba(text), again.proba(text)
        assert all(abs(a[k] - b[k]) < 1e-5 for k in a)
    with pytest.raises(IntentError, match="fitted on 'hash-256' vectors"):
        IntentClassifier(model, HashEmbedder(dim=64))


def test_translations_share_a_cross_validation_group() -> None:
    from copilot.pipeline.intents import Example

    examples = [
        Example("a", "fr", "x", "x-fr-1"),
        Example("b", "en", "x", "x-en-1"),
        Example("c", "en", "x", "x-en-2"),
    ]
    import numpy as np

    vectors = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]])
    groups = translation_groups(examples, vectors)
    assert groups[0] == groups[1] != groups[2]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # written for this test: not in the training examples nor in the test set
        ("votre robot comprend rien, passez moi un vrai conseiller stp", "human_request"),
        ("effacez toutes les infos que vous avez sur moi, merci", "gdpr"),
        ("If this isn't sorted by Friday I'll take it further with the ombudsman", "legal_threat"),
        ("la prise a fait des étincelles et le mur est tout noirci", "safety"),
        ("someone used my card for 3 orders I never made!!", "fraud"),
    ],
)
def test_the_shipped_classifier_reads_reasons_said_indirectly(text: str, reason: str) -> None:
    policy = Policy.default()
    clf = IntentClassifier.default()
    assert reason in policy.said([text], clf.reasons([text]))


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, est-ce que je peux payer en trois fois ?",
        "Where can I find the size guide for the jackets?",
        "merci, c'est bien reçu 👍",
        "quel est le délai pour un remboursement ?",
    ],
)
def test_the_shipped_classifier_leaves_ordinary_messages_alone(text: str) -> None:
    policy = Policy.default()
    clf = IntentClassifier.default()
    assert policy.said([text], clf.reasons([text])) == {}


def test_a_learned_trigger_says_how_sure_it_is_and_patterns_still_override() -> None:
    policy = Policy.default()
    scores = {"anger": (0.93, "vous êtes des incapables"), "gdpr": (0.2, "x")}
    hits = policy.said(["vous êtes des incapables"], scores)
    assert hits == {"anger": "vous êtes des incapables (93%)"}
    # legal_threat's first-person phrases fire whatever the classifier says
    assert "legal_threat" in policy.said(["sinon je contacte mon avocat"], {})


def with_trigger(trigger: dict[str, object]) -> str:
    data = json.loads(Policy.default().model.model_dump_json())
    data["triggers"].append(trigger)
    return json.dumps(data)


LABEL = {"en": "Wants to cancel", "fr": "Veut résilier"}


def test_a_trigger_added_with_the_learned_detector_uses_the_classifier() -> None:
    policy = Policy.parse(
        with_trigger(
            {
                "code": "vip_human",
                "label": LABEL,
                "queue": "supervisors",
                "detector": "learned",
                "intent": "human_request",
                "threshold": 0.4,
                "priority": 1,
            }
        )
    )
    hits = policy.said(["x"], {"human_request": (0.5, "x")})
    assert set(hits) == {"vip_human"}  # 0.5 is under the shipped trigger's 0.6
    assert policy.is_hard("vip_human") and policy.ranked(["safety", "vip_human"])[0] == "vip_human"


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"detector": "magic"}, "Input should be 'patterns', 'learned' or 'computed'"),
        ({"detector": "learned", "intent": "weather"}, "no intent 'weather'"),
        ({"detector": "computed"}, "no computed rule is named 'cancel'"),
        ({}, "has no patterns"),
    ],
)
def test_a_trigger_whose_detector_cannot_work_is_refused_with_its_line(
    trigger: dict[str, object], message: str
) -> None:
    good = Path("copilot/pipeline/policy/default.yaml").read_text(encoding="utf-8")
    extra = "".join(f"\n    {k}: {v}" for k, v in trigger.items())
    text = good.rstrip() + (
        '\n\n  - code: cancel\n    label: {en: "Cancel", fr: "Résilier"}\n    queue: support'
        + extra
    )
    first = len(good.rstrip().splitlines()) + 2  # the new trigger's lines
    with pytest.raises(PolicyError, match=message) as err:
        Policy.parse(text)
    where = re.search(r"line (\d+), triggers\.15", str(err.value))
    assert where and first <= int(where.group(1)) <= first + 2 + len(trigger), err.value


def test_an_older_policy_without_computed_triggers_gets_them_from_the_shipped_one() -> None:
    data = json.loads(Policy.default().model.model_dump_json())
    data["triggers"] = [t for t in data["triggers"] if t["detector"] != "computed"]
    policy = Policy.parse(json.dumps(data))
    assert policy.is_hard("lost_parcel") and not policy.is_hard("no_knowledge")
    assert policy.label("foreign_order", "fr") == "Cite une commande absente du compte de ce client"


def test_a_policy_saved_before_a_trigger_shipped_gets_it_and_says_so() -> None:
    data = json.loads(Policy.default().model.model_dump_json())
    data["triggers"] = [t for t in data["triggers"] if t["code"] not in ("fraud", "safety")]
    policy = Policy.parse(json.dumps(data))
    assert policy.added == ("fraud", "safety")
    assert policy.said(["on a débité ma carte sans mon accord"], {"fraud": (0.9, "x")})
    assert Policy.default().added == ()
    for t in data["triggers"]:
        t["enabled"] = t["code"] != "gdpr"  # switched off, not removed: stays off
    kept = Policy.parse(json.dumps(data))
    assert kept.trigger("gdpr") is None and "gdpr" not in kept.added


def test_a_disabled_trigger_never_fires() -> None:
    data = json.loads(Policy.default().model.model_dump_json())
    for t in data["triggers"]:
        if t["code"] in ("legal_threat", "lost_parcel"):
            t["enabled"] = False
    policy = Policy.parse(json.dumps(data))
    assert policy.said(["je contacte mon avocat"], {"legal_threat": (0.99, "x")}) == {}
    assert not policy.reported("lost_parcel", {"lost_parcel": (0.99, "x")})
    assert "legal_threat" not in policy.handoff_rule()


def order(**kw: object) -> Order:
    base: dict[str, object] = {
        "order_number": "QX-1",
        "customer_id": "K1",
        "customer_name": "Ann",
        "email": "",
        "created_at": datetime(2026, 11, 1, tzinfo=UTC),
        "status": "in_transit",
        "items": (Item("S", "Kettle", 1, 30.0),),
        "total": 30.0,
        "currency": "EUR",
        "carrier": "Postiva",
        "tracking_number": None,
        "estimated_delivery": date(2026, 11, 10),
        "delivered_at": None,
    }
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def test_a_parcel_reported_missing_escalates_once_it_is_late_enough() -> None:
    settings = Policy.default().settings.model_copy(update={"investigation_business_days": 5})
    mon_23 = date(2026, 11, 23)  # Tuesday 10 November + 9 business days
    late = order()
    assert lost_orders([late], True, settings, mon_23) == ("QX-1",)
    assert lost_orders([late], False, settings, mon_23) == ()  # nobody says it is missing
    assert lost_orders([late], True, settings, date(2026, 11, 16)) == ()  # 4 business days
    # the tracking moved since its due date: counted from the latest news
    moving = order(last_tracking_update=date(2026, 11, 19))
    assert lost_orders([moving], True, settings, mon_23) == ()
    assert lost_orders([order(status="delivered")], True, settings, mon_23) == ()
    assert lost_orders([order(status="lost")], False, settings, mon_23) == ("QX-1",)
    no_rule = settings.model_copy(update={"investigation_business_days": None})
    assert lost_orders([late], True, no_rule, mon_23) == ()


def test_the_report_scores_fired_reasons_per_reason_and_overall() -> None:
    gold = ["anger", "anger", "none", "fraud", "none"]
    predicted = [{"anger"}, set(), {"anger"}, {"fraud", "anger"}, set()]
    s = score(gold, predicted, ["anger", "fraud"])
    assert s["reasons"]["anger"]["tp"] == 1 and s["reasons"]["anger"]["fp"] == 2
    assert s["reasons"]["anger"]["recall"]["value"] == 0.5
    assert s["reasons"]["fraud"]["precision"]["value"] == 1.0
    assert s["any_reason"]["recall"]["value"] == pytest.approx(2 / 3)
    assert s["any_reason"]["precision"]["value"] == pytest.approx(2 / 3)
    assert s["right_reason_recall"]["value"] == pytest.approx(2 / 3)
    assert s["none_false_alarm"]["value"] == 0.5


def test_every_reason_the_eval_sets_label_is_named_by_a_shipped_trigger() -> None:
    # a reason label no trigger names (its code or its eval_reason) would never be credited:
    # the reports would count every escalation of those cases as naming the wrong reason
    from evals.metrics import gold_reason_codes

    codes = gold_reason_codes()
    labels = {
        json.loads(line).get("reason")
        for path in (REPO / "evals" / "datasets").glob("*/cases.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    } - {None}
    assert len(labels) >= 12
    assert labels <= set(codes), f"no trigger names {sorted(labels - set(codes))}"
    named = [c for group in codes.values() for c in group]
    assert sorted(named) == sorted({t.code for t in Policy.default().model.triggers})


def test_a_triggers_eval_reason_comes_from_the_policy_file() -> None:
    from evals.metrics import gold_reason_codes

    codes = gold_reason_codes()
    assert codes["angry"] == ("anger",)
    assert codes["no_kb_answer"] == ("no_knowledge", "low_confidence", "llm_flag")
    assert codes["gdpr"] == ("gdpr",)  # no eval_reason: the code itself


def test_every_hand_off_trigger_has_its_sentence_in_each_language() -> None:
    # the offline drafter says why it hands over in the trigger's own sentence; a hard trigger
    # without one would hand over in silence (a customer quoting another's order gets the
    # 'unknown order' sentence instead, by design)
    policy = Policy.default()
    for t in policy.model.triggers:
        if policy.is_hard(t.code) and t.code != "foreign_order":
            for lang in ("fr", "en"):
                for formal in (True, False):
                    assert policy.handoff_sentence(t.code, lang, formal), (t.code, lang, formal)
    assert policy.handoff_sentence("foreign_order", "fr", True) is None


def test_a_saved_policy_says_the_shipped_hand_off_sentence_unless_it_has_its_own() -> None:
    shipped = Policy.default()
    text = (DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for t in data["triggers"]:
        if t["code"] == "anger":
            t["handoff"] = {
                "en": "A manager will call you back today.",
                "fr": "Un responsable vous rappelle aujourd'hui.",
            }
        else:
            t.pop("handoff", None)  # saved before the sentences moved into the policy file
    saved = Policy.parse(yaml.safe_dump(data, allow_unicode=True))
    assert saved.handoff_sentence("anger", "en", False) == "A manager will call you back today."
    for code in ("legal_threat", "refund_over_limit"):
        for lang, formal in (("fr", True), ("fr", False), ("en", True)):
            assert saved.handoff_sentence(code, lang, formal) == shipped.handoff_sentence(
                code, lang, formal
            )
    assert shipped.handoff_sentence("legal_threat", "fr", False) != shipped.handoff_sentence(
        "legal_threat", "fr", True
    )  # 'tu' and 'vous'


class _NoEmbedding:
    """An embedder in the model's vector space that must not be asked for a vector."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dim = 384
        self.calls = 0

    def embed(self, texts: object, *, kind: str = "passage") -> object:
        self.calls += 1
        raise AssertionError("the classifier embedded a message")


MESSAGES = [
    "effacez toutes les infos que vous avez sur moi, merci",
    "votre robot comprend rien, passez moi un vrai conseiller stp",
    "Where can I find the size guide for the jackets?",
]


def test_the_ngrams_setting_reads_every_message_without_the_embedding() -> None:
    model = IntentModel.load()
    blind = _NoEmbedding(model.embedder)
    clf = IntentClassifier(model, blind, features="ngrams")  # type: ignore[arg-type]
    best = clf.reasons(MESSAGES)
    assert blind.calls == 0
    assert "gdpr" in Policy.default().said(MESSAGES, best)
    # the default reads the embedding of what the n-grams do not clear (so this one embeds)
    with pytest.raises(AssertionError, match="embedded"):
        IntentClassifier(model, blind, features="e5").reasons(MESSAGES)  # type: ignore[arg-type]


def test_the_ngrams_setting_needs_a_model_with_its_ngram_part() -> None:
    model = IntentModel.load()
    model.gate_coef = None
    with pytest.raises(IntentError, match="no n-gram model"):
        IntentClassifier(model, _NoEmbedding(model.embedder), features="ngrams")  # type: ignore[arg-type]


class _Counting:
    """A hash embedder that counts its calls and can be told to fail."""

    def __init__(self, fail: bool = False) -> None:
        self.inner, self.calls, self.fail = HashEmbedder(), 0, fail
        self.name, self.dim = self.inner.name, self.inner.dim

    def embed(self, texts: list[str], *, kind: str = "passage") -> object:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the embedding engine stopped")
        return self.inner.embed(texts, kind=kind)  # type: ignore[arg-type]


def test_a_message_read_ahead_is_read_once_and_reads_as_it_would_have(tmp_path: Path) -> None:
    model = train(tiny_examples(tmp_path), HashEmbedder(), C=100.0, folds=3)
    texts = ["my charger caught fire last night", "I want to speak to a human", "merci !"]
    embedded = sum(model.passes_gate(row) for row in model.gate_proba(texts))  # type: ignore[union-attr]
    assert embedded >= 1
    counting = _Counting()
    ahead = IntentClassifier(model, counting)  # type: ignore[arg-type]
    ahead.read_ahead(texts + texts)
    read = [ahead.proba(t) for t in texts] + [ahead.proba(t) for t in texts]
    assert counting.calls == embedded  # each message once, however often it was asked
    plain = IntentClassifier(model, HashEmbedder())
    for text, got in zip(texts, read, strict=False):
        want = plain.proba(text)
        assert all(abs(got[k] - want[k]) < 1e-12 for k in want)


def test_a_read_ahead_that_fails_raises_when_the_suggestion_asks(tmp_path: Path) -> None:
    model = train(tiny_examples(tmp_path), HashEmbedder(), C=100.0, folds=3)
    engine = _Counting(fail=True)
    clf = IntentClassifier(model, engine)  # type: ignore[arg-type]
    clf.read_ahead(["my charger caught fire last night"])
    with pytest.raises(RuntimeError, match="engine stopped"):
        clf.proba("my charger caught fire last night")
    engine.fail = False  # back: the message is read again, not the failure remembered
    assert clf.proba("my charger caught fire last night")["safety"] > 0
