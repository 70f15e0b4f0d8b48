"""One Chroma folder opened by several processes (the app, `souffleur serve`, the CLI): each
finds the vectors the others add, and none writes the others' away (``knowledge.localindex``).

Chroma writes its in-memory index back to disk after 1,000 new vectors: the writes below are
larger than that, so a process that had not taken in another's vectors would drop them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from knowledge.consistency import check
from knowledge.db import make_engine
from knowledge.localindex import STAMP
from knowledge.registry import Registry
from knowledge.vectors import VectorStore, open_chroma

ROOT = Path(__file__).resolve().parents[1]
DIM = 8
EACH = 1200  # vectors each process adds: more than Chroma's 1,000 between two saves


def _vectors(seed: int, n: int = EACH) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def _store(path: Path) -> VectorStore:
    return VectorStore(open_chroma(path=path), embedder_name="test-8", dim=DIM)


def _in_another_process(path: Path, body: str) -> str:
    """Run ``body`` in a new Python process, with ``store`` (the folder's vector store),
    ``vectors(seed)`` and ``lost(seed, prefix)`` (how many of a seed's vectors are not found
    by themselves, looked up one in ten); returns what it printed."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tests.test_local_index import _store, _vectors, _lost
        store = _store(Path({str(path)!r}))
        vectors = _vectors
        lost = lambda seed, prefix: _lost(store, seed, prefix)
    """) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def _add(store: VectorStore, seed: int, prefix: str, batch: int = EACH) -> None:
    vecs = _vectors(seed)
    for start in range(0, EACH, batch):
        ids = [f"{prefix}{i}" for i in range(start, min(start + batch, EACH))]
        store.add(ids, vecs[start : start + len(ids)], ["en"] * len(ids))


def _lost(store: VectorStore, seed: int, prefix: str) -> int:
    vecs = _vectors(seed)
    return sum(store.query(vecs[i], 1, ["en"])[0][0] != f"{prefix}{i}" for i in range(0, EACH, 10))


@pytest.mark.fault
@pytest.mark.slow
def test_a_process_finds_and_keeps_the_vectors_another_process_added(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    app = _store(path)  # a long-running process (the app), opened first
    _add(app, 0, "app-")
    _in_another_process(path, "from tests.test_local_index import _add\n_add(store, 1, 'cli-')\n")
    assert _lost(app, 1, "cli-") == 0  # found without a restart
    _add(app, 2, "app2-")  # its next save keeps the other process's vectors
    out = _in_another_process(
        path,
        """
        print(lost(0, 'app-'), lost(1, 'cli-'), lost(2, 'app2-'), store.count())
        """,
    )
    assert out == f"0 0 0 {3 * EACH}"
    assert (path / STAMP).read_text().strip().isdigit()


@pytest.mark.fault
@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    here = _store(path)
    other = subprocess.Popen(  # a second writer, opened before either writes
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "from pathlib import Path\n"
            "from tests.test_local_index import _store, _add\n"
            f"store = _store(Path({str(path)!r}))\n"
            "print('ready', flush=True); sys.stdin.readline()\n"
            "_add(store, 4, 'b-', batch=100)\n",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdin is not None
    assert other.stdout.readline().strip() == "ready"
    other.stdin.write("go\n")
    other.stdin.flush()
    _add(here, 3, "a-", batch=100)  # batch by batch, in turns with the other process
    _, err = other.communicate(timeout=300)
    assert other.returncode == 0, err[-2000:]
    out = _in_another_process(path, "print(lost(3, 'a-'), lost(4, 'b-'), store.count())\n")
    assert out == f"0 0 {2 * EACH}"


def test_a_damaged_stamp_makes_the_index_read_again_once(tmp_path: Path) -> None:
    store = _store(tmp_path / "chroma")
    _add(store, 5, "x-", batch=EACH)
    source = store.source
    (tmp_path / "chroma" / STAMP).write_text("not a number")
    opened = source.opened
    assert store.query(_vectors(5)[0], 1, ["en"])[0][0] == "x-0"
    assert store.query(_vectors(5)[1], 1, ["en"])[0][0] == "x-1"
    assert source.opened == opened + 1  # read again once, not at every search
    _add(store, 6, "y-", batch=EACH)  # the next write leaves a number again
    assert (tmp_path / "chroma" / STAMP).read_text() == "1"


# An index saved over another process's vectors, as Chroma's own clients did before: a process
# opened first, another adds EACH vectors, then the first one adds EACH of its own.
_DAMAGE = """
import subprocess, sys
import chromadb, numpy as np
from chromadb.config import Settings
path, name, each, dim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
col = chromadb.PersistentClient(
    path=path, settings=Settings(anonymized_telemetry=False)
).get_or_create_collection(name, embedding_function=None, metadata={"embedder": "test-8"})
if sys.argv[5:] == ["other"]:
    col.add(ids=[f"b{i}" for i in range(each)], embeddings=np.random.default_rng(1).normal(size=(each, dim)))
    sys.exit(0)
col.add(ids=["a"], embeddings=np.ones((1, dim)))
subprocess.run([sys.executable, *sys.argv, "other"], check=True)
col.add(ids=[f"c{i}" for i in range(each)], embeddings=np.random.default_rng(2).normal(size=(each, dim)))
"""


@pytest.mark.slow
def test_status_check_finds_an_index_saved_over_and_reindex_mends_it(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    script = tmp_path / "damage.py"
    script.write_text(_DAMAGE)
    args = [sys.executable, str(script), str(path), "souffleur_en", str(EACH), str(DIM)]
    subprocess.run(args, check=True, timeout=300, capture_output=True)
    store = _store(path)
    assert store.unreadable() == ["en"]
    report = check(Registry(make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")), store)
    assert report.damaged == ("en",) and not report.consistent  # status --check: reindex
    store.drop_all()  # what `souffleur reindex` does before it embeds every chunk again
    _add(store, 7, "r-")
    assert store.unreadable() == []
