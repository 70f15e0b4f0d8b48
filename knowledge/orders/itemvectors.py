"""The vectors of the order feed's item names, kept in the database.

Order resolution compares the words of a message with the item names of the customer's orders
by meaning (``copilot.pipeline.orderchoice``): an item named in another language than the
feed's still designates its order. A catalogue's names recur across customers; kept here, each
is embedded once for all the processes that share the database, and over restarts, instead of
on each process's first suggestion that needs it (13 texts for one demo conversation, about
30 ms while the suggestion waits).

Only item names are kept, never a customer's words. The store is a cache: a database that
does not answer is a miss (the vectors are made again), said in the log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from knowledge.orders.tables import item_vectors_table

log = logging.getLogger(__name__)
_T = item_vectors_table


def _sha(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


class ItemVectors:
    """Item name -> unit vector, per embedder (its name, as indexes record theirs)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # the order book's (its migrations made the table)

    def get(self, embedder: str, names: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """The kept vectors of ``names`` (float32, ``dim`` wide); the others are absent."""
        by_sha = {_sha(n): n for n in names}
        if not by_sha:
            return {}
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(_T.c.name_sha256, _T.c.vector).where(
                        _T.c.embedder == embedder, _T.c.name_sha256.in_(list(by_sha))
                    )
                ).all()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("item vectors not read (%s): made again", type(exc).__name__)
            return {}
        out = {}
        for sha, blob in rows:
            vec = np.frombuffer(blob, dtype="<f4")
            if vec.size == dim:  # another width: made again (and kept over it)
                out[by_sha[sha]] = vec.astype(np.float32)
        return out

    def put(self, embedder: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Keep these vectors (a name another process kept meanwhile is written over: the
        same embedder gives the same vector)."""
        rows = {
            _sha(name): np.ascontiguousarray(vec, dtype="<f4").tobytes()
            for name, vec in vectors.items()
        }
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(_T).where(_T.c.embedder == embedder, _T.c.name_sha256.in_(list(rows)))
                )
                conn.execute(
                    sa.insert(_T),
                    [
                        {"embedder": embedder, "name_sha256": k, "vector": v}
                        for k, v in rows.items()
                    ],
                )
        except sa.exc.SQLAlchemyError as exc:  # a race lost or the database away: a cache miss
            log.warning("item vectors not kept (%s): made again next time", type(exc).__name__)
