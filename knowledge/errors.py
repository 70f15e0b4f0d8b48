"""The error tree of Souffleur.

Every error a user can cause says what was wrong *and* what to do about it. Faces (CLI, app)
print ``str(error)``; code that needs the parts reads ``problem`` and ``fix``.
"""

from __future__ import annotations


class SouffleurError(Exception):
    """Base of every error Souffleur raises on purpose."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}".strip())


class ConfigError(SouffleurError):
    """A setting is wrong or missing (an environment variable, the .env file, a command-line
    option): the message names it and says what to set."""


class IngestError(SouffleurError):
    """A knowledge file could not be read or indexed. ``source`` names the file."""

    def __init__(self, source: str, problem: str, fix: str = "") -> None:
        self.source = source
        super().__init__(f"{source}: {problem}", fix)


class EmbedderMismatchError(SouffleurError):
    """The index on disk was built with another embedder than the configured one."""


class IndexUnavailableError(SouffleurError):
    """The vector index (embedded or server) cannot be opened."""


class OrderFeedError(SouffleurError):
    """An order feed file as a whole cannot be read (a bad row is a report line, not this)."""
