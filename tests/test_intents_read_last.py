"""The escalation intents still being read are waited for last: the offline draft is made
meanwhile, and it is the draft the suggestion would have made after them (kept when they hand
nothing over, made again when they do)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from copilot import Workspace
from copilot.pipeline.intents import IntentClassifier
from copilot.types import Conversation, Turn
from tests.conftest import open_demo


class _StillReading:
    """The shipped classifier, except that when the suggestion asks what is read so far, no
    message is (a long one still in the reader): the suggestion drafts before it waits."""

    reads_aside = True

    def __init__(self, inner: IntentClassifier) -> None:
        self.inner, self.features, self.asked = inner, inner.features, 0

    def read_ahead(self, texts: Sequence[str]) -> None:
        self.inner.read_ahead(texts)

    def meanings(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.meanings(*args, **kwargs)

    def reasons_so_far(self, messages: Sequence[str]) -> tuple[dict[str, Any], bool]:
        self.asked += 1
        return {}, False

    def reasons(self, messages: Sequence[str]) -> dict[str, tuple[float, str]]:
        return self.inner.reasons(messages)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return open_demo(tmp_path_factory.mktemp("late"))


@pytest.mark.parametrize(
    ("text", "hands_over"),
    [
        ("Bonjour, où en est ma commande LUM-105097 ? Elle arrive quand ?", False),
        ("I want to talk to a real person right now, not a bot. Order LUM-105097.", True),
    ],
)
def test_the_draft_made_while_the_intents_are_read_is_the_one_made_after_them(
    demo: Workspace, text: str, hands_over: bool
) -> None:
    conv = Conversation(
        customer_id="C1001", channel="web", turns=[Turn(role="customer", text=text)]
    )
    shipped = IntentClassifier.default()
    shipped.reasons([text])  # read before: this suggestion waits for nothing, drafts once
    demo.service.intents = shipped
    after = demo.service.suggest(conv)
    late = _StillReading(shipped)
    demo.service.intents = late  # type: ignore[assignment]
    try:
        early = demo.service.suggest(conv)
    finally:
        demo.service.intents = shipped
    assert late.asked == 1
    assert after.escalation.escalate is hands_over
    assert early.draft == after.draft and early.citations == after.citations
    assert early.escalation == after.escalation and early.confidence == after.confidence


def test_nothing_is_drafted_early_when_the_messages_are_read_in_this_process(
    demo: Workspace,
) -> None:
    assert not IntentClassifier.default("ngrams").reads_aside  # a millisecond: nothing to wait
    assert not IntentClassifier.default(reader="thread").reads_aside  # one interpreter
    here = _StillReading(IntentClassifier.default())
    here.reads_aside = False
    demo.service.intents = here  # type: ignore[assignment]
    try:
        text = "Bonjour, où en est ma commande LUM-105097 ?"
        demo.service.suggest(
            Conversation(
                customer_id="C1001", channel="web", turns=[Turn(role="customer", text=text)]
            )
        )
    finally:
        demo.service.intents = IntentClassifier.default()
    assert here.asked == 0
