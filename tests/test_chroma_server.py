"""The index through a real `chroma run` server on 127.0.0.1 (HttpClient), not the embedded client."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from copilot import Settings, Workspace, load_settings, open_workspace
from knowledge import HashEmbedder, IndexUnavailableError, SouffleurError
from knowledge.vectors import VectorStore, open_chroma
from tests.served import free_port


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("chroma run did not start")
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_index_and_query_through_a_chroma_server(chroma_server: int, tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        demo_autoload=False,
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
    )
    ws = open_workspace(settings, embedder=HashEmbedder())
    ws.kb.ingest_file("fr.md", b"# Retours\n\nVous avez 30 jours pour retourner un article.")
    ws.kb.ingest_file("en.md", b"# Returns\n\nYou have 30 days to return an item.")
    assert not (settings.data_dir / "chroma").exists()  # vectors live in the server
    assert ws.kb.stats()["vectors"] == 2
    assert ws.kb.search("retourner un article", k=1, lang="fr")[0].doc_id == "fr"
    assert ws.kb.search("return an item", k=1, mode="dense")[0].doc_id == "en"
    assert ws.kb.delete("en") and ws.kb.stats()["vectors"] == 1


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    settings: Settings = load_settings(
        data_dir=tmp_path / "d",
        demo_autoload=False,
        chroma_host="127.0.0.1",
        chroma_port=free_port(),
    )
    with pytest.raises(IndexUnavailableError) as info:
        open_workspace(settings, embedder=HashEmbedder())
    assert "chroma run" in info.value.fix


@pytest.mark.fault
@pytest.mark.slow
def test_two_workspaces_share_a_server_and_a_reindex_keeps_the_others_vectors(
    chroma_server: int, tmp_path: Path
) -> None:
    def workspace(name: str) -> Workspace:
        settings = load_settings(
            data_dir=tmp_path / name,
            demo_autoload=False,
            chroma_host="127.0.0.1",
            chroma_port=chroma_server,
        )
        return open_workspace(settings, embedder=HashEmbedder())

    shop, helpdesk = workspace("shop"), workspace("helpdesk")
    assert shop.settings.vector_namespace != helpdesk.settings.vector_namespace
    for i in range(3):
        shop.kb.ingest_file(f"s{i}.md", f"# Retours {i}\n\nVous avez {i + 14} jours.".encode())
    helpdesk.kb.ingest_file("h.md", b"# Returns\n\nYou have 30 days to return an item.")
    assert shop.kb.stats()["vectors"] == 3 and helpdesk.kb.stats()["vectors"] == 1

    # each reindexes and repairs its own collections only
    assert helpdesk.kb.reindex() == 1
    assert helpdesk.kb.reconcile() is not None
    check = shop.kb.check()
    assert check.consistent and not check.missing_vectors
    assert shop.kb.stats()["vectors"] == 3
    assert shop.kb.search("combien de jours", k=1, mode="dense")[0].doc_id.startswith("s")
    # a process opening the shop again finds every vector (no repair needed)
    again = workspace("shop")
    assert again.kb.stats()["vectors"] == 3 and not again.kb.needs_reconcile


def test_namespaces_that_extend_each_other_stay_apart(tmp_path: Path) -> None:
    client = open_chroma(path=tmp_path / "chroma")
    team = VectorStore(client, embedder_name="hash-256", dim=4, prefix="team")
    team_x = VectorStore(client, embedder_name="hash-256", dim=4, prefix="team_x")
    team_2 = VectorStore(client, embedder_name="hash-256", dim=4, prefix="team-2")
    v = np.eye(4, dtype=np.float32)[:1]
    for store, cid in ((team, "a"), (team_x, "b"), (team_2, "c")):
        store.add([cid], v, ["fr"])
    assert team.languages() == ["fr"] and team.all_ids() == {"a": "fr"}
    team.drop_all()
    assert team_x.all_ids() == {"b": "fr"} and team_2.all_ids() == {"c": "fr"}


@pytest.mark.parametrize("bad", ["x", "-lead", "has space", "a" * 60])
def test_an_unusable_namespace_is_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(SouffleurError, match="cannot name Chroma collections") as exc:
        _ = load_settings(chroma_namespace=bad).vector_namespace
    assert "3 to 54" in exc.value.fix


def _start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("chroma run did not start")
            time.sleep(0.1)


@pytest.mark.fault
@pytest.mark.slow
def test_a_chroma_server_restart_leaves_drafts_on_keyword_search(tmp_path: Path) -> None:
    from copilot.types import Conversation, Turn
    from knowledge.retrieval import RetrievalConfig

    port = free_port()
    server = _start_chroma(tmp_path / "server", port)
    try:
        settings = load_settings(
            data_dir=tmp_path / "data",
            demo_autoload=False,
            chroma_host="127.0.0.1",
            chroma_port=port,
        )
        ws = open_workspace(settings, embedder=HashEmbedder(), drafter=None)
        ws.kb.retriever.config = RetrievalConfig(dense_retry_s=0.5)
        ws.kb.ingest_file(
            "returns.md", b"# Returns\n\nYou have 30 days to return an item, in its box."
        )
        ask = Conversation(turns=[Turn(role="customer", text="How many days to return an item?")])
        assert ws.service.suggest(ask).retrieved[0].dense_score is not None

        server.terminate()
        server.wait(timeout=10)
        down = ws.service.suggest(ask)  # no exception: the keyword signals still answer
        assert down.retrieved and down.retrieved[0].doc_id == "returns"
        assert down.retrieved[0].dense_score is None
        assert down.notes[0].startswith("meaning search unavailable (")
        assert "30 days" in down.draft

        server = _start_chroma(tmp_path / "server", port)  # back, with every vector
        time.sleep(0.6)
        back = ws.service.suggest(ask)
        assert back.retrieved[0].dense_score is not None
        assert not any(n.startswith("meaning search") for n in back.notes)
    finally:
        server.terminate()
        server.wait(timeout=10)
