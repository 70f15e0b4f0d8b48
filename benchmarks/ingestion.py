"""Ingestion next to the LangChain peer, in turns: Souffleur, peer, Souffleur, peer...

A dev set's knowledge (../shared/data, skipped with a message when absent) is indexed from
scratch by Souffleur (dense + keyword index, the default embedder) and by the plain LangChain
tutorial pipeline (RecursiveCharacterTextSplitter(1000, 200) + langchain-chroma, MiniLM as
shipped), ``--pairs`` times each, one after the other in one process. A single build moves by
several seconds from one run to the next on a shared 2-core machine; the ratio is taken pair by
pair (the two builds of a pair ran under the same conditions) and the median is quoted.

    .venv/bin/python benchmarks/ingestion.py [--set cdtn-fr] [--pairs 3]

Figures are printed, never asserted.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEV_SETS, arguments, dev_set, table
from benchmarks.retrieval import langchain_peer_store
from copilot import load_settings, open_workspace
from knowledge import make_embedder


def souffleur_build(path: Path, embedder: str) -> tuple[int, float]:
    """Chunks and seconds of one ingestion of the set's knowledge into a new workspace."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = open_workspace(
            load_settings(data_dir=Path(tmp), demo_autoload=False),
            embedder=make_embedder(embedder),
        )
        ws.kb.embedder.embed(["warm-up"])  # the model is loaded once per process, not per build
        t0 = time.perf_counter()
        (res,) = ws.kb.ingest_paths([path / "kb.jsonl"])
        build = time.perf_counter() - t0
        if not res.ok:
            raise SystemExit(f"{path.name}: the ingestion failed: {res.error}")
        return res.chunks, build


def peer_build(path: Path) -> tuple[int, float]:
    with langchain_peer_store(path) as (_store, chunks, build):
        return chunks, build


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--set", default="cdtn-fr", choices=list(DEV_SETS))
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--embedder", default="minilm")
    args = ap.parse_args()
    path = dev_set(args.set)
    if path is None:
        return
    ours: list[float] = []
    peer: list[float] = []
    for i in range(args.pairs):
        chunks, s = souffleur_build(path, args.embedder)
        ours.append(s)
        peer_chunks, p = peer_build(path)
        peer.append(p)
        print(f"  pair {i + 1}: Souffleur {s:.1f} s, peer {p:.1f} s", file=sys.stderr)
    ratios = [p / s for s, p in zip(ours, peer, strict=True)]
    rows = [
        [
            f"Souffleur ({args.embedder}, dense + keyword)",
            f"{chunks:,}",
            f"{statistics.median(ours):.1f}",
            f"{min(ours):.1f} – {max(ours):.1f}",
        ],
        [
            "LangChain peer (RCTS 1000/200 + Chroma, MiniLM)",
            f"{peer_chunks:,}",
            f"{statistics.median(peer):.1f}",
            f"{min(peer):.1f} – {max(peer):.1f}",
        ],
    ]
    print(f"\n### Ingestion of {args.set}, {args.pairs} builds each in turns\n")
    print(table(["pipeline", "chunks", "build s (median)", "min – max"], rows))
    print(
        f"\npeer / Souffleur, pair by pair: {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"median {statistics.median(ratios):.2f}×"
    )
    print("\n(measurements on this machine; not guarantees)")


if __name__ == "__main__":
    main()
