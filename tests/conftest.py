"""Shared fixtures. The whole suite runs offline: a guard refuses any non-loopback connection."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot import Settings, Workspace, load_settings, open_workspace
from knowledge import HashEmbedder

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise OSError(f"test suite is offline: connection to {host} refused")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _demo_users() -> Iterator[None]:
    """The suite drives the app on the demo store, as `make run` does: with its one-click demo
    users (tests/test_accounts.py checks the sign-in of a workspace without them)."""
    before = os.environ.get("SOUFFLEUR_DEMO_USERS")
    os.environ["SOUFFLEUR_DEMO_USERS"] = "true"
    yield
    if before is None:
        os.environ.pop("SOUFFLEUR_DEMO_USERS", None)
    else:
        os.environ["SOUFFLEUR_DEMO_USERS"] = before


@pytest.fixture(autouse=True, scope="session")
def _offline() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", demo_autoload=False)


def open_demo(root: Path, embedder: Any = None) -> Workspace:
    """The demo store in a new workspace under ``root`` (the instant hash embedder unless
    told), drafted offline, on the demo's date."""
    from copilot.demo import ANCHOR, load_demo

    settings = load_settings(data_dir=root / "data", demo_autoload=False)
    ws = open_workspace(settings, embedder=embedder or HashEmbedder(), drafter=None)
    load_demo(ws, today=ANCHOR)
    ws.service.today = lambda: ANCHOR
    return ws


@pytest.fixture
def ws(settings: Settings) -> Workspace:
    """An empty workspace with the instant hash embedder."""
    return open_workspace(settings, embedder=HashEmbedder())


def use_store(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """The CLI and the app, as a test starts them, use the store in ``data``, with the instant
    hash embedder and no demo loaded into it."""
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(data))
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "hash")
    monkeypatch.setenv("SOUFFLEUR_DEMO_AUTOLOAD", "false")


def unset_local_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave out what a developer's shell may set for the app: a model server, the UI language,
    a database or an index server."""
    for name in (
        "SOUFFLEUR_LLM_BASE_URL",
        "SOUFFLEUR_UI_LANG",
        "SOUFFLEUR_DATABASE_URL",
        "SOUFFLEUR_CHROMA_HOST",
    ):
        monkeypatch.delenv(name, raising=False)


def shared_set(name: str) -> Path:
    path = SHARED_DATA / name
    if not (path / "kb.jsonl").exists():
        pytest.skip(f"../shared/data/{name} is not here (the dev sets live beside the repository)")
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's counts: the faults of a multi-process deployment (database and index
    servers restarted, processes killed or racing, model servers failing) tried, and handled."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for rep in terminalreporter.stats.get(outcome, []):
            if "fault" in getattr(rep, "keywords", {}) and (
                rep.when == "call" or outcome != "passed"
            ):
                counts[outcome] = counts.get(outcome, 0) + 1
    if counts:
        tried = sum(counts.values())
        terminalreporter.write_line(
            f"fault suite: {tried} tried, {counts.get('passed', 0)} handled, "
            f"{counts.get('failed', 0) + counts.get('error', 0)} failed, "
            f"{counts.get('skipped', 0)} skipped"
        )
