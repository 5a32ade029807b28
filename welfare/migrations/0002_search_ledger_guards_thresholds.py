"""What the ORM cannot say: the catalogue's stored tsvector (PostgreSQL), the ledger's append-only
triggers, and the fringe-benefit thresholds in force when this was written.

Triggers: on both databases an UPDATE of an entry or a transfer is refused. DELETE is refused on
PostgreSQL; on SQLite (development and tests only) Django's test flush deletes rows one table at a
time, so there the ORM's PROTECT and the absence of any delete path in the code have to do.
"""

from django.db import migrations

PG_FORWARD = """
ALTER TABLE welfare_service ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('italian'::regconfig, COALESCE(search_text, ''))) STORED;
CREATE INDEX service_search_document ON welfare_service USING gin (search_document);

CREATE FUNCTION welfare_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER welfare_entry_append_only BEFORE UPDATE OR DELETE ON welfare_entry
    FOR EACH ROW EXECUTE FUNCTION welfare_ledger_append_only();
CREATE TRIGGER welfare_transfer_append_only BEFORE UPDATE OR DELETE ON welfare_transfer
    FOR EACH ROW EXECUTE FUNCTION welfare_ledger_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS welfare_entry_append_only ON welfare_entry;
DROP TRIGGER IF EXISTS welfare_transfer_append_only ON welfare_transfer;
DROP FUNCTION IF EXISTS welfare_ledger_append_only();
ALTER TABLE welfare_service DROP COLUMN IF EXISTS search_document;
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER welfare_entry_append_only BEFORE UPDATE ON welfare_entry
       BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
    """CREATE TRIGGER welfare_transfer_append_only BEFORE UPDATE ON welfare_transfer
       BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS welfare_entry_append_only",
    "DROP TRIGGER IF EXISTS welfare_transfer_append_only",
]

# TUIR art. 51 c. 3, as amended year by year. A row holds from its year until the next row.
THRESHOLDS = [
    (2024, 100000, 200000, "L. 213/2023, art. 1 c. 16"),
    (2025, 100000, 200000, "L. 207/2024, art. 1 c. 390 (anni 2025-2027)"),
    (2028, 25823, 25823, "TUIR art. 51 c. 3 (soglia ordinaria)"),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # None: the % signs in RAISE belong to PL/pgSQL, not to psycopg
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    FringeThreshold = apps.get_model("welfare", "FringeThreshold")
    for year, amount, with_children, basis in THRESHOLDS:
        FringeThreshold.objects.get_or_create(
            from_year=year,
            defaults={"amount_cents": amount, "amount_with_children_cents": with_children, "legal_basis": basis},
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("welfare", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
