"""The intent reader's child process: the rows a thread would read, and nothing lost when the
child stops, cannot start, or is asked by many threads at once."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from copilot.pipeline.intents import DEFAULT_MODEL, IntentClassifier, IntentModel
from copilot.pipeline.intenttraining import intent_embedder
from copilot.pipeline.intentworker import ReaderProcess

# one the n-grams leave alone, and ones they pass on to e5 (asserted below)
ORDINARY = "Bonjour, quels sont vos horaires d'ouverture le samedi ?"
PASSED = [
    "I will take you to court if my refund is not here by Friday",
    "Je veux parler à un humain, pas à un robot",
    "my charger caught fire last night and burnt the table",
]


class _Counting:
    """The parent's own e5, counting its calls (a read by the child makes none)."""

    def __init__(self) -> None:
        self.inner = intent_embedder()
        self.name, self.dim, self.calls = self.inner.name, self.inner.dim, 0

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        out = self.inner.embed(texts, kind=kind)  # type: ignore[arg-type]
        self.calls += 1  # counted once made
        return out


@pytest.fixture(scope="module")
def model() -> IntentModel:
    return IntentModel.load(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def thread_rows(model: IntentModel) -> dict[str, dict[str, float]]:
    """What the classifier reads with no child process at all."""
    plain = IntentClassifier(model, intent_embedder())
    return {t: plain.proba(t) for t in [ORDINARY, *PASSED]}


@pytest.fixture
def process() -> Iterator[ReaderProcess]:
    proc = ReaderProcess(DEFAULT_MODEL, None, retry_s=0.0)
    yield proc
    proc.close()


def _wait_for(cond: object, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_child_reads_each_message_as_the_thread_does(
    model: IntentModel, thread_rows: dict[str, dict[str, float]], process: ReaderProcess
) -> None:
    assert not model.passes_gate(model.gate_proba([ORDINARY])[0])  # type: ignore[index]
    assert all(model.passes_gate(row) for row in model.gate_proba(PASSED))  # type: ignore[union-attr]
    own = _Counting()
    clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    clf.read_ahead([ORDINARY, *PASSED])
    for text in [ORDINARY, *PASSED]:
        assert clf.proba(text) == thread_rows[text]  # the same floats, to the last bit
    assert own.calls == 0  # read by the child, not here
    assert process.pid is not None and process.pid != os.getpid()


def test_the_child_embeds_the_texts_order_resolution_compares(
    model: IntentModel, process: ReaderProcess
) -> None:
    names = [
        "bouilloire en inox",
        "stainless steel kettle",
        "Wireless earbuds",
        "Bouilloire \ud800",
    ]
    one_by_one = intent_embedder()
    one_by_one.workers = 1
    want = np.vstack([one_by_one.embed([n], kind="query") for n in names])
    own = _Counting()
    clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    got = clf.vectors(names)  # one request; the child runs two at a time
    assert got.dtype == np.float32 and np.array_equal(got, want)
    assert own.calls == 0  # this process never loaded e5
    assert intent_embedder().workers == min(2, os.cpu_count() or 1)
    process.close()
    process.command = [sys.executable, "-c", "raise SystemExit(3)"]  # a child that dies at once
    again = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    assert np.array_equal(again.vectors(names), want) and own.calls == 1  # embedded here


def test_vectors_asked_while_the_child_reads_are_made_here_alike(
    model: IntentModel, process: ReaderProcess
) -> None:
    """Order resolution asks for vectors while the child reads the message: they are made
    here (the same to the bit) rather than behind that read, once e5 is loaded here. It loads
    the first time, in the background, while the child answers."""
    own = _Counting()
    clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    alike = IntentClassifier(model, _Counting(), process=process)  # type: ignore[arg-type]
    clf.vectors(["bouilloire"])  # the child is free: it answers
    assert own.calls == 0
    assert process.pid is not None
    os.kill(process.pid, signal.SIGSTOP)  # reading a message, as long as this test needs
    clf.read_ahead([PASSED[0]])
    first = threading.Thread(target=clf.vectors, args=(["kettle"],))
    first.start()  # asked to the child (e5 not loaded here yet), which loads meanwhile
    _wait_for(lambda: own.calls == 1)
    os.kill(process.pid, signal.SIGCONT)
    first.join()
    assert own.calls == 1  # the child made "kettle"
    os.kill(process.pid, signal.SIGSTOP)
    clf.read_ahead([PASSED[1]])
    here = clf.vectors(["earbuds", "bouilloire en inox"])  # the child still reads: here
    assert own.calls == 2
    os.kill(process.pid, signal.SIGCONT)
    clf.proba(PASSED[1])  # the read ends: the child is free again
    assert np.array_equal(here, alike.vectors(["earbuds", "bouilloire en inox"]))
    clf.vectors(["lamp"])
    assert alike.embedder.calls == 0 and own.calls == 2  # type: ignore[attr-defined]


def test_a_child_killed_mid_read_loses_no_message_and_is_replaced(
    model: IntentModel, thread_rows: dict[str, dict[str, float]], process: ReaderProcess
) -> None:
    own = _Counting()
    clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    clf.read_ahead([PASSED[0]])
    first = process.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)  # before, during or after its read: each must hold
    assert clf.proba(PASSED[0]) == thread_rows[PASSED[0]]
    _wait_for(lambda: process.pid != first)  # the answers thread saw it go
    clf.read_ahead([PASSED[1]])  # a new child (retry_s=0) reads the next message
    assert process.pid not in (None, first)
    calls = own.calls
    assert clf.proba(PASSED[1]) == thread_rows[PASSED[1]]
    assert own.calls == calls  # the new child read it


def test_a_child_that_cannot_start_leaves_the_reading_here(
    model: IntentModel, thread_rows: dict[str, dict[str, float]], tmp_path: Path
) -> None:
    missing = ReaderProcess(tmp_path / "no-model.npz", None, retry_s=3600.0)  # exits at once
    no_python = ReaderProcess(DEFAULT_MODEL, None, retry_s=3600.0)
    no_python.command = [str(tmp_path / "no-python"), *no_python.command[1:]]  # cannot start
    # the model file refitted since the parent loaded it: the child refuses to read with it
    refitted = ReaderProcess(DEFAULT_MODEL, None, retry_s=3600.0, model_sha256="0" * 64)
    for process in (missing, no_python, refitted):
        own = _Counting()
        clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
        clf.read_ahead(PASSED[:2])
        assert [clf.proba(t) for t in PASSED[:2]] == [thread_rows[t] for t in PASSED[:2]]
        assert own.calls == 2  # read here instead
        process.close()


def test_many_threads_at_once_each_get_their_own_messages_rows(
    model: IntentModel, thread_rows: dict[str, dict[str, float]], process: ReaderProcess
) -> None:
    clf = IntentClassifier(model, _Counting(), process=process)  # type: ignore[arg-type]
    texts = [ORDINARY, *PASSED]
    got: dict[tuple[int, str], dict[str, float]] = {}

    def agent(n: int) -> None:
        mine = texts[n % len(texts) :] + texts[: n % len(texts)]
        clf.read_ahead(mine)
        for text in mine:
            got[(n, text)] = clf.proba(text)

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 * len(texts)
    assert all(row == thread_rows[text] for (_, text), row in got.items())
    assert clf.embedder.calls == 0  # type: ignore[attr-defined]  # all read by the child


def test_the_child_ends_when_its_parent_closes_the_pipe(process: ReaderProcess) -> None:
    fut = process.submit(ORDINARY)
    assert fut is not None and fut.result(timeout=60).shape == (len(process_labels()),)
    pid = process.pid
    assert pid is not None
    assert process.close() == 0  # it ended by itself (not killed after 5 s)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: gone


def process_labels() -> tuple[str, ...]:
    return IntentModel.load(DEFAULT_MODEL).labels


# A child that speaks the protocol but never reads: each request answered by an error frame
# (ERRING), or never answered (MUTE).
_FAKE = """
import struct, sys
frame = struct.Struct("<IBI")
inp, out = sys.stdin.buffer, sys.stdout.buffer
while len(head := inp.read(frame.size)) == frame.size:
    rid, _, size = frame.unpack(head)
    inp.read(size)
    if {answer}:
        said = b"ValueError: this child cannot read"
        out.write(frame.pack(rid, 0, len(said)) + said)
        out.flush()
"""


def test_a_child_that_errs_or_hangs_leaves_the_reading_here(
    model: IntentModel, thread_rows: dict[str, dict[str, float]], process: ReaderProcess
) -> None:
    for answer in (True, False):
        process.close()
        process.command = [sys.executable, "-c", _FAKE.format(answer=answer)]
        own = _Counting()
        clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
        process.wait_s = 1.0
        clf.read_ahead([ORDINARY, PASSED[0]])
        mute = process.pid
        assert [clf.proba(t) for t in (ORDINARY, PASSED[0])] == [
            thread_rows[ORDINARY],
            thread_rows[PASSED[0]],
        ]
        assert own.calls == 1  # the message the gate passes on, embedded here
        if not answer:  # one that hangs is killed (and replaced later)
            _wait_for(lambda mute=mute: process.pid != mute)


def test_a_row_read_ahead_and_forgotten_is_read_again(
    model: IntentModel, process: ReaderProcess
) -> None:
    own = _Counting()
    clf = IntentClassifier(model, own, process=process)  # type: ignore[arg-type]
    clf.read_ahead([PASSED[0]])
    in_flight = clf._pending[PASSED[0]]
    clf.forget()
    in_flight.result(timeout=60)  # answered after the forgetting: not kept
    clf.proba(PASSED[0])
    assert own.calls == 1


def test_a_full_pipe_neither_blocks_nor_mixes_answers(
    model: IntentModel, process: ReaderProcess
) -> None:
    # 40 messages of 2 kB from 4 agents at once: more than the pipes hold (64 kB)
    texts = [
        f"Bonjour, je voudrais savoir {n} " + "quels sont vos horaires. " * 80 for n in range(40)
    ]
    plain = IntentClassifier(model, intent_embedder())
    want = {t: plain.proba(t) for t in texts}
    clf = IntentClassifier(model, _Counting(), process=process)  # type: ignore[arg-type]

    def agent(n: int) -> None:
        clf.read_ahead(texts[n::4])

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert {t: clf.proba(t) for t in texts} == want
