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

One sync at a time per workspace (apps/mirror/services/runs.py, shared with the
campaigns sync): a second request gets the running run back, and the run holds
a Redis lock that it renews page by page. A failed run keeps its error on its
row; the mirror keeps whatever pages were written, which is still true data,
and the next run continues from the last *successful* run's high-water mark.

Writes are batched per page of 500 (apps/mirror/services/batches.py): a few
set-based statements on PostgreSQL (one prepared INSERT and UPDATE on SQLite)
write them, and list memberships and taggings are reconciled in bulk. Every
record is checked on the way (apps/mirror/mapping.py): one value too long for
its column is clipped, a record the mirror can't hold is left out, and neither
fails the page; the run keeps a list of them for the sync screen.
"""

from datetime import datetime
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.times import format_time
from apps.mirror.mapping import (
    CONTACT_INCLUDE,
    custom_field_fields_from_upstream,
    list_fields_from_upstream,
    tag_fields_from_upstream,
)
from apps.mirror.models import Contact, ContactList, CustomField, SyncRun, Tag
from apps.mirror.selectors.runs import sync_freshness
from apps.mirror.services import runs
from apps.mirror.services.anomalies import sync_anomalies_forget_earlier
from apps.mirror.services.batches import mirror_collection, mirror_contacts_page

logger = logging.getLogger(__name__)

SCOPE = SyncRun.Scope.CONTACTS
JOB_NAME = SCOPE.task_name

# The largest page each collection allows (contract §3.1-§3.4): fewer calls.
CONTACTS_PAGE = 500
LISTS_PAGE = 500  # the prose says 1-500, the schema 1000 (contract §3.2): the safe one
TAGS_PAGE = 500
CUSTOM_FIELDS_PAGE = 100  # and at most 100 exist (contract §3.4)


def run_lock_key(*, workspace_id: int) -> str:
    return runs.run_lock_key(scope=SCOPE, workspace_id=workspace_id)


# --- Starting a run ----------------------------------------------------------------

def contacts_sync_start(
    *, workspace: Workspace, kind: str, membership: Membership, scheduled: bool = False
) -> tuple[SyncRun, bool]:
    """Queue a sync of `workspace` (the `contacts.sync` task), or return the one
    already queued or running. Returns (run, created)."""
    if kind == SyncRun.Kind.INCREMENTAL and sync_freshness(workspace=workspace,
                                                            scope=SCOPE).never_synced:
        # Nothing to be incremental from: the worker would read everything anyway,
        # so the run says so from the start ("Full sync started", not "Incremental").
        kind = SyncRun.Kind.FULL
    return runs.sync_run_start(workspace=workspace, scope=SCOPE, kind=kind,
                               membership=membership, scheduled=scheduled)


def contacts_sync_first(*, workspace: Workspace, membership: Membership) -> SyncRun | None:
    """Start the workspace's first full sync, unless one has run or is running.
    Returns the new run, or None when nothing was started."""
    freshness = sync_freshness(workspace=workspace, scope=SCOPE)
    if not freshness.never_synced or freshness.active is not None:
        return None
    run, created = contacts_sync_start(workspace=workspace, kind=SyncRun.Kind.FULL,
                                       membership=membership)
    return run if created else None


def contacts_sync_schedule_all() -> list[SyncRun]:
    """Beat's dispatcher: an incremental sync for every connected workspace."""
    return runs.sync_run_schedule_all(scope=SCOPE)


# --- Running it (in a worker) ------------------------------------------------------

def contacts_sync_run(*, workspace_id: int, sync_run_id: int, membership_id: int) -> SyncRun:
    """Run the queued sync `sync_run_id`; never raises for an upstream or data
    failure — the run ends failed with the error on its row."""
    run, _ = runs.sync_run_execute(
        scope=SCOPE, job_name=JOB_NAME, workspace_id=workspace_id, sync_run_id=sync_run_id,
        membership_id=membership_id,
        make_syncer=lambda run, cc, lock, membership: _Sync(run=run, cc=cc, lock=lock),
    )
    return run


class _Sync(runs.SyncWork):
    """One run's work and tallies."""

    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock):
        super().__init__(run=run, cc=cc, lock=lock)
        self.list_pks: dict[str, int] = {}
        self.tag_pks: dict[str, int] = {}

    # The whole run --------------------------------------------------------------
    def run(self) -> None:
        since = self.incremental_since()
        # The screen shows this run's anomalies from now on (see read_contacts).
        sync_anomalies_forget_earlier(sync_run=self.run_row)
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
        self.read_contacts(self.contact_params(updated_after=format_time(since)))
        self.set_phase("opted-out contacts")
        self.read_contacts(self.contact_params(optout_after=format_time(since)))

    def read_contacts(self, params: dict[str, Any]) -> None:
        first = True
        for page in self.cc.pages("contacts.list", params=params):
            self.api_calls += page.attempts
            if first and page.data.get("contacts_count") is not None:
                self.total_expected = (self.total_expected or 0) + int(page.data["contacts_count"])
            first = False
            contacts = page.data.get("contacts") or []
            with transaction.atomic():
                # A record the mirror can't hold is left out and recorded on the
                # run, not allowed to fail the page (mirror_contacts_page).
                written = mirror_contacts_page(
                    workspace=self.workspace, items=contacts, list_pks=self.list_pks,
                    tag_pks=self.tag_pks, sync_run=self.run_row,
                )
                self.created += written.created
                self.updated += written.updated
                self.deleted += written.removed
                self.processed += len(contacts)
                self.save_counts()
            self.renew_lock()
