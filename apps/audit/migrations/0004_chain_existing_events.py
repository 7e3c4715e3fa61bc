"""Chain the events written before the chain existed, oldest (lowest id) first,
and point the head at the last of them.

On PostgreSQL the append-only trigger refuses UPDATE, so it is switched off for
this one transaction; migrations run as the tables' owner, who alone may do
that (docs/audit-log.md).
"""

from django.db import migrations

from apps.audit.chain import GENESIS, event_hash

_BATCH = 1000
_TRIGGER = "audit_event_append_only"


def chain_existing_events(apps, schema_editor):
    # The base manager: the model's own refuses updates, and rightly so everywhere else.
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    events = AuditEvent._base_manager.using(schema_editor.connection.alias)
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {_TRIGGER}")
    prev_hash, length, last_id = GENESIS, 0, 0
    # Pages by id rather than one open cursor: the rows change under it.
    while batch := list(events.filter(id__gt=last_id).order_by("id")[:_BATCH]):
        for event in batch:
            event.prev_hash = prev_hash
            event.hash = prev_hash = event_hash(event, prev_hash=prev_hash)
        events.bulk_update(batch, ["prev_hash", "hash"])
        length, last_id = length + len(batch), batch[-1].pk
    if postgresql:
        # The updates queued deferred foreign key checks, and PostgreSQL alters no
        # table with checks pending: run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {_TRIGGER}")
    AuditChainHead._base_manager.using(schema_editor.connection.alias).update_or_create(
        pk=1, defaults={"length": length, "last_hash": prev_hash, "last_event_id": last_id or None}
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain")]
    operations = [migrations.RunPython(chain_existing_events, migrations.RunPython.noop)]
