"""Creating many model instances at once when the caller needs their ids (symptom reports and alerts of a
batch), and the database value of a field for ``bulk.insert_rows``.

On PostgreSQL, for ``bulk.COPY_FROM`` rows or more, the ids are taken from the table's own sequence in one
query and the rows appended by COPY (``bulk.insert_rows``); the ORM's ``bulk_create`` spent more time
preparing each value and quoting its arrays than the server spent storing them.  Elsewhere, and for fewer
rows, ``bulk_create`` as before.  Either way the instances come back with their ids and marked as saved;
no ``pre_save`` runs (the callers set every value; ``auto_now`` fields are not supported here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

from . import bulk


def db_value(field: Any, conn: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """The database value of a Python value for ``field``: the backend adapters ``get_db_prep_save`` ends
    in, called directly (text, numbers, booleans and keys go as they are)."""
    ops = conn.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                          models.ForeignKey)):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, conn)


def create_all(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (unsaved instances of ``model``) inside the caller's transaction and set their ids."""
    alias = router.db_for_write(model)
    conn = connections[alias]
    if conn.vendor != "postgresql" or len(objs) < bulk.COPY_FROM:
        model._default_manager.using(alias).bulk_create(objs)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    with conn.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [conn.ops.quote_name(meta.db_table), pk.column, len(objs)])
        ids = [row[0] for row in cursor.fetchall()]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    converters = [db_value(f, conn) for f in fields]
    rows = []
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        rows.append((new_id, *(convert(getattr(obj, f.attname)) for f, convert in zip(fields, converters,
                                                                                      strict=True))))
        obj._state.adding, obj._state.db = False, alias
    with conn.wrap_database_errors:  # a refused row raises django.db's IntegrityError, as bulk_create does
        bulk.insert_rows(model, [pk.column, *(f.column for f in fields)], rows)
