"""Self-agreement: k samples at temperature > 0 on a subset, majority vote."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from copilot import providers
from copilot.config import Settings
from copilot.pipeline.llm import (
    ChatModel,
)
from evals.llm_judge.questions import JUDGE_REPLY_TOKENS, Question, Tally, label_of
from evals.llm_judge.verdicts import LLMJudge
from knowledge.errors import ConfigError

# ------------------------------------------------------------------------- self-agreement


def samplers_from_settings(
    settings: Settings, *, k: int = 3, temperature: float = 0.7, seed: int = 0
) -> list[ChatModel]:
    """k judge models at temperature > 0, each with its own fixed seed (reproducible samples)."""
    out: list[ChatModel] = []
    for i in range(k):
        chat = providers.chat_model(
            settings,
            "judge",
            temperature=temperature,
            seed=seed + 1 + i,
            max_tokens=JUDGE_REPLY_TOKENS,
        )
        if chat is None:
            raise ConfigError(
                "self-agreement needs a judge endpoint.", "Set SOUFFLEUR_JUDGE_BASE_URL."
            )
        out.append(chat)
    return out


def self_agreement(
    judge: LLMJudge,
    samplers: Sequence[ChatModel],
    *,
    items: Sequence[tuple[Question, str | None]] | None = None,
    subset: int | None = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Ask each question of a subset once per sampler (k = len(samplers), at temperature > 0)
    and report how often the samples agree with their majority vote.

    ``items``: (question, verdict at temperature 0 or None); default: the questions the judge
    kept (``keep_questions=True``). An item with a failed sample is counted and left out.
    """
    pool = list(judge.asked if items is None else items)
    if subset is not None and len(pool) > subset:
        picked = sorted(random.Random(seed).sample(range(len(pool)), subset))
        pool = [pool[i] for i in picked]
    k = len(samplers)
    shares: list[float] = []
    unanimous = 0
    t0_total = t0_match = 0
    failed = 0
    tally = Tally()
    for q, t0 in pool:
        labels: list[str] = []
        for chat in samplers:
            asked = judge.ask(q, chat=chat)
            tally.merge(asked.tally)
            if asked.answer is None:
                break
            labels.append(label_of(asked.answer))
        if len(labels) < k:
            failed += 1
            continue
        top, count = Counter(labels).most_common(1)[0]
        shares.append(count / k)
        unanimous += int(count == k)
        if t0 is not None:
            t0_total += 1
            t0_match += int(count * 2 > k and t0 == top)
    n = len(shares)
    return {
        "k": k,
        "items": n,
        "failed_items": failed,
        "majority_agreement": sum(shares) / n if n else None,
        "unanimous_rate": unanimous / n if n else None,
        "t0_matches_majority": t0_match / t0_total if t0_total else None,
        "usage": tally.as_dict(),
        "definition": "majority_agreement: mean share of the k samples that agree with the "
        "majority verdict of their item; unanimous_rate: items where all k agree",
    }
