"""Token counting (tiktoken, offline) and cost estimates from a versioned local price table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import tiktoken

# USD per million tokens: (input, output). Versioned with the code; update with the date.
PRICES_VERSION = "2026-11-01"
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
    "mistral-small-latest": (0.10, 0.30),
}
# Chat overhead per message and for the reply priming (OpenAI cookbook).
PER_MESSAGE = 3
PER_REPLY = 3


# Models tiktoken does not know (llama.cpp, vLLM, Ollama…) are counted with o200k_base, an
# estimate: SmolLM2's small English-centric vocabulary made 1.37 times as many tokens of a
# French draft prompt (1,907 against 1,392). Their prompt budget keeps this share free, so an
# estimate that is low never overflows the server's context (a 1.43x ratio still fits).
UNKNOWN_TOKENIZER_MARGIN = 0.30


@lru_cache(maxsize=16)
def knows_tokenizer(model: str) -> bool:
    try:
        tiktoken.encoding_for_model(model)
    except KeyError:
        return False
    return True


@lru_cache(maxsize=16)
def encoding_for(model: str) -> Any:
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        return tiktoken.get_encoding("o200k_base")


def count_text(text: str, model: str = "gpt-4o-mini") -> int:
    return len(encoding_for(model).encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, str]], model: str = "gpt-4o-mini") -> int:
    return sum(PER_MESSAGE + count_text(m["content"], model) for m in messages) + PER_REPLY


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Cost from the local price table; 0 for unknown (e.g. self-hosted) models."""
    base = next(
        (p for name, p in PRICES.items() if model == name or model.startswith(name + "-")), None
    )
    if base is None:
        return 0.0
    return (prompt_tokens * base[0] + completion_tokens * base[1]) / 1e6


@dataclass(frozen=True)
class Budget:
    context_tokens: int = 8192
    reply_tokens: int = 700

    @property
    def prompt_tokens(self) -> int:
        return self.context_tokens - self.reply_tokens

    def prompt_tokens_for(self, model: str) -> int:
        """The prompt budget, less a margin when ``model``'s tokenizer is only estimated."""
        if knows_tokenizer(model):
            return self.prompt_tokens
        return int(self.prompt_tokens * (1 - UNKNOWN_TOKENIZER_MARGIN))
