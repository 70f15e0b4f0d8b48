"""`souffleur ...`: the command-line face. Errors are printed once, here, with their fix."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from copilot.config import Settings, load_settings, redact_url, unknown_variables
from copilot.pipeline.confidence import ConfidenceModel
from copilot.types import Conversation, DraftOptions, Turn
from copilot.workspace import Workspace, open_workspace
from knowledge import FileResult, SouffleurError, supported_extensions
from knowledge.conflicts import StoredConflict, check_upload, find_conflicts


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
    ws = _workspace(args)
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
        f"{report.conversations} sample conversations added to the inbox"
    )
    open_ = [c for c in report.conflicts if c.is_open]
    if open_:
        print(f"{len(open_)} statements of two documents disagree: souffleur conflicts list")
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
        raise SouffleurError(
            "No message to answer.",
            'Pass it as an argument: souffleur draft --customer C1001 "Where is my parcel?"',
        )
    return Conversation(
        customer_id=args.customer,
        channel=args.channel or "web",
        turns=[Turn(role="customer", text=args.message)],
    )


def cmd_draft(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    conv = _conversation(args)
    options = DraftOptions(
        tone=args.tone,
        length=args.length,
        emoji=args.emoji,
        channel=args.channel,
        lang=args.lang,
        variant=args.variant,
        ui_lang=args.ui_lang,
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
    print(
        f"--- confidence {s.confidence:.2f} ({review}); {s.language}/{s.register_}; intent {s.intent}; drafter {s.model}"
    )
    for hint in s.review_hints:
        print(f"  check: {hint}")
    t = s.timings
    print(
        f"--- timings: retrieval {t.retrieval_ms:.1f} ms, orders {t.orders_ms:.1f} ms, generation {t.generation_ms:.1f} ms, total {t.total_ms:.1f} ms"
    )
    for note in s.notes:
        print(f"--- note: {note}")
    return 0


def cmd_eval_run(args: argparse.Namespace) -> int:
    from evals import RunConfig, run_eval
    from evals.report import summary_rows

    settings: Settings = args.settings
    shown = [-1]

    def progress(done: int, total: int) -> None:
        pct = int(100 * done / total)
        if pct != shown[0] and (pct % 5 == 0 or done == total):
            shown[0] = pct
            bar = "#" * (pct // 4)
            print(f"\r[{bar:<25}] {done}/{total}", end="", file=sys.stderr, flush=True)

    cfg = RunConfig(
        dataset=Path(args.dataset),
        drafter=args.drafter,
        judge=args.judge,
        limit=args.limit,
        seed=args.seed,
        workers=args.workers,
        timeout_s=args.timeout,
        target_fdr=args.target_fdr,
        threshold=args.threshold,
        out=Path(args.out) if args.out else None,
    )
    result = run_eval(cfg, settings, progress=progress)
    print(file=sys.stderr)
    for name, value in summary_rows(result.summary):
        print(f"{name:<72} {value}")
    print(
        f"\nrun folder: {result.folder} (report.html, report.md, summary.json, results.jsonl, manifest.json)"
    )
    return 0


def cmd_eval_replay(args: argparse.Namespace) -> int:
    """Replay the workspace's own conversations: the copilot's drafts against the agents'."""
    from evals.replay import report_rows, run_replay

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} replies replayed", end="", file=sys.stderr, flush=True)

    result = run_replay(
        args.settings,
        split_date=args.split_date,
        out=Path(args.out) if args.out else None,
        drafter=args.drafter,
        min_cases=args.min_cases,
        progress=progress,
    )
    print(file=sys.stderr)
    for name, value in report_rows(result.report):
        print(f"{name:<84} {value}")
    sets = result.report["sets"]
    print(f"\nset: {', '.join(f'{half} {path}' for half, path in sets.items())}")
    print(f"run folder: {result.folder} (replay.json, report.html, results.jsonl, manifest.json)")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date: write it YYYY-MM-DD, e.g. 2026-11-01"
        ) from None


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_runs, format_comparison

    comparison = compare_runs(Path(args.run_a), Path(args.run_b), margin=args.margin)
    print(format_comparison(comparison))
    if args.gate and not comparison["gate"]["passed"]:
        print(f"\nGATE FAILED: {comparison['gate']['reason']}", file=sys.stderr)
        return 1
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Refit the confidence model on labelled eval runs (or the app's feedback) and report it."""
    from copilot.pipeline.escalation import Policy
    from evals import RunConfig, run_eval
    from evals.calibrate import (
        feedback_rows,
        format_recalibration,
        format_report,
        recalibrate_threshold,
        relabel,
        report,
        train,
        training_rows,
    )
    from evals.compare import load_run

    settings: Settings = args.settings
    policy = Policy.load(settings.policy_path)
    target = args.target_fdr or policy.settings.target_fdr
    sets: dict[str, list[dict[str, Any]]] = {}
    for run in args.runs or []:
        manifest, records = load_run(Path(run))
        sets[manifest["dataset"]] = training_rows(relabel(list(records.values()), args.label))
    for dataset in args.dataset or []:
        res = run_eval(
            RunConfig(dataset=Path(dataset), seed=args.seed, workers=args.workers), settings
        )
        sets[res.manifest["dataset"]] = training_rows(relabel(res.records, args.label))
    if args.feedback:
        from copilot.desk.store import ConversationStore

        ws = _workspace(args, load_demo_if_empty=False)
        store = ConversationStore(ws.engine)
        sets["agent-feedback"] = feedback_rows(store.draft_rows(), store.feedback_rows())
    sets = {k: v for k, v in sets.items() if v}
    if not sets:
        raise SouffleurError(
            "No labelled data to calibrate on.",
            "Pass --dataset DIR, --runs RUN_DIR, or --feedback once agents have sent drafts.",
        )
    for name, rows in sets.items():
        print(
            f"{name}: {len(rows)} labelled cases, {sum(1 for r in rows if r['ok'] and not r['should_escalate'])} positives",
            file=sys.stderr,
        )
    out = Path(args.out) if args.out else settings.confidence_path
    if args.threshold_only:
        model = ConfidenceModel.load(settings.confidence_path)
        seen = sorted(set(sets) & set(model.info.get("trained_on", {})))
        if seen:
            raise SouffleurError(
                f"The current model was fitted on {', '.join(seen)}: a threshold chosen on the same cases would only hold in-sample.",
                "Choose the threshold on cases the model has not seen, or refit without --threshold-only (cross-validated).",
            )
        print(
            format_recalibration(
                recalibrate_threshold(
                    model, sets, target=target, low_confidence=policy.settings.low_confidence
                )
            )
        )
        model.info = {
            **model.info,
            "threshold_from": {k: len(v) for k, v in sets.items()},
            "target_fdr": target,
        }
        _write_model(model, out, settings if not args.out else None)
        return 0
    print(
        format_report(
            report(
                sets,
                target=target,
                low_confidence=policy.settings.low_confidence,
                folds=args.folds,
                seed=args.seed,
            )
        )
    )
    model = train(
        [r for rows in sets.values() for r in rows],
        target=target,
        low_confidence=policy.settings.low_confidence,
        seed=args.seed,
    )
    model.info = {
        "kind": "fitted",
        "trained_on": {k: len(v) for k, v in sets.items()},
        "target_fdr": target,
        "folds": args.folds,
    }
    print(f"\nmodel fitted on {sum(len(v) for v in sets.values())} cases")
    _write_model(model, out, settings if not args.out else None)
    return 0


def _write_model(model: ConfidenceModel, out: Path, workspace: Settings | None) -> None:
    """The model to ``out``; for the workspace's own model (no --out), also to its database,
    where every app and API process picks it up within seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.to_json(), encoding="utf-8")
    print(f"deflection threshold {model.threshold:.3f}; written to {out}")
    if workspace is not None:
        from copilot.desk.shared import SharedState
        from knowledge import make_engine

        saved = SharedState(make_engine(workspace.db_url)).save(
            "confidence",
            model.to_json(),
            note=f"souffleur calibrate ({model.info.get('kind', '')})",
        )
        print(f"and saved as the workspace's confidence model, version {saved.version}")


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
    if report.consistent:
        print("                consistent")
        return 0
    fixed = ws.kb.reconcile()
    print(
        f"repaired        re-embedded {fixed.reembedded_chunks} chunks, deleted "
        f"{fixed.deleted_vectors} dead vectors, closed {fixed.dead_leases} interrupted ingestion(s)"
    )
    return 0 if ws.kb.check().consistent else 1


def cmd_intents_train(args: argparse.Namespace) -> int:
    from copilot.pipeline.intents import DEFAULT_MODEL, train

    t0 = time.perf_counter()
    model = train(Path(args.examples), C=args.C)
    out = Path(args.out) if args.out else DEFAULT_MODEL
    model.save(out)
    print(
        f"fitted on {args.examples} in {time.perf_counter() - t0:.0f} s: {len(model.labels)} labels, "
        f"{len(model.grams.vocabulary)} n-grams, temperature {model.temperature:.2f}; written to {out}"
    )
    return 0


def cmd_intents_report(args: argparse.Namespace) -> int:
    from copilot.pipeline.escalation import Policy
    from copilot.pipeline.intents import IntentClassifier
    from evals.intents import render, report

    policy = Policy.load(Path(args.policy)) if args.policy else Policy.default()
    rep = report(
        policy,
        IntentClassifier.default(),
        examples_path=Path(args.examples),
        test_path=Path(args.test),
        folds=args.folds,
        progress=lambda m: print(f"  {m}", file=sys.stderr),
    )
    print(render(rep))
    if args.json:
        Path(args.json).write_text(json.dumps(rep, indent=2), encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from faces.api import create_app

    app = create_app(_workspace(args))
    print(f"Souffleur API on http://{args.host}:{args.port} (OpenAPI at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    from copilot.desk.apikeys import TokenStore
    from knowledge import make_engine

    tokens = TokenStore(make_engine(args.settings.db_url))
    if args.action == "create":
        token, secret = tokens.create(args.name, args.role)
        print(f"token '{token.name}' ({token.role}: {', '.join(sorted(token.scopes))}):")
        print(secret)
        print("Keep it now: it is shown only once (the database keeps its hash).", file=sys.stderr)
    elif args.action == "revoke":
        if not tokens.revoke(args.name):
            raise SouffleurError(
                f"No live token named '{args.name}'.", "`souffleur tokens list` shows them."
            )
        print(f"revoked '{args.name}'")
    else:
        for t in tokens.list():
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
            used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            print(f"{t.name:24s} {t.role:12s} {t.hint}…  {state}, {used}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from copilot.channels.outbox import Outbox
    from knowledge import make_engine

    settings: Settings = args.settings
    outbox = Outbox(make_engine(settings.db_url))
    rows = outbox.log(limit=args.limit, status=args.status, target=args.target)
    if not rows:
        print("nothing sent out yet" + (f" with status {args.status}" if args.status else ""))
    for d in rows:
        result = d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else "")
        print(
            f"{d.id:6d} {d.created_at:%Y-%m-%d %H:%M:%S} {d.target:9s} {d.event:18s} "
            f"{d.status:9s} {d.attempts} tries  {d.conversation_id or '-':14s} {result}"
        )
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from copilot.pipeline.calllog import CallLog
    from knowledge import make_engine

    settings: Settings = args.settings
    calls = CallLog(make_engine(settings.db_url))
    if args.id is not None:
        one = calls.get(args.id)
        if one is None:
            raise SouffleurError(
                f"No model call number {args.id}.", "`souffleur logs` lists the latest ones."
            )
        if args.json:
            print(json.dumps(dataclasses.asdict(one), ensure_ascii=False, indent=2, default=str))
            return 0
        tokens = f"{one.prompt_tokens or '?'} + {one.completion_tokens or '?'} tokens"
        print(f"#{one.id}  {one.at:%Y-%m-%d %H:%M:%S}  {one.role} {one.purpose}  {one.model}")
        print(
            f"outcome {one.outcome}  {one.latency_ms:.0f} ms  {tokens}  json_mode={one.json_mode}"
        )
        print(f"prompt {one.prompt_version or '-'}  hash {one.prompt_hash[:16]}  {one.process}")
        if one.conversation_id or one.case_id:
            print(f"conversation {one.conversation_id or '-'}  case {one.case_id or '-'}")
        for m in one.messages:
            print(f"\n--- {m['role']}\n{m['content']}")
        print(f"\n=== {'output' if one.outcome == 'ok' else 'error'}")
        print(one.output if one.outcome == "ok" else one.error)
        return 0
    rows = calls.list(
        role=args.role,
        purpose=args.purpose,
        outcome=args.outcome,
        conversation_id=args.conversation,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, default=str))
        return 0
    filtered = args.role or args.purpose or args.outcome or args.conversation
    if not rows:
        print("no model call logged" + (" with these filters" if filtered else ""))
    for r in rows:
        said = (r.output if r.outcome == "ok" else r.error) or ""
        spent = (r.prompt_tokens or 0) + (r.completion_tokens or 0)
        print(
            f"{r.id:6d} {r.at:%Y-%m-%d %H:%M:%S} {r.role:7s} {r.purpose:22s} {r.outcome:14s} "
            f"{r.latency_ms:7.0f} ms {spent:6d} tok  {r.conversation_id or r.case_id or '-':14s} "
            f"{' '.join(said.split())[:60]}"
        )
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From standard input with --password-stdin (scripts), else typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SouffleurError("The two passwords differ.", "Run the command again.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from copilot.desk.accounts import Accounts
    from knowledge import make_engine

    settings: Settings = args.settings
    accounts = Accounts(make_engine(settings.db_url))
    if args.action == "add":
        user = accounts.add(
            args.username,
            roles=args.role,
            password=_new_password(args),
            name=args.name or "",
            email=args.email or "",
        )
        print(f"added {user.username} ({', '.join(sorted(user.roles))})")
    elif args.action == "passwd":
        accounts.set_password(args.username, _new_password(args))
        print(f"password of {args.username} changed; its open sessions were ended")
    elif args.action in ("remove", "unlock"):
        done = (accounts.remove if args.action == "remove" else accounts.unlock)(args.username)
        if not done:
            raise SouffleurError(
                f"There is no user '{args.username}'.", "`souffleur users list` shows them."
            )
        print(
            f"removed {args.username}" if args.action == "remove" else f"unlocked {args.username}"
        )
    else:
        found = accounts.users()
        if not found:
            print("no users yet: souffleur users add NAME --role admin")
        for u in found.values():
            print(f"{u.username:16s} {u.name:24s} {u.email:28s} {', '.join(sorted(u.roles))}")
    return 0


def cmd_chat_link(args: argparse.Namespace) -> int:
    from copilot.channels.webchat import ChatIdentity

    identity = ChatIdentity.for_settings(args.settings)
    token = identity.sign(args.email, ttl_s=int(args.days * 86400))
    print(f"{args.base_url.rstrip('/')}/chat?c={token}")
    return 0


def _faq_lines(d: Any) -> list[str]:
    """A FAQ draft as `souffleur faq` prints it."""
    decided = f" by {d.decided_by or '-'} {d.decided_at:%Y-%m-%d %H:%M}" if d.decided_at else ""
    head = (
        f"#{d.id} {d.status}{decided}  {d.lang}  {len(d.examples)} question(s) from "
        f"{len(d.conversation_ids)} conversation(s): {', '.join(d.conversation_ids[:5]) or '-'}"
        + (f"  -> {d.doc_id}" if d.doc_id else "")
    )
    lines = [head, f"   Q: {d.question}"]
    lines += [f"      also asked: {e}" for e in d.examples if e != d.question]
    lines.append("   A: " + (d.answer.replace("\n", "\n      ") or "(to write)"))
    return lines


def cmd_faq(args: argparse.Namespace) -> int:
    """FAQ drafts from the conversations: propose, list, approve (ingested), reject."""
    from datetime import timedelta

    from copilot.desk.faqdrafts import FaqDrafts
    from copilot.desk.store import now

    faqs = FaqDrafts(_workspace(args))
    if getattr(args, "by", "") is None:
        import getpass

        try:
            args.by = getpass.getuser()
        except (KeyError, OSError):  # no login name (a container): decisions stay anonymous
            args.by = None
    if args.action == "propose":
        found = faqs.propose(
            since=now() - timedelta(days=args.days) if args.days else None, author=args.by
        )
        for d in found.new:
            print("\n".join(["new      " + line for line in _faq_lines(d)[:1]] + _faq_lines(d)[1:]))
        for d in found.extended:
            print(f"more     #{d.id} now has {len(d.examples)} question(s): {d.question}")
        for c in found.covered:
            print(f"covered  «{c.question}» already answered by {c.doc_id} ({c.title})")
        for question, d in found.decided:
            print(f"decided  «{question}» is FAQ draft #{d.id}, already {d.status}")
        print(
            f"{found.replies} replies agents wrote to unsupported questions, in no FAQ draft yet: "
            f"{len(found.new)} new FAQ drafts, "
            f"{len(found.extended)} pending drafts given more questions, {len(found.covered)} "
            f"already covered by the knowledge, {len(found.decided)} decided before"
        )
        if found.new:
            print("review them: souffleur faq approve ID [--question Q --answer A] | reject ID")
        return 0
    if args.action == "list":
        shown = faqs.entries(args.status)
        for d in shown:
            print("\n".join(_faq_lines(d)))
        if not shown:
            print(
                f"no {args.status or ''} FAQ draft".replace("  ", " ")
                + " (souffleur faq propose reads the conversations)"
            )
        return 0
    if args.action == "approve":
        d = faqs.approve(args.id, by=args.by, question=args.question, answer=args.answer)
        print(f"approved #{d.id}: ingested as {d.doc_id} «{d.question}»")
        return 0
    d = faqs.reject(args.id, by=args.by)
    print(f"rejected #{d.id} «{d.question}»")
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
    s.add_argument(
        "--conversation",
        help="JSON file: a conversation (turns, customer_id, channel) or a list of turns",
    )
    s.add_argument("--tone", choices=["auto", "formal", "casual"], default="auto")
    s.add_argument("--length", choices=["shorter", "normal", "longer"], default="normal")
    s.add_argument("--emoji", action=argparse.BooleanOptionalAction, default=None)
    s.add_argument("--channel", choices=["web", "whatsapp", "messenger", "sms", "email"])
    s.add_argument("--lang", choices=["fr", "en"])
    s.add_argument("--variant", type=int, default=0, help="regenerate: another variant")
    s.add_argument(
        "--ui-lang",
        choices=["en", "fr"],
        default="en",
        help="language of the reasons shown to the agent",
    )
    s.add_argument("--stream", action="store_true", help="print the reply as the LLM writes it")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_draft)

    s = sub.add_parser("eval", help="offline evaluation: run a dataset, compare runs")
    esub = s.add_subparsers(dest="action", required=True)
    er = esub.add_parser(
        "run", help="run a dataset folder (cases.jsonl + kb.jsonl [+ orders.jsonl])"
    )
    er.add_argument("--dataset", required=True)
    er.add_argument("--drafter", choices=["offline", "llm"], default="offline")
    er.add_argument("--judge", choices=["offline", "llm"], default="offline")
    er.add_argument("--limit", type=int)
    er.add_argument("--seed", type=int, default=0)
    er.add_argument("--workers", type=int, default=2, help="cases in flight at once")
    er.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per case before it is marked unscored"
    )
    er.add_argument(
        "--target-fdr",
        type=float,
        help="risk target for 'deflection at target risk' (default: the policy's)",
    )
    er.add_argument(
        "--threshold", type=float, help="confidence threshold (default: the confidence model's)"
    )
    er.add_argument(
        "--out", help="run folder (default: under the data directory); an existing one is resumed"
    )
    er.set_defaults(func=cmd_eval_run)
    ep = esub.add_parser(
        "replay",
        help="replay this workspace's past conversations: drafts against what agents sent",
    )
    ep.add_argument(
        "--split-date",
        type=_day,
        help="YYYY-MM-DD: replies before it are the train half, the others the test half "
        "(default: the latest 30 %% of the replies are the test half)",
    )
    ep.add_argument(
        "--out", help="run folder (default: under the data directory); the set is written in it"
    )
    ep.add_argument("--drafter", choices=["offline", "llm"], default="offline")
    ep.add_argument(
        "--min-cases",
        type=int,
        help="fewest agent replies worth replaying (default: the bench's MIN_CASES, 10)",
    )
    ep.set_defaults(func=cmd_eval_replay)
    ec = esub.add_parser("compare", help="paired comparison of two runs on the same cases")
    ec.add_argument("run_a")
    ec.add_argument("run_b")
    ec.add_argument(
        "--margin", type=float, default=0.02, help="non-inferiority margin for the gate"
    )
    ec.add_argument(
        "--gate", action="store_true", help="exit 1 when B is worse than A beyond the margin"
    )
    ec.set_defaults(func=cmd_eval_compare)

    s = sub.add_parser(
        "calibrate", help="refit the confidence model and its risk-controlled threshold"
    )
    s.add_argument(
        "--dataset", action="append", help="labelled dataset folder (repeatable); it is run first"
    )
    s.add_argument(
        "--runs", action="append", help="existing eval run folder to learn from (repeatable)"
    )
    s.add_argument(
        "--feedback", action="store_true", help="learn from the agents' feedback stored by the app"
    )
    s.add_argument(
        "--target-fdr",
        type=float,
        help="upper bound of the false-deflection rate (default: the policy's)",
    )
    s.add_argument(
        "--threshold-only",
        action="store_true",
        help="keep the current model and only choose its threshold on these cases (which it "
        "was not fitted on): for a first few hundred agent feedbacks",
    )
    s.add_argument("--folds", type=int, default=5)
    s.add_argument(
        "--label",
        choices=["verified", "top3"],
        default="verified",
        help="what counts as a right answer (top3: the retrieval proxy of the naive baselines)",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument(
        "--out", help="where to write the model (default: the data directory's confidence.json)"
    )
    s.set_defaults(func=cmd_calibrate)

    from copilot.pipeline.intents import DEFAULT_EXAMPLES

    s = sub.add_parser("intents", help="the escalation-intent classifier: fit it, measure it")
    isub = s.add_subparsers(dest="intents_command", required=True)
    it = isub.add_parser("train", help="fit the classifier on the examples (writes its model)")
    it.add_argument("--examples", default=str(DEFAULT_EXAMPLES))
    it.add_argument("--C", type=float, default=100.0, help="inverse regularisation strength")
    it.add_argument("--out", help="model file (default: the shipped one)")
    it.set_defaults(func=cmd_intents_train)
    ir = isub.add_parser(
        "report",
        help="per-reason precision/recall: grouped CV on the examples and the held-out test set",
    )
    ir.add_argument("--examples", default=str(DEFAULT_EXAMPLES))
    ir.add_argument("--test", default="evals/datasets/intents/test.jsonl")
    ir.add_argument("--policy", help="policy file whose triggers and thresholds are measured")
    ir.add_argument("--folds", type=int, default=5)
    ir.add_argument("--json", help="also write the figures to this JSON file")
    ir.set_defaults(func=cmd_intents_report)

    s = sub.add_parser("serve", help="the HTTP API for help desks and channels (OpenAPI: /docs)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("users", help="the app's users (Argon2id password hashes)")
    usub = s.add_subparsers(dest="action", required=True)
    ua = usub.add_parser("add", help="a new user (asks for the password)")
    ua.add_argument("username")
    ua.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["agent", "knowledge", "evaluator", "admin"],
        help="repeat for several roles",
    )
    ua.add_argument("--name", help="the name shown in the app")
    ua.add_argument("--email", help="matches the SSO identity when OIDC is configured")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    up = usub.add_parser("passwd", help="set a new password (ends the user's sessions)")
    up.add_argument("username")
    up.add_argument("--password-stdin", action="store_true")
    for name, text in (("remove", "delete a user"), ("unlock", "lift a lockout")):
        usub.add_parser(name, help=text).add_argument("username")
    usub.add_parser("list", help="the users and their roles")
    s.set_defaults(func=cmd_users)

    s = sub.add_parser("chat-link", help="a signed web chat link for one customer (by e-mail)")
    s.add_argument("email")
    s.add_argument("--base-url", default="http://127.0.0.1:8000")
    s.add_argument("--days", type=float, default=30, help="how long the link works")
    s.set_defaults(func=cmd_chat_link)

    s = sub.add_parser("tokens", help="bearer tokens of the HTTP API, one per integration")
    tsub = s.add_subparsers(dest="action", required=True)
    tc = tsub.add_parser("create", help="a new token (its secret is shown once)")
    tc.add_argument("name")
    tc.add_argument("--role", choices=["integration", "knowledge", "admin"], required=True)
    tr = tsub.add_parser("revoke", help="revoke a token")
    tr.add_argument("name")
    tsub.add_parser("list", help="the tokens, live and revoked")
    s.set_defaults(func=cmd_tokens)

    s = sub.add_parser("outbox", help="the log of what was sent out (webhook, Chatwoot)")
    s.add_argument("action", nargs="?", choices=["log"], default="log")
    s.add_argument("--status", choices=["pending", "delivered", "failed"])
    s.add_argument("--target", choices=["webhook", "chatwoot"])
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_outbox)

    s = sub.add_parser(
        "logs", help="every model call: drafts, repairs, judge verdicts (souffleur logs [ID])"
    )
    s.add_argument("id", nargs="?", type=int, help="show this call whole: messages and output")
    s.add_argument("--role", choices=["drafter", "judge"])
    s.add_argument("--purpose", help="draft, repair, judge (or judge:claim, ...): by prefix")
    s.add_argument("--outcome", help="ok, error (any failure), or a failure: timeout, busy, ...")
    s.add_argument("--conversation", help="one desk conversation's calls")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true", help="as JSON, for scripts")
    s.set_defaults(func=cmd_logs)

    s = sub.add_parser("faq", help="FAQ drafts from the agents' replies: propose, review, ingest")
    fsub = s.add_subparsers(dest="action", required=True)
    fp = fsub.add_parser(
        "propose", help="read the conversations, store and print new FAQ drafts (pending)"
    )
    fp.add_argument("--days", type=int, help="only replies of the last N days (default: all)")
    fl = fsub.add_parser("list", help="the FAQ drafts")
    fl.add_argument("--status", choices=["pending", "approved", "rejected"])
    fa = fsub.add_parser("approve", help="approve a pending draft: ingested as a FAQ document")
    fa.add_argument("id", type=int)
    fa.add_argument("--question", help="the question as it should read (default: the draft's)")
    fa.add_argument("--answer", help="the answer as it should read (default: the draft's)")
    fr = fsub.add_parser("reject", help="reject a pending draft")
    fr.add_argument("id", type=int)
    for cmd in (fp, fa, fr):
        cmd.add_argument("--by", help="who decides (default: your login name)")
    s.set_defaults(func=cmd_faq)

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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in unknown_variables():
        print(f"warning: {line}", file=sys.stderr)
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
