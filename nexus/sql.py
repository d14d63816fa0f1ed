"""Hot-path statements written once as SQL, from the models' own metadata.

Compiling a queryset costs more CPU than PostgreSQL spends running the small statements that every
request makes (the user row, account locks, the account list, a statement page): on the 2-core
benchmark machine the ORM's compilation was about a third of a worker's CPU. These helpers build
the column lists from ``Model._meta`` once, at import, so a renamed field breaks loudly at start-up
rather than silently, and turn rows back into model instances with ``Model.from_db``, as the ORM
itself does.
"""

from django.db import connection


def select_list(model, names=None, alias: str = "") -> tuple[list[str], str]:
    """(attribute names, quoted column list) of ``model``'s concrete fields, or of ``names`` only."""
    fields = [model._meta.get_field(name) for name in names] if names else model._meta.concrete_fields
    prefix = f'"{alias}".' if alias else ""
    return [field.attname for field in fields], ", ".join(f'{prefix}"{field.column}"' for field in fields)


def table(model) -> str:
    return f'"{model._meta.db_table}"'


def column(model, name: str) -> str:
    return f'"{model._meta.get_field(name).column}"'


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def instances(model, attnames: list[str], rows) -> list:
    """Model instances from rows whose columns are ``attnames``, exactly as a queryset makes them."""
    return [model.from_db(connection.alias, attnames, row) for row in rows]


_INSERTS: dict = {}


def insert(instance) -> None:
    """``instance.save(force_insert=True)`` for a model whose primary key the database assigns
    (nothing is read back) or the instance carries: one INSERT, no compilation, no signals and no
    ``pre_save`` (so not for models with ``auto_now`` fields).

    Errors are Django's (an ``IntegrityError`` for a unique violation), as with ``save()``.
    """
    model = type(instance)
    if model not in _INSERTS:
        fields = [field for field in model._meta.concrete_fields if not field.db_returning]
        columns = ", ".join(f'"{field.column}"' for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        _INSERTS[model] = fields, f"INSERT INTO {table(model)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    fields, statement = _INSERTS[model]
    params = [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error as Django raises it (psycopg's error is its ``__cause__``)."""
    return getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
