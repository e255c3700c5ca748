"""Every notebook server's lifetime, recorded durably for accounting.

One row per server lifetime in a SQLite database (WAL journal, synchronous=FULL, so a row
survives a hub crash right after it is written): who (user and groups), what (profile and the
resources requested), when (start, stop, duration in seconds). :meth:`Ledger.start` opens a
row, :meth:`Ledger.stop` closes the open row of that server. The database must live on the
hub's local persistent disk (never Lustre or NFS: SQLite locking is not safe there).

:func:`make_hooks` returns ``(pre_spawn_hook, post_stop_hook)`` for JupyterHub's Spawner; the
spawn hook takes the groups, profile and resources from callables so that the same ledger
serves the KubeSpawner and the systemd backends.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Ledger", "ServerRecord", "make_hooks"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    server TEXT NOT NULL DEFAULT '',
    groups TEXT NOT NULL DEFAULT '[]',
    profile TEXT NOT NULL DEFAULT '',
    resources TEXT NOT NULL DEFAULT '{}',
    started REAL NOT NULL,
    stopped REAL,
    duration REAL
);
CREATE INDEX IF NOT EXISTS servers_open ON servers (user, server) WHERE stopped IS NULL;
CREATE INDEX IF NOT EXISTS servers_started ON servers (started);
"""


@dataclass(frozen=True)
class ServerRecord:
    """One server lifetime. ``stopped``/``duration`` are None while it runs. Times are UNIX
    seconds (UTC)."""

    id: int
    user: str
    server: str
    groups: tuple[str, ...]
    profile: str
    resources: Mapping[str, Any]
    started: float
    stopped: float | None
    duration: float | None


class Ledger:
    """The accounting database. Each call opens its own connection, so a Ledger can be shared
    by the hub's threads and survives the database file being rotated between calls."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            with conn:  # one transaction, committed on success
                yield conn

    def journal_mode(self) -> str:
        with self._connect() as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])

    def start(
        self,
        user: str,
        server: str = "",
        groups: tuple[str, ...] | list[str] = (),
        profile: str = "",
        resources: Mapping[str, Any] | None = None,
        when: float | None = None,
    ) -> int:
        """Record a server start; return the row id. A row still open for the same server
        (the hub died before recording its stop) is closed first at the new start time, so
        there is at most one open row per server."""
        started = self.clock() if when is None else when
        with self._connect() as conn:
            conn.execute(
                "UPDATE servers SET stopped = ?, duration = ? - started "
                "WHERE user = ? AND server = ? AND stopped IS NULL",
                (started, started, user, server),
            )
            cursor = conn.execute(
                "INSERT INTO servers (user, server, groups, profile, resources, started) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user,
                    server,
                    json.dumps(list(groups)),
                    profile,
                    json.dumps(dict(resources or {}), sort_keys=True),
                    started,
                ),
            )
            return int(cursor.lastrowid or 0)

    def stop(self, user: str, server: str = "", when: float | None = None) -> int | None:
        """Record the stop of the user's open server; return its row id, or None when no row
        is open (a stop without a recorded start is not invented)."""
        stopped = self.clock() if when is None else when
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id FROM servers WHERE user = ? AND server = ? AND stopped IS NULL "
                "ORDER BY started DESC LIMIT 1",
                (user, server),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE servers SET stopped = ?, duration = ? - started WHERE id = ?",
                (stopped, stopped, row[0]),
            )
            return int(row[0])

    def discard(self, user: str, server: str = "") -> int | None:
        """Remove the user's open row: its server never ran (the pod was refused before it
        existed), so nothing was granted to account for. Return the row id, None when no row
        is open."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id FROM servers WHERE user = ? AND server = ? AND stopped IS NULL "
                "ORDER BY started DESC LIMIT 1",
                (user, server),
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM servers WHERE id = ?", (row[0],))
            return int(row[0])

    def records(self, user: str | None = None) -> list[ServerRecord]:
        """All rows (or one user's), oldest first."""
        query = (
            "SELECT id, user, server, groups, profile, resources, started, stopped, duration "
            "FROM servers"
        )
        args: tuple[Any, ...] = ()
        if user is not None:
            query += " WHERE user = ?"
            args = (user,)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY started, id", args).fetchall()
        return [
            ServerRecord(
                id=r[0],
                user=r[1],
                server=r[2],
                groups=tuple(json.loads(r[3])),
                profile=r[4],
                resources=json.loads(r[5]),
                started=r[6],
                stopped=r[7],
                duration=r[8],
            )
            for r in rows
        ]


SpawnerInfo = Callable[[Any], Any]


def make_hooks(
    ledger: Ledger,
    groups: SpawnerInfo = lambda spawner: (),
    profile: SpawnerInfo = lambda spawner: str((spawner.user_options or {}).get("profile", "")),
    resources: SpawnerInfo = lambda spawner: {},
) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
    """Hooks for ``Spawner.pre_spawn_hook`` and ``Spawner.post_stop_hook`` that record the
    server's start and stop in ``ledger``. ``groups``, ``profile`` and ``resources`` read
    what to record from the spawner (the defaults: no groups, the ``profile`` user option,
    no resources)."""

    def record_start(spawner: Any) -> None:
        ledger.start(
            user=spawner.user.name,
            server=spawner.name or "",
            groups=tuple(groups(spawner)),
            profile=profile(spawner),
            resources=resources(spawner),
        )

    def record_stop(spawner: Any) -> None:
        ledger.stop(user=spawner.user.name, server=spawner.name or "")

    return record_start, record_stop
