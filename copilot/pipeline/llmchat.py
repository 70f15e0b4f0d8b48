"""The chat-model seam: :class:`ChatModel` is one verb, ``complete``.

:class:`LangChainChatModel` implements it with LangChain's ``ChatOpenAI`` against any
OpenAI-compatible endpoint, with the SDK's own retries and timeout (configured, not
re-implemented); ``copilot.testing.ScriptedChatModel`` implements it for tests. LangChain types
never leave this module; every SDK or transport failure leaves it as :class:`LLMUnavailable`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from copilot.pipeline.drafter import OnDelta
from copilot.types import Usage
from knowledge.errors import SouffleurError

Message = dict[str, str]


class LLMUnavailable(SouffleurError):
    """The LLM could not give a usable answer; ``kind`` says why (timeout, rate_limited, ...)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        # what the failed draft's calls cost (counted, or estimated for the prompt of a call
        # the server received but did not answer usably); None when nothing was spent
        self.usage: Usage | None = None
        super().__init__(
            f"LLM unavailable ({kind}){': ' + detail if detail else ''}.",
            "The offline draft is shown instead.",
        )


@dataclass
class Completion:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None


class ChatModel(Protocol):
    name: str

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        """The model's answer; ``json_mode=False`` asks for plain text (no response_format)."""
        ...


class LangChainChatModel:
    """``ChatOpenAI`` pointed at ``base_url``; errors become :class:`LLMUnavailable`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        temperature: float = 0.2,
        max_tokens: int = 700,
        json_mode: bool = True,
        reply_limit_field: str = "max_completion_tokens",
        seed: int | None = None,
    ) -> None:
        from langchain_openai import ChatOpenAI

        self.name = model
        # json_mode: the server honours response_format=json_object (llama.cpp, vLLM, Ollama and
        # OpenAI do; set SOUFFLEUR_LLM_JSON_MODE=false for one that refuses it)
        self.json_mode = json_mode

        def client(json_object: bool) -> Any:
            # Extra fields go in the request body, outside LangChain's own handling: with
            # response_format among its model_kwargs LangChain streams through the SDK's
            # parse helper, which raises on finish_reason "length" (every llama.cpp call with
            # a length limit failed that way).
            body: dict[str, Any] = {}
            if json_object:
                body["response_format"] = {"type": "json_object"}
            if reply_limit_field == "max_tokens":
                # Servers that ignore max_completion_tokens (llama.cpp, older vLLM): the legacy field.
                body["max_tokens"] = max_tokens
            return ChatOpenAI(
                model=model,
                base_url=base_url,
                api_key=api_key,
                timeout=timeout_s,
                max_retries=max_retries,
                temperature=temperature,
                max_tokens=None if reply_limit_field == "max_tokens" else max_tokens,
                stream_usage=True,
                seed=seed,
                extra_body=body or None,
            )

        self._plain = client(False)
        self._json = client(True) if json_mode else self._plain

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage

        lc_messages = [
            SystemMessage(m["content"])
            if m["role"] == "system"
            else HumanMessage(m["content"])
            if m["role"] == "user"
            else _ai(m["content"])
            for m in messages
        ]
        llm = self._json if json_mode else self._plain
        t0 = time.perf_counter()

        def whole() -> Completion:
            msg = llm.invoke(lc_messages)
            usage: Any = msg.usage_metadata or {}
            return Completion(
                _text(msg.content),
                self.name,
                usage.get("input_tokens"),
                usage.get("output_tokens"),
                None,
            )

        try:
            if on_text is None:
                return whole()
            total: AIMessageChunk | None = None
            ttft = None
            text = ""
            try:
                for chunk in llm.stream(lc_messages):
                    total = chunk if total is None else total + chunk
                    piece = _text(chunk.content)
                    if piece:
                        if ttft is None:
                            ttft = (time.perf_counter() - t0) * 1000
                        text += piece
                        on_text(text)
            except ValueError as exc:
                if total is not None or "No generation chunks" not in str(exc):
                    raise
                # A stream that closed before its first chunk: some servers (llama.cpp) end
                # the stream without a word when they refuse a request. Asked again without
                # streaming, they say why (e.g. a prompt over their context), and the answer
                # is shown whole.
                done = whole()
                on_text(done.text)
                return done
            streamed: Any = (total.usage_metadata if total is not None else None) or {}
            return Completion(
                text, self.name, streamed.get("input_tokens"), streamed.get("output_tokens"), ttft
            )
        except Exception as exc:  # every SDK/transport failure is turned into one typed error
            raise _classify(exc) from exc


def _ai(content: str) -> Any:
    from langchain_core.messages import AIMessage

    return AIMessage(content)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


def _classify(exc: Exception) -> LLMUnavailable:
    import openai

    name = exc.__class__.__name__
    msg = str(exc)[:300]
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable("timeout", msg)
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable("rate_limited", msg)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable("connection", msg)
    if isinstance(exc, openai.BadRequestError) and (
        ("context" in msg.lower() and ("length" in msg.lower() or "window" in msg.lower()))
        or "maximum context" in msg.lower()
    ):
        return LLMUnavailable("context_length", msg)
    if isinstance(exc, openai.BadRequestError) and (
        "response_format" in msg or "json" in msg.lower()
    ):
        return LLMUnavailable("json_unsupported", msg)
    if isinstance(exc, openai.InternalServerError | openai.APIStatusError):
        return LLMUnavailable("server_error", msg)
    return LLMUnavailable("broken_response", f"{name}: {msg}")


# ------------------------------------------------------------------------- output schema
