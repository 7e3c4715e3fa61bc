"""Syncing a workspace's contacts, lists, tags and custom fields into the mirror.

    run, created = contacts_sync_start(workspace=ws, kind=SyncRun.Kind.INCREMENTAL,
                                       membership=request.membership)
    # ... a worker then runs contacts_sync_run(...) through the `contacts.sync` task.

A **full** sync reads lists, tags and custom fields in full, then every contact
(`status=all`, so contacts deleted upstream come back with `deleted_at` and show
as removed), 500 to a page — the maximum, so N contacts cost about N/500 calls
(contract §3.1) — and finally drops every mirrored row it did not see. An
**incremental** sync reads the small collections in full too (no filter by date
exists for them, contract §3.2) and asks for contacts changed since the last
successful run: once by `updated_after` and once by `optout_after`, because an
opt-out does not change `updated_at` (contract §5.5). Deletions change
`updated_at`, and `status=all` brings them back with `deleted_at`.

One sync at a time per workspace (apps/contacts/sync_runs.py, shared with the
campaigns sync): a second request gets the running run back, and the run holds
a Redis lock that it renews page by page. A failed run keeps its error on its
row; the mirror keeps whatever pages were written, which is still true data,
and the next run continues from the last *successful* run's high-water mark.

Writes are batched per page of 500: one query loads the page's existing rows,
one prepared INSERT and one prepared UPDATE (executemany, see `_insert_rows`)
write them, and list memberships and taggings are reconciled in bulk.
`contact_fields_from_upstream` (mirror.py) is the one mapping from JSON to
columns, shared with every single-contact write.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
import logging
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.gate import ConstantContact
from apps.contacts.mirror import (
    CONTACT_INCLUDE,
    contact_fields_from_upstream,
    custom_field_fields_from_upstream,
    list_fields_from_upstream,
    tag_fields_from_upstream,
)
from apps.contacts.models import (
    Contact,
    ContactList,
    CustomField,
    ListMembership,
    SyncRun,
    Tag,
    Tagging,
)
from apps.contacts import sync_runs

logger = logging.getLogger(__name__)

SCOPE = "contacts"
JOB_NAME = "contacts.sync"

# The largest page each collection allows (contract §3.1-§3.4): fewer calls.
CONTACTS_PAGE = 500
LISTS_PAGE = 500  # the prose says 1-500, the schema 1000 (contract §3.2): the safe one
TAGS_PAGE = 500
CUSTOM_FIELDS_PAGE = 100  # and at most 100 exist (contract §3.4)

INCREMENTAL_OVERLAP = sync_runs.INCREMENTAL_OVERLAP

def run_lock_key(*, workspace_id: int) -> str:
    return sync_runs.run_lock_key(scope=SCOPE, workspace_id=workspace_id)


def _upstream_time(moment: datetime) -> str:
    # ISO-8601 in UTC, the form Constant Contact's own timestamps take (contract §2.2).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Starting a run ----------------------------------------------------------------

def contacts_sync_start(
    *, workspace: Workspace, kind: str, membership: Membership, scheduled: bool = False
) -> tuple[SyncRun, bool]:
    """Queue a sync of `workspace`, or return the one already queued or running
    (see apps/contacts/sync_runs.py). Returns (run, created)."""
    from apps.contacts.tasks import contacts_sync  # the task module imports this one

    return sync_runs.sync_run_start(
        workspace=workspace, scope=SCOPE, kind=kind, membership=membership,
        scheduled=scheduled,
        enqueue=lambda run: contacts_sync.apply_async(
            args=(workspace.pk, run.pk, membership.pk), queue="default"
        ),
    )


def contacts_sync_schedule_all() -> list[SyncRun]:
    """Beat's dispatcher: an incremental sync for every connected workspace."""
    return sync_runs.sync_run_schedule_all(scope=SCOPE, start=contacts_sync_start)


# --- Running it (in a worker) ------------------------------------------------------

def contacts_sync_run(*, workspace_id: int, sync_run_id: int, membership_id: int) -> SyncRun:
    """Run the queued sync `sync_run_id`; never raises for an upstream or data
    failure — the run ends failed with the error on its row."""
    run, _ = sync_runs.sync_run_execute(
        scope=SCOPE, job_name=JOB_NAME, workspace_id=workspace_id, sync_run_id=sync_run_id,
        membership_id=membership_id,
        make_syncer=lambda run, cc, lock, membership: _Sync(run=run, cc=cc, lock=lock),
    )
    return run


class _Sync(sync_runs.SyncWork):
    """One run's work and tallies."""

    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock):
        super().__init__(run=run, cc=cc, lock=lock)
        self.list_pks: dict[str, int] = {}
        self.tag_pks: dict[str, int] = {}

    # The whole run --------------------------------------------------------------
    def run(self) -> None:
        since = self.incremental_since()
        self.sync_collections()

        # Every change stamped after this moment is left for the next run to see.
        high_water_mark = timezone.now()
        if since is None:
            self.sync_all_contacts(started_at=high_water_mark)
        else:
            self.sync_changed_contacts(since=since)
        self.succeed(high_water_mark=high_water_mark)

    # Lists, tags and custom fields ---------------------------------------------
    def sync_collections(self) -> None:
        self.set_phase("lists")
        lists = self.fetch_all(
            "lists.list", "lists",
            {"limit": LISTS_PAGE, "include_membership_count": "all"},
        )
        mirror_collection(workspace=self.workspace, model=ContactList, items=lists,
                          id_key="list_id", fields_from_upstream=list_fields_from_upstream)
        self.set_phase("tags")
        tags = self.fetch_all("tags.list", "tags", {"limit": TAGS_PAGE, "include_count": "true"})
        mirror_collection(workspace=self.workspace, model=Tag, items=tags, id_key="tag_id",
                          fields_from_upstream=tag_fields_from_upstream)
        self.set_phase("custom fields")
        fields = self.fetch_all("custom_fields.list", "custom_fields",
                                {"limit": CUSTOM_FIELDS_PAGE})
        mirror_collection(workspace=self.workspace, model=CustomField, items=fields,
                          id_key="custom_field_id",
                          fields_from_upstream=custom_field_fields_from_upstream)
        self.list_pks = dict(
            ContactList.objects.filter(workspace=self.workspace).values_list("cc_id", "pk")
        )
        self.tag_pks = dict(Tag.objects.filter(workspace=self.workspace).values_list("cc_id", "pk"))

    def fetch_all(self, endpoint: str, key: str, params: dict[str, Any]) -> list[dict]:
        items: list[dict] = []
        for page in self.cc.pages(endpoint, params=params):
            self.api_calls += page.attempts
            items.extend(page.data.get(key) or [])
            self.renew_lock()
        self.save_counts()
        return items

    # Contacts --------------------------------------------------------------------
    def contact_params(self, **extra: str) -> dict[str, Any]:
        # status=all: deleted contacts are left out otherwise (contract §3.1), and
        # they are how a deletion reaches the mirror. include_count gives the
        # progress bar its end.
        return {"limit": CONTACTS_PAGE, "include": CONTACT_INCLUDE, "status": "all",
                "include_count": "true", **extra}

    def sync_all_contacts(self, *, started_at: datetime) -> None:
        self.set_phase("contacts")
        self.read_contacts(self.contact_params())
        # Every contact seen above was stamped synced_at after `started_at`; the
        # rest are gone from Constant Contact (a contact deleted upstream still
        # appears with status=all, so these were purged or never existed there).
        # Rows a member wrote meanwhile carry a later synced_at and stay.
        self.set_phase("removing contacts gone upstream")
        gone = Contact.objects.filter(workspace=self.workspace, synced_at__lt=started_at)
        self.deleted += gone.count()
        gone.delete()

    def sync_changed_contacts(self, *, since: datetime) -> None:
        # Two queries, because Constant Contact ANDs its filters: one for changes,
        # one for opt-outs, which leave updated_at alone (contract §5.5).
        self.set_phase("changed contacts")
        self.read_contacts(self.contact_params(updated_after=_upstream_time(since)))
        self.set_phase("opted-out contacts")
        self.read_contacts(self.contact_params(optout_after=_upstream_time(since)))

    def read_contacts(self, params: dict[str, Any]) -> None:
        first = True
        for page in self.cc.pages("contacts.list", params=params):
            self.api_calls += page.attempts
            if first and page.data.get("contacts_count") is not None:
                self.total_expected = (self.total_expected or 0) + int(page.data["contacts_count"])
            first = False
            contacts = page.data.get("contacts") or []
            with transaction.atomic():
                created, updated, deleted = mirror_contacts_page(
                    workspace=self.workspace, items=contacts, list_pks=self.list_pks,
                    tag_pks=self.tag_pks,
                )
                self.created += created
                self.updated += updated
                self.deleted += deleted
                self.processed += len(contacts)
                self.save_counts()
            self.renew_lock()


# --- Batched mirror writes ---------------------------------------------------------

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
