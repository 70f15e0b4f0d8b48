"""`souffleur draft`: a suggested reply to a customer message, with its citations and checks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from copilot.types import Conversation, DraftOptions, Turn
from faces.cli.common import Subcommands, workspace_of
from knowledge import SouffleurError


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
    ws = workspace_of(args)
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


def add_parser(sub: Subcommands) -> None:
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
