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
Those come together in one request, while the suggestion waits for them: the child runs two
at a time on 2 cores (each alone in its run, so its vector is the same).

Frames: a request is ``<IBI`` (request id, 0 for a message's row or 1 for query vectors,
byte length) and the message's UTF-8 text or the texts' JSON list; an answer is ``<IBI``
(request id, 1 for a result or 0 for an error, byte length) and the row's float64 or the
vectors' float32 bytes (row after row), or the error's UTF-8 text.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Literal

import numpy as np

from copilot.pipeline.intentmodel import IntentModel

log = logging.getLogger(__name__)

_FRAME = struct.Struct("<IBI")  # request: id, kind, length; answer: id, ok, length
_ROW, _VECTORS = 0, 1  # request kinds
# ``-m`` would run this module a second time beside the copy its package imports. The real
# stdout is kept for the answers before anything is imported (whatever a library prints goes
# to stderr), and Ctrl-C in a terminal is the parent's to handle: the child ends with its pipe.
_ENTRY = (
    "import os, signal, sys; answers = os.dup(1); os.dup2(2, 1); "
    "signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "from copilot.pipeline.intentworker import main; main(sys.argv[1:], answers)"
)
_MAX_ANSWER = 1 << 20  # a row or a vector is a few kB; an error message, a few hundred bytes


class ChildFuture(Future[np.ndarray]):
    """A row (or vector) the child process was asked for."""


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
    child is started ``retry_s`` seconds later at the earliest. Locks: ``_lock`` guards the
    table of waiting requests and is never held while writing, reading or resolving a future
    (the answers thread always drains the child, however full its input pipe is);
    ``_writing`` keeps frames whole."""

    def __init__(
        self,
        model_path: Path,
        model_cache: Path | None,
        features: Literal["e5", "ngrams"] = "e5",
        *,
        retry_s: float = 30.0,
        model_sha256: str | None = None,
    ) -> None:
        self.command = [sys.executable, "-c", _ENTRY, str(model_path), "--features", features]
        if model_cache is not None:
            self.command += ["--cache", str(model_cache)]
        if model_sha256 is not None:  # the parent's model: a child never reads with another
            self.command += ["--sha256", model_sha256]
        self.retry_s = retry_s
        self.wait_s = 20.0  # then the child is taken for hung: killed, the message read here
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        # request id -> (its future, the child it was sent to, the answer's dtype)
        self._waiting: dict[int, tuple[Future[np.ndarray], subprocess.Popen[bytes], str]] = {}
        self._next = 0
        self._retry_at = 0.0
        _OPEN.add(self)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def submit(self, text: str) -> ChildFuture | None:
        """The future row of ``text``; None when no child runs now (read it yourself)."""
        return self._send(_ROW, "<f8", text.encode(errors="surrogatepass"))

    def submit_vectors(self, texts: Sequence[str]) -> ChildFuture | None:
        """The future e5 query vectors of ``texts`` (one row each, float32, flat); None when
        no child runs now."""
        return self._send(_VECTORS, "<f4", json.dumps(list(texts)).encode())

    def _send(self, code: int, dtype: str, data: bytes) -> ChildFuture | None:
        with self._lock:
            proc, lost = self._running()
            if proc is not None:
                self._next = (self._next + 1) % 2**32
                rid, fut = self._next, ChildFuture()
                self._waiting[rid] = (fut, proc, dtype)
        _fail(lost, "it had stopped")
        if proc is None:
            return None
        try:
            assert proc.stdin is not None
            with self._writing:  # blocks while the child catches up: its answers still drain
                _write_all(proc.stdin, _FRAME.pack(rid, code, len(data)) + data)
        except (OSError, ValueError) as exc:  # it stopped (or was closed) since
            with self._lock:
                self._waiting.pop(rid, None)
                lost = self._stopped(proc)
            _fail(lost, f"the pipe to it broke ({exc})")
            return None
        return fut

    def collect(self, futures: Sequence[ChildFuture]) -> list[np.ndarray] | None:
        """The answers to ``futures``; None when the child stopped, failed, or gave none in
        ``wait_s`` (it is then killed: its reads fail over, a new one starts later)."""
        try:
            return [fut.result(timeout=self.wait_s) for fut in futures]
        except ReaderGone as exc:
            log.info("%s: read in-process", exc)
        except TimeoutError:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                log.warning("intent reader process killed: no answer in %.0f s", self.wait_s)
                proc.kill()
        return None

    def close(self) -> int | None:
        """End the child (it exits when its input closes), wait for it; its exit code."""
        with self._lock:
            proc, self._proc = self._proc, None
        return _end(proc) if proc is not None else None

    def _running(
        self,
    ) -> tuple[subprocess.Popen[bytes] | None, list[Future[np.ndarray]]]:
        """(lock held) The child, started when none runs and the pause after the last failure
        is over; and the futures of a child found dead here (to fail, unlocked)."""
        lost: list[Future[np.ndarray]] = []
        if self._proc is not None:
            if self._proc.poll() is None:
                return self._proc, lost
            lost = self._stopped(self._proc)  # dead before its answers thread said so
        if time.monotonic() < self._retry_at:
            return None, lost
        try:
            proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
            )
        except OSError as exc:
            self._retry_at = time.monotonic() + self.retry_s
            log.warning("intent reader process could not start (%s): reading in-process", exc)
            return None, lost
        self._proc = proc
        threading.Thread(
            target=self._answers, args=(proc,), name="intent-answers", daemon=True
        ).start()
        return proc, lost

    def _answers(self, proc: subprocess.Popen[bytes]) -> None:
        """Hand each answer of ``proc`` to its future, until its output ends (or makes no
        sense: the child is then killed)."""
        out = proc.stdout
        assert out is not None
        why, ended = "its output ended", True
        try:
            while (head := _read_exactly(out, _FRAME.size)) is not None:
                rid, ok, size = _FRAME.unpack(head)
                with self._lock:
                    waiting = self._waiting.pop(rid, None)
                body = _read_exactly(out, size) if size <= _MAX_ANSWER else None
                if body is None:
                    why, ended = f"a broken answer ({size} bytes)", False
                    if waiting is not None:
                        waiting[0].set_exception(ReaderGone(f"the intent reader gave {why}"))
                    break
                if waiting is None:
                    continue
                fut, _, dtype = waiting
                if ok:
                    fut.set_result(np.frombuffer(body, dtype=dtype).copy())
                else:
                    said = body.decode(errors="replace")
                    fut.set_exception(ReaderGone(f"the intent reader failed: {said}"))
        except Exception as exc:  # whatever happens here, no future is left waiting
            why, ended = f"{type(exc).__name__}: {exc}", False
        finally:
            try:  # a child whose output ended is exiting; one that talks nonsense is killed
                code = proc.wait(timeout=1 if ended else 0)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            out.close()
            with self._lock:
                lost = self._stopped(proc)
            _fail(lost, f"{why}, exit code {code}")

    def _stopped(self, proc: subprocess.Popen[bytes]) -> list[Future[np.ndarray]]:
        """(lock held) ``proc`` is gone: its waiting futures (to fail, unlocked); a new child
        starts ``retry_s`` later."""
        lost = [w[0] for w in self._waiting.values() if w[1] is proc]
        self._waiting = {rid: w for rid, w in self._waiting.items() if w[1] is not proc}
        if self._proc is proc:
            self._proc = None
            self._retry_at = time.monotonic() + self.retry_s
            log.warning(
                "intent reader process stopped: reading in-process, a new one in %.0f s",
                self.retry_s,
            )
        _close_input(proc)
        return lost


_OPEN: weakref.WeakSet[ReaderProcess] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for reader in list(_OPEN):
        reader.close()


def _fail(futures: list[Future[np.ndarray]], why: str) -> None:
    for fut in futures:
        fut.set_exception(ReaderGone(f"the intent reader process stopped: {why}"))


def _write_all(stream: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[stream.write(view) or 0 :]


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """``size`` bytes of ``stream``, or None when it ends first."""
    data = b""
    while len(data) < size:
        part = stream.read(size - len(data))
        if not part:
            return None
        data += part
    return data


def _close_input(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def _end(proc: subprocess.Popen[bytes]) -> int:
    _close_input(proc)
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def serve(
    model_path: Path,
    features: Literal["e5", "ngrams"],
    cache: Path | None,
    answers_fd: int,
    sha256: str | None = None,
) -> None:
    """The child: answer each request of stdin on ``answers_fd``, until stdin ends."""
    from copilot.pipeline.intenttraining import intent_embedder

    answers = os.fdopen(answers_fd, "wb", buffering=0)
    requests = sys.stdin.buffer
    model = IntentModel.load(model_path)
    if sha256 is not None and model.examples_sha256 != sha256:
        raise SystemExit(f"{model_path} was refitted since the parent loaded it: not read here")
    embedder = intent_embedder(cache)

    def embed(text: str) -> np.ndarray:
        return embedder.embed([text], kind="query")

    def result(code: int, body: bytes) -> np.ndarray:
        if code == _ROW:
            text = body.decode(errors="surrogatepass")
            return np.ascontiguousarray(read_message(model, features, text, embed), "<f8")
        return np.ascontiguousarray(embedder.embed(json.loads(body), kind="query"), "<f4")

    while (head := _read_exactly(requests, _FRAME.size)) is not None:
        rid, code, size = _FRAME.unpack(head)
        body = _read_exactly(requests, size)
        if body is None:
            break
        try:
            out = result(code, body)
            answer = _FRAME.pack(rid, 1, out.nbytes) + out.tobytes()
        except Exception as exc:  # said to the parent, which reads the message itself
            said = f"{type(exc).__name__}: {exc}".encode()
            answer = _FRAME.pack(rid, 0, len(said)) + said
        _write_all(answers, answer)


def main(argv: list[str], answers_fd: int) -> None:
    ap = argparse.ArgumentParser(description="Souffleur's intent reader (a child process).")
    ap.add_argument("model", type=Path)
    ap.add_argument("--features", choices=["e5", "ngrams"], default="e5")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--sha256", default=None)
    args = ap.parse_args(argv)
    serve(args.model, args.features, args.cache, answers_fd, args.sha256)
