"""Prefix-search indexes for the contacts screen.

The contacts list searches by prefix on the address, on "first last email"
(`search_text`) and on the lower-cased last name (see `_starts_with` in
apps/contacts/selectors/contacts.py). Each index leads with workspace_id because
every query is scoped to one workspace.

- PostgreSQL answers `LIKE 'q%'` from a B-tree only under the "C" collation, so
  these use the pattern operator classes, which work under any collation.
- SQLite never uses an index for LIKE; the selector asks it for a range instead,
  which plain (BINARY) indexes serve. The address already has one there (the
  email keyset index).

They are not model `Meta.indexes` because they differ per database (operator
classes exist only on PostgreSQL). Building them CONCURRENTLY would be kinder to
a live table, but that cannot run inside a migration's transaction; at first
deploy the table is empty or small.
"""

from django.db import migrations

INDEXES = {
    "postgresql": (
        ("contact_email_prefix", "(workspace_id, email varchar_pattern_ops)"),
        ("contact_search_prefix", "(workspace_id, search_text varchar_pattern_ops)"),
        ("contact_last_name_prefix", "(workspace_id, lower(last_name) text_pattern_ops)"),
    ),
    "sqlite": (
        ("contact_search_prefix", "(workspace_id, search_text)"),
        ("contact_last_name_prefix", "(workspace_id, lower(last_name))"),
    ),
}


def create(apps, schema_editor):
    table = apps.get_model("contacts", "Contact")._meta.db_table
    for name, columns in INDEXES.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}')


def drop(apps, schema_editor):
    for name, _ in INDEXES.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
