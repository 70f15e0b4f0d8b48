"""Servers for tests: free ports, stopping subprocesses, and `souffleur serve`'s app on a real uvicorn at 127.0.0.1 (a free port) in a thread, over a demo
workspace: the shared fixture of the API, web chat, Chatwoot and webhook tests."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from copilot import Workspace, load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk.desk import Desk
from faces.api import create_app
from knowledge import Customer, HashEmbedder


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a server a test started: politely, then for good."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ServedApp:
    def __init__(self, ws: Workspace, desk: Desk | None = None) -> None:
        self.ws = ws
        self.desk = desk or Desk(ws)
        self.app = create_app(ws, self.desk)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def demo_workspace(tmp: Path, *, demo: bool = True, **settings: Any) -> Workspace:
    """A workspace in ``tmp`` with the hash embedder (and the demo store)."""
    ws = open_workspace(
        load_settings(data_dir=tmp / "data", demo_autoload=False, **settings),
        embedder=HashEmbedder(),
    )
    if demo:
        load_demo(ws, today=ANCHOR)
    return ws


def customer_with_orders(ws: Workspace) -> Customer:
    for c in ws.orders.customers():
        if c.email and ws.orders.orders_of(c.customer_id):
            return c
    raise AssertionError("the demo store has a customer with an e-mail and orders")
