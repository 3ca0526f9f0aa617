"""Consistent backups while the application serves, and restoring them.

SQLite: the online backup API copies a consistent snapshot page by page (readers and writers
go on meanwhile); a restore copies the backup back into the live file the same way.
PostgreSQL: pg_dump (a consistent snapshot in one transaction) and pg_restore.

A backup holds everything (ID numbers, the staff's authenticator secrets): it is written
readable by its owner alone, and a backup that fails leaves nothing behind. A database with no
schema is never backed up, as a mistyped INSTANCE_PATH or DATABASE_URL finds one (its backup
would be empty); on SQLite, a file that is no backup of this application, or one a newer
version made, is never restored (pg_restore refuses what is no pg_dump archive itself).
"""

import os
import sqlite3
import subprocess
from urllib.parse import urlparse

# The PostgreSQL client tools are found on PATH, as installed by the distribution.
from core.db import MIGRATIONS_DIR
from models import db, is_postgres

MIGRATIONS_TABLE = "schema_migration"  # playhouse.migrations.Runner's


class BackupError(Exception):
    """A backup or restore refused, and why (in words for the operator)."""


def migrations_in(connection) -> list[str]:
    """The migrations applied in a database (an SQLite connection or the live database), []
    when it has no schema at all."""
    if connection is None:
        if MIGRATIONS_TABLE not in db.get_tables():
            return []
        cursor = db.execute_sql(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name")  # noqa: S608
    else:
        known = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone()
        if known is None:
            return []
        cursor = connection.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name")  # noqa: S608
    return [row[0] for row in cursor.fetchall()]


def _private_file(path: str) -> None:
    """Make `path` anew, empty and readable by its owner alone (the backup is written into it)."""
    if os.path.exists(path):
        os.remove(path)
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


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


def backup(url: str, path: str) -> list[str]:
    """Write a consistent backup of the database at `url` to `path` (made atomically, mode
    600); returns the migrations it holds. BackupError when the database has no schema."""
    with db.connection_context():
        applied = migrations_in(None)
    if not applied:
        raise BackupError(
            "this database has no schema (is INSTANCE_PATH or DATABASE_URL the service's?): "
            "nothing was written"
        )
    tmp = path + ".part"
    _private_file(tmp)
    try:
        _write_backup(url, tmp)
    except BaseException:
        os.remove(tmp)  # nothing half written is left behind
        raise
    os.replace(tmp, path)
    return applied


def _write_backup(url: str, tmp: str) -> None:
    """The backup itself, into `tmp`."""
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


def backup_migrations(path: str) -> list[str]:
    """The migrations an SQLite backup holds; BackupError when it is not a database of this
    application (no schema, or not SQLite at all)."""
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            applied = migrations_in(source)
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database ({exc})") from None
    if not applied:
        raise BackupError(f"{path} holds no schema of this application: nothing was restored")
    unknown = sorted(set(applied) - set(known_migrations()))
    if unknown:
        raise BackupError(
            f"{path} was made by a newer version (migrations {', '.join(unknown)} are unknown "
            "here): restore it with that version's code; nothing was restored"
        )
    return applied


def known_migrations() -> list[str]:
    """The migrations this code has (migrations/NNNN_name.py), by name."""
    return sorted(
        name[:-3]
        for name in os.listdir(MIGRATIONS_DIR)
        if name.endswith(".py") and name[:4].isdigit()
    )


def restore(url: str, path: str) -> None:
    """Replace the database's contents with the backup at `path` (checked first on SQLite:
    backup_migrations)."""
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
    backup_migrations(path)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with db.connection_context():
            source.backup(db.connection(), pages=256)
    finally:
        source.close()
