"""The model-call slots shared by every process on one database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from copilot.pipeline.llm import LangChainChatModel, LLMUnavailable
from copilot.pipeline.slots import SharedSlots, SlotsBusy, ThrottledChat
from copilot.testing import FakeOpenAIServer
from knowledge import make_engine


def test_a_dead_holders_slot_frees_itself_and_its_late_release_frees_nothing(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    dead = SharedSlots(engine, "http://model#m", 1, lease_s=0.3)
    alive = SharedSlots(engine, "http://model#m", 1, lease_s=30)  # another process
    other = SharedSlots(engine, "http://other#m", 1, lease_s=30)  # another endpoint
    assert dead.try_acquire() == 0
    assert alive.try_acquire() is None and other.try_acquire() == 0
    with pytest.raises(SlotsBusy):
        alive.acquire(wait_s=0.05)
    time.sleep(0.4)  # the holder died: its lease runs out
    assert alive.acquire(wait_s=1) == 0
    dead.release(0)  # it comes back late: the slot is someone else's now
    assert alive.busy() == 1 and alive.try_acquire() is None
    alive.release(0)
    assert alive.busy() == 0 and dead.try_acquire() == 0


def test_a_call_that_finds_no_slot_fails_as_busy_and_says_which_setting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    shared = SharedSlots(engine, "http://model#m", 1, lease_s=30)
    with FakeOpenAIServer() as srv:
        chat = ThrottledChat(
            LangChainChatModel(base_url=srv.base_url, api_key="t", model="m", max_retries=0),
            shared,
            wait_s=0.1,
        )
        assert chat.complete([{"role": "user", "content": "hi"}], json_mode=False).text
        assert shared.busy() == 0  # given back after the call
        with shared.held(wait_s=1), pytest.raises(LLMUnavailable) as err:
            chat.complete([{"role": "user", "content": "hi"}], json_mode=False)
        assert err.value.kind == "busy" and "SOUFFLEUR_LLM_SHARED_CONCURRENCY" in str(err.value)
        assert len(srv.chat_requests) == 1  # the refused call never reached the server
