"""Inbound message -> suggestion ready, through `souffleur serve`'s HTTP API (non-LLM path).

A real uvicorn on 127.0.0.1 serves the demo workspace; waves of N conversations arrive at once
(N clients POST /v1/messages together, each a new conversation with a demo customer message),
and each request's time from send to the answer holding the suggestion is recorded. The first
wave warms the process and is not counted. The escalation-intent classifier's memo is emptied
before every wave, so each message is read as new.

    .venv/bin/python benchmarks/inbound.py [--concurrency 1 20] [--waves 6] [--embedder minilm]

Target (issue "Plug into real help desks"): p95 <= 100 ms with 20 conversations arriving at
once. Figures are printed, never asserted; they depend on the machine (2 cores here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import percentile, table
from copilot import load_settings, open_workspace
from copilot.demo import ANCHOR, demo_conversations, load_demo
from copilot.desk.apikeys import TokenStore
from copilot.desk.desk import Desk
from faces.api import create_app
from knowledge import make_embedder


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--concurrency", nargs="*", type=int, default=[1, 20])
    ap.add_argument("--waves", type=int, default=6, help="waves per concurrency (one warm-up)")
    ap.add_argument("--embedder", default="minilm")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="souffleur-inbound-"))
    settings = load_settings(data_dir=tmp / "data", demo_autoload=False)
    ws = open_workspace(settings, embedder=make_embedder(args.embedder))
    load_demo(ws, today=ANCHOR)
    desk = Desk(ws)
    app = create_app(ws, desk)
    _, token = TokenStore(ws.engine).create("bench", "integration")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    demo = [c for c in demo_conversations() if c["turns"][-1]["role"] == "customer"]
    texts = [c["turns"][-1]["text"] for c in demo]
    customers = [c["customer_id"] for c in demo]
    intents = ws.service.intents

    rows = []
    serial = 0
    for n in args.concurrency:
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )
        times: list[float] = []
        server_ms: list[float] = []
        for wave in range(args.waves):
            if intents is not None:
                intents.forget()
            batch = []
            for _ in range(n):
                serial += 1
                batch.append(
                    {
                        "channel": "bench",
                        "conversation": f"b-{serial}",
                        "customer_id": customers[serial % len(customers)],
                        "text": texts[serial % len(texts)],
                    }
                )

            def post(body: dict[str, object], http: httpx.Client = http) -> tuple[float, float]:
                t0 = time.perf_counter()
                r = http.post("/v1/messages", json=body)
                r.raise_for_status()
                elapsed = (time.perf_counter() - t0) * 1000
                draft = desk.store.current_draft(r.json()["conversation_id"])
                return elapsed, draft.suggestion.timings.total_ms if draft else 0.0

            with ThreadPoolExecutor(max_workers=n) as pool:
                got = list(pool.map(post, batch))
            if wave:  # the first wave warms the process
                times += [g[0] for g in got]
                server_ms += [g[1] for g in got]
        http.close()
        rows.append(
            [
                str(n),
                str(len(times)),
                f"{percentile(times, 50):.0f}",
                f"{percentile(times, 95):.0f}",
                f"{max(times):.0f}",
                f"{percentile(server_ms, 50):.0f} / {percentile(server_ms, 95):.0f}",
            ]
        )
    server.should_exit = True
    print(
        table(
            [
                "arriving at once",
                "messages",
                "p50 ms",
                "p95 ms",
                "max ms",
                "suggestion alone p50 / p95 ms",
            ],
            rows,
        )
    )
    print(f"embedder {args.embedder}; offline drafter; demo store; {args.waves - 1} waves counted")


if __name__ == "__main__":
    main()
