"""Batched mirror writes: a whole listing of a small collection, or a page of 500
contacts, in a few queries.

`mirror_collection` makes a collection's mirror (lists, tags, custom fields)
exactly a complete listing; `mirror_contacts_page` upserts one page of contacts
with their list memberships and taggings. Both are what a sync writes; the
mapping from JSON to columns is `apps.mirror.mapping`, shared with every
single-row write.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
import json
import logging
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.mapping import Anomaly, CheckedContact, contact_from_upstream
from apps.mirror.models import Contact, ListMembership, SyncAnomaly, SyncRun, Tagging

logger = logging.getLogger(__name__)

# A page's log line names this many anomalies; the sync screen lists them all.
LOGGED_ANOMALIES = 10


def mirror_collection(
    *, workspace: Workspace, model: type[models.Model], items: Iterable[dict], id_key: str,
    fields_from_upstream,
) -> tuple[int, int, int]:
    """Make `model`'s mirror for `workspace` exactly `items` (a complete listing).

    Rows not listed are deleted — a list or tag whose asynchronous delete is
    still pending stays while Constant Contact still lists it, and goes once it
    doesn't. Returns (created, updated, deleted).
    """
    now = timezone.now()
    wanted: dict[str, dict[str, Any]] = {}
    for item in items:
        wanted[item[id_key]] = fields_from_upstream(item)
    existing = {row.cc_id: row for row in model.objects.filter(workspace=workspace)}
    to_create, to_update = [], []
    update_fields: set[str] = {"synced_at"}
    for cc_id, fields in wanted.items():
        row = existing.get(cc_id)
        if row is None:
            to_create.append(model(workspace=workspace, cc_id=cc_id, synced_at=now, **fields))
            continue
        for name, value in fields.items():
            setattr(row, name, value)
        row.synced_at = now
        update_fields.update(fields)
        to_update.append(row)
    gone = [row.pk for cc_id, row in existing.items() if cc_id not in wanted]
    with transaction.atomic():
        model.objects.bulk_create(to_create)
        if to_update:
            model.objects.bulk_update(to_update, fields=sorted(update_fields))
        if gone:
            model.objects.filter(pk__in=gone).delete()
    return len(to_create), len(to_update), len(gone)


@dataclass
class PageWritten:
    """What one page of contacts did to the mirror."""

    created: int = 0
    updated: int = 0
    removed: int = 0  # deleted upstream since the mirror last saw them
    anomalies: list[Anomaly] = field(default_factory=list)


def mirror_contacts_page(
    *, workspace: Workspace, items: list[dict], list_pks: dict[str, int], tag_pks: dict[str, int],
    sync_run: SyncRun | None = None,
) -> PageWritten:
    """Upsert one page of ContactResources (with every include) in a few queries.

    A contact whose JSON is exactly what the mirror holds is only re-stamped, not
    rewritten. Every record is checked first (`contact_from_upstream`): a value
    the mirror can't keep as sent is clipped or left out, a record it can't hold
    meaningfully is quarantined — its row, if any, stays as it was (re-stamped,
    so a full sync doesn't take it for gone) — and the rest of the page is
    written. The anomalies are logged without their values and, given the
    `sync_run`, recorded for the sync screen. Call it inside a transaction.
    """
    now = timezone.now()
    checked: dict[str, CheckedContact] = {}
    anomalies: list[Anomaly] = []
    held: list[str] = []
    for data in items:
        contact = contact_from_upstream(data)
        anomalies += contact.anomalies
        if contact.quarantined:
            if contact.cc_id:
                held.append(contact.cc_id)
        else:
            checked[contact.cc_id] = contact  # an id sent twice: the later record wins

    if connection.vendor == "postgresql":
        written, pk_of, existing_pks = _upsert_contacts(workspace=workspace, contacts=checked,
                                                       now=now)
        reconcile = _reconcile_links_sql
    else:
        written, pk_of, existing_pks = _write_contacts(workspace=workspace, contacts=checked,
                                                       now=now)
        reconcile = _reconcile_links
    if held:
        Contact.objects.filter(workspace=workspace, cc_id__in=held).update(synced_at=now)
    # Rows the page could not write (see _upsert_contacts) keep their links too.
    sent = [contact for contact in checked.values() if contact.cc_id in pk_of]
    reconcile(
        model=ListMembership, other="contact_list_id",
        wanted=_links(sent, pk_of, "list_ids", list_pks),
        contact_pks=[pk_of[c.cc_id] for c in sent if c.list_ids is not None],
        existing_pks=existing_pks,
    )
    reconcile(
        model=Tagging, other="tag_id", wanted=_links(sent, pk_of, "tag_ids", tag_pks),
        contact_pks=[pk_of[c.cc_id] for c in sent if c.tag_ids is not None],
        existing_pks=existing_pks,
    )
    if anomalies:
        _record_anomalies(anomalies, sync_run=sync_run)
    written.anomalies = anomalies
    return written


def _record_anomalies(anomalies: list[Anomaly], *, sync_run: SyncRun | None) -> None:
    held = sum(anomaly.quarantined for anomaly in anomalies)
    # Ids, fields and what was wrong only: the values may be personal data.
    logger.warning(
        "contacts page%s: %d record(s) not mirrored, %d value(s) clipped or left out: %s",
        f" of sync run {sync_run.pk}" if sync_run else "", held, len(anomalies) - held,
        "; ".join(f"{a.cc_id or '(no id)'} {a.field} {a.problem}"
                  for a in anomalies[:LOGGED_ANOMALIES]),
    )
    if sync_run is not None:
        SyncAnomaly.objects.bulk_create([
            SyncAnomaly(sync_run=sync_run, cc_id=a.cc_id, field=a.field[:64],
                        problem=a.problem[:200], quarantined=a.quarantined)
            for a in anomalies
        ])


# --- SQLite: one prepared statement per page -----------------------------------------
#
# The contacts hot path writes with one prepared statement per page (executemany)
# rather than bulk_create / bulk_update: on a page of 500 contacts Django's
# bulk_update builds a CASE per column and row and takes ~3.5 s, executemany
# ~0.15 s; bulk_create's SQL compilation takes ~0.2 s, executemany ~0.12 s
# (SQLite, measured for bench/sync.py). The values are still prepared by each
# field (get_db_prep_save), so JSON and datetimes are stored exactly as the ORM
# stores them, on any backend.

def _write_contacts(
    *, workspace: Workspace, contacts: dict[str, CheckedContact], now
) -> tuple[PageWritten, dict[str, int], set[int]]:
    """Returns what was written, the pk of every contact, and the pks that existed."""
    existing = {
        row.cc_id: row
        for row in Contact.objects.filter(workspace=workspace, cc_id__in=list(contacts))
    }
    to_create: list[Contact] = []
    to_update: list[Contact] = []
    unchanged: list[int] = []
    written = PageWritten()
    # Columns to UPDATE: whatever the mapping produced (sub-resources only when sent).
    columns: set[str] = {"raw", "synced_at"}
    for cc_id, contact in contacts.items():
        fields = contact.fields
        row = existing.get(cc_id)
        if row is None:
            to_create.append(Contact(workspace=workspace, cc_id=cc_id, raw=contact.raw,
                                     synced_at=now, **fields))
            written.created += 1
            continue
        if row.raw == contact.raw:
            unchanged.append(row.pk)
            continue
        newly_removed = fields["deleted_upstream"] is not None and row.deleted_upstream is None
        columns.update(fields)
        for name, value in fields.items():
            setattr(row, name, value)
        row.raw = contact.raw
        row.synced_at = now
        to_update.append(row)
        if newly_removed:
            written.removed += 1
        else:
            written.updated += 1

    _insert_rows(Contact, to_create)
    _update_rows(Contact, to_update, sorted(columns))
    if unchanged:
        Contact.objects.filter(pk__in=unchanged).update(synced_at=now)

    pk_of = {row.cc_id: row.pk for row in existing.values()}
    if to_create:
        pk_of.update(Contact.objects.filter(
            workspace=workspace, cc_id__in=[row.cc_id for row in to_create]
        ).values_list("cc_id", "pk"))
    return written, pk_of, {row.pk for row in existing.values()}


def _insert_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT `objs` (their pks are not set; look them up if needed)."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update_rows(model: type[models.Model], objs: list[models.Model], names: list[str]) -> None:
    """UPDATE the columns `names` of each of `objs` from its attributes."""
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} "
        f"SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _links(contacts: list[CheckedContact], pk_of: dict[str, int], key: str,
           target_pks: dict[str, int]) -> set[tuple[int, int]]:
    # Ids the mirror doesn't know (a list deleted a moment ago) are skipped: the
    # next sync settles them.
    return {
        (pk_of[contact.cc_id], target_pks[target])
        for contact in contacts
        for target in (getattr(contact, key) or [])
        if target in target_pks
    }


def _reconcile_links(*, model, other: str, wanted: set[tuple[int, int]], contact_pks: list[int],
                     existing_pks: set[int]) -> None:
    """Make `model` rows for `contact_pks` exactly `wanted` (contact pk, other pk)."""
    # Only contacts that existed before this page can have rows already.
    old = [pk for pk in contact_pks if pk in existing_pks]
    current: dict[tuple[int, int], int] = {}
    if old:
        for pk, contact_id, other_id in model.objects.filter(contact_id__in=old).values_list(
            "pk", "contact_id", other
        ):
            current[(contact_id, other_id)] = pk
    stale = [pk for pair, pk in current.items() if pair not in wanted]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    new = wanted - current.keys()
    if new:
        model.objects.bulk_create([model(contact_id=c, **{other: o}) for c, o in new])


# --- PostgreSQL: the page COPYed into a staging table, then set-based statements -------
#
# The same writes in a handful of statements per page, with no model instances and no
# statement per row: the page's rows are COPYed into a temporary table (psycopg
# formats COPY in C, and PostgreSQL parses each row's raw JSON once), and INSERT ...
# SELECT and UPDATE ... FROM write them from there. Measured per page of 500 (bench/
# README.md): a page as arrays of JSON text (unnest(%s::jsonb[])) cost more than
# executemany, psycopg escaping each element in Python; as one JSON document
# (jsonb_to_recordset), ~45 ms; COPY and INSERT ... SELECT, ~35 ms.

_STAGE = "mirror_contact_page"


def _upsert_contacts(
    *, workspace: Workspace, contacts: dict[str, CheckedContact], now
) -> tuple[PageWritten, dict[str, int], set[int]]:
    """Returns what was written, the pk of every contact, and the pks that existed."""
    written = PageWritten()
    if not contacts:
        return written, {}, set()
    table = Contact._meta.db_table
    # The staging table empties at every commit: in autocommit, it would be empty
    # again before the INSERT read it.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Re-stamp every row the page names (an unchanged row gets nothing else), and
        # learn which exist and which were live: a changed row that now carries
        # deleted_upstream was removed upstream since. Each id is looked up on its
        # own (a LATERAL subquery PostgreSQL can't fold into a join): with
        # `cc_id = ANY(...)` and statistics stale while a first sync fills the table
        # (autoanalyze lags), the planner read the whole workspace for every page,
        # and the sync slowed as the table grew.
        cursor.execute(
            f"UPDATE {table} SET synced_at = %s WHERE id = ANY(ARRAY("
            f"SELECT found.id FROM json_array_elements_text(%s::json) AS page(cc_id), "
            f"LATERAL (SELECT id FROM {table} WHERE workspace_id = %s AND cc_id = page.cc_id "
            "OFFSET 0) AS found)) "
            "RETURNING cc_id, id, deleted_upstream IS NULL",
            [now, json.dumps(list(contacts)), workspace.pk],
        )
        existing = {cc_id: (pk, live) for cc_id, pk, live in cursor.fetchall()}
        pk_of = {cc_id: pk for cc_id, (pk, _) in existing.items()}
        _stage(cursor, contacts.values(), ids=pk_of)

        if len(existing) < len(contacts):
            columns = ", ".join(f.column for f in _INSERTED)
            values = ", ".join(
                _from_raw(f, otherwise="'[]'") if f.name in _SENT_ONLY else f"p.{f.column}"
                for f in _INSERTED
            )
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, synced_at, {columns}) "
                f"SELECT %s, %s, {values} FROM {_STAGE} AS p WHERE p.id IS NULL "
                # A member's write that created the row since the UPDATE above is
                # newer than this page: it stays, and so do its links.
                "ON CONFLICT (workspace_id, cc_id) DO NOTHING RETURNING cc_id, id",
                [workspace.pk, now],
            )
            inserted = dict(cursor.fetchall())
            pk_of.update(inserted)
            written.created = len(inserted)

        if existing:
            assignments = ", ".join(
                # Not sent: the row keeps what it had (contact_from_upstream).
                f"{f.column} = {_from_raw(f, otherwise=f'c.{f.column}')}" if f.name in _SENT_ONLY
                else f"{f.column} = p.{f.column}"
                for f in _UPDATED
            )
            cursor.execute(
                f"UPDATE {table} AS c SET {assignments} FROM {_STAGE} AS p "
                "WHERE c.id = p.id AND c.raw IS DISTINCT FROM p.raw "
                "RETURNING c.cc_id, c.deleted_upstream IS NOT NULL",
            )
            for cc_id, deleted in cursor.fetchall():
                if deleted and existing[cc_id][1]:
                    written.removed += 1
                else:
                    written.updated += 1
    return written, pk_of, {pk for pk, _ in existing.values()}


def _writable(*, exclude: tuple[str, ...]) -> list[models.Field]:
    return [f for f in Contact._meta.concrete_fields
            if not f.primary_key and f.name not in exclude]


# Every column the page sets (workspace and synced_at are the same for all rows).
_INSERTED = _writable(exclude=("workspace", "synced_at"))
_UPDATED = _writable(exclude=("workspace", "synced_at", "cc_id"))
# Columns only mapped when the record carries them (contact_from_upstream): a row
# whose record doesn't keeps what it had, and a new one gets its default, [].
_SENT_ONLY = frozenset(("phone_numbers", "street_addresses", "notes", "custom_fields"))


def _stage(cursor, contacts: Iterable[CheckedContact], *, ids: dict[str, int]) -> None:
    """COPY the page into the staging table: one per connection, emptied at every
    commit; `id` is the row's pk when it exists, NULL when it is new."""
    # text, not varchar(n): varchar(n) would clip silently, and it is the mapping's
    # checks that keep each value within its column. A sub-resource is a flag,
    # sent or not (see _from_raw).
    columns = ", ".join(
        f"{f.column} "
        + ("boolean" if f.name in _SENT_ONLY
           else "text" if f.get_internal_type() == "CharField" else f.db_type(connection))
        for f in _INSERTED
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (id bigint, {columns}) "
        "ON COMMIT DELETE ROWS"
    )
    with connection.wrap_database_errors, cursor.cursor.copy(
        f"COPY {_STAGE} (id, {', '.join(f.column for f in _INSERTED)}) FROM STDIN"
    ) as copy:
        for contact in contacts:
            copy.write_row(_staged_row(contact, ids.get(contact.cc_id)))


def _staged_row(contact: CheckedContact, pk: int | None) -> list:
    fields = contact.fields
    row: list[Any] = [pk]
    for f in _INSERTED:
        if f.name == "cc_id":
            row.append(contact.cc_id)
        elif f.name == "raw":
            row.append(json.dumps(contact.raw, ensure_ascii=False, separators=(",", ":")))
        elif f.name in _SENT_ONLY:
            row.append(f.name in fields)
        else:
            row.append(fields[f.name])
    return row


def _from_raw(f: models.Field, *, otherwise: str) -> str:
    # A sub-resource the record sent is its value in `raw`, null read as [] (as
    # contact_from_upstream maps it): taken from there, it doesn't travel twice.
    return (f"CASE WHEN p.{f.column} THEN "
            f"COALESCE(NULLIF(p.raw->'{f.column}', 'null'::jsonb), '[]'::jsonb) "
            f"ELSE {otherwise} END")


def _reconcile_links_sql(*, model, other: str, wanted: set[tuple[int, int]],
                         contact_pks: list[int], existing_pks: set[int]) -> None:
    """_reconcile_links in a few statements, whatever the page's size."""
    table = model._meta.db_table
    new = wanted
    with connection.cursor() as cursor:
        old = [pk for pk in contact_pks if pk in existing_pks]
        if old:
            # One lookup per contact, as in _upsert_contacts' first statement.
            cursor.execute(
                f"SELECT link.id, link.contact_id, link.{other} "
                "FROM unnest(%s::bigint[]) AS page(contact_id), "
                f"LATERAL (SELECT id, contact_id, {other} FROM {table} "
                "WHERE contact_id = page.contact_id OFFSET 0) AS link",
                [old],
            )
            current = {(contact_id, other_id): pk for pk, contact_id, other_id in cursor}
            stale = [pk for pair, pk in current.items() if pair not in wanted]
            if stale:
                cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s::bigint[])", [stale])
            new = wanted - current.keys()
        if new:
            cursor.execute(
                f"INSERT INTO {table} (contact_id, {other}) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [[c for c, _ in new], [o for _, o in new]],
            )
