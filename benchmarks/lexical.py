"""The cost of keeping the keyword index (BM25, title index, speller) current at scale.

A workspace is filled with N synthetic chunks (real sentences of the dev sets when they are
beside the repository, else generated ones; hash embedder: the vectors do not matter here).
Then, in the process that searches:

- the first build, as a new process does it;
- the update after one document (a few chunks) is added, replaced, then deleted, measured on
  the next search, which is when the snapshot catches up with the registry.

    .venv/bin/python benchmarks/lexical.py [--sizes 10000 100000]

Figures are printed, never asserted.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEV_SETS, arguments, dev_set, read_jsonl, table
from copilot import load_settings, open_workspace
from knowledge import Document, HashEmbedder
from knowledge.text import sentences

WORDS = [
    "commande",
    "livraison",
    "retour",
    "remboursement",
    "colis",
    "délai",
    "article",
    "facture",
    "garantie",
    "échange",
    "order",
    "delivery",
    "return",
    "refund",
    "parcel",
    "delay",
    "item",
    "invoice",
    "warranty",
    "exchange",
    "account",
    "password",
]


def _pool() -> list[str]:
    pool: list[str] = []
    for name in DEV_SETS:
        path = dev_set(name)
        if path is None:
            continue
        for rec in read_jsonl(path / "kb.jsonl")[:400]:
            pool.extend(s for s in sentences(rec.get("text", "")) if 40 < len(s) < 300)
    if not pool:
        rng = random.Random(0)
        pool = [" ".join(rng.choice(WORDS) for _ in range(14)) + "." for _ in range(5000)]
    return pool


def _doc(i: int, rng: random.Random, pool: list[str], chunks: int) -> Document:
    body = "\n\n".join(
        f"## Part {p}\n\n" + " ".join(rng.choice(pool) for _ in range(4)) for p in range(chunks)
    )
    return Document(
        doc_id=f"doc-{i}", title=f"Article {i}", text=f"# Article {i}\n\n{body}", lang="fr"
    )


def _timed_search(ws, query: str) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    ws.kb.search(query, k=5, mode="bm25")
    return (time.perf_counter() - t0) * 1000


def _measure(size: int, per_doc: int, pool: list[str]) -> list[str]:
    """One table row: fill an index to ``size`` chunks, then time BM25 after each change."""
    rng = random.Random(size)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), demo_autoload=False)
        ws = open_workspace(settings, embedder=HashEmbedder())
        n_docs = max(1, size // per_doc)
        t0 = time.perf_counter()
        for start in range(0, n_docs, 500):
            ws.kb.ingest_documents(
                [_doc(i, rng, pool, per_doc) for i in range(start, min(n_docs, start + 500))],
                source_name=f"bench-{start}.jsonl",
            )
        filled = time.perf_counter() - t0
        chunks = ws.kb.stats()["chunks"]
        query = "délai de remboursement après un retour"
        first = _timed_search(ws, query)
        steady = _timed_search(ws, query)
        ws.kb.ingest_documents([_doc(10**7, rng, pool, per_doc)], source_name="new.jsonl")
        added = _timed_search(ws, query)
        ws.kb.ingest_documents([_doc(10**7, rng, pool, per_doc)], source_name="new.jsonl")
        replaced = _timed_search(ws, query)
        ws.kb.delete(f"doc-{10**7}")
        deleted = _timed_search(ws, query)
    return [
        f"{chunks:,}",
        f"{filled:.0f} s",
        f"{first:,.0f}",
        f"{steady:.1f}",
        f"{added:,.0f}",
        f"{replaced:,.0f}",
        f"{deleted:,.0f}",
    ]


HEADERS = [
    "chunks",
    "filled in",
    "first build ms",
    "search ms",
    "after an add ms",
    "after a replace ms",
    "after a delete ms",
]


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--chunks-per-doc", type=int, default=10)
    args = ap.parse_args()
    pool = _pool()
    rows = []
    for size in args.sizes:
        rows.append(_measure(size, args.chunks_per_doc, pool))
        print(rows[-1], file=sys.stderr)
    print(table(HEADERS, rows))


if __name__ == "__main__":
    main()
