"""The storage on a real PostgreSQL server, chosen by database URL alone (no code change).

A throwaway cluster is started in a temporary folder on 127.0.0.1 and a free port (``initdb`` +
``pg_ctl``, as the ``postgres`` user when the suite runs as root) and removed at the end. Each
test gets a fresh database. The cluster runs in a non-UTC time zone, as many servers do, to
check that timestamps still come back in UTC.

Skipped, with the reason, when the PostgreSQL server binaries or the psycopg driver are not
installed; set ``SOUFFLEUR_REQUIRE_POSTGRES=1`` (CI) to make that a failure instead.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

from copilot import Workspace, load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk import analytics
from copilot.desk.desk import Desk
from copilot.desk.store import MIGRATIONS as STORE_MIGRATIONS
from copilot.desk.store import ConflictError, ConversationStore
from knowledge import Customer, HashEmbedder, SouffleurError
from knowledge.db import make_engine, migrate
from knowledge.orders import MIGRATIONS as ORDER_MIGRATIONS
from knowledge.registry import MIGRATIONS as REGISTRY_MIGRATIONS
from tests.builders import escalate_as_drafted, jsonl, send_an_edited_follow_up
from tests.served import free_port
from tests.test_orders import ORDERS as TWO_ORDERS

pytestmark = pytest.mark.slow

SERVER_TZ = "Asia/Tokyo"  # UTC+9 all year: a timestamp read back in server time would show it
ALL_MIGRATIONS = {
    "knowledge.registry": REGISTRY_MIGRATIONS,
    "knowledge.orders": ORDER_MIGRATIONS,
    "copilot.store": STORE_MIGRATIONS,
}


# -- the throwaway cluster -----------------------------------------------------------------
def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("SOUFFLEUR_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"SOUFFLEUR_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _server_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    debian.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return debian[-1] if debian else None


@dataclass
class Cluster:
    port: int
    pg_ctl: list[str]  # the command, run as the server's user, with its data folder

    def restart(self) -> None:
        """Restart the server: every connection open until then is cut."""
        subprocess.run(
            [*self.pg_ctl, "-m", "fast", "-w", "restart"],
            capture_output=True,
            timeout=60,
            check=True,
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    bin_dir = _server_bin_dir()
    if bin_dir is None:
        _unavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
            " (Debian: apt-get install postgresql)"
        )
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="souffleur-pg-"))
    data, log = root / "data", root / "server.log"
    started = False
    try:
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)

        def run(*args: str) -> None:
            proc = subprocess.run(
                [*as_user, *args], capture_output=True, text=True, timeout=120, check=False
            )
            if proc.returncode != 0:
                server_log = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(
                    f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{server_log}"
                )

        run(
            str(bin_dir / "initdb"),
            *("-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"),
            "--no-sync",
        )
        for attempt in itertools.count(1):
            port = free_port()
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(port),
                "unix_socket_directories": f"'{root}'",
                "timezone": f"'{SERVER_TZ}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
            }
            with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:  # last one wins
                conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
            try:
                run(
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
            except RuntimeError:
                if attempt < 3:  # the free port was taken meanwhile: try another one
                    continue
                raise
            started = True
            break
        yield Cluster(port, [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log)])
    finally:
        if started:
            subprocess.run(
                [
                    *as_user,
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


_databases = itertools.count(1)


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database for one test."""
    return pg_cluster.create_database(f"souffleur_{next(_databases)}")


def open_pg_workspace(data_dir: Path, url: str) -> Workspace:
    settings = load_settings(data_dir=data_dir, database_url=url, demo_autoload=False)
    return open_workspace(settings, embedder=HashEmbedder(), drafter=None)


@pytest.fixture
def pg_ws(pg_url: str, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_pg_workspace(tmp_path / "data", pg_url)
    assert ws.engine.dialect.name == "postgresql"
    yield ws
    ws.engine.dispose()


def utc(dt: datetime) -> bool:
    return dt.tzinfo is not None and dt.utcoffset() == timedelta(0)


# -- knowledge: registry, chunks, generation, search ---------------------------------------
def kb_jsonl(path: Path, version: int, n_docs: int) -> Path:
    lines = [
        json.dumps(
            {
                "doc_id": f"doc-{i}",
                "title": f"Doc {i} v{version}",
                "lang": "fr" if i % 2 else "en",
                "text": f"## Section {i}\n\nDocument {i} version {version}. "
                + (
                    "Le colis est livré en trois jours ouvrés. "
                    if i % 2
                    else "The parcel arrives in three working days. "
                )
                * 30,
                "metadata": {"team": "support", "n": i},
            }
        )
        for i in range(n_docs)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_ingest_replace_delete_and_search(pg_ws: Workspace, tmp_path: Path) -> None:
    kb, registry = pg_ws.kb, pg_ws.kb.registry
    assert registry.generation() == 0
    hours = tmp_path / "hours.md"
    hours.write_text("# Hours\n\nWe answer from 9:00 to 18:00.", encoding="utf-8")
    results = kb.ingest_paths([kb_jsonl(tmp_path / "kb.jsonl", 1, 4), hours])
    assert [r.ok for r in results] == [True, True]
    docs = {d.doc_id: d for d in kb.documents()}
    assert set(docs) == {"doc-0", "doc-1", "doc-2", "doc-3", "hours"}
    d0 = docs["doc-0"]
    assert (d0.version, d0.status, d0.source_name, d0.lang) == (1, "active", "kb.jsonl", "en")
    assert d0.metadata == {"team": "support", "n": 0} and utc(d0.created_at) and utc(d0.updated_at)
    n_docs, n_chunks = registry.counts()
    assert n_docs == 5 and n_chunks == sum(d.chunk_count for d in docs.values()) > 5
    assert kb.stats()["vectors"] == n_chunks
    gen = registry.generation()
    assert gen >= 1

    # the same file again is a no-op
    before = {d.doc_id: (d.version, d.updated_at) for d in kb.documents()}
    (again,) = kb.ingest_paths([tmp_path / "kb.jsonl"])
    assert {d.status for d in again.docs} == {"unchanged"} and registry.generation() == gen
    assert {d.doc_id: (d.version, d.updated_at) for d in kb.documents()} == before

    # a changed file replaces its previous version; doc-3 is no longer in it
    (res,) = kb.ingest_paths([kb_jsonl(tmp_path / "kb.jsonl", 2, 3)])
    assert {d.doc_id: d.status for d in res.docs} == {
        "doc-0": "updated",
        "doc-1": "updated",
        "doc-2": "updated",
        "doc-3": "removed",
    }
    assert registry.generation() == gen + 1
    d0v2 = kb.document("doc-0")
    assert d0v2 is not None and d0v2.version == 2 and d0v2.title == "Doc 0 v2"
    assert d0v2.created_at == d0.created_at and d0v2.updated_at > d0.updated_at
    hits = kb.search("parcel three working days", k=20)
    hits = [h for h in hits if h.doc_id != "hours"]
    assert hits and all("::v2-" in h.chunk.chunk_id and h.title.endswith("v2") for h in hits)
    assert kb.stats()["vectors"] == kb.stats()["chunks"]
    (fr,) = kb.search("colis livré", k=1, lang="fr")
    assert fr.doc_id == "doc-1" and fr.bm25_rank == 1

    # delete: the document and all its chunks
    assert kb.delete("doc-2") is True and kb.delete("doc-2") is False
    assert registry.generation() == gen + 2
    assert kb.document("doc-2") is None
    assert all(h.doc_id != "doc-2" for h in kb.search("parcel working days document", k=50))
    with pg_ws.engine.connect() as conn:
        assert registry.chunk_ids_of(conn, ["doc-2"]) == []
    assert kb.stats()["vectors"] == kb.stats()["chunks"] == registry.counts()[1]
    assert not kb.needs_reconcile

    # a new process on the same database sees the same state
    other = open_pg_workspace(tmp_path / "data", pg_ws.settings.db_url)
    assert [d.doc_id for d in other.kb.documents()] == [d.doc_id for d in kb.documents()]
    assert other.kb.registry.generation() == gen + 2
    other.engine.dispose()


def test_single_file_replacement(pg_ws: Workspace) -> None:
    kb = pg_ws.kb
    kb.ingest_file("policy.md", b"# Returns\n\nYou have 14 days to return an item.")
    kb.ingest_file("policy.md", b"# Returns\n\nYou have 30 days to return an item.")
    (doc,) = kb.documents()
    assert doc.doc_id == "policy" and doc.version == 2
    (hit,) = kb.search("how many days to return", k=1)
    assert "30 days" in hit.chunk.text


def test_concurrent_uploads_of_one_file_never_mix_versions(
    pg_ws: Workspace, tmp_path: Path
) -> None:
    """Two uploads of a new version reach the commit point together: one commits, the other
    sees it, reports the conflict and is redone on top (READ COMMITTED must not mix them)."""
    pg_ws.kb.ingest_paths([kb_jsonl(tmp_path / "kb.jsonl", 1, 3)])
    gen = pg_ws.kb.registry.generation()
    other = open_pg_workspace(pg_ws.settings.data_dir, pg_ws.settings.db_url)
    at_commit = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def upload(ws: Workspace, version: int) -> None:
        waited = False

        def hook(stage: str) -> None:
            nonlocal waited
            if stage == "embedded" and not waited:
                waited = True
                at_commit.wait()

        try:
            data = kb_jsonl(tmp_path / f"v{version}.jsonl", version, 3).read_bytes()
            (res,) = ws.kb.ingest_sources([("kb.jsonl", data)], hook=hook)
            assert res.ok, res.error
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(ws, v)) for ws, v in ((pg_ws, 2), (other, 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.engine.dispose()
    assert errors == []
    registry = pg_ws.kb.registry
    assert registry.generation() == gen + 2  # two commits, two generations (no lost update)
    for doc in registry.documents():
        assert doc.version == 3  # 1, then one upload's 2, then the other's redone as 3
        chunks = [c for c in registry.active_chunks() if c.doc_id == doc.doc_id]
        assert len(chunks) == doc.chunk_count and {c.version for c in chunks} == {3}
        assert all(f"::{doc.revision}::" in c.chunk_id for c in chunks)


def test_values_sqlite_accepts_are_accepted(pg_ws: Workspace) -> None:
    """SQLite ignores declared lengths: ids, names and codes longer than a ``String(n)`` must
    be stored on PostgreSQL too (they used to fail with 'value too long')."""
    long_id = "d" * 300
    record = {"doc_id": long_id, "title": "T" * 5000, "text": "Returns are free. " * 4000}
    res = pg_ws.kb.ingest_file("n" * 600 + ".jsonl", json.dumps(record).encode())
    assert res.ok, res.error
    big = pg_ws.kb.document(long_id)
    assert big is not None and len(big.title) == 5000 and big.source_name.startswith("n" * 600)
    assert pg_ws.kb.search("returns free", k=1)[0].doc_id == long_id
    order = {
        "order_number": "LUM-" + "1" * 80,
        "customer_id": "C" * 200,
        "created_at": "2026-11-01",
        "status": "shipped",
        "tracking_number": "T" * 80,
    }
    report = pg_ws.orders.import_records([(1, order)])
    assert (report.inserted, report.problems) == (1, [])
    (mine,) = pg_ws.orders.orders_of("C" * 200)
    assert mine.tracking_number == "T" * 80 and pg_ws.orders.order_of("C" * 200, "LUM-" + "1" * 80)
    pg_ws.orders.import_customers(
        [Customer("C" * 200, "N", lang="fr-FR-x-a", country="United Kingdom")]
    )
    card = pg_ws.orders.customer("C" * 200)
    assert card is not None and card.country == "United Kingdom"
    store = ConversationStore(pg_ws.engine)
    cid = store.create(
        customer_id="C" * 200, channel="facebook-messenger", turns=[("customer", "Hi", None)]
    )
    store.add_message(cid, "agent", "Hello", author="agent-" + "a" * 200)
    assert store.get(cid).messages[-1].author == "agent-" + "a" * 200


def test_nul_characters_do_not_fail_writes(pg_ws: Workspace) -> None:
    """PostgreSQL refuses NUL in text where SQLite stores it: a pasted message, an order field
    or a knowledge line carrying one is stored without it instead of failing the write."""
    record = {"doc_id": "nul-doc", "title": "Re\u0000funds", "text": "Refunds take\u0000 5 days."}
    res = pg_ws.kb.ingest_file("nul.jsonl", json.dumps(record).encode())
    assert res.ok, res.error
    doc = pg_ws.kb.document("nul-doc")
    assert doc is not None and doc.title == "Refunds"
    order = {
        "order_number": "LUM-9001",
        "customer_id": "C-nul",
        "created_at": "2026-11-01",
        "status": "shipped",
        "carrier": "Colis\x00simo",
    }
    report = pg_ws.orders.import_records([(1, order)])
    assert (report.inserted, report.problems) == (1, [])
    (mine,) = pg_ws.orders.orders_of("C-nul")
    assert mine.carrier == "Colissimo"
    store = ConversationStore(pg_ws.engine)
    cid = store.create(
        customer_id="C-nul", channel="webchat", turns=[("customer", "Hi\x00 there", None)]
    )
    store.add_message(cid, "customer", "where is\x00 my parcel")
    assert [m.text for m in store.get(cid).messages] == ["Hi there", "where is my parcel"]


def test_a_database_made_by_the_first_schema_is_upgraded(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    for ns, steps in ALL_MIGRATIONS.items():  # as created before the TEXT migration existed
        assert migrate(engine, ns, steps[:1]) == 1
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO customers (customer_id, name, email, phone, city, country, updated_at)"
                " VALUES ('C1', 'Camille', '', '', '', 'FR', '2026-11-01')"
            )
        )
    ws = open_pg_workspace(tmp_path / "data", pg_url)
    ConversationStore(ws.engine)
    with engine.connect() as conn:
        versions = dict(
            conn.execute(sa.text("SELECT namespace, version FROM schema_versions")).all()
        )
        bounded = conn.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND character_maximum_length IS NOT NULL"
                " AND table_name != 'schema_versions'"
            )
        ).all()
    # the old namespaces upgraded to their last step (newer ones are made whole at first use)
    assert {ns: versions[ns] for ns in ALL_MIGRATIONS} == {
        ns: len(steps) for ns, steps in ALL_MIGRATIONS.items()
    }
    assert bounded == []
    card = ws.orders.customer("C1")
    assert card is not None and card.name == "Camille"
    ws.engine.dispose()
    engine.dispose()


# -- orders: import report, re-import, customer-scoped lookup ------------------------------
ORDERS = [
    *TWO_ORDERS,
    {  # no tracking number: NULL in the tracking lookup
        "order_number": "LUM-104100",
        "customer_id": "C1",
        "customer_name": "Camille Martin",
        "email": "camille@example.fr",
        "created_at": "2026-10-01T10:00:00+02:00",
        "status": "delivered",
        "total": "12,50",
    },
]


def test_order_feed_import_reimport_and_scoped_lookup(pg_ws: Workspace) -> None:
    book = pg_ws.orders
    bad = {
        "order_number": "LUM-3",
        "customer_id": "C3",
        "created_at": "soon",
        "status": "teleported",
    }
    report = book.import_file("orders.jsonl", jsonl([*ORDERS, bad]) + b"\n{oops\n")
    assert (report.inserted, report.updated) == (3, 0)
    assert report.invalid_rows == [4, 5]
    assert {(p.row, p.field) for p in report.problems} >= {
        (4, "created_at"),
        (4, "status"),
        (5, "line"),
    }
    assert book.count() == 3

    # re-import: the same order, however its number is written, is updated, not duplicated
    changed = dict(
        ORDERS[0],
        status="delivered",
        delivered_at="2026-11-20T11:00:00+01:00",
        order_number="lum 104233",
    )
    report = book.import_file("orders.json", json.dumps([changed]).encode())
    assert (report.inserted, report.updated, report.problems) == (0, 1, [])
    assert book.count() == 3
    mine = book.orders_of("C1")
    assert [o.order_number for o in mine] == ["lum 104233", "LUM-104100"]  # newest first
    assert mine[0].status == "delivered" and mine[0].delivered_at is not None
    assert mine[0].items[0].name == "Lampe Opaline" and mine[0].total == pytest.approx(93.9)
    assert mine[1].total == pytest.approx(12.5) and mine[1].tracking_number is None

    # customer-scoped lookup: own orders whatever the formatting, another customer's never
    for quoted in ("LUM-104233", "lum104233", "commande 104233", "6a12345678901"):
        found = book.quoted("C1", f"Bonjour, où en est {quoted} ?")
        assert [o.order_number for o in found.own] == ["lum 104233"], quoted
        assert found.foreign == () and found.unknown == ()
    for quoted in ("LUM-200001", "#LUM 200 001", "1234567890"):
        found = book.quoted("C1", f"where is my order {quoted}?")
        assert found.own == () and len(found.foreign) == 1 and found.foreign[0] in quoted, quoted
        assert book.order_of("C1", quoted) is None
    assert book.quoted("C1", "order LUM-999999 please").unknown == ("LUM-999999",)
    assert book.quoted(None, "order LUM-104233").foreign == ("LUM-104233",)
    assert book.order_of("C2", "LUM-200001") is not None

    # customers: cards created by the feed, then updated by a customer import
    card = book.customer("C1")
    assert card is not None and card.name == "Camille Martin"
    book.import_customers([Customer("C1", "Camille M.", "c@example.fr", lang="fr", country="FR")])
    book.import_customers(
        [Customer("C1", "Camille Martin", "c@example.fr", lang="fr", country="FR")]
    )
    card = book.customer("C1")
    assert card is not None and (card.name, card.lang, card.country) == (
        "Camille Martin",
        "fr",
        "FR",
    )
    assert [c.customer_id for c in book.customers()] == ["C1", "C2"]
    assert sorted(book.all_order_numbers()) == [
        ("LUM-104100", "C1"),
        ("LUM-200001", "C2"),
        ("lum 104233", "C1"),
    ]


# -- the desk on the demo store: drafts, sends, conflicts, escalations, analytics ----------
@pytest.fixture(scope="module")
def desk(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    url = pg_cluster.create_database("souffleur_desk")
    ws = open_pg_workspace(tmp_path_factory.mktemp("pg-desk") / "data", url)
    report = load_demo(ws, today=ANCHOR)
    assert report.documents > 20 and report.orders.problems == [] and report.conversations >= 30
    ws.service.today = lambda: ANCHOR
    yield Desk(ws)
    ws.engine.dispose()


def test_desk_send_as_is_then_edited(desk: Desk) -> None:
    assert len(desk.inbox()) >= 30
    draft = desk.ensure_draft("conv-001")
    assert (
        draft is not None
        and draft.draft_text == draft.edited_text
        and "LUM-105097" in draft.draft_text
    )
    assert utc(draft.created_at)
    assert desk.ensure_draft("conv-001").id == draft.id  # type: ignore[union-attr]
    desk.store.autosave(draft.id, draft.draft_text + " !")
    assert desk.store.current_draft("conv-001").edited_text.endswith(" !")  # type: ignore[union-attr]
    desk.store.autosave(draft.id, draft.draft_text)
    view = desk.view("conv-001")
    assert view.customer is not None and view.orders
    assert all(utc(m.created_at) for m in view.conversation.messages)
    desk.send(
        "conv-001", draft.draft_text, agent="alice", expected_version=view.conversation.version
    )
    row = desk.store.feedback_rows()[-1]
    assert row["outcome"] == "accepted" and row["edit_ratio"] == 0 and row["seconds_to_send"] > 0
    assert row["draft_id"] == draft.id and row["agent"] == "alice" and utc(row["created_at"])

    desk.post_customer_message("conv-001", "Et je peux la retourner si elle ne me plaît pas ?")
    send_an_edited_follow_up(desk, draft)
    assert desk.store.current_draft("conv-001") is None


@pytest.mark.fault
def test_desk_stale_version_conflicts_and_rolls_back(desk: Desk) -> None:
    desk.ensure_draft("conv-002")
    v = desk.view("conv-002").conversation.version
    n_feedback = len(desk.store.feedback_rows())
    desk.send("conv-002", "Première réponse", agent="alice", expected_version=v)
    with pytest.raises(ConflictError, match="another window"):
        desk.send("conv-002", "Seconde réponse", agent="bob", expected_version=v)
    agent_msgs = [m.text for m in desk.view("conv-002").conversation.messages if m.role == "agent"]
    assert agent_msgs == ["Première réponse"]
    assert len(desk.store.feedback_rows()) == n_feedback + 1
    with pytest.raises(SouffleurError, match="No conversation"):
        desk.store.send("conv-nope", "Hello", agent="alice", expected_version=1)


def test_desk_two_agents_sending_at_once_one_wins(desk: Desk) -> None:
    desk.ensure_draft("conv-005")
    v = desk.view("conv-005").conversation.version
    go = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def send(agent: str) -> None:
        store = ConversationStore(desk.ws.engine)
        go.wait()
        try:
            store.send("conv-005", f"Réponse de {agent}", agent=agent, expected_version=v)
            outcomes.append("sent")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=send, args=(a,)) for a in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["conflict", "sent"]
    rec = desk.view("conv-005").conversation
    assert len([m for m in rec.messages if m.role == "agent"]) == 1 and rec.version == v + 1


def test_desk_escalate_discard_and_knowledge_gaps(desk: Desk) -> None:
    queue = escalate_as_drafted(desk, "conv-022")
    view = desk.view("conv-022")
    assert view.conversation.status == "escalated" and view.conversation.queue == queue
    assert view.conversation.messages[-1].role == "system"
    row = desk.store.feedback_rows()[-1]
    assert row["outcome"] == "escalated" and row["queue"] == queue and row["reasons"]
    assert "conv-022" not in [r.conversation_id for r in desk.inbox()]
    assert "conv-022" in [r.conversation_id for r in desk.inbox(statuses=("escalated",))]

    desk.ensure_draft("conv-003")
    assert not desk.discarded("conv-003")
    desk.discard("conv-003", agent="alice")
    assert desk.store.current_draft("conv-003") is None and desk.discarded("conv-003")
    assert desk.store.feedback_rows()[-1]["outcome"] == "rejected"

    for text in [
        "Vendez-vous des ampoules pour aquarium ?",
        "Avez-vous des ampoules d'aquarium ?",
        "Do you sell garden gnomes?",
    ]:
        cid = desk.new_conversation(None, text, channel="whatsapp")
        assert desk.ensure_draft(cid) is not None
    gaps = desk.knowledge_gaps(max_confidence=1.0)
    aquarium = [g for g in gaps if "aquarium" in g.example]
    assert len(aquarium) == 1 and aquarium[0].count == 2
    with desk.ws.engine.connect() as conn:
        n_calls = conn.execute(sa.text("SELECT count(*) FROM model_calls")).scalar_one()
        n_audit = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    assert n_calls >= 6 and n_audit >= 40


def test_analytics_on_postgres_rows(desk: Desk) -> None:
    desk.ensure_draft("conv-004")
    desk.send(
        "conv-004",
        "Bonjour, c'est noté.",
        agent="alice",
        expected_version=desk.view("conv-004").conversation.version,
    )
    rows = desk.store.feedback_rows()
    drafts = desk.store.draft_rows()
    assert rows and drafts
    assert all(isinstance(r["escalate"], bool) for r in drafts)
    acc = analytics.acceptance(rows).set_index("outcome")["count"]
    assert (
        acc["accepted"] >= 1
        and acc["edited"] >= 2
        and acc["escalated"] >= 1
        and acc["rejected"] >= 1
    )
    dist = analytics.edit_ratio_distribution(rows)
    assert int(dist["count"].sum()) == acc["accepted"] + acc["edited"]
    reasons = analytics.escalation_by_reason(rows)
    assert reasons["escalated"].sum() >= 1
    ttfr = analytics.time_to_first_reply(rows)
    assert ttfr["replies"] is not None and int(ttfr["replies"]) >= 3 and ttfr["median_s"]
    per_day = analytics.drafts_per_day(drafts)
    assert int(per_day["drafts"].sum()) == len(drafts) and int(per_day["flagged"].sum()) >= 1
    summary = analytics.summary(rows, drafts)
    assert summary["handled"] == len(rows) and summary["drafts"] == len(drafts)
    recent = desk.store.feedback_rows(since=datetime.now(UTC) - timedelta(hours=1))
    assert len(recent) == len(rows)
    assert desk.store.feedback_rows(since=datetime.now(UTC) + timedelta(hours=1)) == []


# -- migrations and transactions -----------------------------------------------------------


def test_migrations_run_twice_and_concurrently(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    try:
        # several processes opening one fresh database at once: each step applies once
        errors: list[BaseException] = []
        barrier = threading.Barrier(4)

        def open_one() -> None:
            try:
                eng = make_engine(pg_url)
                barrier.wait()
                for ns, steps in ALL_MIGRATIONS.items():
                    assert migrate(eng, ns, steps) == len(steps)
                eng.dispose()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        for ns, steps in ALL_MIGRATIONS.items():  # and again: nothing to do
            assert migrate(engine, ns, steps) == len(steps)
        with engine.connect() as conn:
            versions = dict(
                conn.execute(sa.text("SELECT namespace, version FROM schema_versions")).all()
            )
        assert versions == {ns: len(steps) for ns, steps in ALL_MIGRATIONS.items()}
        ws = open_pg_workspace(tmp_path / "a", pg_url)  # a workspace on the migrated database
        ws2 = open_pg_workspace(tmp_path / "b", pg_url)
        assert ws.is_empty and ws2.is_empty
        ConversationStore(ws.engine)
        ConversationStore(ws.engine)
        ws.engine.dispose()
        ws2.engine.dispose()
    finally:
        engine.dispose()


@pytest.mark.fault
def test_a_server_restart_costs_no_request(pg_ws: Workspace, pg_cluster: Cluster) -> None:
    """Pooled connections cut by a restart (maintenance, fail-over) are replaced on checkout."""
    store = ConversationStore(pg_ws.engine)
    cid = store.create(customer_id="C1", turns=[("customer", "Bonjour", None)])
    assert pg_ws.orders.count() == 0 and pg_ws.kb.registry.generation() == 0
    pg_cluster.restart()
    assert store.get(cid).messages[0].text == "Bonjour"
    assert store.add_message(cid, "customer", "Toujours là ?") > 0


def test_a_failed_transaction_leaves_nothing_behind(
    pg_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send that fails after its writes (the audit row here) rolls all of them back, and the
    pooled connection is usable afterwards (no transaction left aborted)."""
    store = ConversationStore(pg_ws.engine)
    cid = store.create(customer_id="C1", turns=[("customer", "Bonjour", None)])
    with pytest.raises(sa.exc.IntegrityError):
        store.create(customer_id="C1", conversation_id=cid)
    draft = Desk(pg_ws, store).ensure_draft(cid)
    assert draft is not None

    def broken_audit(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(ConversationStore, "_audit", staticmethod(broken_audit))
    with pytest.raises(RuntimeError, match="audit"):
        store.send(cid, "Bonjour !", agent="alice", expected_version=1, draft_id=draft.id)
    monkeypatch.undo()
    rec = store.get(cid)
    assert [m.role for m in rec.messages] == ["customer"] and rec.version == 1
    assert store.feedback_rows() == [] and store.current_draft(cid) == draft
    store.send(cid, "Bonjour !", agent="alice", expected_version=1, draft_id=draft.id)
    assert store.get(cid).version == 2 and store.feedback_rows()[0]["outcome"] == "edited"
