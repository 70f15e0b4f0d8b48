"""Suggestion latency with the offline drafter at 1k, 10k and 100k indexed chunks.

Split into retrieval / order lookup / composition (Suggestion.timings), plus prompt assembly
under the tiktoken budget (the LLM drafter's prompt, without calling a model). The demo store
is loaded, then synthetic chunks made of real sentences are added to reach each size.

    .venv/bin/python benchmarks/suggestion.py [--sizes 1000 10000 100000] [--embedder minilm]
        [--intent-features e5 ngrams]

Target for round 1: the whole non-LLM path under 30 ms p95 at 100k chunks on a 2-core machine.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import arguments, dev_sentences, percentile, table
from copilot import Workspace, load_settings, open_workspace
from copilot.demo import ANCHOR, demo_conversations, load_demo
from copilot.pipeline.drafter import DraftRequest, Passage
from copilot.pipeline.escalation import Policy
from copilot.pipeline.intents import IntentClassifier, reaches_gate
from copilot.pipeline.llm import LLMDrafter
from copilot.pipeline.pii import Masker
from copilot.pipeline.reading import read_conversation
from copilot.pipeline.tokens import Budget
from copilot.types import Conversation, DraftOptions, Turn
from knowledge import Document, make_embedder


class _NoModel:
    name = "gpt-4o-mini"

    def complete(self, *a: object, **k: object) -> object:  # never called: assembly only
        raise NotImplementedError


def _args() -> argparse.Namespace:
    ap = arguments(__doc__)
    ap.add_argument("--sizes", nargs="*", type=int, default=[1000, 10_000, 100_000])
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument(
        "--rounds", type=int, default=4, help="passes over the demo conversations per size"
    )
    ap.add_argument(
        "--intent-features",
        nargs="+",
        choices=["e5", "ngrams"],
        default=["e5"],
        help="what the escalation-intent classifier reads (SOUFFLEUR_INTENT_FEATURES); "
        "several: each is timed on the same index",
    )
    ap.add_argument(
        "--no-intents",
        action="store_true",
        help="leave the escalation-intent classifier out (the policy's patterns alone)",
    )
    return ap.parse_args()


def _sentence_pool() -> list[str]:
    """Real sentences of the dev sets' knowledge (made-up ones when ../shared is absent)."""
    return dev_sentences() or [
        f"Sentence {i} about delivery, returns and refunds for order {i}." for i in range(5000)
    ]


def _conversations() -> list[Conversation]:
    return [
        Conversation(
            id=c["id"],
            customer_id=c["customer_id"],
            channel=c["channel"],
            turns=[Turn(role=t["role"], text=t["text"]) for t in c["turns"]],
        )
        for c in demo_conversations()
    ]


def _grow(ws: Workspace, size: int, pool: list[str], rng: random.Random) -> float:
    """Add synthetic chunks (three real sentences each) until the index holds ``size``."""
    t0 = time.perf_counter()
    have = ws.kb.stats()["chunks"]
    while have < size:
        n = min(5000, size - have)
        docs = [
            Document(
                f"syn-{have + i}",
                f"Synthetic {have + i}",
                " ".join(rng.sample(pool, 3)),
                lang="fr" if i % 2 else "en",
            )
            for i in range(n)
        ]
        res = ws.kb.ingest_documents(docs, source_name=f"synthetic-{have}")
        have += sum(r.chunks for r in res)
    return time.perf_counter() - t0


def _time_suggestions(
    ws: Workspace,
    convs: list[Conversation],
    rounds: int,
    reference: list[float] | None = None,
) -> list[list[float]]:
    """Per suggestion: retrieval, order lookup, intents, composition and total (ms); with
    ``reference``, the machine's speed before each round (see :func:`_reference`)."""
    # one untimed pass: first-seen input lengths cost the ONNX runtime an allocation
    # each, which a long-running app pays once (the query vectors are cleared below)
    for conv in convs:
        ws.service.suggest(conv)
    series: list[list[float]] = [[], [], [], [], []]
    for _ in range(rounds):
        if reference is not None:
            reference.extend(_reference(ws, convs))
        ws.kb.retriever.forget_queries()  # measure the query's embedding and spelling each time
        for conv in convs:
            if ws.service.intents is not None:  # a new message in an ongoing chat:
                ws.service.intents.forget()  # its earlier turns were read when they came
                ws.service.intents.reasons(
                    [t.text for t in conv.turns if t.role == "customer"][:-1]
                )
            t = ws.service.suggest(conv).timings
            row = (
                t.retrieval_ms,
                t.orders_ms,
                t.intents_ms,
                t.prompt_ms + t.generation_ms,
                t.total_ms,
            )
            for values, v in zip(series, row, strict=True):
                values.append(v)
    return series


def _time_assembly(ws: Workspace, convs: list[Conversation]) -> list[float]:
    """Prompt assembly under the token budget (what the LLM drafter would send), in ms."""
    drafter = LLMDrafter(_NoModel(), budget=Budget(8192, 700))  # type: ignore[arg-type]
    out = []
    for conv in convs:
        reading = read_conversation(conv)
        hits = ws.kb.search(reading.query, k=6, lang=reading.lang)
        req = DraftRequest(
            conv,
            reading,
            DraftOptions(),
            Policy.default(),
            "Camille Martin",
            [Passage(f"P{i + 1}", h) for i, h in enumerate(hits)],
            [],
        )
        t1 = time.perf_counter()
        drafter.assemble(req, Masker())
        out.append((time.perf_counter() - t1) * 1000)
    return out


def _reference(ws: Workspace, convs: list[Conversation]) -> list[float]:
    """How fast this machine is right now: the conversations' queries embedded alone, one by
    one, with nothing else running (ms each). A shared VM moves by a third between runs, and
    within one: a row's timings compare with another's at a like reference (its p50 over the
    row's rounds)."""
    out = []
    for conv in convs:
        if query := read_conversation(conv).query:
            t = time.perf_counter()
            ws.kb.embedder.embed([query], kind="query")
            out.append((time.perf_counter() - t) * 1000)
    return out


def _share_read_by_e5(classifier: IntentClassifier | None, convs: list[Conversation]) -> str:
    """How many of the timed (last) customer messages the n-gram gate passes on to e5: the
    suggestions that wait for an embedding (the dev sets' messages: about 18 %)."""
    if classifier is None or classifier.features != "e5":
        return "-"
    last = [[t.text for t in c.turns if t.role == "customer"][-1] for c in convs]
    rows = classifier.model.gate_proba(last)
    if rows is None:
        return "100 %"
    return f"{100 * reaches_gate(rows, classifier.model.labels).mean():.0f} %"


HEADERS = [
    "chunks",
    "build s",
    "intents read",
    "messages read by e5",
    "retrieval",
    "order lookup",
    "intents (in composition)",
    "composition",
    "total (non-LLM path)",
    "prompt assembly (tiktoken budget)",
    "suggestions",
    "machine reference (a query embedded alone before each round, p50 ms)",
]


def main() -> None:
    args = _args()
    pool = _sentence_pool()
    rng = random.Random(0)
    convs = _conversations()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # one workspace grown size by size (1k -> 10k -> 100k): each size adds synthetic chunks
        ws = open_workspace(
            load_settings(data_dir=Path(tmp), demo_autoload=False),
            embedder=make_embedder(args.embedder),
            drafter=None,
        )
        load_demo(ws, today=ANCHOR)
        ws.service.today = lambda: ANCHOR
        modes: list[str | None] = [None] if args.no_intents else list(args.intent_features)
        for size in sorted(args.sizes):
            build = _grow(ws, size, pool, rng)
            for mode in modes:
                ws.service.intents = IntentClassifier.default(mode) if mode else None
                reference: list[float] = []
                series = _time_suggestions(ws, convs, args.rounds, reference)
                series.append(_time_assembly(ws, convs))
                cells = [f"{percentile(v, 50):.1f} / {percentile(v, 95):.1f}" for v in series]
                rows.append(
                    [
                        f"{ws.kb.stats()['chunks']:,}",
                        f"{build:.0f}",
                        mode or "none",
                        _share_read_by_e5(ws.service.intents, convs),
                        *cells,
                        len(series[0]),
                        f"{percentile(reference, 50):.1f}",
                    ]
                )
                print(
                    f"  {size} ({mode or 'no'} intents): total p95 "
                    f"{percentile(series[4], 95):.1f} ms",
                    file=sys.stderr,
                )
    print(f"\n### Suggestion latency, offline drafter ({args.embedder} embedder; ms p50 / p95)\n")
    print(table(HEADERS, rows))
    print("\n(measurements on this machine; not guarantees)")


if __name__ == "__main__":
    main()
