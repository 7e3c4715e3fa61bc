"""Batched mirror writes: a whole listing of a small collection, or a page of 500
contacts, in a few queries.

`mirror_collection` makes a collection's mirror (lists, tags, custom fields)
exactly a complete listing; `mirror_contacts_page` upserts one page of contacts
with their list memberships and taggings. Both are what a sync writes; the
mapping from JSON to columns is `apps.mirror.mapping`, shared with every
single-row write.
"""

from collections.abc import Iterable
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.mapping import contact_fields_from_upstream
from apps.mirror.models import Contact, ListMembership, Tagging


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


def mirror_contacts_page(
    *, workspace: Workspace, items: list[dict], list_pks: dict[str, int], tag_pks: dict[str, int]
) -> tuple[int, int, int]:
    """Upsert one page of ContactResources (with every include) in a few queries.

    Returns (created, updated, newly removed). A contact whose JSON is exactly
    what the mirror holds is only re-stamped, not rewritten. Call it inside a
    transaction.
    """
    now = timezone.now()
    by_id = {data["contact_id"]: data for data in items}
    existing = {
        row.cc_id: row
        for row in Contact.objects.filter(workspace=workspace, cc_id__in=list(by_id))
    }
    to_create: list[Contact] = []
    to_update: list[Contact] = []
    unchanged: list[int] = []
    created = updated = removed = 0
    # Columns to UPDATE: whatever the mapping produced (sub-resources only when sent).
    columns: set[str] = {"raw", "synced_at"}
    for cc_id, data in by_id.items():
        fields = contact_fields_from_upstream(data)
        row = existing.get(cc_id)
        if row is None:
            to_create.append(Contact(workspace=workspace, cc_id=cc_id, raw=data, synced_at=now,
                                     **fields))
            created += 1
            continue
        if row.raw == data:
            unchanged.append(row.pk)
            continue
        newly_removed = fields["deleted_upstream"] is not None and row.deleted_upstream is None
        columns.update(fields)
        for name, value in fields.items():
            setattr(row, name, value)
        row.raw = data
        row.synced_at = now
        to_update.append(row)
        if newly_removed:
            removed += 1
        else:
            updated += 1

    _insert_rows(Contact, to_create)
    _update_rows(Contact, to_update, sorted(columns))
    if unchanged:
        Contact.objects.filter(pk__in=unchanged).update(synced_at=now)

    pk_of = {row.cc_id: row.pk for row in existing.values()}
    if to_create:
        pk_of.update(Contact.objects.filter(
            workspace=workspace, cc_id__in=[row.cc_id for row in to_create]
        ).values_list("cc_id", "pk"))
    existing_pks = {row.pk for row in existing.values()}
    _reconcile_links(
        model=ListMembership, other="contact_list_id",
        wanted=_links(by_id, pk_of, "list_memberships", list_pks),
        contact_pks=[pk_of[c] for c, d in by_id.items() if "list_memberships" in d],
        existing_pks=existing_pks,
    )
    _reconcile_links(
        model=Tagging, other="tag_id", wanted=_links(by_id, pk_of, "taggings", tag_pks),
        contact_pks=[pk_of[c] for c, d in by_id.items() if "taggings" in d],
        existing_pks=existing_pks,
    )
    return created, updated, removed


# The contacts hot path writes with one prepared statement per page (executemany)
# rather than bulk_create / bulk_update: on a page of 500 contacts Django's
# bulk_update builds a CASE per column and row and takes ~3.5 s, executemany
# ~0.15 s; bulk_create's SQL compilation takes ~0.2 s, executemany ~0.12 s
# (SQLite, measured for bench/sync.py). The values are still prepared by each
# field (get_db_prep_save), so JSON and datetimes are stored exactly as the ORM
# stores them, on any backend.

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


def _links(by_id: dict[str, dict], pk_of: dict[str, int], key: str,
           target_pks: dict[str, int]) -> set[tuple[int, int]]:
    # Ids the mirror doesn't know (a list deleted a moment ago) are skipped: the
    # next sync settles them.
    return {
        (pk_of[cc_id], target_pks[target])
        for cc_id, data in by_id.items()
        for target in (data.get(key) or [])
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
