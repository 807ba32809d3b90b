"""A SQLite journal of transactions: written before a transaction is sent, and after.

Every side effect goes through four recorded states::

    intended ──► signed (nonce, hash, raw bytes) ──► sent ──► mined | failed
         └──────────────────────────────────────────────────► dropped

The signed transaction is committed to disk *before* it is broadcast, so whatever moment a process
dies at, the journal knows either that nothing was sent (``intended``) or the exact transaction
that may have been (hash + nonce + raw bytes). :meth:`ChainClient._reconcile
<minting.chain.client.ChainClient>` resolves each open entry against the chain on resume:
a receipt settles it; a transaction still unknown to the chain whose nonce is unused is
re-broadcast byte for byte (same hash, so it can land at most once); one whose nonce was taken by
another transaction is ``dropped``, after checking with ``exists`` / ``totalSupply`` that it was
not replaced by an equivalent one. Each reconciliation settles every open entry of the chain it
sees (:meth:`Journal.open_entries`), not only the operation at hand: a URI prefix whose
transaction was mined just before a kill is settled even though the resumed run finds the
prefix registered and never calls its operation again. Writes are synchronous (WAL,
``synchronous=FULL``): a SIGKILL right after a write keeps it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minting.chain.errors import JournalError

OPEN_STATES = ("intended", "signed", "sent")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS txs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    op         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    chain_id   INTEGER NOT NULL,
    contract   TEXT,
    sender     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    status     TEXT NOT NULL,
    nonce      INTEGER,
    tx_hash    TEXT,
    raw_tx     TEXT,
    block      INTEGER,
    gas_used   INTEGER,
    result     TEXT,
    note       TEXT,
    created    REAL NOT NULL,
    updated    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_op ON txs(op);
"""


@dataclass(frozen=True)
class Entry:
    """One journalled transaction (a row of the ``txs`` table)."""

    seq: int
    op: str
    kind: str
    chain_id: int
    contract: str | None
    sender: str
    payload: dict[str, Any]
    status: str
    nonce: int | None
    tx_hash: str | None
    raw_tx: str | None
    block: int | None
    gas_used: int | None
    result: dict[str, Any] | None
    note: str | None

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATES


class Journal:
    """The transaction journal in one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing). ``":memory:"`` for a throwaway one.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        self._lock: int | None = None
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = self._acquire(self.path.with_name(self.path.name + ".lock"))
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None

    def _acquire(self, lock_path: Path) -> int:
        """One process per journal: two resuming at once could both re-plan the same tokens. The lock
        is an flock, so the kernel drops it when its holder dies, SIGKILL included."""
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(
                f"journal {self.path} is in use by another songmint process; wait for it "
                "to finish (or stop it) and run again"
            ) from None
        return fd

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # ---- writes ---------------------------------------------------------------------------

    def intend(
        self, *, op: str, kind: str, chain_id: int, contract: str | None, sender: str, payload: dict[str, Any]
    ) -> int:
        """Record a transaction about to be built; returns its ``seq``."""
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO txs(op, kind, chain_id, contract, sender, payload, status, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, 'intended', ?, ?)",
            (op, kind, chain_id, contract, sender, json.dumps(payload, sort_keys=True), now, now),
        )
        return int(cur.lastrowid or 0)

    def signed(
        self, seq: int, *, nonce: int, tx_hash: str, raw_tx: bytes, result: dict[str, Any] | None = None
    ) -> None:
        """Record the signed transaction (or its fee-bumped replacement), before it is broadcast."""
        fields: dict[str, Any] = {
            "status": "signed",
            "nonce": nonce,
            "tx_hash": tx_hash,
            "raw_tx": "0x" + raw_tx.hex(),
        }
        if result is not None:
            fields["result"] = json.dumps(result)
        self._update(seq, **fields)

    def sent(self, seq: int) -> None:
        self._update(seq, status="sent")

    def mined(
        self,
        seq: int,
        *,
        block: int,
        gas_used: int,
        result: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {"status": "mined", "block": block, "gas_used": gas_used}
        if result is not None:
            fields["result"] = json.dumps(result)
        if note:
            fields["note"] = note
        self._update(seq, **fields)

    def failed(self, seq: int, *, note: str, block: int | None = None, gas_used: int | None = None) -> None:
        self._update(seq, status="failed", note=note, block=block, gas_used=gas_used)

    def dropped(self, seq: int, *, note: str) -> None:
        self._update(seq, status="dropped", note=note)

    def _update(self, seq: int, **fields: Any) -> None:
        fields["updated"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(f"UPDATE txs SET {cols} WHERE seq = ?", (*fields.values(), seq))

    # ---- reads ----------------------------------------------------------------------------

    def entries(self, op: str | None = None, *, status: str | None = None) -> list[Entry]:
        """Entries in the order they were recorded, optionally of one ``op`` and/or ``status``."""
        sql, args = "SELECT * FROM txs", []
        where = []
        if op is not None:
            where.append("op = ?")
            args.append(op)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return list(self._rows(sql + " ORDER BY seq", args))

    def open_entries(self, *, chain_id: int | None = None) -> list[Entry]:
        """Every entry still ``intended``, ``signed`` or ``sent`` (of one chain), in record order:
        what a resumed run must settle, whichever operation wrote it."""
        sql = f"SELECT * FROM txs WHERE status IN ({', '.join('?' * len(OPEN_STATES))})"
        args: list[Any] = list(OPEN_STATES)
        if chain_id is not None:
            sql += " AND chain_id = ?"
            args.append(chain_id)
        return list(self._rows(sql + " ORDER BY seq", args))

    def _rows(self, sql: str, args: list[Any]) -> Iterator[Entry]:
        cur = self._db.execute(sql, args)
        names = [d[0] for d in cur.description]
        for row in cur:
            r = dict(zip(names, row, strict=True))
            r["payload"] = json.loads(r["payload"])
            r["result"] = json.loads(r["result"]) if r["result"] else None
            r.pop("created")
            r.pop("updated")
            yield Entry(**r)
