"""One end-to-end run of the real app (``streamlit run``) in a real headless Chromium.

Debian's ``chromium`` driven by Playwright for Python through ``executable_path`` (never
``playwright install``). The screenshot lands in ``test-artifacts/browser-desk.png``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from copilot import load_settings
from copilot.desk.store import ConversationStore
from knowledge import make_engine
from tests.served import free_port, stop

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
        stop(server)
        log.close()
    print(f"browser end-to-end: {time.perf_counter() - started:.1f} s")


def _shows(area: Any, text: str) -> bool:
    """Exactly one such text area, holding ``text`` (an element may vanish while it is read)."""
    from playwright.sync_api import Error

    try:
        return bool(area.count() == 1 and area.input_value(timeout=1000) == text)
    except Error:
        return False


def test_the_whole_loop_customer_web_chat_and_agent_desk(tmp_path: Path) -> None:
    """Two pages: a customer writes in the web chat of `souffleur serve`, the conversation
    appears in the agent's desk (`streamlit run app.py`) with its draft, the agent edits and
    sends it, and the customer's page shows the reply."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed: real-browser test skipped")
    from playwright.sync_api import expect, sync_playwright

    from copilot import open_workspace
    from copilot.channels.webchat import ChatIdentity
    from copilot.demo import load_demo
    from knowledge import HashEmbedder

    data = tmp_path / "data"
    ws = open_workspace(load_settings(data_dir=data, demo_autoload=False), embedder=HashEmbedder())
    load_demo(ws)
    busy = {
        r.customer_id for r in ConversationStore(ws.engine).inbox(statuses=("open", "escalated"))
    }
    customer = next(
        c for c in ws.orders.customers()
        if c.email and c.customer_id not in busy and ws.orders.orders_of(c.customer_id)
    )  # fmt: skip
    link = ChatIdentity.for_data_dir(data).sign(customer.email)

    env = {
        **os.environ,
        "SOUFFLEUR_DATA_DIR": str(data),
        "SOUFFLEUR_EMBEDDER": "hash",
        "SOUFFLEUR_DEMO_AUTOLOAD": "false",
    }
    env.pop("SOUFFLEUR_LLM_BASE_URL", None)
    desk_port, api_port = free_port(), free_port()
    logs = (tmp_path / "streamlit.log").open("wb"), (tmp_path / "serve.log").open("wb")
    desk = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={desk_port}",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        ],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    api = subprocess.Popen(
        [sys.executable, "-m", "faces.cli", "serve", "--port", str(api_port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{desk_port}/_stcore/health", desk)
        deadline = time.monotonic() + 60
        while True:
            assert api.poll() is None, "souffleur serve exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/v1/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "souffleur serve did not answer"
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                chat = browser.new_page(viewport={"width": 600, "height": 800})
                chat.goto(f"http://127.0.0.1:{api_port}/chat?c={link}")
                chat.get_by_label("Your message").fill("Bonjour, où en est ma commande ?")
                chat.get_by_role("button", name="Send").click()
                expect(chat.locator(".msg.customer")).to_have_text(
                    "Bonjour, où en est ma commande ?", timeout=15_000
                )

                agent = browser.new_page(viewport={"width": 1600, "height": 1000})
                agent.goto(f"http://127.0.0.1:{desk_port}/")
                agent.get_by_role("button", name="Sign in").click(timeout=30_000)
                agent.get_by_role("button", name=customer.name).first.click(timeout=30_000)
                sidebar = agent.get_by_test_id("stSidebar")
                draft = sidebar.get_by_label("Draft reply")
                store = ConversationStore(ws.engine)
                (cid,) = [r.id for r in store.inbox() if r.customer_id == customer.customer_id]
                drafted = store.current_draft(cid)
                assert drafted is not None  # drafted by `souffleur serve` when the message came
                # the desk shows that draft (not the one of the conversation open before: while
                # the page redraws, both text areas may be there for a moment)
                deadline = time.monotonic() + 30
                while not _shows(draft, drafted.draft_text):
                    assert time.monotonic() < deadline, "the conversation's draft never showed"
                    agent.wait_for_timeout(100)
                reply = "Bonjour ! Votre commande part demain matin."
                draft.fill(reply)
                draft.press("Tab")  # Streamlit takes a text area's value when it loses focus
                deadline = time.monotonic() + 15
                # the desk autosaves the edit on the rerun the blur starts: wait for it
                while (d := store.current_draft(cid)) is None or d.edited_text != reply:
                    assert time.monotonic() < deadline, "the edit never reached the desk"
                    time.sleep(0.1)
                sidebar.get_by_role("button", name="Send").click()
                expect(sidebar.get_by_text("Reply sent.")).to_be_visible(timeout=15_000)

                expect(chat.locator(".msg.agent")).to_have_text(reply, timeout=15_000)
                ARTIFACTS.mkdir(exist_ok=True)
                chat.screenshot(path=str(ARTIFACTS / "browser-webchat-customer.png"))
                agent.screenshot(path=str(ARTIFACTS / "browser-webchat-agent.png"))
            finally:
                browser.close()
    finally:
        stop(desk)
        stop(api)
        for f in logs:
            f.close()
