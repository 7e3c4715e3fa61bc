"""Writing cached tracking events (`TrackingEvent`) from Constant Contact's reports.

Two sources fill the cache:

- the per-activity tracking reports (`/reports/email_reports/{id}/tracking/<kind>`),
  a page of up to 500 events of one kind, with the link of a click, the code of
  a bounce and the reason of an opt-out: `tracking_events_save`;
- a contact's activity report (`/reports/contact_reports/{id}/activity_details`),
  every kind for one contact but without those details:
  `tracking_events_save_for_contact`.

An event read twice is stored once (the unique constraint; refreshes overlap on
purpose). A row first read from the contact report is completed when the
per-activity report brings its details: bounces and opt-outs in place, and a
click — keyed by its link too — by replacing the link-less row. Only ids,
times and the event's details are kept: never the address or name the reports
also carry (the contact's own row has those).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.constantcontact.times import parse_time
from apps.mirror.models import TrackingEvent

Kind = TrackingEvent.Kind

# tracking_activity_type (both report families) -> our kind. Forwards, abuse and
# did-not-opens are not cached: the counts cover them and the last is derived.
KIND_OF_TYPE = {
    "em_sends": Kind.SEND,
    "em_opens": Kind.OPEN,
    "em_clicks": Kind.CLICK,
    "em_bounces": Kind.BOUNCE,
    "em_optouts": Kind.OPTOUT,
}

_UNIQUE = ["workspace", "activity_id", "kind", "contact_cc_id", "occurred_at", "url_id"]
_DETAILS = ["link_url", "device_type", "bounce_code", "opt_out_reason", "synced_at"]


def _clip(value, length: int) -> str:
    return str(value or "")[:length]


def _row(*, workspace: Workspace, activity_id: str, kind: str, item: dict,
         occurred_at: datetime, now: datetime) -> TrackingEvent:
    return TrackingEvent(
        workspace=workspace, activity_id=activity_id, kind=kind,
        contact_cc_id=_clip(item.get("contact_id"), 64), occurred_at=occurred_at,
        url_id=_clip(item.get("url_id"), 32) if kind == Kind.CLICK else "",
        link_url=_clip(item.get("link_url"), 2000) if kind == Kind.CLICK else "",
        device_type=_clip(item.get("device_type"), 32),
        bounce_code=_clip(item.get("bounce_code"), 8) if kind == Kind.BOUNCE else "",
        opt_out_reason=_clip(item.get("opt_out_reason"), 255) if kind == Kind.OPTOUT else "",
        synced_at=now,
    )


def tracking_events_save(*, workspace: Workspace, activity_id: str, kind: str,
                         items: Iterable[dict]) -> int:
    """Upsert one page of a per-activity tracking report; returns the events read.

    Items without a contact or a readable time are skipped: an event nobody can
    be shown or placed in time is of no use to a report.
    """
    now = timezone.now()
    rows = []
    for item in items:
        occurred_at = parse_time(item.get("created_time"))
        if not item.get("contact_id") or occurred_at is None:
            continue
        rows.append(_row(workspace=workspace, activity_id=activity_id, kind=kind, item=item,
                         occurred_at=occurred_at, now=now))
    if not rows:
        return 0
    with transaction.atomic():
        TrackingEvent.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=_UNIQUE, update_fields=_DETAILS,
            batch_size=500,
        )
        if kind == Kind.CLICK:
            _drop_linkless_twins(workspace=workspace, activity_id=activity_id, rows=rows)
    return len(rows)


def _drop_linkless_twins(*, workspace: Workspace, activity_id: str,
                         rows: list[TrackingEvent]) -> None:
    """A click first read from a contact's report has no link; now that the
    campaign's click report brought it with its link, the link-less row goes."""
    contacts = {row.contact_cc_id for row in rows if row.url_id}
    if not contacts:
        return
    moments = {(row.contact_cc_id, row.occurred_at) for row in rows if row.url_id}
    twins = TrackingEvent.objects.filter(
        workspace=workspace, activity_id=activity_id, kind=Kind.CLICK, url_id="",
        contact_cc_id__in=contacts,
    ).values_list("pk", "contact_cc_id", "occurred_at")
    doomed = [pk for pk, contact, at in twins if (contact, at) in moments]
    if doomed:
        TrackingEvent.objects.filter(pk__in=doomed).delete()


def tracking_events_save_for_contact(*, workspace: Workspace, contact_cc_id: str,
                                     items: Iterable[dict]) -> int:
    """Insert one page of a contact's activity report; returns the new events.

    Events already cached (from either report) stay as they are: the campaign's
    own report has the details this one lacks. A click is already cached when
    any click of that contact at that moment is, whatever its link.
    """
    now = timezone.now()
    rows = []
    for item in items:
        kind = KIND_OF_TYPE.get(item.get("tracking_activity_type", ""))
        occurred_at = parse_time(item.get("created_time"))
        if kind is None or occurred_at is None or not item.get("campaign_activity_id"):
            continue
        rows.append(_row(workspace=workspace, activity_id=_clip(item["campaign_activity_id"], 64),
                         kind=kind, item={**item, "contact_id": contact_cc_id},
                         occurred_at=occurred_at, now=now))
    if not rows:
        return 0
    known = set(
        TrackingEvent.objects.filter(
            workspace=workspace, contact_cc_id=contact_cc_id,
            occurred_at__in={row.occurred_at for row in rows},
        ).values_list("activity_id", "kind", "occurred_at")
    )
    new = [row for row in rows if (row.activity_id, row.kind, row.occurred_at) not in known]
    TrackingEvent.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)

