"""Fakes shipped with the package, for tests, demos and eval smoke runs (no network, no key).

:class:`ScriptedChatModel` implements the :class:`copilot.pipeline.llm.ChatModel` seam in-process;
:class:`FakeOpenAIServer` is a real OpenAI-compatible HTTP server on 127.0.0.1, so the real
openai/LangChain client (retries, timeouts, streaming) runs against scripted behaviours.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from copilot.pipeline.drafter import OnDelta
from copilot.pipeline.llm import Completion, Message


def model_reply(text: str, **fields: Any) -> str:
    """The JSON a model answers with in the drafter's schema; ``fields`` override the rest."""
    body = {
        "reply": text,
        "cited": [],
        "escalate": False,
        "reasons": [],
        "confidence": 0.8,
        "answerable": True,
    }
    return json.dumps({**body, **fields}, ensure_ascii=False)


DEFAULT_REPLY = model_reply("Thank you for your message, I am looking into it.", confidence=0.5)


def pieces(text: str, n: int = 3) -> list[str]:
    """``text`` cut into ``n`` consecutive pieces (fewer when it is short)."""
    size = max(1, math.ceil(len(text) / n))
    return [text[i : i + size] for i in range(0, len(text), size)]


class ScriptedChatModel:
    """A :class:`~copilot.pipeline.llm.ChatModel` that answers from a queue: texts, or exceptions to raise.

    ``calls`` records every message list received. With ``on_text`` the text is streamed in a
    few pieces (``on_text`` gets the text so far). An empty queue answers ``default``.
    """

    def __init__(self, name: str = "scripted", *, default: str = DEFAULT_REPLY) -> None:
        self.name = name
        self.default = default
        self.queue: deque[str | BaseException] = deque()
        self.calls: list[list[Message]] = []

    def enqueue(self, *responses: str | BaseException) -> ScriptedChatModel:
        self.queue.extend(responses)
        return self

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        self.calls.append([dict(m) for m in messages])
        item = self.queue.popleft() if self.queue else self.default
        if isinstance(item, BaseException):
            raise item
        if on_text is not None:
            so_far = ""
            for piece in pieces(item):
                so_far += piece
                on_text(so_far)
        return Completion(item, self.name, ttft_ms=0.0 if on_text is not None else None)


# ------------------------------------------------------------------------- HTTP fake

Kind = Literal["reply", "error", "malformed", "broken_stream"]


@dataclass
class Behaviour:
    """What the server does for one chat-completion request."""

    kind: Kind = "reply"
    text: str = DEFAULT_REPLY  # the content the model "says"
    delay_s: float = 0.0  # wait before answering (provokes client timeouts)
    status: int = 200
    error: dict[str, Any] | None = None  # OpenAI-style {"message", "type", "param", "code"}
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] | None = None  # (prompt, completion); None: from the lengths


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]


def _error(
    message: str, type: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    return {"message": message, "type": type, "param": None, "code": code}


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1: ``with FakeOpenAIServer() as srv: srv.base_url``.

    Chat completions (JSON, or SSE when ``"stream": true``), ``/v1/models``, ``/v1/embeddings``.
    Each chat request takes the next queued :class:`Behaviour`, or answers ``default``; every
    request is recorded in ``requests``.
    """

    def __init__(self, model: str = "gpt-4o-mini", *, default: str = DEFAULT_REPLY) -> None:
        self.model = model
        self.default = default
        self.queue: deque[Behaviour] = deque()
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._http: _Server | None = None
        self._open = threading.Event()  # cleared by hold(): chat requests wait for release()
        self._open.set()
        self.in_flight = 0  # chat requests being answered now
        self.most_in_flight = 0  # the most at once since the start (or reset())

    # -- scripting (chainable) --------------------------------------------------------
    def enqueue(self, *behaviours: Behaviour) -> FakeOpenAIServer:
        with self._lock:
            self.queue.extend(behaviours)
        return self

    def reply(
        self, text: str, *, delay_s: float = 0.0, usage: tuple[int, int] | None = None
    ) -> FakeOpenAIServer:
        return self.enqueue(Behaviour(text=text, delay_s=delay_s, usage=usage))

    def delay(self, seconds: float, text: str | None = None) -> FakeOpenAIServer:
        return self.reply(self.default if text is None else text, delay_s=seconds)

    def empty(self) -> FakeOpenAIServer:
        return self.reply("")

    def malformed(self) -> FakeOpenAIServer:
        return self.enqueue(Behaviour(kind="malformed"))

    def broken_stream(self, text: str | None = None) -> FakeOpenAIServer:
        return self.enqueue(Behaviour(kind="broken_stream", text=text or self.default))

    def error(self, status: int, message: str = "", *, code: str | None = None, type: str = "api_error",
              retry_after_ms: int | None = None, retry_after: float | None = None) -> FakeOpenAIServer:  # fmt: skip
        headers = {} if retry_after_ms is None else {"retry-after-ms": str(retry_after_ms)}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        body = _error(message or f"scripted error {status}", type, code)
        return self.enqueue(Behaviour(kind="error", status=status, error=body, headers=headers))

    def context_length_exceeded(self, limit: int = 8192) -> FakeOpenAIServer:
        message = (
            f"This model's maximum context length is {limit} tokens. However, your messages "
            f"resulted in {limit + 808} tokens. Please reduce the length of the messages."
        )
        return self.error(
            400, message, code="context_length_exceeded", type="invalid_request_error"
        )

    def hold(self) -> FakeOpenAIServer:
        """Chat requests are received and counted, but answered only after :meth:`release`."""
        self._open.clear()
        return self

    def release(self) -> FakeOpenAIServer:
        self._open.set()
        return self

    def wait_open(self) -> None:
        while not self._open.wait(0.05) and not self.stopping.is_set():
            pass

    def arrived(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def next_behaviour(self) -> Behaviour:
        with self._lock:
            return self.queue.popleft() if self.queue else Behaviour(text=self.default)

    def reset(self) -> None:
        """Forget the queued behaviours and the recorded requests (between tests)."""
        with self._lock:
            self.queue.clear()
            self.requests.clear()
            self.most_in_flight = self.in_flight

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    # -- lifecycle --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._http is not None, "start the server first (use it as a context manager)"
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._http = _Server(("127.0.0.1", 0), _Handler)
        self._http.fake = self
        threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # delayed and held handlers stop waiting
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up: expected
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        fake.requests.append(Recorded("GET", self.path, {}))
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": fake.model, "object": "model", "created": 0, "owned_by": "souffleur"}
            self._send(200, {"object": "list", "data": [model]})
        else:
            self._send(404, {"error": _error(f"no route {self.path}")})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        self.server.fake.requests.append(Recorded("POST", self.path, body))
        if self.path.endswith("/embeddings"):
            self._embeddings(body)
        elif self.path.endswith("/chat/completions"):
            fake = self.server.fake
            fake.arrived(+1)
            try:
                fake.wait_open()
                self._chat(body, fake.next_behaviour())
            finally:
                fake.arrived(-1)
        else:
            self._send(404, {"error": _error(f"no route {self.path}")})

    def _chat(self, body: dict[str, Any], b: Behaviour) -> None:
        if b.delay_s and self.server.fake.stopping.wait(b.delay_s):
            self.close_connection = True
            return
        if b.kind == "error":
            self._send(b.status, {"error": b.error}, b.headers)
            return
        chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        p, c = b.usage or (chars // 4 + 1, len(b.text) // 4 + 1)
        usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        head = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body.get("model", "")}
        if not body.get("stream"):
            message = {"role": "assistant", "content": b.text, "refusal": None}
            choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            reply = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
            malformed = b"<html><body>502 Bad Gateway</body></html>"
            self._send(
                200, malformed if b.kind == "malformed" else reply, cut=b.kind == "broken_stream"
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(data: dict[str, Any] | str) -> None:
            if isinstance(data, dict):
                data = json.dumps({**head, "object": "chat.completion.chunk", **data})
            payload = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(payload):X}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        def delta(content: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": content, "finish_reason": finish}]}

        event(delta({"role": "assistant", "content": ""}))
        if b.kind == "malformed":
            event('{"choices": [{"delta": not json')
        parts = pieces(b.text, 5)
        for part in parts[:2] if b.kind == "broken_stream" else parts:
            event(delta({"content": part}))
        if b.kind == "broken_stream":
            self.close_connection = True  # hang up inside the chunked body: no [DONE]
            return
        event(delta({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            event({"choices": [], "usage": usage})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")

    def _embeddings(self, body: dict[str, Any]) -> None:
        """Deterministic unit vectors from a hash (base64 float32 when asked, as the SDK asks)."""
        raw = body.get("input", [])
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        dim = int(body.get("dimensions") or 8)
        data = []
        for i, text in enumerate(texts):
            vec = [b / 255 - 0.5 for b in hashlib.shake_256(text.encode()).digest(dim)]
            unit = [v / (math.sqrt(sum(v * v for v in vec)) or 1.0) for v in vec]
            emb: Any = unit
            if body.get("encoding_format") == "base64":
                emb = base64.b64encode(struct.pack(f"<{dim}f", *unit)).decode()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": n, "total_tokens": n}
        self._send(
            200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )

    def _send(self, status: int, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None, cut: bool = False) -> None:  # fmt: skip
        """A JSON response; ``cut``: the connection drops halfway through the body."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)
        self.close_connection = self.close_connection or cut
