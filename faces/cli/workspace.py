"""`souffleur demo | reindex | status`: the workspace as a whole: load the demo, re-embed, check."""

from __future__ import annotations

import argparse
import sys
import time

from copilot.config import redact_url
from faces.cli.common import Subcommands, workspace_of


def cmd_demo(args: argparse.Namespace) -> int:
    from copilot.demo import load_demo

    ws = workspace_of(args, load_demo_if_empty=False)
    t0 = time.perf_counter()
    report = load_demo(ws)
    for f in report.files:
        if not f.ok:
            print(f"error  {f.error}")
    print(
        f"demo store loaded in {time.perf_counter() - t0:.1f} s: {report.documents} documents from {len(report.files)} files, "
        f"{report.customers} customers, {report.orders.inserted} new and {report.orders.updated} updated orders, "
        f"{report.conversations} sample conversations added to the inbox"
    )
    open_ = [c for c in report.conflicts if c.is_open]
    if open_:
        print(f"{len(open_)} statements of two documents disagree: souffleur conflicts list")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    ws = workspace_of(args, check_embedder=False, load_demo_if_empty=False)
    t0 = time.perf_counter()
    n = ws.kb.reindex(hook=lambda s: print(f"  {s}", file=sys.stderr))
    print(f"re-embedded {n} chunks with {ws.kb.embedder.name} in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    ws = workspace_of(args, load_demo_if_empty=False)
    stats = ws.kb.stats()
    print(f"data directory  {ws.settings.data_dir.resolve()}")
    print(f"database        {ws.settings.describe()['database_url'] or ws.settings.db_url}")
    print(
        f"index           {'chroma server ' + str(ws.settings.chroma_host) if ws.settings.chroma_host else ws.settings.chroma_path}"
        f" (collections {ws.settings.vector_namespace}_<lang>)"
    )
    print(f"embedder        {ws.kb.embedder.name}")
    print(f"llm             {redact_url(ws.settings.llm_base_url) or 'none (offline drafter)'}")
    print(
        f"knowledge       {stats['documents']} documents, {stats['chunks']} chunks, {stats['vectors']} vectors"
    )
    print(f"orders          {ws.orders.count()}")
    if not args.check:
        return 0
    report = ws.kb.check()
    print(
        f"consistency     {report.missing_vectors} chunks without a vector, "
        f"{report.dead_vectors} dead vectors, {report.in_flight_vectors} vectors of "
        f"{report.live_leases} ingestion(s) in progress, {report.dead_leases} interrupted ingestion(s)"
    )
    if report.damaged:
        print(
            f"damaged         the index cannot read back all its {', '.join(report.damaged)} "
            "vectors: a process saved it over vectors another one had added. "
            "Run `souffleur reindex` to rebuild it from the documents."
        )
    if report.consistent:
        print("                consistent")
        return 0
    fixed = ws.kb.reconcile()
    print(
        f"repaired        re-embedded {fixed.reembedded_chunks} chunks, deleted "
        f"{fixed.deleted_vectors} dead vectors, closed {fixed.dead_leases} interrupted ingestion(s)"
    )
    return 0 if ws.kb.check().consistent else 1


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("demo", help="(re)load the bundled demo store")
    s.set_defaults(func=cmd_demo)
    s = sub.add_parser("reindex", help="re-embed every chunk with the configured embedder")
    s.set_defaults(func=cmd_reindex)
    s = sub.add_parser("status", help="where things are and how much is indexed")
    s.add_argument(
        "--check",
        action="store_true",
        help="compare every chunk with its vector; re-embed missing ones, delete dead ones",
    )
    s.set_defaults(func=cmd_status)
