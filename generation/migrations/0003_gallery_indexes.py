"""Indexes for the gallery's filters and prompt search.

Raw SQL, so that they can be built without locking writes on PostgreSQL (CONCURRENTLY, hence
not atomic) and so that the trigram index, which only PostgreSQL has, is skipped on SQLite.
"""

from django.db import migrations

TABLE = "generation_generation"
INDEXES = {
    "generation_user_status_newest": f"{TABLE} (user_id, status, created_at DESC, id DESC)",
    "generation_user_model_newest": f"{TABLE} (user_id, model_id, created_at DESC, id DESC)",
}
# Django's icontains compares UPPER(prompt::text) LIKE UPPER(...), so the index is on that.
TRIGRAM_INDEX = "generation_prompt_trigram"


def indexes_create(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {columns}")
    if postgresql:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {TRIGRAM_INDEX} ON {TABLE} "
            "USING gin ((UPPER(prompt::text)) gin_trgm_ops)"
        )


def indexes_drop(apps, schema_editor):
    for name in [*INDEXES, TRIGRAM_INDEX]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("generation", "0002_workers_and_sharing"),
    ]

    operations = [
        migrations.RunPython(indexes_create, indexes_drop, elidable=False),
    ]
