"""How long an agent waits for a draft when the language model is slow, with and without the
desk's latency budget.

A local OpenAI-compatible server (``copilot.testing.FakeOpenAIServer`` on 127.0.0.1, the real
``openai`` client over HTTP) answers each request after a set delay; the desk drafts a demo
conversation and we time ``Desk.ensure_draft`` (what the agent waits for before a draft is in
the sidebar) and the moment the model's own draft lands. ``budget 0`` is the old behaviour:
wait for the model whatever it takes.

    .venv/bin/python benchmarks/llm_budget.py [--delays 0 1 5 10] [--budget 3]

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import table
from copilot import load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk.desk import Desk
from copilot.pipeline.llm import LangChainChatModel, LLMDrafter
from copilot.testing import FakeOpenAIServer, model_reply
from knowledge import HashEmbedder

REPLY = model_reply("Bonjour, votre commande est en route [ORDER].")


def run(
    delay_s: float, budget_s: float | None, root: Path, srv: FakeOpenAIServer
) -> tuple[float, float, str]:
    settings = load_settings(
        data_dir=root / f"d{delay_s}-{budget_s}",
        demo_autoload=False,
        llm_budget_s=budget_s if budget_s is not None else 3600.0,
    )
    chat = LangChainChatModel(
        base_url=srv.base_url, api_key="x", model="m", timeout_s=60, max_retries=0
    )
    ws = open_workspace(settings, embedder=HashEmbedder(), drafter=LLMDrafter(chat, mask_pii=False))
    load_demo(ws, today=ANCHOR)
    ws.service.today = lambda: ANCHOR
    desk = Desk(ws)
    cid = desk.new_conversation("C1001", "Bonjour, où en est ma commande LUM-105097 ?")
    srv.reset()
    srv.delay(delay_s, REPLY)
    t0 = time.perf_counter()
    first = desk.ensure_draft(cid)
    shown = time.perf_counter() - t0
    desk.wait_late(cid, timeout=120)
    landed = time.perf_counter() - t0
    final = desk.store.current_draft(cid)
    return (
        shown,
        landed,
        (first.suggestion.drafter if first else "-")
        + " -> "
        + (final.suggestion.drafter if final else "-"),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delays", type=float, nargs="+", default=[0, 1, 5, 10])
    ap.add_argument("--budget", type=float, default=3.0)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(model="m") as srv:
        for delay in args.delays:
            for budget in (None, args.budget):
                shown, landed, drafters = run(delay, budget, Path(tmp), srv)
                rows.append(
                    [
                        f"{delay:g} s",
                        "none (wait)" if budget is None else f"{budget:g} s",
                        f"{shown:.2f} s",
                        f"{landed:.2f} s",
                        drafters,
                    ]
                )
    print(
        table(
            [
                "model delay",
                "budget",
                "draft shown after",
                "model draft in after",
                "first -> final",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
