"""Every model Souffleur talks to is built here, from :class:`Settings`: the chat models of the
drafter and of the eval judge, and the embedder of the knowledge index.

A new provider, a new endpoint convention or a new embedder lands in this one module; the app,
the API, the CLI and the eval harness all take their models from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy.engine import Engine

from copilot.config import Settings, endpoint_is_local
from copilot.pipeline.llm import ChatModel, LangChainChatModel, LLMDrafter
from copilot.pipeline.tokens import Budget
from knowledge import Embedder, VectorStore, embedder_named, make_embedder

log = logging.getLogger(__name__)

Role = Literal["drafter", "judge"]


# ------------------------------------------------------------------------- chat models


def endpoint(settings: Settings, role: Role = "drafter") -> str | None:
    """The OpenAI-compatible endpoint of ``role``: the judge's defaults to the drafter's."""
    if role == "judge":
        return settings.judge_base_url or settings.llm_base_url
    return settings.llm_base_url


def own_key(
    own: SecretStr | None, own_base_url: str | None, settings: Settings
) -> SecretStr | None:
    """A role's API key: its own, else the drafter's only when the role talks to the
    drafter's endpoint. A key is never sent to another host than its own."""
    same_host = not own_base_url or own_base_url == settings.llm_base_url
    return own or (settings.llm_api_key if same_host else None)


def masks_pii(settings: Settings, role: Role = "drafter") -> bool:
    """Personal data is masked unless the role's endpoint is on this machine (or as set)."""
    local = endpoint_is_local(endpoint(settings, role))
    return settings.mask_pii == "on" or (settings.mask_pii == "auto" and not local)


def chat_model(
    settings: Settings,
    role: Role = "drafter",
    *,
    temperature: float | None = None,
    seed: int | None = None,
    max_tokens: int | None = None,
) -> LangChainChatModel | None:
    """The chat model of ``role``, or None without an endpoint.

    The judge has its own endpoint, key, model and timeout, each defaulting to the drafter's; the
    drafter's API key is only reused when the judge talks to the drafter's endpoint: a key is
    never sent to another host than its own.
    """
    base_url = endpoint(settings, role)
    if not base_url:
        return None
    if role == "judge":
        key = own_key(settings.judge_api_key, settings.judge_base_url, settings)
        model = settings.judge_model or settings.llm_model
        timeout_s = settings.judge_timeout_s or settings.llm_timeout_s
    else:
        key, model = settings.llm_api_key, settings.llm_model
        timeout_s = settings.llm_timeout_s
    return LangChainChatModel(
        base_url=base_url,
        api_key=key.get_secret_value() if key else "not-needed",
        model=model,
        timeout_s=timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature if temperature is None else temperature,
        max_tokens=settings.llm_reply_tokens if max_tokens is None else max_tokens,
        json_mode=settings.llm_json_mode,
        reply_limit_field=settings.llm_reply_limit_field,
        seed=seed,
    )


def logged(chat: ChatModel, settings: Settings, engine: Engine | None, role: Role) -> ChatModel:
    """``chat`` with every call written to the workspace's call log (unless switched off)."""
    if engine is None or not settings.call_log:
        return chat
    from copilot.pipeline.calllog import CallLog, LoggedChat

    return LoggedChat(chat, CallLog(engine), role=role)


def llm_drafter(
    settings: Settings,
    engine: Engine | None = None,
    *,
    around: Callable[[ChatModel], ChatModel] | None = None,
) -> LLMDrafter | None:
    """The LLM drafter the settings name, or None. With ``engine``, its calls are logged in
    that database, and with ``llm_shared_concurrency`` they share that limit with every
    process on it. ``around`` wraps the finished chat model (the eval harness's cache)."""
    chat: ChatModel | None = chat_model(settings, "drafter")
    if chat is None:
        return None
    if engine is not None and settings.llm_shared_concurrency:
        from copilot.pipeline.slots import SharedSlots, ThrottledChat

        # a call can take (retries + 1) attempts, each maybe retried once without streaming
        lease = 2 * settings.llm_timeout_s * (settings.llm_max_retries + 1) + 10
        shared = SharedSlots(
            engine,
            f"{settings.llm_base_url}#{settings.llm_model}",
            settings.llm_shared_concurrency,
            lease_s=lease,
        )
        chat = ThrottledChat(chat, shared, wait_s=settings.llm_timeout_s)
    chat = logged(chat, settings, engine, "drafter")
    return LLMDrafter(
        around(chat) if around else chat,
        budget=Budget(settings.llm_context_tokens, settings.llm_reply_tokens),
        mask_pii=settings.masks_pii,
        company=settings.company_name,
        reply_format=settings.llm_reply_format,
    )


# ------------------------------------------------------------------------- embedders


def embedder(settings: Settings) -> Embedder:
    """The configured embedder (``SOUFFLEUR_EMBEDDER``)."""
    client: Any = None
    if settings.embedder == "openai":
        base_url = settings.embedding_base_url or settings.llm_base_url
        key = own_key(settings.embedding_api_key, settings.embedding_base_url, settings)
        if base_url:
            import openai

            client = openai.OpenAI(
                base_url=base_url,
                api_key=key.get_secret_value() if key else "not-needed",
                timeout=settings.llm_timeout_s,
                max_retries=settings.llm_max_retries,
            )
    return make_embedder(
        settings.embedder,
        openai_client=client,
        openai_model=settings.embedding_model,
        model_cache=settings.model_cache,
    )


def keep_built_minilm(
    emb: Embedder, vectors: VectorStore, model_cache: Path | None
) -> tuple[Embedder, VectorStore]:
    """An index built with another MiniLM variant (before int8 products, or another length)
    goes on with the vectors it has, instead of refusing to open: `souffleur reindex` moves
    it to the configured one."""
    built = vectors.built_with()
    if len(built) != 1 or emb.name in built:
        return emb, vectors
    (name,) = built
    older = embedder_named(name, model_cache=model_cache)
    if older is None:
        return emb, vectors  # not a MiniLM index: the mismatch error says what to do
    log.warning(
        "The knowledge index was built with %s: kept. `souffleur reindex` rebuilds it with %s "
        "(faster to index and to search).",
        name,
        emb.name,
    )
    return older, VectorStore(
        vectors.source, embedder_name=name, dim=older.dim, prefix=vectors.prefix
    )
