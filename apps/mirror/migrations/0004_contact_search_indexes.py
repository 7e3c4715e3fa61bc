"""The contacts search reads each way of matching from its own index, covering.

The screen's search (apps/contacts/selectors/contacts.py) asks three prefix
questions — the address, "first last email" (`search_text`), the lower-cased
last name — and sorts the matches. Asked as one OR over contacts' 0002 indexes,
PostgreSQL walked the sort index instead and fetched a row per step: at 1M
contacts a name search took 170 ms ("ava") to seconds ("zoe", whose matches
sort last). Asked one range at a time, each match still cost a row fetched to
sort it. These indexes replace contacts' 0002 ones with the same keys, and carry
what the screen sorts and filters by (INCLUDE), so each range is read from the
index alone (an index-only scan, once autovacuum has marked the table's pages
all-visible) and only the page's own rows are fetched.

PostgreSQL only: SQLite has no INCLUDE, and its 0002 indexes serve its ranges.
Built inside the migration's transaction, like 0002: at a million contacts each
takes a few seconds, during which syncs wait (reads don't).
"""

from django.db import migrations

# What the screen sorts and filters a search by, besides the key itself.
SORTED_AND_FILTERED = (
    "id, email, last_name, updated_upstream, created_upstream, deleted_upstream, email_status"
)
NEW = (
    ("contact_email_search", f"(workspace_id, email varchar_pattern_ops) "
                             f"INCLUDE ({SORTED_AND_FILTERED})"),
    ("contact_text_search", f"(workspace_id, search_text varchar_pattern_ops) "
                            f"INCLUDE ({SORTED_AND_FILTERED})"),
    ("contact_last_name_search", f"(workspace_id, lower(last_name) text_pattern_ops) "
                                 f"INCLUDE ({SORTED_AND_FILTERED})"),
)
OLD = (
    ("contact_email_prefix", "(workspace_id, email varchar_pattern_ops)"),
    ("contact_search_prefix", "(workspace_id, search_text varchar_pattern_ops)"),
    ("contact_last_name_prefix", "(workspace_id, lower(last_name) text_pattern_ops)"),
)


def _swap(schema_editor, table: str, create, drop) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in create:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}')
    for name, _ in drop:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def forwards(apps, schema_editor):
    _swap(schema_editor, apps.get_model("mirror", "Contact")._meta.db_table, NEW, OLD)


def backwards(apps, schema_editor):
    _swap(schema_editor, apps.get_model("mirror", "Contact")._meta.db_table, OLD, NEW)


class Migration(migrations.Migration):
    dependencies = [("mirror", "0003_sync_anomalies")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
