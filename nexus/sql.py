"""Helpers for the few statements an app writes as SQL (its ``queries.py``, docs/ARCHITECTURE.md).

Every identifier comes from ``Model._meta``: a statement names a field, never a column, so a renamed
field renames the statement too (tests/nexus/test_queries.py runs each against the migrated
schema). Rows turn back into model instances with ``Model.from_db``, as the ORM itself does.
"""

import base64
import datetime as dt
import uuid
from decimal import Decimal
from functools import cache

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections


class Names:
    """Quoted table and column names of a model: ``Names(Account).table``, ``.balance``, ``["owner"]``
    (a foreign key gives its column, ``"owner_id"``)."""

    def __init__(self, model):
        self.model = model
        self.table = table(model)

    def __getitem__(self, field_name: str) -> str:
        return column(self.model, field_name)

    def __getattr__(self, field_name: str) -> str:
        if field_name.startswith("_"):
            raise AttributeError(field_name)
        return column(self.model, field_name)


def select_list(model) -> tuple[list[str], str]:
    """(attribute names, quoted column list) of ``model``'s concrete fields."""
    fields = model._meta.concrete_fields
    return [field.attname for field in fields], ", ".join(f'"{field.column}"' for field in fields)


def table(model) -> str:
    return f'"{model._meta.db_table}"'


def column(model, name: str) -> str:
    return f'"{model._meta.get_field(name).column}"'


def _database():
    """This thread's connection itself: ``django.db.connection`` is a proxy that looks it up again for every
    attribute read (a context-local look-up, 2-3 us each; a posting's fields read it about 20 times)."""
    return connections[DEFAULT_DB_ALIAS]


def fetch(sql: str, params) -> list[tuple]:
    """The rows of one statement (on the connection's kept cursor: nexus.pgbackend)."""
    cursor = _database().statement_cursor()
    cursor.execute(sql, params)
    return cursor.fetchall()


def execute(sql: str, params) -> int:
    """Run one statement that returns no rows; the number of rows it changed."""
    cursor = _database().statement_cursor()
    cursor.execute(sql, params)
    return cursor.rowcount


def instances(model, attnames: list[str], rows) -> list:
    """Model instances from rows whose columns are ``attnames``, exactly as a queryset makes them
    (with the fields' own conversions from the database, e.g. a JSON field's text to its value)."""
    database = _database()
    converters = _converters(model, tuple(attnames))
    if converters:
        rows = [_convert(list(row), converters, database) for row in rows]
    return [model.from_db(database.alias, attnames, row) for row in rows]


@cache
def _converters(model, attnames: tuple[str, ...]) -> tuple:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return tuple((index, fields[name]) for index, name in enumerate(attnames)
                 if name in fields and hasattr(fields[name], "from_db_value"))


def _convert(row: list, converters, database) -> list:
    for index, field in converters:
        row[index] = field.from_db_value(row[index], None, database)
    return row


@cache
def insert_columns(model) -> tuple[list, str, str]:
    """(fields, quoted column list, placeholders) of what an INSERT writes: every concrete field
    except those the database assigns (a serial primary key)."""
    fields = [field for field in model._meta.concrete_fields if not field.db_returning]
    return fields, ", ".join(f'"{field.column}"' for field in fields), placeholders(len(fields))


def placeholders(count: int) -> str:
    """``%s, %s, ...``: one parameter each (a VALUES row, an ``IN`` list)."""
    return ", ".join(["%s"] * count)


def insert_values(instance) -> list:
    """The parameters for ``insert_columns(type(instance))``, prepared as ``save()`` prepares them."""
    database = _database()
    return [field.get_db_prep_save(getattr(instance, field.attname), database)
            for field in insert_columns(type(instance))[0]]


def insert(instance) -> None:
    """``instance.save(force_insert=True)`` for a model whose primary key the database assigns
    (nothing is read back) or the instance carries: one INSERT, no compilation, no signals and no
    ``pre_save`` (so not for models with ``auto_now`` fields).

    Errors are Django's (an ``IntegrityError`` for a unique violation), as with ``save()``.
    """
    _, columns, placeholders = insert_columns(type(instance))
    execute(f"INSERT INTO {table(type(instance))} ({columns}) VALUES ({placeholders})",  # noqa: S608
            insert_values(instance))


# --- many rows as one parameter ------------------------------------------------------------------
# A batch of rows (the job worker's notifications, facts, pushes) travels as one JSON text read by
# ``jsonb_to_recordset``: one statement text whatever the number of rows, so psycopg converts it once
# (a VALUES list of N rows is a new text per N, and psycopg parses every text longer than 4 KB again
# on each call), the server parses one parameter, and nothing is escaped element by element as in an
# array. Measured in the job worker (bench/README.md, "Contract v1.3").

def recordset(columns: dict[str, str], alias: str = "r") -> str:
    """``jsonb_to_recordset(%s::jsonb) AS alias(name type, ...)`` for ``{name: SQL type}``."""
    return f"jsonb_to_recordset(%s::jsonb) AS {alias}({', '.join(f'{name} {kind}' for name, kind in columns.items())})"


def _plain(value):
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} has no text form in a recordset or an array parameter")


def records(rows: list[dict]) -> str:
    """The parameter of :func:`recordset`: exact decimals and times as text, bytes as base64
    (``decode(r.name, 'base64')`` in the statement). Written by orjson: a time, a date and a UUID as
    ``isoformat()`` and ``str()`` write them, a number as a key as its text, the rest through
    :func:`_plain` (the standard encoder, in Python, was a tenth of the job worker's CPU)."""
    return orjson.dumps(rows, default=_plain, option=orjson.OPT_NON_STR_KEYS).decode()


@cache
def model_recordset(model, names: tuple[str, ...]) -> tuple[str, str]:
    """(quoted target columns, ``recordset`` of those fields typed as their columns) for an INSERT of
    ``model`` rows from :func:`model_records`."""
    fields = [model._meta.get_field(name) for name in names]
    return (", ".join(f'"{field.column}"' for field in fields),
            recordset({f'"{field.column}"': field.db_type(connection) for field in fields}))


def model_records(instances, names: tuple[str, ...]) -> str:
    """The rows of ``instances`` for :func:`model_recordset` (values as the attributes hold them)."""
    fields = [instances[0]._meta.get_field(name) for name in names] if instances else []
    return records([{field.column: getattr(instance, field.attname) for field in fields} for instance in instances])


# --- a list as one array parameter ----------------------------------------------------------------
# psycopg dumps a Python list element by element in Python (finding the elements' type, then each value):
# the posting's nine arrays cost 6.8 % of a transfer's web-worker CPU that way (bench --profile). As one text
# in PostgreSQL's array syntax, cast by the statement (``%s::numeric(20, 3)[]``), the list is a single
# string to send and the server's array input parses it.

def array(values) -> str:
    """``values`` as the text of a one-dimensional PostgreSQL array (every element quoted, None as NULL),
    for a parameter the statement casts to its array type."""
    return "{" + ",".join("NULL" if value is None else _quoted(value) for value in values) + "}"


def _quoted(value) -> str:
    if isinstance(value, str):
        text = str.__str__(value)  # a TextChoices member: its value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = int.__repr__(value)  # an IntegerChoices member: its number
    elif isinstance(value, (bytes, memoryview)):
        raise TypeError("bytes have no text form in an array parameter")
    else:
        text = _plain(value)  # a decimal, a UUID, a date or a time, as a recordset writes them (TypeError else)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error as Django raises it (psycopg's error is its ``__cause__``)."""
    return getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
