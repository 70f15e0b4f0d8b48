"""One end-to-end run of the real app (``streamlit run``) in a real headless Chromium.

Debian's ``chromium`` driven by Playwright for Python through ``executable_path`` (never
``playwright install``). The screenshot lands in ``test-artifacts/browser-desk.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from copilot import load_settings
from copilot.store import ConversationStore
from knowledge import make_engine

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
XSS = "<script>alert(1)</script> ![x](http://evil/img.png)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def test_send_a_drafted_reply_in_a_real_browser(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium; `make test` does it as root): real-browser test skipped"
        )
    from playwright.sync_api import expect, sync_playwright

    started = time.perf_counter()
    data = tmp_path / "data"
    data.mkdir()
    # A visitor's message full of markup, waiting in the inbox beside the demo conversations.
    ConversationStore(make_engine(load_settings(data_dir=data).db_url)).create(
        customer_id=None, turns=[("customer", XSS, None)]
    )

    port = free_port()
    env = {**os.environ, "SOUFFLEUR_DATA_DIR": str(data), "SOUFFLEUR_EMBEDDER": "hash"}
    env.pop("SOUFFLEUR_LLM_BASE_URL", None)
    log = (tmp_path / "streamlit.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("button", name="Sign in").click(
                    timeout=30_000
                )  # Alice, agent, is preselected

                sidebar = page.get_by_test_id("stSidebar")
                draft = sidebar.get_by_label("Draft reply")
                expect(draft).not_to_be_empty(timeout=30_000)
                drafted = draft.input_value()
                first_line = drafted.strip().splitlines()[0]
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(
                    path=str(ARTIFACTS / "browser-desk.png")
                )  # what a newcomer sees first
                sidebar.get_by_role("button", name="Send").click()

                expect(sidebar.get_by_text("Reply sent.")).to_be_visible(timeout=15_000)
                sent = page.get_by_test_id("stChatMessage").filter(has_text=first_line).last
                expect(sent).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "browser-desk-sent.png"))

                # The visitor's markup is shown as the characters typed, never run or loaded.
                page.get_by_role("button", name="Visitor").click()
                message = page.get_by_test_id("stChatMessage").filter(
                    has_text="<script>alert(1)</script>"
                )
                expect(message).to_be_visible(timeout=15_000)
                expect(message).to_contain_text("![x](http://evil/img.png)")
                assert page.locator("img[src*='evil']").count() == 0
                assert page.locator("[data-testid='stMain'] script").count() == 0
                page.screenshot(path=str(ARTIFACTS / "browser-desk-markup.png"))
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    elapsed = time.perf_counter() - started
    print(f"browser end-to-end: {elapsed:.1f} s")
    assert elapsed < 60, f"the browser test took {elapsed:.1f} s"
