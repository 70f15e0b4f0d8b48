"""The LLM judge in a run: built from the settings (its calls logged, and cached by model,
template version, messages, temperature and seed), and its own figures in the run summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from copilot import providers
from copilot.config import Settings
from copilot.pipeline.llm import ChatModel
from evals.cache import CachingChatModel
from evals.llm_judge.questions import JUDGE_REPLY_TOKENS, TEMPLATES, JudgeTemplates
from evals.llm_judge.verdicts import LLMJudge
from knowledge.errors import ConfigError


def judge_from_settings(
    settings: Settings,
    *,
    chat: ChatModel | None = None,
    seed: int = 0,
    cache: bool = True,
    templates_folder: Path = TEMPLATES,
    keep_questions: bool = False,
    engine: Engine | None = None,
) -> LLMJudge:
    """The run's judge, its calls cached by (model, template version, messages, T, seed)."""
    templates = JudgeTemplates.load(templates_folder)
    inner: ChatModel | None = (
        chat
        if chat is not None
        else providers.chat_model(
            settings, "judge", temperature=0.0, seed=seed, max_tokens=JUDGE_REPLY_TOKENS
        )
    )
    if inner is None:
        raise ConfigError(
            "--judge llm needs an endpoint.",
            "Set SOUFFLEUR_JUDGE_BASE_URL (or SOUFFLEUR_LLM_BASE_URL), and the key and model.",
        )
    model: ChatModel = providers.logged(inner, settings, engine, "judge")
    if cache:
        model = CachingChatModel(
            model,
            settings.data_dir / "evals" / "judge-cache",
            params={"temperature": 0.0, "seed": seed, "template_version": templates.version},
        )
    judge = LLMJudge(
        model,
        templates=templates,
        seed=seed,
        mask_pii=providers.masks_pii(settings, "judge"),
        keep_questions=keep_questions,
    )
    judge.endpoint = providers.endpoint(settings, "judge") if chat is None else None
    if chat is None and (settings.judge_model or settings.llm_model) == settings.llm_model:
        judge.notes.append(
            "the judge uses the drafter's model: prefer another model family "
            "(self-preference bias, EVALS.md §1.12); set SOUFFLEUR_JUDGE_MODEL"
        )
    return judge


def judge_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``judge_failures`` and the judge's own figures, for the run summary."""
    rows = [r for r in records if r.get("status") == "scored"]
    usage = [r.get("judge_usage") or {} for r in rows]
    failures = sum(int(r.get("judge_failures") or 0) for r in rows)
    fallbacks = Counter(m for r in rows for m in (r.get("verdicts") or {}).get("fallback", []))
    names = Counter((r.get("verdicts") or {}).get("judge") for r in rows)
    return {
        "judge_failures": failures,
        "judge": {
            "name": names.most_common(1)[0][0] if names else None,
            "cases": len(rows),
            "judge_failures": failures,
            "cases_with_judge_failures": sum(1 for r in rows if r.get("judge_failures")),
            "fallbacks": {"grounded": fallbacks["grounded"], "correct": fallbacks["correct"]},
            "calls": sum(int(u.get("calls") or 0) for u in usage),
            "cached_calls": sum(int(u.get("cached_calls") or 0) for u in usage),
            "note": "a judge failure is counted and the case keeps its offline verdict for "
            "that metric; it is never a 0 or a NaN in a mean",
        },
    }
