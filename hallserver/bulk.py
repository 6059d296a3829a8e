"""Bulk loading for generated data (the conference seed, the search index rebuild): rows
straight into a table, tens of thousands a second, on SQLite and PostgreSQL.

``bulk_create`` compiles an INSERT of at most 999 parameters at a time on SQLite and builds a
model instance per row; at the conference's half a million rows that alone takes minutes. Here
the rows are plain dicts (or model instances) keyed by column attribute name, the ids are given
by the loader (the next free ones, so the rows come back with their ids at no cost), and the
rows go in with one ``executemany`` on SQLite or one ``COPY`` on PostgreSQL, whose id sequence
is moved past them afterwards. No signals, no ``save()``: callers that need derived rows
(rooms, search entries) write those too.

Values: whatever the model's field takes in Python; JSON fields are serialised here, datetimes
adapted per database, ``auto_now``/``auto_now_add`` fields and missing columns take the
field's default (``now`` for the automatic timestamps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import orjson
from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone


def _json(value) -> str:
    return orjson.dumps(value).decode()


def _columns(model: type[models.Model]):
    """(column, attname, default, prepare) for every concrete column but the id."""
    now = timezone.now()
    out = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        prepare: Callable | None = None
        if isinstance(f, models.JSONField):
            prepare = _json
        elif isinstance(f, models.DateTimeField):
            prepare = (connection.ops.adapt_datetimefield_value
                       if connection.vendor == "sqlite" else None)
        elif isinstance(f, models.DateField):
            prepare = (connection.ops.adapt_datefield_value
                       if connection.vendor == "sqlite" else None)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default = now
        elif f.has_default():
            default = f.get_default()
        elif f.null:
            default = None
        elif f.empty_strings_allowed:
            default = ""
        else:
            default = _REQUIRED
        out.append((f.column, f.attname, default, prepare))
    return out


_REQUIRED = object()


def next_id(model: type[models.Model]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def insert(model: type[models.Model], rows: Iterable, *, first_id: int | None = None,
           chunk: int = 20_000, progress: Callable[[int], None] | None = None) -> list[int]:
    """Write ``rows`` (dicts by attname, or instances of ``model``) into ``model``'s table
    with ids from ``first_id`` (default: after the largest id); the ids, in order. Instances
    get their ``pk`` set. ``progress(n)`` hears each chunk written."""
    rows = list(rows)
    if not rows:
        return []
    base = next_id(model) if first_id is None else first_id
    cols = _columns(model)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.column
    names = [pk, *(c[0] for c in cols)]
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)

    def values(n: int, row) -> tuple:
        get = (row.get if isinstance(row, dict) else
               lambda name, default: getattr(row, name, default))
        out = [base + n]
        for column, attname, default, prepare in cols:
            value = get(attname, default)
            if value is _REQUIRED:
                raise ValueError(f"{model.__name__}.{attname}: no value and no default "
                                 f"({column})")
            if prepare is not None and value is not None:
                value = prepare(value)
            out.append(value)
        return tuple(out)

    with connection.cursor() as wrapper:
        raw = wrapper.cursor
        for start in range(0, len(rows), chunk):
            part = [values(start + n, row) for n, row in enumerate(rows[start:start + chunk])]
            if connection.vendor == "postgresql":
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for record in part:
                        copy.write_row(record)
            else:
                marks = ", ".join("?" * len(names))
                raw.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", part)
            if progress:
                progress(len(part))
        if connection.vendor == "postgresql":
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                wrapper.execute(sql)
    ids = list(range(base, base + len(rows)))
    for row, id_ in zip(rows, ids, strict=True):
        if isinstance(row, models.Model):
            row.pk = id_
            row._state.adding = False
    return ids
