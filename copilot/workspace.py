"""Wire the packages together from :class:`Settings`: one workspace per data directory.

The CLI, the app and the eval harness all open a workspace this way, so they run the same code
on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from copilot.config import Settings
from knowledge import (
    Embedder,
    KnowledgeBase,
    OrderBook,
    Registry,
    VectorStore,
    make_embedder,
    make_engine,
    open_chroma,
)


def embedder_from_settings(settings: Settings) -> Embedder:
    client: Any = None
    if settings.embedder == "openai":
        base_url = settings.embedding_base_url or settings.llm_base_url
        key = settings.embedding_api_key or settings.llm_api_key
        if base_url:
            import openai

            client = openai.OpenAI(
                base_url=base_url,
                api_key=key.get_secret_value() if key else "not-needed",
                timeout=settings.llm_timeout_s,
                max_retries=settings.llm_max_retries,
            )
    return make_embedder(
        settings.embedder, openai_client=client, openai_model=settings.embedding_model
    )


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    kb: KnowledgeBase
    orders: OrderBook

    @property
    def is_empty(self) -> bool:
        return self.kb.registry.counts()[0] == 0 and self.orders.count() == 0


def open_workspace(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    check_embedder: bool = True,
    load_demo_if_empty: bool | None = None,
) -> Workspace:
    """Open (and create if needed) the workspace of ``settings.data_dir``.

    Repairs an interrupted ingestion, and loads the demo store into an empty workspace when
    ``settings.demo_autoload`` (or ``load_demo_if_empty``) says so.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    registry = Registry(engine)
    emb = embedder or embedder_from_settings(settings)
    client = open_chroma(
        path=settings.chroma_path, host=settings.chroma_host, port=settings.chroma_port
    )
    vectors = VectorStore(client, embedder_name=emb.name, dim=emb.dim)
    kb = KnowledgeBase(
        registry, vectors, emb, max_bytes=settings.max_upload_bytes, check_embedder=check_embedder
    )
    if check_embedder and kb.needs_reconcile:
        kb.reconcile()
    ws = Workspace(settings, engine, kb, OrderBook(engine))
    autoload = settings.demo_autoload if load_demo_if_empty is None else load_demo_if_empty
    if autoload and ws.is_empty:
        from copilot.demo import load_demo

        load_demo(ws)
    return ws
