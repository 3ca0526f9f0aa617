"""The database handle, the base model and the transaction helper every write goes through."""

import datetime as dt
from contextlib import contextmanager

from peewee import DatabaseProxy, Model, PostgresqlDatabase

from rules import clock

db = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Now in UTC, naive: every time in the database is UTC (read from the one clock)."""
    return clock.utc_now()


class BaseModel(Model):
    """Base of all models: bound to the proxy, snake_case table names.

    The compiled-SQL helpers below stay inside models/: code outside reads named query
    methods (`ELicence.by_handle`, `instance.insert_new()`, `Model.set_if(...)`) as plain
    peewee, and the speed of fixed SQL text comes with them.
    """

    class Meta:
        database = db
        legacy_table_names = False

    def insert_new(self) -> int:
        """INSERT this new row (every column but the id, defaults filled in) with SQL text
        built once per table; sets and returns its id. For rows written on hot paths."""
        return compiled_insert(self)

    @classmethod
    def set_if(cls, pk, field, seen, values: dict) -> int:
        """UPDATE one row's columns `values` ({field: value}) only while `field` still holds
        `seen`: a compare-and-set whose row count (1 or 0) says whether it won.

        The columns go in the order peewee writes them, so that the SQL text is built once per
        shape of update (compiled_sql) and run with new values: the state machines
        (core.states) move every object of every measure with it.
        """
        columns = sorted(values.items(), key=lambda pair: pair[0]._sort_key)
        shape = "-".join(column.name for column, _ in columns)
        return compiled_execute(
            f"set-if-{cls._meta.table_name}-{field.name}-{shape}",
            lambda: cls.update(dict(columns)).where(
                (cls._meta.primary_key == pk) & (field == seen)
            ),
            *(column.db_value(value) for column, value in columns),
            pk,
            seen,
        )


def is_postgres() -> bool:
    """True when the proxy points at PostgreSQL (row locks instead of SQLite's IMMEDIATE)."""
    return isinstance(db.obj, PostgresqlDatabase)


@contextmanager
def write_tx():
    """One short write transaction.

    On SQLite the database is opened with lock_type IMMEDIATE, so the write lock is taken at
    BEGIN and two writers queue (on a lock file, then busy_timeout: core.db) instead of failing
    mid-transaction. On PostgreSQL
    the callers that must serialise take row locks (SELECT ... FOR UPDATE) or use conditional
    updates inside this transaction.
    """
    with db.atomic() as tx:
        yield tx


# SQL text of fixed-shape statements, per (name, database class): see compiled_sql.
_SQL_TEXTS: dict = {}


def compiled_sql(name: str, build, n_params: int) -> str:
    """The SQL text of a fixed-shape statement, built by peewee once per database dialect.

    Turning a query into SQL text is most of what a one-row statement costs in peewee (about
    0.15 ms, more than SQLite takes to run it: docs/PERFORMANCE.md), and the statements that
    run on every request of their kind build the same text each time. `build()` returns the
    statement with stand-in values; it must take `n_params` parameters (checked once).
    """
    key = (name, type(db.obj))
    sql = _SQL_TEXTS.get(key)
    if sql is None:
        sql, sample = build().sql()
        if len(sample) != n_params:
            raise ValueError(f"{name}: the statement has {len(sample)} parameters, not {n_params}")
        _SQL_TEXTS[key] = sql
    return sql


def compiled_select(model, name: str, build, *params) -> list:
    """The rows of a fixed-shape SELECT (compiled_sql) with `params`, in the order `build` has
    them, as a list of `model` instances: values converted as from the query itself, the
    columns matched once per statement (as in compiled_get)."""
    sql = compiled_sql(name, build, len(params))
    cursor = db.execute_sql(sql, params)
    rows = cursor.fetchall()
    if not rows:
        return []
    reader = _row_reader_of(model, sql, cursor.description)
    return [_instance(model, reader, row) for row in rows]


def compiled_get(model, name: str, build, *params):
    """The first row of a fixed-shape SELECT (compiled_select) as a `model` instance, or None.

    The row becomes an instance as peewee's raw query makes it (each column matched to the
    model's field of that name or column, its value through the field's python_value, the
    instance built with no defaults and nothing dirty), but the matching is worked out once
    per statement: peewee's cursor wrapper redoes it for every query, which cost a one-row
    lookup more than the lookup itself (four of them in every verifier check)."""
    sql = compiled_sql(name, build, len(params))
    cursor = db.execute_sql(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return _instance(model, _row_reader_of(model, sql, cursor.description), row)


# How the columns of a compiled statement become a model's fields: see compiled_get.
_ROW_READERS: dict = {}


def _row_reader_of(model, sql: str, description) -> tuple[tuple, tuple]:
    """The row reader (_row_reader) of one compiled statement's rows as `model`, worked out
    at the statement's first run and kept."""
    key = (model, sql, type(db.obj))
    reader = _ROW_READERS.get(key)
    if reader is None:
        reader = _ROW_READERS[key] = _row_reader(model, description)
    return reader


def compiled_get_joined(models, name: str, build, *params):
    """The first row of a fixed-shape SELECT of several models joined (compiled_sql) as one
    instance per model, or None: `build` selects every column of each model in turn (as
    `select(*models)` lists them), then any further columns, whose values come after the
    instances. One round trip where a lookup per model would take one each; the columns are
    matched and converted as in compiled_get."""
    sql = compiled_sql(name, build, len(params))
    cursor = db.execute_sql(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    key = (tuple(models), sql, type(db.obj))
    readers = _ROW_READERS.get(key)
    if readers is None:
        readers, start = [], 0
        for model in models:
            end = start + len(model._meta.sorted_fields)
            readers.append((model, start, end, _row_reader(model, cursor.description[start:end])))
            start = end
        readers = _ROW_READERS[key] = (tuple(readers), start)
    parts, rest = readers
    found = [_instance(model, reader, row[start:end]) for model, start, end, reader in parts]
    return (*found, *row[rest:])


def _instance(model, reader: tuple[tuple, tuple], values):
    """A row's values as an instance of `model`, as peewee's raw query builds it: each value
    through its converter (_row_reader), no defaults, nothing dirty."""
    names, converters = reader
    instance = model(
        __no_default__=1,
        **{
            name: (conv(value) if conv else value)
            for name, conv, value in zip(names, converters, values, strict=True)
        },
    )
    instance._dirty.clear()
    return instance


def _row_reader(model, description) -> tuple[tuple, tuple]:
    """(names, converters) of a statement's columns, matched as peewee matches the columns of
    a raw query to a model: by field name or column name, converted by the field's
    python_value; a column that is no field keeps its name and value."""
    combined = model._meta.combined
    names, converters = [], []
    for item in description:
        column = item[0]
        column = column[column.rfind(".") + 1 :].strip('()"`')
        field = combined.get(column)
        if field is None:
            names.append(column)
            converters.append(None)
        else:
            names.append(field.name)
            converters.append(field.python_value if field._coerce else None)
    return tuple(names), tuple(converters)


def compiled_scalar(name: str, build, *params):
    """The first column of the first row of a fixed-shape SELECT (compiled_sql), or None."""
    row = db.execute_sql(compiled_sql(name, build, len(params)), params).fetchone()
    return row[0] if row else None


def compiled_execute(name: str, build, *params) -> int:
    """Run a fixed-shape UPDATE or DELETE (compiled_sql); returns the rows it changed."""
    return db.execute_sql(compiled_sql(name, build, len(params)), params).rowcount


def compiled_insert(instance) -> int:
    """INSERT a new model instance (every column but the id, defaults filled in as by the
    model) with compiled SQL text; sets and returns its id."""
    meta = type(instance)._meta
    fields = [f for f in meta.sorted_fields if f is not meta.primary_key]
    values = [f.db_value(instance.__data__.get(f.name)) for f in fields]
    sql = compiled_sql(
        f"insert-{meta.table_name}",
        lambda: type(instance).insert_many([values], fields=fields),
        len(values),
    )
    cursor = db.execute_sql(sql, values)
    # PostgreSQL's INSERT carries RETURNING id (peewee adds it); SQLite has lastrowid.
    instance.id = cursor.fetchone()[0] if is_postgres() else cursor.lastrowid
    return instance.id


def for_update(query):
    """Lock the selected rows until the transaction ends, where the database has row locks.

    PostgreSQL gets SELECT ... FOR UPDATE; SQLite has no row locks, and its IMMEDIATE
    transaction already holds the one write lock, which serialises the same way.
    """
    return query.for_update() if is_postgres() else query
