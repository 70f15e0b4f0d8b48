"""State every process of a workspace shares through the database: the policy (with its
history) and the confidence model; and two real `souffleur serve` processes on one database and
one `chroma run` server: a document one ingests is found by the other, a policy change applies
in both."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from copilot.desk.apikeys import TokenStore
from copilot.desk.shared import REFRESH_S, SharedState, Watched
from copilot.pipeline.confidence import ConfidenceModel, heuristic
from copilot.pipeline.escalation import PolicyError
from copilot.workspace import PolicyStore, confidence_source
from knowledge import make_engine
from knowledge.db import create_tables, migrate
from tests.served import free_port
from tests.test_chroma_server import chroma_server

ROOT = Path(__file__).resolve().parents[1]
ZANZIBAR = """
  - code: zanzibar_word
    label: {en: "Said the secret word", fr: "A dit le mot secret"}
    queue: complaints
    priority: 5
    hard: true
    detector: patterns
    patterns:
      - '\\bzanzibar\\b'
"""

__all__ = ["chroma_server"]  # the fixture, used below


def _with_trigger(text: str) -> str:
    head, _, rest = text.partition("triggers:\n")
    return head + "triggers:\n" + ZANZIBAR.lstrip("\n") + "\n" + rest


def test_a_policy_saved_in_one_process_applies_in_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    one, other = (PolicyStore(make_engine(url), refresh_s=0) for _ in range(2))
    before = other.current().settings.refund_limit
    good = one.text()
    one.save(good.replace(f"refund_limit: {before:g}", "refund_limit: 321", 1), author="kim")
    assert other.current().settings.refund_limit == 321
    with pytest.raises(PolicyError):
        one.save("triggers: [unclosed", author="kim")
    assert other.current().settings.refund_limit == 321  # a broken policy is never shared
    one.save(good, author="lea")
    assert other.current().settings.refund_limit == before
    history = other.history()
    assert [(r.version, r.author) for r in history] == [(2, "lea"), (1, "kim")]
    other.restore(1, author="admin")
    assert one.current().settings.refund_limit == 321
    assert one.history()[0].note == "restored version 1"


def test_a_policy_file_of_an_older_workspace_is_imported_once(tmp_path: Path) -> None:
    legacy = tmp_path / "policy.yaml"
    text = (
        PolicyStore(make_engine("sqlite://"))
        .text()
        .replace("refund_limit: 150", "refund_limit: 99")
    )
    legacy.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert PolicyStore(make_engine(url), legacy).current().settings.refund_limit == 99
    PolicyStore(make_engine(url), legacy)  # opened again: not imported twice
    (only,) = PolicyStore(make_engine(url)).history()
    assert only.note == "imported from policy.yaml"


def test_the_confidence_model_is_shared_and_versioned(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    watched = confidence_source(make_engine(url), tmp_path / "none.json")
    shipped = watched.current()
    fitted = heuristic()
    fitted.threshold = 0.42
    SharedState(make_engine(url)).save("confidence", fitted.to_json(), note="calibrate")
    assert watched.current().threshold == shipped.threshold  # read again after REFRESH_S
    time.sleep(REFRESH_S + 0.1)
    assert watched.current().threshold == 0.42


def test_watched_reads_a_new_version_only(tmp_path: Path) -> None:
    state = SharedState(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    parsed: list[str] = []

    def parse(text: str) -> str:
        parsed.append(text)
        return text.upper()

    w = Watched(state, "note", parse, lambda: "none", refresh_s=0)
    assert w.current() == "none"
    state.save("note", "a")
    assert w.current() == "A" and w.current() == "A"
    assert parsed == ["a"]  # unchanged version: not parsed again
    assert isinstance(ConfidenceModel.from_json(heuristic().to_json()), ConfidenceModel)


# -- two processes ------------------------------------------------------------------------
def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faces.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def two_servers(chroma_server: int, tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{(data / 'souffleur.db').resolve()}"
    tokens = TokenStore(make_engine(url))
    integration = tokens.create("shop", "integration")[1]
    admin = tokens.create("ops", "admin")[1]
    env = {
        **os.environ,
        "SOUFFLEUR_DATA_DIR": str(data),
        "SOUFFLEUR_EMBEDDER": "hash",
        "SOUFFLEUR_DEMO_AUTOLOAD": "false",
        "SOUFFLEUR_CHROMA_HOST": "127.0.0.1",
        "SOUFFLEUR_CHROMA_PORT": str(chroma_server),
    }
    env.pop("SOUFFLEUR_LLM_BASE_URL", None)
    servers = [_serve(env, tmp_path / f"serve-{n}.log") for n in ("a", "b")]
    try:
        for proc, base in servers:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, "\n".join(
                    (tmp_path / f"serve-{n}.log").read_text(errors="replace") for n in ("a", "b")
                )
                try:
                    if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "souffleur serve did not answer"
                time.sleep(0.2)
        yield servers[0][1], servers[1][1], integration, admin
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.mark.fault
@pytest.mark.slow
def test_two_processes_share_the_knowledge_and_the_policy(
    two_servers: tuple[str, str, str, str], tmp_path: Path
) -> None:
    a, b, integration, admin = two_servers
    auth = {"Authorization": f"Bearer {admin}"}
    up = httpx.post(
        a + "/v1/knowledge",
        headers=auth,
        files=[
            (
                "files",
                (
                    "gift-wrap.md",
                    b"# Gift wrapping\n\nGift wrapping costs 4.50 EUR per order, whatever the "
                    b"number of items. Choose it at checkout.",
                    "text/markdown",
                ),
            )
        ],
        timeout=60,
    ).json()
    (doc,) = up[0]["documents"]
    ask = {"Authorization": f"Bearer {integration}"}
    got = httpx.post(
        b + "/v1/messages",
        headers=ask,
        json={"channel": "web", "conversation": "q-1", "text": "How much does gift wrapping cost?"},
        timeout=60,
    ).json()
    cited = {d for c in got["suggestion"]["citations"] for d in c["doc_ids"]}
    assert doc in cited and "4.50" in got["suggestion"]["text"]  # B found what A ingested

    # a policy saved by a third process (the app's policy editor does the same) applies in both
    url = f"sqlite:///{(tmp_path / 'data' / 'souffleur.db').resolve()}"
    store = PolicyStore(make_engine(url))
    store.save(_with_trigger(store.text()), author="kim")
    time.sleep(REFRESH_S + 0.5)
    for n, base in enumerate((a, b)):
        got = httpx.post(
            base + "/v1/messages",
            headers=ask,
            json={"channel": "web", "conversation": f"z-{n}", "text": "Zanzibar, please"},
            timeout=60,
        ).json()
        assert "zanzibar_word" in [r["code"] for r in got["suggestion"]["reasons"]], base


def _open_at_once(url: str, openers: int = 4) -> list[object]:
    """``openers`` engines migrate one new SQLite database at the same moment."""
    table = sa.Table("things", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    steps = [create_tables(table), lambda conn: None]
    results: list[object] = []
    start = threading.Barrier(openers)

    def open_db() -> None:
        engine = make_engine(url)
        start.wait()
        try:
            results.append(migrate(engine, "race", steps))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=open_db) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.fault
def test_processes_opening_a_new_sqlite_database_at_once_all_migrate_it(tmp_path: Path) -> None:
    for n in range(8):
        assert _open_at_once(f"sqlite:///{tmp_path / f'race-{n}.db'}") == [2, 2, 2, 2]
