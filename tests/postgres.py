"""A throwaway PostgreSQL server for tests: initdb + pg_ctl under a temp dir, as the `postgres` user when run as root
(the server refuses to run as root), on a free loopback port; trust auth, fsync off, stopped at the end."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any


def binaries() -> tuple[str, str] | None:
    """(initdb, pg_ctl) from PATH or Debian's /usr/lib/postgresql/<version>/bin, or None when not installed."""
    found = [shutil.which("initdb"), shutil.which("pg_ctl")]
    if None in found:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
        for folder in versions:
            if os.path.exists(f"{folder}/initdb") and os.path.exists(f"{folder}/pg_ctl"):
                return f"{folder}/initdb", f"{folder}/pg_ctl"
        return None
    return found[0], found[1]  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Start with `start()`, get a fresh database's URL with `new_database()`, `stop()` removes everything."""

    def __init__(self) -> None:
        found = binaries()
        if found is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) are not installed (Debian: apt-get install postgresql)")
        self.initdb, self.pg_ctl = found
        self.base = Path(tempfile.mkdtemp(prefix="pulse-pg-"))
        self.data, self.port = self.base / "data", _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        out = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120, cwd=self.base)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")

    def start(self) -> "PostgresServer":
        self._run(self.initdb, "-D", str(self.data), "-U", "pulse", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.base / "log"), "-w", "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://pulse@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Restart the server (fast shutdown: every session is cut, as on a database failover or upgrade)."""
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "log"), "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([*self.prefix, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)



PG_TYPES = {
    "VARCHAR": "text",
    "TIMESTAMP": "timestamp",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
}
TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
COLUMNS = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"


def copy_duckdb(source: Path, url: str, schema: str = "public") -> None:
    """Every table of a DuckDB file (e.g. a `pulse export`) into the PostgreSQL database at `url`, same names and rows."""
    import duckdb
    import psycopg

    with duckdb.connect(str(source), read_only=True) as src, psycopg.connect(url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for (table,) in src.execute(TABLES).fetchall():
            columns = src.execute(COLUMNS, [table]).fetchall()
            names = ", ".join(f'"{c}"' for c, _ in columns)
            typed = ", ".join(f'"{c}" {PG_TYPES[t]}' for c, t in columns)
            db.execute(f'CREATE TABLE "{schema}"."{table}" ({typed})')
            with db.cursor().copy(f'COPY "{schema}"."{table}" ({names}) FROM STDIN') as copy:
                for row in src.execute(f'SELECT {names} FROM "{table}"').fetchall():
                    copy.write_row(row)


def source_url(request: Any, engine: str, path: Path) -> str:
    """The DuckDB file at `path` as a source URL: itself for engine "duckdb", or for "postgresql" its tables copied
    into a fresh database of the test PostgreSQL server (the `postgres_server` fixture)."""
    if engine == "duckdb":
        return f"duckdb://{path}"
    url = str(request.getfixturevalue("postgres_server").new_database())
    copy_duckdb(path, url)
    return url
