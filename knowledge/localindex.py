"""One Chroma folder opened by several processes at once: the app, `souffleur serve`, the CLI.

A process that opens the folder (``chromadb.PersistentClient``) keeps its vectors in memory and
writes the whole index back to disk now and then (after 1,000 new vectors). It does not see the
vectors another process adds, and when it next writes the index back, theirs are gone for good.
Measured here (chromadb 1.5.9): a process opened first did not find any of the 1,500 vectors a
second process added; once it had added 1,500 of its own, a new process found none of the
second one's either (150 of 150 looked up), and reading the collection's vectors failed with
"Error finding id".

So every process that opens a folder through :class:`LocalIndex`:

- writes under an exclusive lock on a file in the folder, one write at a time across
  processes, and counts its writes in a stamp file beside it;
- before each read and each write, compares that stamp with the one it loaded. When another
  process has written since, it closes its client and opens the folder again (Chroma reads what
  is on disk: its files and its log of recent writes), under a shared lock, so never in the
  middle of another process's write.

Reopening reads the whole index again, once per change made elsewhere. A Chroma server
(``chroma run``) is one process for every client: its client is used as it is (:class:`Direct`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

STAMP = "souffleur-writes"  # how many writes the folder has had (a decimal number)
LOCK = "souffleur-writes.lock"


class ClientSource(Protocol):
    """Where a vector store gets its Chroma client: ``opened`` counts the clients opened so
    far (collections fetched from an earlier one are stale)."""

    opened: int

    def reading(self) -> Any:  # a context manager giving the client
        ...

    def writing(self) -> Any: ...


class Direct:
    """A client used as it is (a Chroma server's: one process holds the index)."""

    opened = 1

    def __init__(self, client: Any) -> None:
        self.client = client

    @contextmanager
    def reading(self) -> Iterator[Any]:
        yield self.client

    writing = reading


class LocalIndex:
    """A Chroma folder on this machine, shared safely with the other processes that open it."""

    def __init__(self, path: Path, open_client: Callable[[], Any]) -> None:
        self.path = path
        self._open_client = open_client
        self._gate = _Gate()
        self._writer = threading.Lock()
        self.client = open_client()
        self._loaded = self._stamp()
        self.opened = 1

    @contextmanager
    def reading(self) -> Iterator[Any]:
        if self._stamp() != self._loaded:
            with _locked(self.path / LOCK, fcntl.LOCK_SH):
                self._reopen_if_stale()
        with self._gate.shared():
            yield self.client

    @contextmanager
    def writing(self) -> Iterator[Any]:
        with self._writer, _locked(self.path / LOCK, fcntl.LOCK_EX):
            self._reopen_if_stale()
            try:
                with self._gate.shared():
                    yield self.client
            finally:  # even a write that failed half-way may have changed the index
                self._loaded = max(self._loaded, 0) + 1
                _write_atomically(self.path / STAMP, str(self._loaded))

    def _stamp(self) -> int:
        try:
            return int((self.path / STAMP).read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError:  # not ours, or damaged: read the folder again (a write rewrites it)
            return -1

    def _reopen_if_stale(self) -> None:
        """Open the folder again when another process wrote since (called under its lock)."""
        if self._stamp() == self._loaded:
            return
        with self._gate.exclusive():
            stamp = self._stamp()  # another thread may have reopened it meanwhile
            if stamp == self._loaded:
                return
            self.client.close()
            self.client = self._open_client()
            self._loaded = stamp  # a damaged stamp too: read again once, not at every search
            self.opened += 1


_OPEN: dict[Path, LocalIndex] = {}
_OPENING = threading.Lock()


def local_index(path: Path, open_client: Callable[[], Any]) -> LocalIndex:
    """The folder's one :class:`LocalIndex` in this process (its clients would share Chroma's
    in-memory index anyway: a reopen must replace it for all of them)."""
    key = path.resolve()
    with _OPENING:
        if key not in _OPEN:
            _OPEN[key] = LocalIndex(key, open_client)
        return _OPEN[key]


class _Gate:
    """Many readers, or one thread replacing the client (the threads of this process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._replacing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._replacing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._replacing)
            self._replacing = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._replacing = False
                self._cond.notify_all()


@contextmanager
def _locked(path: Path, how: int) -> Iterator[None]:
    """``flock`` on ``path`` (made if missing); the system drops it if the process dies."""
    with path.open("a+b") as f:
        fcntl.flock(f, how)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(text, encoding="ascii")
    tmp.replace(path)
