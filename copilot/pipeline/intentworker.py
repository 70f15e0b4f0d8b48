"""Messages read in a child process: the e5 intent read without the interpreter lock.

A message the n-grams pass on to e5 is read by about 1 ms of Python (the n-gram gate, the
regression, the input rows) around 6 ms of ONNX Runtime. On a thread beside the suggestion,
each of those steps waits for the interpreter lock while the suggestion's own Python
(retrieval, orders, drafting) holds it, up to the 5 ms switch interval each time. On 2 cores,
the e5 vectors of the demo's last messages took 6.8 / 10.1 ms (p50 / p95) alone, 35 / 52 ms
beside a thread that keeps the lock busy, and 8.5 / 13.0 ms beside another busy process. A
child process has its own interpreter: the message is read on the other core at its own
speed, and the suggestion pays a pipe write and a read.

The child runs the same function as the thread (:func:`read_message`) on the same model file
and model cache, so a message reads the same either way. It serves one parent over its stdin
and stdout, answers requests in order, and ends when the parent closes the pipe (or dies).
When it cannot start or stops, the parent reads on its own thread again and tries a new child
after a pause.

It also embeds the short texts that order resolution compares (item names, see
``IntentClassifier.vectors``), so that the app's process never loads e5 itself (about 200 MB).

Frames: a request is ``<IBI`` (request id, 0 for a message's row or 1 for a query vector,
byte length) and the UTF-8 text; an answer is ``<IBI`` (request id, 1 for a result or 0 for
an error, byte length) and the row's float64 or the vector's float32 bytes, or the error's
UTF-8 text.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Literal

import numpy as np

from copilot.pipeline.intentmodel import IntentModel

log = logging.getLogger(__name__)

_REQUEST = struct.Struct("<IBI")
_KINDS: dict[str, tuple[int, str]] = {"row": (0, "<f8"), "vector": (1, "<f4")}  # code, dtype
_ANSWER = struct.Struct("<IBI")
# ``-m`` would run this module a second time beside the copy its package imports
_ENTRY = "import sys; from copilot.pipeline.intentworker import main; main(sys.argv[1:])"


class ReaderGone(RuntimeError):
    """The child process gave no row (it stopped, or its read failed): read it in-process."""


def read_message(
    model: IntentModel,
    features: Literal["e5", "ngrams"],
    text: str,
    embed: Callable[[str], np.ndarray],
) -> np.ndarray:
    """One message's probability row: the n-gram gate's when it is clearly ordinary (or
    n-grams alone were asked for), else the full model's with the message's e5 vector."""
    grams = model.grams.transform([text])  # read by the gate and, past it, the full model
    gate = model.gate_proba([text], grams)
    if gate is not None and (features == "ngrams" or not model.passes_gate(gate[0])):
        return gate[0]
    return model.proba([text], embed(text), grams)[0]


class ReaderProcess:
    """The parent's side: sends messages to the child, hands each answer to its future.

    Thread-safe. :meth:`submit` writes the request at once (a few microseconds: the caller
    keeps the interpreter lock) and returns a future; a daemon thread waits for answers. A
    child that stops fails the futures still waiting with :class:`ReaderGone`, and the next
    child is started ``retry_s`` seconds later at the earliest."""

    def __init__(
        self,
        model_path: Path,
        model_cache: Path | None,
        features: Literal["e5", "ngrams"] = "e5",
        *,
        retry_s: float = 30.0,
    ) -> None:
        self.command = [sys.executable, "-c", _ENTRY, str(model_path), "--features", features]
        if model_cache is not None:
            self.command += ["--cache", str(model_cache)]
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        # request id -> (its future, the child's pid, the answer's dtype)
        self._waiting: dict[int, tuple[Future[np.ndarray], int, str]] = {}
        self._next = 0
        self._retry_at = 0.0

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def submit(
        self, text: str, what: Literal["row", "vector"] = "row"
    ) -> Future[np.ndarray] | None:
        """The future row of ``text`` (or its e5 query vector); None when no child runs now
        (read it yourself)."""
        code, dtype = _KINDS[what]
        with self._lock:
            proc = self._running()
            if proc is None:
                return None
            self._next = (self._next + 1) % 2**32
            fut: Future[np.ndarray] = Future()
            self._waiting[self._next] = (fut, proc.pid, dtype)
            data = text.encode()
            try:
                assert proc.stdin is not None
                proc.stdin.write(_REQUEST.pack(self._next, code, len(data)) + data)
                proc.stdin.flush()
            except OSError as exc:  # it stopped since: its reader thread fails the futures
                self._waiting.pop(self._next, None)
                self._stopped(proc, f"the pipe to it broke ({exc})")
                return None
            return fut

    def close(self) -> None:
        """End the child (it exits when its input closes) and wait for it."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)

    def _running(self) -> subprocess.Popen[bytes] | None:
        """The child, started when none runs and the pause after the last failure is over."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if time.monotonic() < self._retry_at:
            return None
        try:
            proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
            )
        except OSError as exc:
            self._retry_at = time.monotonic() + self.retry_s
            log.warning("intent reader process could not start (%s): reading in-process", exc)
            return None
        self._proc = proc
        threading.Thread(
            target=self._answers, args=(proc,), name="intent-answers", daemon=True
        ).start()
        return proc

    def _answers(self, proc: subprocess.Popen[bytes]) -> None:
        """Hand each answer of ``proc`` to its future, until its output ends."""
        out = proc.stdout
        assert out is not None
        while True:
            head = _read_exactly(out, _ANSWER.size)
            if head is None:
                break
            rid, ok, size = _ANSWER.unpack(head)
            body = _read_exactly(out, size)
            if body is None:
                break
            with self._lock:
                waiting = self._waiting.pop(rid, None)
            if waiting is None:
                continue
            fut, _, dtype = waiting
            if ok:
                fut.set_result(np.frombuffer(body, dtype=dtype).copy())
            else:
                fut.set_exception(ReaderGone(f"the intent reader failed: {body.decode()}"))
        with self._lock:
            self._stopped(proc, f"it exited with code {proc.wait()}")

    def _stopped(self, proc: subprocess.Popen[bytes], why: str) -> None:
        """``proc`` is gone (lock held): its waiting futures fail; a new one starts later."""
        lost = [w[0] for w in self._waiting.values() if w[1] == proc.pid]
        self._waiting = {rid: w for rid, w in self._waiting.items() if w[1] != proc.pid}
        for fut in lost:
            fut.set_exception(ReaderGone(f"the intent reader process stopped: {why}"))
        if self._proc is proc:
            self._proc = None
            self._retry_at = time.monotonic() + self.retry_s
            log.warning(
                "intent reader process stopped (%s): reading in-process, a new one in %.0f s",
                why,
                self.retry_s,
            )


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """``size`` bytes of ``stream``, or None when it ends first."""
    data = b""
    while len(data) < size:
        part = stream.read(size - len(data))
        if not part:
            return None
        data += part
    return data


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve(model_path: Path, features: Literal["e5", "ngrams"], cache: Path | None) -> None:
    """The child: answer each request of stdin on the real stdout, until stdin ends."""
    from copilot.pipeline.intenttraining import intent_embedder

    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the answers
    requests = sys.stdin.buffer
    model = IntentModel.load(model_path)
    embedder = intent_embedder(cache)

    def embed(text: str) -> np.ndarray:
        return embedder.embed([text], kind="query")

    while (head := _read_exactly(requests, _REQUEST.size)) is not None:
        rid, code, size = _REQUEST.unpack(head)
        body = _read_exactly(requests, size)
        if body is None:
            break
        try:
            text = body.decode()
            out = (
                np.ascontiguousarray(read_message(model, features, text, embed), "<f8")
                if code == _KINDS["row"][0]
                else np.ascontiguousarray(embed(text)[0], "<f4")
            )
            answer = _ANSWER.pack(rid, 1, out.nbytes) + out.tobytes()
        except Exception as exc:  # said to the parent, which reads the message itself
            said = f"{type(exc).__name__}: {exc}".encode()
            answer = _ANSWER.pack(rid, 0, len(said)) + said
        answers.write(answer)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Souffleur's intent reader (a child process).")
    ap.add_argument("model", type=Path)
    ap.add_argument("--features", choices=["e5", "ngrams"], default="e5")
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args(argv)
    serve(args.model, args.features, args.cache)
