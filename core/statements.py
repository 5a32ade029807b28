"""Statements built once and run many times, for the few paths that run thousands of times a second.

Django builds the SQL of every query anew, and on a short statement that costs more than running it:
in a registration rush, compiling the event's read and the three INSERTs took about 40 % of a
registration's CPU (bench/RESULTS.md, tenth session). These two helpers keep the ORM's meaning — the
SQL comes from the ORM, values go through the fields as `save()` would send them, rows come back as
model instances with the backend's converters — and only skip building the same SQL again.
Everything else stays with the plain ORM: use them where a benchmark shows the difference.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models import QuerySet, signals

M = TypeVar("M", bound=models.Model)

# What a queryset is built with in place of the value it will be run with. An int passes every
# integer field's checks; no real row has this id, and Prepared refuses SQL where it is not found once.
_STAND_IN = -917_403_311


class Prepared:
    """A queryset of one model, filtered by one value, whose SQL is built once per database.

    `build(value)` returns the queryset; it is called once with a stand-in, and each `get(value)`
    runs the same SQL with the real value through `Model.objects.raw()`, which applies the
    backend's converters and sets annotations as attributes. `field` names the model field the
    value is compared with (the primary key by default): the value goes through it as the ORM
    would send it. Related objects are not joined in (raw() cannot fill them): name their ids in
    `only()`.
    """

    def __init__(self, build: Callable[[Any], QuerySet], *, field: str = "pk"):
        # Built now, compiled on first use for each database: building needs no connection.
        self.queryset = build(_STAND_IN).select_related(None)
        meta = self.queryset.model._meta
        self.field = meta.pk if field == "pk" else meta.get_field(field)
        self._sql: dict[str, tuple[str, list, int]] = {}

    def _compiled(self, alias: str) -> tuple[str, list, int]:
        if alias not in self._sql:
            # On a copy: compiling adjusts the query's aliases, and another thread may be compiling too.
            sql, params = self.queryset.query.clone().get_compiler(alias).as_sql()
            positions = [i for i, param in enumerate(params) if param == _STAND_IN]
            if len(positions) != 1:
                raise ValueError(f"The value must appear once among the query's parameters: {sql}")
            self._sql[alias] = (sql, list(params), positions[0])
        return self._sql[alias]

    def get(self, value: Any) -> models.Model | None:
        """The one row the queryset finds for `value`, or None."""
        model = self.queryset.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        value = self.field.get_db_prep_value(value, connection)
        if isinstance(self.field, models.IntegerField):
            # As the ORM's lookups: a number the column cannot hold matches nothing (SQLite would raise).
            low, high = connection.ops.integer_field_range(self.field.get_internal_type())
            if (low is not None and value < low) or (high is not None and value > high):
                return None
        sql, params, position = self._compiled(alias)
        params = params.copy()
        params[position] = value
        return next(iter(model.objects.using(alias).raw(sql, params)), None)


# Per model and database: the INSERT's SQL and the fields it sends.
_INSERTS: dict[tuple[type[models.Model], str], tuple[str, list[models.Field], bool, bool]] = {}


def _insert_sql(model: type[models.Model], alias: str) -> tuple[str, list[models.Field], bool, bool]:
    key = (model, alias)
    if key not in _INSERTS:
        connection = connections[alias]
        meta = model._meta
        if meta.proxy or meta.parents:
            raise ValueError(f"{meta.label} inherits its table or rows; save() it instead")
        if any(field.db_default is not models.NOT_PROVIDED or field.generated for field in meta.local_concrete_fields):
            raise ValueError(f"{meta.label} has columns the database fills; save() it instead")
        has_receivers = signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
        # As Model._save_table: an auto-incremented key is left to the database, any other is sent.
        fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        quote = connection.ops.quote_name
        # Only the model's own table and column names, quoted; the values go as parameters.
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(meta.db_table), ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
        )
        returns = meta.auto_field is not None and connection.features.can_return_columns_from_insert
        if returns:
            sql += f" RETURNING {quote(meta.auto_field.column)}"
        _INSERTS[key] = (sql, fields, returns, has_receivers)
    return _INSERTS[key]


def insert(obj: M, *, signals_done: bool = False) -> M:
    """INSERT a new instance, as `obj.save(force_insert=True)` would, with SQL built once per model.

    Like `bulk_create()`, it sends no pre_save/post_save signal and runs no overridden `save()`:
    it refuses a model with such receivers unless the caller says it does their work itself
    (`signals_done=True`). The instance gets its id and counts as saved.
    """
    model = type(obj)
    if model._meta.auto_field is not None and obj.pk is not None:
        raise ValueError(f"{model._meta.label} numbers its rows itself: insert() a new instance without an id")
    alias = router.db_for_write(model, instance=obj)
    sql, fields, returns, has_receivers = _insert_sql(model, alias)
    if has_receivers and not signals_done:
        raise ValueError(f"{model._meta.label} has pre_save or post_save receivers; save() it, or do their work")
    # As save(): a related object that was never saved is an error, not a silent NULL.
    obj._prepare_related_fields_for_save(operation_name="insert")
    connection = connections[alias]
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if model._meta.auto_field is not None:
            obj.pk = cursor.fetchone()[0] if returns else connection.ops.last_insert_id(
                cursor, model._meta.db_table, model._meta.pk.column)
    obj._state.adding = False
    obj._state.db = alias
    return obj
