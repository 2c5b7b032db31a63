"""The sandbox's storage: one SQLite file (WAL) holding users and accounts as JSON bytes.

Each user and account is stored as the exact JSON document the API serves, beside the
few columns needed to order, filter and cascade, so serving a page is one indexed query
and a byte join. Every thread gets its own connection; writes are serialized by a lock
and run in ``BEGIN IMMEDIATE`` transactions; a list's count and page are read in one
transaction, so they agree.

Order of every list: newest ``created_at`` first, ties broken by descending id; or, on
request (``ascending``), its exact reverse: oldest first, ties by ascending id.

Examples:
    >>> import tempfile, os
    >>> from datetime import UTC, datetime
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.sqlite")
    >>> store = Store(path)
    >>> user = store.create_user({"group": "A"}, datetime(2026, 1, 1, tzinfo=UTC))
    >>> store.list_users(limit=10, offset=0)[0]
    1
    >>> store.close()
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
import uuid
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from argyle_nb.envelope import dumps_json, loads_json
from argyle_nb.errors import ArgyleRuntimeError
from argyle_nb.sandbox.documents import connected_lists, iso, micros, parse_iso, user_document

__all__ = ["MAX_OFFSET", "NEVER_CONNECTED_TTL", "UNSET", "Store"]

#: Accounts that never connected are removed this long after creation (Accounts page).
NEVER_CONNECTED_TTL: Final = timedelta(days=30)
#: Offsets beyond this are treated as this (SQLite integers are 64-bit).
MAX_OFFSET: Final = 2**62

#: Marks "field not given" in :meth:`Store.patch_user`.
UNSET: Final[Any] = object()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', '0');
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    created_us INTEGER NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS users_order ON users (created_us DESC, id DESC);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    was_connected INTEGER NOT NULL,
    link_item TEXT,
    employers BLOB NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_order ON accounts (created_us DESC, id DESC);
CREATE INDEX IF NOT EXISTS accounts_user ON accounts (user, created_us DESC, id DESC);
CREATE INDEX IF NOT EXISTS accounts_unconnected ON accounts (created_us) WHERE was_connected = 0;
"""

#: Sets keys of the ``meta`` table (``(key, value)`` parameters).
_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
#: Every write transaction bumps this counter, so readers (in any process) know when
#: their cached order of a table is stale.
_BUMP_VERSION = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'"
#: The page of one user's accounts, by ``ascending``.
_USER_ACCOUNTS_PAGE = {
    ascending: "SELECT doc FROM accounts WHERE user = ? "
    f"ORDER BY created_us {way}, id {way} LIMIT ? OFFSET ?"
    for ascending, way in ((False, "DESC"), (True, "ASC"))
}


class Store:
    """Users and accounts of one sandbox in the SQLite file at ``path``.

    Args:
        path: the database file (created with its tables when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        #: table -> (data version, its rowids newest first): offset pages without scans
        self._orders: dict[str, tuple[str, array[int]]] = {}
        with self._write_lock:
            self._db().executescript(_SCHEMA)
        self.token_secret = self._meta("token_secret", lambda: secrets.token_hex(32))
        self.client_id = self._meta("client_id", lambda: str(uuid.uuid4()))

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise ArgyleRuntimeError("the store is closed")
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (serialized in this process, immediate in SQLite)."""
        with self._write_lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute(_BUMP_VERSION)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot."""
        db = self._db()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def _meta(self, key: str, default: Any) -> str:
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            value = str(default())
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    def close(self) -> None:
        """Close every connection (later calls raise)."""
        self._closed = True
        with self._connections_lock:
            for db in self._connections:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    db.close()
            self._connections.clear()

    # -- bulk ----------------------------------------------------------------------

    def is_empty(self) -> bool:
        """Whether the database holds no user."""
        with self._read() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None

    def insert(self, data: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
        """Insert users with their accounts (as the API serves them); returns the user count."""
        users: list[tuple[str, int, bytes]] = []
        accounts: list[tuple[str, str, int, int, str | None, bytes, bytes]] = []
        total = 0
        with self._write() as db:
            for user, user_accounts in data:
                users.append(_user_row(user))
                accounts.extend(_account_row(account) for account in user_accounts)
                if len(users) >= 5000:
                    total += self._flush(db, users, accounts)
            total += self._flush(db, users, accounts)
        return total

    @staticmethod
    def _flush(
        db: sqlite3.Connection,
        users: list[tuple[str, int, bytes]],
        accounts: list[tuple[str, str, int, int, str | None, bytes, bytes]],
    ) -> int:
        db.executemany("INSERT INTO users (id, created_us, doc) VALUES (?, ?, ?)", users)
        db.executemany(
            "INSERT INTO accounts (id, user, created_us, was_connected, link_item, employers, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            accounts,
        )
        count = len(users)
        users.clear()
        accounts.clear()
        return count

    # -- users ---------------------------------------------------------------------

    def create_user(self, metadata: Any, now: datetime) -> dict[str, Any]:
        """Create a user with ``metadata`` at ``now``; returns its document."""
        user_id = str(uuid.uuid4())
        doc = user_document(user_id, iso(now), [], [], metadata)
        with self._write() as db:
            db.execute(
                "INSERT INTO users (id, created_us, doc) VALUES (?, ?, ?)",
                (user_id, micros(now), dumps_json(doc)),
            )
        return doc

    def get_user(self, user_id: str) -> bytes | None:
        """The user's JSON document, or None."""
        row = self._db().execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def user_exists(self, user_id: str) -> bool:
        """Whether the user exists."""
        return (
            self._db().execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone()
            is not None
        )

    def patch_user(self, user_id: str, metadata: Any = UNSET) -> bytes | None:
        """Replace the user's ``external_metadata`` (unless UNSET); the new document, or None."""
        with self._write() as db:
            row = db.execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                return None
            if metadata is UNSET:
                return bytes(row[0])
            doc = loads_json(row[0])
            doc["external_metadata"] = metadata
            data = dumps_json(doc)
            db.execute("UPDATE users SET doc = ? WHERE id = ?", (data, user_id))
            return data

    def delete_user(self, user_id: str) -> bool:
        """Delete the user and all its accounts; False when there was no such user."""
        with self._write() as db:
            gone = db.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount
            db.execute("DELETE FROM accounts WHERE user = ?", (user_id,))
            return gone > 0

    def list_users(
        self, limit: int, offset: int, *, ascending: bool = False
    ) -> tuple[int, list[bytes]]:
        """``(count, page)`` of users, newest first (``ascending``: oldest first)."""
        with self._read() as db:
            return self._page(db, "users", limit, offset, ascending)

    # -- accounts ------------------------------------------------------------------

    def get_account(self, account_id: str) -> bytes | None:
        """The account's JSON document, or None."""
        row = self._db().execute("SELECT doc FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def delete_account(self, account_id: str) -> bool:
        """Delete one account (and update its user); False when there was no such account."""
        with self._write() as db:
            row = db.execute("SELECT user FROM accounts WHERE id = ?", (account_id,)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            self._refresh_users(db, {row[0]})
            return True

    def list_accounts(
        self, user: str | None, limit: int, offset: int, *, ascending: bool = False
    ) -> tuple[int, list[bytes]]:
        """``(count, page)`` of accounts (of one user when ``user`` is given), newest first
        (``ascending``: oldest first)."""
        offset = min(offset, MAX_OFFSET)
        with self._read() as db:
            if user is None:
                return self._page(db, "accounts", limit, offset, ascending)
            count = db.execute("SELECT COUNT(*) FROM accounts WHERE user = ?", (user,)).fetchone()[
                0
            ]
            page = _USER_ACCOUNTS_PAGE[ascending]
            rows = db.execute(page, (user, limit, offset)).fetchall()
        return int(count), [row[0] for row in rows]

    def _page(
        self, db: sqlite3.Connection, table: str, limit: int, offset: int, ascending: bool
    ) -> tuple[int, list[bytes]]:
        """``(count, page)`` of a whole table from its cached order (rebuilt when stale).

        The cache holds the newest-first order; oldest first is read off its end, reversed.
        """
        version = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
        cached = self._orders.get(table)
        if cached is None or cached[0] != version:
            order = array(
                "q",
                (r[0] for r in db.execute(
                    f"SELECT rowid FROM {table} ORDER BY created_us DESC, id DESC"
                )),
            )  # fmt: skip
            cached = (version, order)
            self._orders[table] = cached
        order = cached[1]
        if ascending:
            end = max(len(order) - offset, 0)
            wanted = order[max(end - limit, 0) : end].tolist()[::-1]
        else:
            wanted = order[offset : offset + limit].tolist()
        if not wanted:
            return len(order), []
        marks = ",".join("?" * len(wanted))
        docs = dict(db.execute(f"SELECT rowid, doc FROM {table} WHERE rowid IN ({marks})", wanted))
        return len(order), [docs[rowid] for rowid in wanted]

    def _refresh_users(self, db: sqlite3.Connection, user_ids: set[str]) -> None:
        """Recompute the connected lists of ``user_ids`` from their accounts."""
        for user_id in user_ids:
            row = db.execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                continue
            accounts = db.execute(
                "SELECT link_item, employers, was_connected FROM accounts WHERE user = ?"
                " ORDER BY created_us, id",
                (user_id,),
            ).fetchall()
            employers, providers = connected_lists(
                (link, orjson.loads(names), bool(was)) for link, names, was in accounts
            )
            doc = loads_json(row[0])
            doc["employers_connected"] = employers
            doc["data_providers_connected"] = providers
            db.execute("UPDATE users SET doc = ? WHERE id = ?", (dumps_json(doc), user_id))

    def sweep(self, now: datetime) -> int:
        """Remove accounts that never connected and are older than 30 days; how many went."""
        cutoff = micros(now - NEVER_CONNECTED_TTL)
        stale = self._db().execute(
            "SELECT 1 FROM accounts WHERE was_connected = 0 AND created_us < ? LIMIT 1", (cutoff,)
        )
        if stale.fetchone() is None:  # the common case: no write, caches stay warm
            return 0
        with self._write() as db:
            rows = db.execute(
                "SELECT id, user FROM accounts WHERE was_connected = 0 AND created_us < ?",
                (cutoff,),
            ).fetchall()
            if rows:
                db.executemany("DELETE FROM accounts WHERE id = ?", [(r[0],) for r in rows])
                self._refresh_users(db, {r[1] for r in rows})
        return len(rows)

    # -- the clock (argyle_nb.sandbox.living) -------------------------------------

    def meta(self, key: str) -> str | None:
        """The value of ``key`` in the database's ``meta`` table, or None."""
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        """Set keys of the ``meta`` table (one transaction)."""
        with self._write() as db:
            db.executemany(_SET_META, list(values.items()))

    def counts(self) -> tuple[int, int]:
        """``(users, accounts)`` in the database."""
        with self._read() as db:
            users = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            accounts = db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
        return int(users), int(accounts)


def _user_row(user: dict[str, Any]) -> tuple[str, int, bytes]:
    """The row of the ``users`` table of a user's document."""
    return (user["id"], micros(parse_iso(user["created_at"])), orjson.dumps(user))


def _account_row(account: dict[str, Any]) -> tuple[str, str, int, int, str | None, bytes, bytes]:
    """The row of the ``accounts`` table of an account's document."""
    return (
        account["id"],
        account["user"],
        micros(parse_iso(account["created_at"])),
        int(bool(account.get("was_connected"))),
        account.get("link_item"),
        orjson.dumps(account.get("employers") or []),
        orjson.dumps(account),
    )
