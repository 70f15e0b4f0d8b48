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

import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import arguments, percentile, table
from copilot import Workspace, load_settings, open_workspace
from copilot.demo import ANCHOR, demo_conversations, load_demo
from copilot.desk.apikeys import TokenStore
from copilot.desk.desk import Desk
from faces.api import create_app
from knowledge import make_embedder


def _serve(embedder: str) -> tuple[Workspace, Desk, uvicorn.Server, int, str]:
    """The API on a demo workspace, served by uvicorn on a free port, with an API token."""
    tmp = Path(tempfile.mkdtemp(prefix="souffleur-inbound-"))
    settings = load_settings(data_dir=tmp / "data", demo_autoload=False)
    ws = open_workspace(settings, embedder=make_embedder(embedder))
    load_demo(ws, today=ANCHOR)
    desk = Desk(ws)
    _, token = TokenStore(ws.engine).create("bench", "integration")
    server = uvicorn.Server(
        uvicorn.Config(create_app(ws, desk), host="127.0.0.1", port=0, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return ws, desk, server, server.servers[0].sockets[0].getsockname()[1], token


class _Waves:
    """Waves of demo customer messages posted at once to ``/v1/messages``."""

    def __init__(self, ws: Workspace, desk: Desk, port: int, token: str) -> None:
        demo = [c for c in demo_conversations() if c["turns"][-1]["role"] == "customer"]
        self.texts = [c["turns"][-1]["text"] for c in demo]
        self.customers = [c["customer_id"] for c in demo]
        self.intents = ws.service.intents
        self.desk, self.port, self.token = desk, port, token
        self.serial = 0

    def _batch(self, n: int) -> list[dict[str, object]]:
        batch = []
        for _ in range(n):
            self.serial += 1
            batch.append(
                {
                    "channel": "bench",
                    "conversation": f"b-{self.serial}",
                    "customer_id": self.customers[self.serial % len(self.customers)],
                    "text": self.texts[self.serial % len(self.texts)],
                }
            )
        return batch

    def run(self, n: int, waves: int) -> list[str]:
        """One table row: ``waves`` waves of ``n`` messages at once, the first one uncounted."""
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )

        def post(body: dict[str, object]) -> tuple[float, float]:
            t0 = time.perf_counter()
            r = http.post("/v1/messages", json=body)
            r.raise_for_status()
            elapsed = (time.perf_counter() - t0) * 1000
            draft = self.desk.store.current_draft(r.json()["conversation_id"])
            return elapsed, draft.suggestion.timings.total_ms if draft else 0.0

        times: list[float] = []
        server_ms: list[float] = []
        for wave in range(waves):
            if self.intents is not None:
                self.intents.forget()
            with ThreadPoolExecutor(max_workers=n) as pool:
                got = list(pool.map(post, self._batch(n)))
            if wave:  # the first wave warms the process
                times += [g[0] for g in got]
                server_ms += [g[1] for g in got]
        http.close()
        return [
            str(n),
            str(len(times)),
            f"{percentile(times, 50):.0f}",
            f"{percentile(times, 95):.0f}",
            f"{max(times):.0f}",
            f"{percentile(server_ms, 50):.0f} / {percentile(server_ms, 95):.0f}",
        ]


HEADERS = [
    "arriving at once",
    "messages",
    "p50 ms",
    "p95 ms",
    "max ms",
    "suggestion alone p50 / p95 ms",
]


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--concurrency", nargs="*", type=int, default=[1, 20])
    ap.add_argument("--waves", type=int, default=6, help="waves per concurrency (one warm-up)")
    ap.add_argument("--embedder", default="minilm")
    args = ap.parse_args()
    ws, desk, server, port, token = _serve(args.embedder)
    waves = _Waves(ws, desk, port, token)
    rows = [waves.run(n, args.waves) for n in args.concurrency]
    server.should_exit = True
    print(table(HEADERS, rows))
    print(f"embedder {args.embedder}; offline drafter; demo store; {args.waves - 1} waves counted")


if __name__ == "__main__":
    main()
