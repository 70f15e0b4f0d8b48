"""A content-hash cache for model calls: same model, prompt and parameters -> same answer.

Errors are never stored. A cached answer is marked, so its (zero) latency is left out of the
latency percentiles.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from copilot.pipeline.drafter import OnDelta
from copilot.pipeline.llm import ChatModel, Completion, Message

_local = threading.local()


def last_call_cached() -> bool:
    return bool(getattr(_local, "cached", False))


def reset_cached_flag() -> None:
    _local.cached = False


class CachingChatModel:
    def __init__(
        self, inner: ChatModel, folder: Path, *, params: dict[str, object] | None = None
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.folder = folder
        self.params = params or {}
        self.hits = 0
        self.misses = 0

    def key(self, messages: list[Message]) -> str:
        payload = json.dumps(
            {"model": self.name, "messages": messages, "params": self.params},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        key = (
            self.key(messages)
            if json_mode
            else self.key([*messages, {"role": "format", "content": "plain"}])
        )
        path = self.folder / key[:2] / f"{key}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.hits += 1
            _local.cached = True
            if on_text is not None:
                on_text(data["text"])
            return Completion(
                data["text"],
                data["model"],
                data.get("prompt_tokens"),
                data.get("completion_tokens"),
                None,
            )
        # an error propagates and is not stored
        result = self.inner.complete(messages, on_text=on_text, json_mode=json_mode)
        self.misses += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "text": result.text,
                    "model": result.model,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        tmp.replace(path)
        return result
