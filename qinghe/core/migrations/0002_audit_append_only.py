"""Database-level guard for the append-only audit trail.

PostgreSQL (production): a trigger refuses every UPDATE, and every DELETE of an entry younger
than 183 days (purge_audit removes only older ones). TRUNCATE, used by test flushes, is not a
row operation and is untouched. SQLite (embedded/dev): a trigger refuses UPDATE; DELETE is
guarded in the model layer only, because Django's test flush on SQLite deletes rows."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditlog_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '183 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditlog_append_only BEFORE UPDATE OR DELETE ON core_auditlog
    FOR EACH ROW EXECUTE FUNCTION core_auditlog_guard();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_guard();
"""
SQLITE_FORWARD = """
CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS core_auditlog_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
