"""Wire the packages together from :class:`Settings`: one workspace per data directory.

The CLI, the app and the eval harness all open a workspace this way, so they run the same code
on the same data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from copilot import providers
from copilot.config import Settings
from copilot.desk.shared import REFRESH_S, Revision, SharedState, Watched
from copilot.pipeline.confidence import ConfidenceModel
from copilot.pipeline.escalation import Policy
from copilot.pipeline.intents import IntentClassifier
from copilot.pipeline.suggest import SuggestionService
from knowledge import (
    Embedder,
    KnowledgeBase,
    OrderBook,
    Registry,
    SouffleurError,
    VectorStore,
    make_engine,
    open_chroma,
)

log = logging.getLogger(__name__)


class PolicyStore:
    """The active escalation policy, shared by every process of the workspace through the
    database, with its history (who saved which version, when). A workspace made before the
    policy lived in the database has its ``policy.yaml`` imported once, as the first version."""

    KIND = "policy"

    def __init__(
        self, engine: Engine, legacy_path: Path | None = None, *, refresh_s: float = REFRESH_S
    ) -> None:
        self.state = SharedState(engine)
        if legacy_path is not None and legacy_path.exists() and not self.state.version(self.KIND):
            text = legacy_path.read_text(encoding="utf-8")
            Policy.parse(text, legacy_path.name)  # a broken file is refused, never imported
            self.state.save(self.KIND, text, note=f"imported from {legacy_path.name}")
        self._watched = Watched(
            self.state, self.KIND, lambda t: Policy.parse(t, "policy"), Policy.default,
            refresh_s=refresh_s,
        )  # fmt: skip

    def current(self) -> Policy:
        return self._watched.current()

    def text(self) -> str:
        from copilot.pipeline.escalation import DEFAULT_POLICY

        latest = self.state.get(self.KIND)
        return latest.text if latest else DEFAULT_POLICY.read_text(encoding="utf-8")

    def save(self, text: str, *, author: str | None = None, note: str = "") -> Policy:
        """Validate, then save as a new version: a broken policy raises and the previous one
        stays active (here and in every other process)."""
        policy = Policy.parse(text, "policy")
        self.state.save(self.KIND, text, author=author, note=note)
        self._watched.forget()
        return policy

    def history(self, limit: int = 50) -> list[Revision]:
        return self.state.history(self.KIND, limit)

    def restore(self, version: int, *, author: str | None = None) -> Policy:
        old = self.state.get(self.KIND, version)
        if old is None:
            raise SouffleurError(
                f"There is no policy version {version}.", "Pick one from the history."
            )
        return self.save(old.text, author=author, note=f"restored version {version}")


def confidence_source(engine: Engine, fallback: Path) -> Watched[ConfidenceModel]:
    """The confidence model every process uses: the latest one `souffleur calibrate` saved to
    the database, else the file at ``fallback`` (or the shipped one)."""
    return Watched(
        SharedState(engine),
        "confidence",
        ConfidenceModel.from_json,
        lambda: ConfidenceModel.load(fallback),
    )


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    kb: KnowledgeBase
    orders: OrderBook
    policies: PolicyStore
    service: SuggestionService

    @property
    def is_empty(self) -> bool:
        return self.kb.registry.counts()[0] == 0 and self.orders.count() == 0


def open_workspace(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    check_embedder: bool = True,
    load_demo_if_empty: bool | None = None,
    drafter: Any = "settings",
) -> Workspace:
    """Open (and create if needed) the workspace of ``settings.data_dir``.

    Repairs an interrupted ingestion, and loads the demo store into an empty workspace when
    ``settings.demo_autoload`` (or ``load_demo_if_empty``) says so. ``drafter`` overrides the
    LLM drafter built from the settings (None: offline only).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    registry = Registry(engine)
    emb = embedder or providers.embedder(settings)
    client = open_chroma(
        path=settings.chroma_path, host=settings.chroma_host, port=settings.chroma_port
    )
    vectors = VectorStore(
        client, embedder_name=emb.name, dim=emb.dim, prefix=settings.vector_namespace
    )
    if embedder is None and check_embedder and settings.embedder == "minilm":
        emb, vectors = providers.keep_built_minilm(emb, vectors, settings.model_cache)
    kb = KnowledgeBase(
        registry,
        vectors,
        emb,
        max_bytes=settings.max_upload_bytes,
        parse_budget_s=settings.parse_budget_s,
        check_embedder=check_embedder,
    )
    if check_embedder and kb.needs_reconcile:
        kb.reconcile()
    orders = OrderBook(engine)
    policies = PolicyStore(engine, settings.policy_path)
    service = SuggestionService(
        kb,
        orders,
        policy=policies.current,
        drafter=providers.llm_drafter(settings, engine) if drafter == "settings" else drafter,
        confidence=confidence_source(engine, settings.confidence_path).current,
        company=settings.company_name,
        intents=IntentClassifier.default(
            settings.intent_features, settings.model_cache, settings.intent_reader
        ),
    )
    ws = Workspace(settings, engine, kb, orders, policies, service)
    autoload = settings.demo_autoload if load_demo_if_empty is None else load_demo_if_empty
    if autoload and ws.is_empty:
        from copilot.demo import load_demo

        load_demo(ws)
    return ws
