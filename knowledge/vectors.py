"""Dense vectors in Chroma: embedded ``PersistentClient`` by default, ``HttpClient`` for a server.

One collection per language: a language filter is then a choice of collection, which keeps
the ~2 ms HNSW query time (Chroma's ``where`` filter costs 100 ms at 100k chunks). Vectors are
computed by our own :class:`~knowledge.embeddings.Embedder`, never by Chroma, so Chroma never
downloads its default model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import EmbedderMismatchError, IndexUnavailableError
from knowledge.localindex import ClientSource, Direct, local_index

_BATCH = 4000


def open_chroma(
    *, path: str | Path | None = None, host: str | None = None, port: int = 8000
) -> ClientSource:
    """Where the vector store gets its Chroma client: a server at ``host:port`` when a host is
    given, else the folder ``path``, shared safely with the other processes that open it
    (:mod:`knowledge.localindex`)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    try:
        if host:
            return Direct(chromadb.HttpClient(host=host, port=port, settings=settings))
        if path is None:
            raise IndexUnavailableError(
                "No index location configured.", "Set SOUFFLEUR_DATA_DIR or SOUFFLEUR_CHROMA_HOST."
            )
        Path(path).mkdir(parents=True, exist_ok=True)
        return local_index(
            Path(path), lambda: chromadb.PersistentClient(path=str(path), settings=settings)
        )
    except IndexUnavailableError:
        raise
    except Exception as exc:  # chromadb wraps connection and storage errors in many types
        where = f"the Chroma server at {host}:{port}" if host else f"the index at {path}"
        fix = (
            "Start it with `chroma run --path DIR --host HOST --port PORT`, or unset SOUFFLEUR_CHROMA_HOST."
            if host
            else "Check the data directory's permissions and free space."
        )
        raise IndexUnavailableError(
            f"Cannot open {where} ({exc.__class__.__name__}: {exc}).", fix
        ) from exc


def mismatch_error(on_disk: set[str], configured: str) -> EmbedderMismatchError:
    return EmbedderMismatchError(
        f"The knowledge index was built with the embedder '{', '.join(sorted(on_disk))}', "
        f"but '{configured}' is configured: their vectors are not comparable.",
        "Run `souffleur reindex` to rebuild the index with the configured embedder, "
        "or set SOUFFLEUR_EMBEDDER back to the one the index was built with.",
    )


class VectorStore:
    """Chunk vectors partitioned by language, tagged with the embedder that made them.
    ``source``: :func:`open_chroma`'s (a bare client is used as it is)."""

    def __init__(
        self, source: Any, *, embedder_name: str, dim: int, prefix: str = "souffleur"
    ) -> None:
        self.source: ClientSource = source if hasattr(source, "reading") else Direct(source)
        self.embedder_name = embedder_name
        self.dim = dim
        self.prefix = re.sub(r"[^a-zA-Z0-9_-]", "_", prefix)
        self._collections: dict[str, Any] = {}
        self._opened = self.source.opened
        self._languages: tuple[float, list[str]] | None = None

    @contextmanager
    def _client(self, *, write: bool) -> Iterator[Any]:
        """The client, for one read or one write (never nested: see ``localindex``)."""
        with self.source.writing() if write else self.source.reading() as client:
            if self.source.opened != self._opened:  # opened again: its collections are new
                self._collections.clear()
                self._languages = None
                self._opened = self.source.opened
            yield client

    def _name(self, lang: str) -> str:
        safe = re.sub(r"[^a-z]", "", lang.lower())[:8] or "xx"
        return f"{self.prefix}_{safe}"

    def languages(self) -> list[str]:
        """The languages with a collection (listed at most every few seconds: another process
        may have added one)."""
        if self._languages is not None and time.monotonic() - self._languages[0] < 2.0:
            return self._languages[1]
        with self._client(write=False) as client:
            return self._listed(client)

    def _listed(self, client: Any) -> list[str]:
        out = []
        # exactly "<prefix>_<lang>": another workspace's "<prefix>_x_fr" or "<prefix>-2_fr" is
        # never taken for one of ours (and so never reindexed or repaired away)
        own = re.compile(re.escape(self.prefix) + r"_([a-z]{1,8})")
        for col in client.list_collections():
            name = col if isinstance(col, str) else col.name
            if m := own.fullmatch(name):
                out.append(m.group(1))
        self._languages = (time.monotonic(), sorted(out))
        return self._languages[1]

    def built_with(self) -> set[str]:
        """The embedder names recorded on the existing collections."""
        with self._client(write=False) as client:
            return self._built_with(client)

    def _built_with(self, client: Any) -> set[str]:
        names = set()
        for lang in self._listed(client):
            meta = client.get_collection(self._name(lang)).metadata or {}
            names.add(str(meta.get("embedder", "unknown")))
        return names

    def check_embedder(self) -> None:
        with self._client(write=False) as client:
            self._check_embedder(client)

    def _check_embedder(self, client: Any) -> None:
        other = self._built_with(client) - {self.embedder_name}
        if other:
            raise mismatch_error(other, self.embedder_name)

    def _collection(self, client: Any, lang: str, *, create: bool) -> Any | None:
        name = self._name(lang)
        if name in self._collections:
            return self._collections[name]
        try:
            if create:
                self._languages = None  # a new language may appear
                col = client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 120}},
                    metadata={"embedder": self.embedder_name, "dim": self.dim},
                )
            else:
                col = client.get_collection(name, embedding_function=None)
        except Exception:  # chromadb raises NotFoundError/ValueError depending on the client
            if create:
                raise
            return None
        meta = col.metadata or {}
        if meta.get("embedder") not in (None, self.embedder_name):
            self._check_embedder(client)
        self._collections[name] = col
        return col

    def _fresh(self, client: Any, lang: str, *, create: bool) -> Any | None:
        """The collection, re-fetched: another process may have dropped and rebuilt it."""
        self._collections.pop(self._name(lang), None)
        return self._collection(client, lang, create=create)

    def _call(self, lang: str, fn: Any, *, write: bool, create: bool = False) -> Any:
        """``fn(collection)`` for one read or one write; ``create``: the collection is made
        if missing (else None when it is)."""
        from chromadb.errors import NotFoundError

        with self._client(write=write) as client:
            col = self._collection(client, lang, create=create)
            if col is None:
                return None
            try:
                return fn(col)
            except NotFoundError:
                col = self._fresh(client, lang, create=create)
                return None if col is None else fn(col)

    def add(self, ids: Sequence[str], vectors: np.ndarray, langs: Sequence[str]) -> None:
        by_lang: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            by_lang.setdefault(lang, []).append(i)
        for lang, rows in by_lang.items():
            for start in range(0, len(rows), _BATCH):
                part = rows[start : start + _BATCH]
                self._call(
                    lang,
                    lambda col, part=part: col.upsert(
                        ids=[ids[i] for i in part], embeddings=vectors[part]
                    ),
                    write=True,
                    create=True,
                )

    def delete(self, ids_by_lang: Iterable[tuple[str, str]]) -> None:
        grouped: dict[str, list[str]] = {}
        for chunk_id, lang in ids_by_lang:
            grouped.setdefault(lang, []).append(chunk_id)
        for lang, ids in grouped.items():
            for start in range(0, len(ids), _BATCH):
                self._call(
                    lang,
                    lambda col, start=start, ids=ids: col.delete(ids=ids[start : start + _BATCH]),
                    write=True,
                )

    def query(
        self, vector: np.ndarray, n: int, langs: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top ``n`` (chunk id, cosine similarity) over the given languages (all when None)."""
        results: list[tuple[str, float]] = []
        for lang in langs if langs is not None else self.languages():
            res = self._call(lang, lambda col: _query(col, vector, n), write=False)
            if res:
                results.extend(res)
        results.sort(key=lambda x: -x[1])
        return results[:n]

    def all_ids(self) -> dict[str, str]:
        """chunk id -> language of every stored vector."""
        out: dict[str, str] = {}
        with self._client(write=False) as client:
            for lang, col in self._own(client):
                for got in _pages(col, [], 10000):
                    out.update((cid, lang) for cid in got["ids"])
        return out

    def unreadable(self) -> list[str]:
        """The languages whose stored vectors Chroma cannot all read back: its in-memory index
        was saved over vectors another process had added (before ``localindex`` made the
        processes take turns). Reads every vector: for ``souffleur status --check``."""
        from chromadb.errors import InternalError

        out = []
        with self._client(write=False) as client:
            for lang, col in self._own(client):
                try:  # Chroma: "Error finding id" for an id its index lost
                    for _ in _pages(col, ["embeddings"], _BATCH):
                        pass
                except InternalError:
                    out.append(lang)
        return out

    def _own(self, client: Any) -> Iterator[tuple[str, Any]]:
        """This store's collections, by language, each fetched again."""
        for lang in self._listed(client):
            col = self._fresh(client, lang, create=False)
            if col is not None:
                yield lang, col

    def count(self) -> int:
        return sum(
            self._call(lang, lambda col: col.count(), write=False) or 0 for lang in self.languages()
        )

    def drop_all(self) -> None:
        with self._client(write=True) as client:
            for lang in self._listed(client):
                client.delete_collection(self._name(lang))
            self._collections.clear()
            self._languages = None


def _pages(col: Any, include: list[str], size: int) -> Iterator[dict[str, Any]]:
    """Every stored record of ``col``, ``size`` at a time."""
    offset = 0
    while (got := col.get(include=include, limit=size, offset=offset))["ids"]:
        yield got
        offset += len(got["ids"])


def _query(col: Any, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
    # n may exceed the collection's size: Chroma then returns what it has (no count() first:
    # counting costs more than the query itself).
    res = col.query(query_embeddings=vector.reshape(1, -1), n_results=n, include=["distances"])
    return [
        (cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)
    ]
