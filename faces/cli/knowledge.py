"""`souffleur ingest | conflicts | search | docs`: the knowledge base, as files go in and are found."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from faces.cli.common import Subcommands, workspace_of
from knowledge import FileResult, supported_extensions
from knowledge.conflicts import StoredConflict, check_upload, find_conflicts


def _collect(paths: Sequence[str]) -> list[tuple[str, Path]]:
    """Files to ingest: a directory contributes its supported files, named relative to it."""
    exts = set(supported_extensions())
    out: list[tuple[str, Path]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                (f.relative_to(p).as_posix(), f)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in exts
            )
        else:
            out.append((p.name, p))
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    files = _collect(args.paths)
    failed = 0
    t0 = time.perf_counter()
    changed: list[FileResult] = []
    for name, path in files:
        t1 = time.perf_counter()
        (res,) = ws.kb.ingest_paths([(name, path)], encoding=args.encoding)
        changed.append(res)
        if res.ok:
            counts: dict[str, int] = {}
            for d in res.docs:
                counts[d.status] = counts.get(d.status, 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            langs = ",".join(sorted({d.lang for d in res.docs if d.lang}))
            print(
                f"ok     {name}: {summary}; {res.chunks} chunks; lang {langs} ({time.perf_counter() - t1:.1f} s)"
            )
            for note in res.notes:
                print(f"note   {name}: {note}")
        else:
            failed += 1
            print(f"error  {res.error}")
    check = check_upload(ws.kb, changed)
    for c in check.open:
        print(f"check  {_conflict_line(c)}")
    if check.open:
        print("       decide with: souffleur conflicts resolve ID --keep new|old|both")
    if check.unchecked_within:
        print(
            f"note   the {check.unchecked_within} new documents were checked against the others, "
            "not against each other (a big batch): souffleur conflicts scan checks everything"
        )
    n_docs, n_chunks = ws.kb.registry.counts()
    print(
        f"{len(files) - failed}/{len(files)} files ingested in {time.perf_counter() - t0:.1f} s; index: {n_docs} documents, {n_chunks} chunks"
    )
    return 1 if failed else 0


def _conflict_line(c: StoredConflict) -> str:
    return (
        f"#{c.id} {c.new_doc} says {c.new_value} where {c.old_doc} says {c.old_value}: "
        f"«{c.new_sentence}» / «{c.old_sentence}»"
    )


def cmd_conflicts(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    book = ws.kb.conflicts
    if args.action == "list":
        book.prune(ws.kb)
        shown = book.all() if args.all else book.open()
        for c in shown:
            decided = ""
            if not c.is_open:
                decided = f" [{c.status.replace('_', ' ')}"
                decided += f" by {c.decided_by}" if c.decided_by else ""
                if c.status == "kept_both":
                    decided += f": {c.new_value} for {c.new_scope}; {c.old_value} for {c.old_scope}"
                decided += "]"
            print(_conflict_line(c) + decided)
        print(f"{len(book.open())} open" + (f", {len(shown)} in all" if args.all else ""))
        return 0
    if args.action == "scan":
        t0 = time.perf_counter()
        book.prune(ws.kb)
        every = [d.doc_id for d in ws.kb.documents()]
        found = book.record(find_conflicts(ws.kb, every, limit=args.limit))
        for c in found:
            if c.is_open:
                print(_conflict_line(c))
        print(
            f"{len(every)} documents checked in {time.perf_counter() - t0:.1f} s: "
            f"{len(found)} pairs, {len([c for c in found if c.is_open])} open"
        )
        return 0
    if args.action == "resolve":
        c = book.decide(
            args.id,
            args.keep,
            new_scope=args.scope_new or "",
            old_scope=args.scope_old or "",
            actor=args.by,
        )
        print(f"#{c.id} {c.status.replace('_', ' ')}")
        return 0
    c = book.reopen(args.id)
    print(f"#{c.id} open again")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    t0 = time.perf_counter()
    hits = ws.kb.search(args.query, k=args.k, lang=args.lang, mode=args.mode)
    ms = (time.perf_counter() - t0) * 1000
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "rank": h.rank,
                        "chunk_id": h.chunk_id,
                        "doc_id": h.doc_id,
                        "title": h.title,
                        "heading_path": list(h.chunk.heading_path),
                        "score": h.score,
                        "dense_score": h.dense_score,
                        "dense_rank": h.dense_rank,
                        "bm25_score": h.bm25_score,
                        "bm25_rank": h.bm25_rank,
                        "lang": h.chunk.lang,
                        "url": h.chunk.url,
                        "snippet": h.snippet,
                    }
                    for h in hits
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not hits:
        print(
            "No match. Is the knowledge base empty? Try `souffleur docs` or `souffleur ingest FILE`."
        )
        return 0
    print(f"{len(hits)} hits in {ms:.1f} ms ({args.mode})")
    for h in hits:
        dense = f"{h.dense_score:.3f} (#{h.dense_rank})" if h.dense_score is not None else "-"
        bm25 = f"{h.bm25_score:.2f} (#{h.bm25_rank})" if h.bm25_score is not None else "-"
        where = " > ".join(h.chunk.heading_path)
        print(
            f"\n{h.rank}. {h.title}{' > ' + where if where else ''}  [{h.doc_id}, {h.chunk.lang}]"
        )
        print(f"   rrf {h.score:.4f}   dense {dense}   bm25 {bm25}")
        print(f"   {h.snippet}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    if args.action == "delete":
        for doc_id in args.ids:
            print(
                f"deleted {doc_id}"
                if ws.kb.delete(doc_id)
                else f"error  no document '{doc_id}' (see `souffleur docs`)"
            )
        return 0
    docs = ws.kb.documents()
    for d in docs:
        print(
            f"{d.doc_id:40.40}  v{d.version:<3} {d.lang}  {d.chunk_count:4} chunks  {d.updated_at:%Y-%m-%d %H:%M}  {d.title[:60]}  ({d.source_name})"
        )
    n_docs, n_chunks = ws.kb.registry.counts()
    print(f"{n_docs} documents, {n_chunks} chunks")
    return 0


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("ingest", help="index knowledge files (or folders of them)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--encoding", help="text encoding of the files when not UTF-8 (e.g. latin-1)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser(
        "conflicts", help="statements of two documents that disagree: list them, decide"
    )
    csub = s.add_subparsers(dest="action", required=True)
    cs = csub.add_parser("scan", help="check every document against every other one")
    cs.add_argument("--limit", type=int, default=500, help="stop after this many pairs")
    cl = csub.add_parser("list", help="the open ones (--all: decided and gone ones too)")
    cl.add_argument("--all", action="store_true")
    cr = csub.add_parser("resolve", help="keep the new statement, the existing one, or both")
    cr.add_argument("id", type=int)
    cr.add_argument("--keep", required=True, choices=["new", "old", "both"])
    cr.add_argument("--scope-new", help="with --keep both: the case the new statement holds for")
    cr.add_argument("--scope-old", help="with --keep both: the case the existing one holds for")
    cr.add_argument("--by", help="who decides (kept with the decision)")
    co = csub.add_parser("reopen", help="undo a decision")
    co.add_argument("id", type=int)
    s.set_defaults(func=cmd_conflicts)

    s = sub.add_parser("search", help="hybrid search over the knowledge base")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--lang", choices=["fr", "en"])
    s.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("docs", help="list or delete indexed documents")
    s.add_argument("action", nargs="?", choices=["list", "delete"], default="list")
    s.add_argument("ids", nargs="*")
    s.set_defaults(func=cmd_docs)
