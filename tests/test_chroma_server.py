"""The index through a real `chroma run` server on 127.0.0.1 (HttpClient), not the embedded client."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot import Settings, load_settings, open_workspace
from knowledge import HashEmbedder, IndexUnavailableError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = _free_port()
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
        chroma_port=_free_port(),
    )
    with pytest.raises(IndexUnavailableError) as info:
        open_workspace(settings, embedder=HashEmbedder())
    assert "chroma run" in info.value.fix
