"""`souffleur ...`: the command-line face. Errors are printed once, here, with their fix."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from copilot.config import Settings, load_settings
from copilot.types import Conversation, DraftOptions, Turn
from copilot.workspace import Workspace, open_workspace
from knowledge import SouffleurError, supported_extensions


def _workspace(args: argparse.Namespace, **kw: Any) -> Workspace:
    settings: Settings = args.settings
    return open_workspace(settings, **kw)


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
    ws = _workspace(args)
    files = _collect(args.paths)
    failed = 0
    t0 = time.perf_counter()
    for name, path in files:
        t1 = time.perf_counter()
        (res,) = ws.kb.ingest_paths([(name, path)], encoding=args.encoding)
        if res.ok:
            counts: dict[str, int] = {}
            for d in res.docs:
                counts[d.status] = counts.get(d.status, 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            langs = ",".join(sorted({d.lang for d in res.docs if d.lang}))
            print(
                f"ok     {name}: {summary}; {res.chunks} chunks; lang {langs} ({time.perf_counter() - t1:.1f} s)"
            )
        else:
            failed += 1
            print(f"error  {res.error}")
    n_docs, n_chunks = ws.kb.registry.counts()
    print(
        f"{len(files) - failed}/{len(files)} files ingested in {time.perf_counter() - t0:.1f} s; index: {n_docs} documents, {n_chunks} chunks"
    )
    return 1 if failed else 0


def cmd_search(args: argparse.Namespace) -> int:
    ws = _workspace(args)
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
    ws = _workspace(args)
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


def cmd_orders(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    if args.action == "import":
        status = 0
        for path in args.paths:
            report = ws.orders.import_path(path)
            print(
                f"{path}: {report.inserted} new, {report.updated} updated, {len(report.invalid_rows)} invalid rows"
            )
            for problem in report.problems:
                print(f"  {problem}")
            status = status or (1 if report.problems else 0)
        return status
    for o in ws.orders.orders_of(args.customer):
        print(
            f"{o.order_number}  {o.created_at:%Y-%m-%d}  {o.status:12} {o.total or 0:9.2f} {o.currency}  {o.carrier or '-'} {o.tracking_number or ''}"
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from copilot.demo import load_demo

    ws = _workspace(args, load_demo_if_empty=False)
    t0 = time.perf_counter()
    report = load_demo(ws)
    for f in report.files:
        if not f.ok:
            print(f"error  {f.error}")
    print(
        f"demo store loaded in {time.perf_counter() - t0:.1f} s: {report.documents} documents from {len(report.files)} files, "
        f"{report.customers} customers, {report.orders.inserted} new and {report.orders.updated} updated orders, "
        f"{report.conversations} sample conversations"
    )
    return 0


def _conversation(args: argparse.Namespace) -> Conversation:
    if args.conversation:
        raw = json.loads(Path(args.conversation).read_text(encoding="utf-8"))
        if isinstance(raw, list):
            raw = {"turns": raw}
        conv = Conversation.model_validate(raw)
        if args.customer:
            conv.customer_id = args.customer
        if args.message:
            conv.turns.append(Turn(role="customer", text=args.message))
        return conv
    if not args.message:
        raise SouffleurError("No message to answer.", 'Pass it as an argument: souffleur draft --customer C1001 "Where is my parcel?"')
    return Conversation(customer_id=args.customer, channel=args.channel or "web", turns=[Turn(role="customer", text=args.message)])


def cmd_draft(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    conv = _conversation(args)
    options = DraftOptions(
        tone=args.tone, length=args.length, emoji=args.emoji, channel=args.channel, lang=args.lang, variant=args.variant, ui_lang=args.ui_lang
    )
    stream = None
    if args.stream and not args.json:
        shown = [0]

        def stream(text: str) -> None:
            sys.stdout.write(text[shown[0] :])
            sys.stdout.flush()
            shown[0] = len(text)

    s = ws.service.suggest(conv, options, on_delta=stream)
    if args.json:
        print(s.model_dump_json(indent=2))
        return 0
    if stream is not None:
        print("\n")
    print(s.draft)
    print("\n--- citations")
    for c in s.citations:
        print(f"  [{', '.join(c.doc_ids)}] {c.sentence[:110]}")
    if not s.citations:
        print("  (none)")
    esc = s.escalation
    print(f"--- escalate: {'YES -> ' + (esc.queue or '') if esc.escalate else 'no'}")
    for r in esc.reasons:
        print(f"  {r.code}: {r.label}{' ' + r.detail if r.detail else ''}")
    if esc.escalate:
        print("  handoff: " + esc.handoff_summary.replace("\n", "\n           "))
    review = "needs review" if s.needs_review else "could be sent without an agent"
    print(f"--- confidence {s.confidence:.2f} ({review}); {s.language}/{s.register_}; intent {s.intent}; drafter {s.model}")
    t = s.timings
    print(f"--- timings: retrieval {t.retrieval_ms:.1f} ms, orders {t.orders_ms:.1f} ms, generation {t.generation_ms:.1f} ms, total {t.total_ms:.1f} ms")
    for note in s.notes:
        print(f"--- note: {note}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    ws = _workspace(args, check_embedder=False, load_demo_if_empty=False)
    t0 = time.perf_counter()
    n = ws.kb.reindex(hook=lambda s: print(f"  {s}", file=sys.stderr))
    print(f"re-embedded {n} chunks with {ws.kb.embedder.name} in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    ws = _workspace(args, load_demo_if_empty=False)
    stats = ws.kb.stats()
    print(f"data directory  {ws.settings.data_dir.resolve()}")
    print(f"database        {ws.settings.describe()['database_url'] or ws.settings.db_url}")
    print(
        f"index           {'chroma server ' + str(ws.settings.chroma_host) if ws.settings.chroma_host else ws.settings.chroma_path}"
    )
    print(f"embedder        {ws.kb.embedder.name}")
    print(f"llm             {ws.settings.llm_base_url or 'none (offline drafter)'}")
    print(
        f"knowledge       {stats['documents']} documents, {stats['chunks']} chunks, {stats['vectors']} vectors"
    )
    print(f"orders          {ws.orders.count()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="souffleur", description="Souffleur: the agent copilot for customer-service chat."
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="index knowledge files (or folders of them)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--encoding", help="text encoding of the files when not UTF-8 (e.g. latin-1)")
    s.set_defaults(func=cmd_ingest)

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

    s = sub.add_parser("orders", help="import the order feed, or list a customer's orders")
    osub = s.add_subparsers(dest="action", required=True)
    oi = osub.add_parser("import", help="import CSV/JSON/JSONL order feeds")
    oi.add_argument("paths", nargs="+")
    ol = osub.add_parser("list", help="orders of one customer")
    ol.add_argument("--customer", required=True)
    s.set_defaults(func=cmd_orders)

    s = sub.add_parser("draft", help="draft a reply to a customer message")
    s.add_argument("message", nargs="?", help="the customer's (last) message")
    s.add_argument("--customer", help="customer id (their orders are used, nobody else's)")
    s.add_argument("--conversation", help="JSON file: a conversation (turns, customer_id, channel) or a list of turns")
    s.add_argument("--tone", choices=["auto", "formal", "casual"], default="auto")
    s.add_argument("--length", choices=["shorter", "normal", "longer"], default="normal")
    s.add_argument("--emoji", action=argparse.BooleanOptionalAction, default=None)
    s.add_argument("--channel", choices=["web", "whatsapp", "messenger", "sms", "email"])
    s.add_argument("--lang", choices=["fr", "en"])
    s.add_argument("--variant", type=int, default=0, help="regenerate: another variant")
    s.add_argument("--ui-lang", choices=["en", "fr"], default="en", help="language of the reasons shown to the agent")
    s.add_argument("--stream", action="store_true", help="print the reply as the LLM writes it")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_draft)

    s = sub.add_parser("demo", help="(re)load the bundled demo store")
    s.set_defaults(func=cmd_demo)
    s = sub.add_parser("reindex", help="re-embed every chunk with the configured embedder")
    s.set_defaults(func=cmd_reindex)
    s = sub.add_parser("status", help="where things are and how much is indexed")
    s.set_defaults(func=cmd_status)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = load_settings()
        return int(args.func(args))
    except SouffleurError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
