"""Syncing a workspace's email campaigns and their primary emails into the mirror.

    run, created = campaigns_sync_start(workspace=ws, kind=SyncRun.Kind.INCREMENTAL,
                                        membership=request.membership)
    # ... a worker then runs campaigns_sync_run(...) through the `campaigns.sync` task.

Runs are the mirror floor's `SyncRun` rows with scope "campaigns", so the same
lock, single-flight and failure rules as the contacts sync apply (see
apps/mirror/services/runs.py).

Every run lists campaigns with `GET /emails` (500 to a page, the maximum). The
listing includes deleted campaigns as `Removed` (contract §3.7): they stay in
the mirror with status removed, hidden from the default list. An **incremental**
run asks only for campaigns whose `updated_at` moved since the last successful
run (`after_date` filters on `updated_at`, contract §3.7); a **full** run lists
them all, and marks removed any mirrored campaign Constant Contact no longer
lists at all.

The primary email (subject, sender, HTML, audience...) costs one or two more
calls per campaign (`GET /emails/{id}` once, for the activity id, then the
activity with its sub-resources), so it is read only for campaigns whose
`updated_at` differs from the mirror's, or that have no mirrored email yet; for
a scheduled one, `GET …/schedules` adds the send time. Campaigns mirrored as
scheduled or sending are re-read on every run as well: they turn into sent by
the clock, and nothing promises that moves `updated_at`.

After an email's row changes, any approval whose fingerprint no longer matches
is voided (`approval_void_if_changed`): an edit made in Constant Contact's own
app must void an approval just like one made here. When that campaign is already
scheduled, its schedule is taken back at once (unless the workspace turned that
off) and the admins and the author are told (`send_unschedule_after_change`).
"""

from datetime import datetime
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.campaigns.fingerprint import changes_since_approval
from apps.campaigns.services.approvals import approval_void_if_changed
from apps.campaigns.services.sending import send_unschedule_after_change
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.times import format_time
from apps.mirror.mapping import ACTIVITY_INCLUDE, schedule_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity, SyncRun
from apps.mirror.selectors.runs import sync_freshness
from apps.mirror.services import runs
from apps.mirror.services.campaigns import (
    campaign_mirror_save,
    email_mark_removed,
    email_mirror_save,
)

logger = logging.getLogger(__name__)

SCOPE = SyncRun.Scope.CAMPAIGNS
JOB_NAME = SCOPE.task_name

# The largest page GET /emails allows (contract §3.7): fewer calls.
EMAILS_PAGE = 500

# Statuses that change by the clock alone (a scheduled send goes out, a send finishes).
MOVING_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.EXECUTING)


def run_lock_key(*, workspace_id: int) -> str:
    return runs.run_lock_key(scope=SCOPE, workspace_id=workspace_id)


# --- Starting a run ----------------------------------------------------------------

def campaigns_sync_start(
    *, workspace: Workspace, kind: str, membership: Membership, scheduled: bool = False
) -> tuple[SyncRun, bool]:
    """Queue a campaigns sync of `workspace` (the `campaigns.sync` task), or return
    the one already queued or running. Returns (run, created)."""
    return runs.sync_run_start(workspace=workspace, scope=SCOPE, kind=kind,
                               membership=membership, scheduled=scheduled)


def campaigns_sync_first(*, workspace: Workspace, membership: Membership) -> SyncRun | None:
    """Start the workspace's first campaigns sync, unless one has run or is running.
    Returns the new run, or None when nothing was started."""
    freshness = sync_freshness(workspace=workspace, scope=SCOPE)
    if not freshness.never_synced or freshness.active is not None:
        return None
    run, created = campaigns_sync_start(workspace=workspace, kind=SyncRun.Kind.FULL,
                                        membership=membership)
    return run if created else None


def campaigns_sync_schedule_all() -> list[SyncRun]:
    """Beat's dispatcher: an incremental campaigns sync for every connected workspace."""
    return runs.sync_run_schedule_all(scope=SCOPE)


# --- Running it (in a worker) ------------------------------------------------------

def campaigns_sync_run(*, workspace_id: int, sync_run_id: int, membership_id: int) -> SyncRun:
    """Run the queued sync `sync_run_id`; never raises for an upstream or data
    failure — the run ends failed with the error on its row."""
    run, syncer = runs.sync_run_execute(
        scope=SCOPE, job_name=JOB_NAME, workspace_id=workspace_id, sync_run_id=sync_run_id,
        membership_id=membership_id,
        make_syncer=lambda run, cc, lock, membership: _Sync(
            run=run, cc=cc, lock=lock, membership=membership
        ),
    )
    if syncer is not None:
        # Outside the run's transactions and after the lock: voiding is local work
        # that must not be lost with a failed page, and never blocks another sync.
        syncer.void_changed_approvals()
    return run


class _Sync(runs.SyncWork):
    """One run's work and tallies."""

    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock, membership: Membership):
        super().__init__(run=run, cc=cc, lock=lock)
        self.membership = membership
        self.actor = membership.user
        # Campaigns whose email row was rewritten: their approvals are checked at the end.
        self.emails_changed: list[int] = []

    def run(self) -> None:
        since = self.incremental_since()
        # Every change stamped after this moment is left for the next run to see.
        high_water_mark = timezone.now()
        listed = self.list_campaigns(since=since)
        if since is None:
            self.mark_unlisted_removed(seen=set(listed), started_at=high_water_mark)
        stale = self.campaigns_to_refresh(listed)
        self.total_expected = len(listed) + len(stale)
        self.set_phase("emails")
        for campaign in stale:
            self.refresh_email(campaign)
        self.succeed(high_water_mark=high_water_mark)

    # Campaigns -------------------------------------------------------------------
    def list_campaigns(self, *, since: datetime | None) -> dict[str, bool]:
        """Mirror every listed campaign; returns {cc_id: its email needs reading}."""
        self.set_phase("campaigns")
        params: dict[str, Any] = {"limit": EMAILS_PAGE}
        if since is not None:
            params["after_date"] = format_time(since)
        listed: dict[str, bool] = {}
        for page in self.cc.pages("emails.list", params=params):
            self.api_calls += page.attempts
            items = page.data.get("campaigns") or [] if isinstance(page.data, dict) else []
            with transaction.atomic():
                for item in items:
                    if not item.get("campaign_id"):
                        continue
                    listed[item["campaign_id"]] = self.mirror_listed(item)
                    self.processed += 1
            self.save_counts()
            self.renew_lock()
        return listed

    def mirror_listed(self, item: dict) -> bool:
        existing = (
            Campaign.objects.filter(workspace=self.workspace, cc_id=item["campaign_id"])
            .select_related("email").first()
        )
        before_updated = existing.updated_upstream if existing else None
        before_status = existing.status if existing else None
        campaign = campaign_mirror_save(workspace=self.workspace, data=item)
        if existing is None:
            self.created += 1
        elif campaign.status == CampaignStatus.REMOVED and before_status != CampaignStatus.REMOVED:
            self.deleted += 1
        elif before_updated != campaign.updated_upstream or before_status != campaign.status:
            self.updated += 1
        if campaign.status == CampaignStatus.REMOVED:
            return False  # its activities answer 404 now (contract §3.7)
        has_email = existing is not None and _has_email(existing)
        return (not has_email or before_updated != campaign.updated_upstream
                or before_status != campaign.status)

    def mark_unlisted_removed(self, *, seen: set[str], started_at: datetime) -> None:
        """A full listing includes removed campaigns; one missing altogether was
        purged upstream. Its row stays (approvals and send jobs refer to it), as removed.
        A campaign a member created while the listing ran is newer than `started_at`."""
        gone = Campaign.objects.filter(
            workspace=self.workspace, synced_at__lt=started_at
        ).exclude(status=CampaignStatus.REMOVED).exclude(cc_id__in=seen)
        for campaign in gone:
            with transaction.atomic():
                campaign.status = CampaignStatus.REMOVED
                campaign.synced_at = timezone.now()
                campaign.save(update_fields=["status", "synced_at"])
                email_mark_removed(campaign=campaign)
            self.deleted += 1

    def campaigns_to_refresh(self, listed: dict[str, bool]) -> list[Campaign]:
        wanted = {cc_id for cc_id, stale in listed.items() if stale}
        moving = Campaign.objects.filter(
            workspace=self.workspace, status__in=MOVING_STATUSES
        ).values_list("cc_id", flat=True)
        wanted.update(moving)
        return list(
            Campaign.objects.filter(workspace=self.workspace, cc_id__in=wanted)
            .exclude(status=CampaignStatus.REMOVED).order_by("pk")
        )

    # Emails ----------------------------------------------------------------------
    def refresh_email(self, campaign: Campaign) -> None:
        try:
            if not campaign.primary_activity_id:
                answer = self.cc.call("emails.get", campaign_id=campaign.cc_id)
                self.api_calls += answer.attempts
                with transaction.atomic():
                    campaign = campaign_mirror_save(workspace=self.workspace, data=answer.data)
            if not campaign.primary_activity_id or campaign.status == CampaignStatus.REMOVED:
                return  # an A/B test or other campaign without a primary email
            activity = self.cc.call("emails.activity_get",
                                    campaign_activity_id=campaign.primary_activity_id,
                                    params={"include": ACTIVITY_INCLUDE})
            self.api_calls += activity.attempts
            scheduled_at = None
            if activity.data.get("current_status", "").upper() == "SCHEDULED":
                schedule = self.cc.call("emails.schedule_get",
                                        campaign_activity_id=campaign.primary_activity_id)
                self.api_calls += schedule.attempts
                scheduled_at = schedule_from_upstream(schedule.data)
        except NotFound:
            # Deleted between the listing and now: the next listing says Removed.
            logger.info("campaigns sync: campaign %s vanished mid-run", campaign.cc_id)
            return
        with transaction.atomic():
            email_mirror_save(campaign=campaign, data=activity.data, scheduled_at=scheduled_at)
            # The campaign's status follows its primary email's (the listing may be
            # older than the activity read a moment later).
            status = EmailActivity.objects.get(campaign=campaign).status
            if campaign.status != status:
                Campaign.objects.filter(pk=campaign.pk).update(status=status)
        self.emails_changed.append(campaign.pk)
        self.processed += 1
        self.save_counts()
        self.renew_lock()

    def void_changed_approvals(self) -> None:
        if not self.emails_changed:
            return
        for campaign in Campaign.objects.filter(pk__in=self.emails_changed).select_related("email"):
            try:
                voided = approval_void_if_changed(campaign=campaign, actor=self.actor)
                if voided is not None and campaign.email.status == CampaignStatus.SCHEDULED:
                    send_unschedule_after_change(
                        campaign=campaign, membership=self.membership,
                        changes=changes_since_approval(voided, campaign.email),
                    )
            except Exception:  # one campaign's trouble must not hide the others'
                logger.exception("campaigns sync: approval check for %s failed", campaign.pk)


def _has_email(campaign: Campaign) -> bool:
    try:
        campaign.email
    except EmailActivity.DoesNotExist:
        return False
    return True
