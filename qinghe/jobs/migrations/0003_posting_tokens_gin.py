"""On PostgreSQL only: a GIN index over the posting's search tokens as an array, which serves
``string_to_array(search_tokens, ' ') @> ARRAY[...]`` (qinghe.jobs.selectors.keyword_filter).
SQLite has no such index; it matches ' token ' with LIKE."""

from django.db import migrations

INDEX = "jobs_posting_tokens_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_posting "
        "USING gin (string_to_array(search_tokens, ' '))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_default_pipeline_stages")]

    operations = [migrations.RunPython(create_index, drop_index)]
