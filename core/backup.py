"""Consistent backups while the application serves, and restoring them.

SQLite: the online backup API copies a consistent snapshot page by page (readers and writers
go on meanwhile); a restore copies the backup back into the live file the same way.
PostgreSQL: pg_dump (a consistent snapshot in one transaction) and pg_restore.
"""

import os
import sqlite3
import subprocess
from urllib.parse import urlparse

# The PostgreSQL client tools are found on PATH, as installed by the distribution.
from models import db, is_postgres


def _pg_env(url: str) -> tuple[list[str], dict]:
    """Connection arguments for the PostgreSQL client tools (password through the environment)."""
    parts = urlparse(url)
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    args = ["-h", parts.hostname or "localhost", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", parts.username]
    return args + ["-d", parts.path.lstrip("/")], env


def backup(url: str, path: str) -> None:
    """Write a consistent backup of the database at `url` to `path` (made atomically)."""
    tmp = path + ".part"
    if is_postgres():
        args, env = _pg_env(url)
        subprocess.run(["pg_dump", "-Fc", "-f", tmp, *args], check=True, env=env)  # noqa: S603
    else:
        with db.connection_context():
            target = sqlite3.connect(tmp)
            try:
                db.connection().backup(target, pages=256)
            finally:
                target.close()
    os.replace(tmp, path)


def restore(url: str, path: str) -> None:
    """Replace the database's contents with the backup at `path`."""
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if is_postgres():
        args, env = _pg_env(url)
        subprocess.run(  # noqa: S603 (arguments from our own settings, not from a request)
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                path,
            ],
            check=True,
            env=env,
        )
        return
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with db.connection_context():
            source.backup(db.connection(), pages=256)
    finally:
        source.close()
