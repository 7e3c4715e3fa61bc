"""The campaigns sync against the simulator: a full run mirrors every campaign and
its primary email (sender, subject, HTML, audience), deleted campaigns stay as
removed, statuses arrive in both spellings and are stored lower-case, an
incremental run reads emails only for campaigns that changed, a scheduled send
turns into sent, and one run at a time per workspace."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.campaigns.models import Approval
from apps.campaigns.services.sync import campaigns_sync_start
from apps.mirror.mapping import status_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity, SyncRun
from ccsim.clock import iso
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import ApprovalFactory


def sim_campaign(world, name: str) -> dict:
    with world.sim.state.lock:
        return next(c for c in world.sim.state.campaigns.values() if c["name"] == name)


def sim_activity(world, name: str) -> dict:
    camp = sim_campaign(world, name)
    with world.sim.state.lock:
        return world.sim.state.campaign_activities[camp["_primary"]]


def edit_upstream(world, name: str, **changes) -> None:
    """A change made in Constant Contact's own app."""
    camp = sim_campaign(world, name)
    with world.sim.state.lock:
        world.sim.state.campaign_activities[camp["_primary"]].update(changes)
        camp["updated_at"] = world.sim.state.now()
        world.sim.state.touch()


# --- Status spellings ----------------------------------------------------------

@pytest.mark.parametrize("upstream, stored", [
    ("Draft", "draft"), ("DRAFT", "draft"), ("Scheduled", "scheduled"), ("EXECUTING", "executing"),
    ("Done", "done"), ("DONE", "done"), ("Removed", "removed"), ("ERROR", "error"),
])
def test_it_stores_title_and_upper_case_statuses_alike(upstream, stored):
    assert status_from_upstream(upstream) == stored


def test_an_unknown_status_reads_as_an_error_never_as_a_draft():
    assert status_from_upstream("Archived") == CampaignStatus.ERROR
    assert status_from_upstream(None) == CampaignStatus.ERROR


# --- Full sync -----------------------------------------------------------------

def test_a_full_sync_mirrors_every_campaign_and_its_email(synced_world, run_campaigns_sync):
    run = run_campaigns_sync("full", who="editor")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.scope == "campaigns"
    assert run.created_count == 4
    by_name = {c.name: c for c in Campaign.objects.filter(workspace=synced_world.workspace)}
    assert set(by_name) == {"Spring Launch", "Summer Sale", "Autumn Webinar",
                            "Draft: Winter Preview"}
    assert by_name["Draft: Winter Preview"].status == CampaignStatus.DRAFT
    assert by_name["Spring Launch"].status == CampaignStatus.DONE

    upstream = sim_activity(synced_world, "Summer Sale")
    email = by_name["Summer Sale"].email
    assert email.cc_id == upstream["campaign_activity_id"]
    assert email.status == CampaignStatus.DONE  # "DONE" upstream
    assert (email.subject, email.from_email, email.reply_to_email) == (
        "Summer Sale", "news@ccsim-demo.example", "news@ccsim-demo.example")
    assert "[[trackingImage]]" in email.html_content
    assert email.contact_list_ids == upstream["contact_list_ids"]
    assert email.physical_address_in_footer["address_line1"] == "1 Main St"
    assert email.permalink_url
    assert email.sent_at is not None  # sent before the first sync: the campaign's updated_at
    assert "html_content" not in email.raw  # stored once, in its column
    assert by_name["Summer Sale"].primary_activity_id == upstream["campaign_activity_id"]


def test_a_deleted_campaign_stays_in_the_mirror_as_removed(synced_world, run_campaigns_sync):
    camp = sim_campaign(synced_world, "Draft: Winter Preview")
    synced_world.gate("editor").call("emails.delete", campaign_id=camp["campaign_id"])

    run = run_campaigns_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    row = Campaign.objects.get(cc_id=camp["campaign_id"])
    assert row.status == CampaignStatus.REMOVED
    assert not EmailActivity.objects.filter(campaign=row).exists()  # REMOVED answers 404


def test_a_campaign_deleted_after_a_sync_is_marked_removed_with_its_email(
        campaigns_world, run_campaigns_sync):
    camp = sim_campaign(campaigns_world, "Draft: Winter Preview")
    campaigns_world.gate("editor").call("emails.delete", campaign_id=camp["campaign_id"])

    run = run_campaigns_sync("incremental")

    row = Campaign.objects.get(cc_id=camp["campaign_id"])
    assert row.status == CampaignStatus.REMOVED
    assert row.email.status == CampaignStatus.REMOVED
    assert run.deleted_count == 1


def test_a_full_sync_marks_a_campaign_purged_upstream_as_removed(
        campaigns_world, run_campaigns_sync):
    camp = sim_campaign(campaigns_world, "Autumn Webinar")
    with campaigns_world.sim.state.lock:
        del campaigns_world.sim.state.campaigns[camp["campaign_id"]]

    run = run_campaigns_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Campaign.objects.get(cc_id=camp["campaign_id"]).status == CampaignStatus.REMOVED


# --- Incremental sync ------------------------------------------------------------

def test_an_incremental_sync_reads_only_the_emails_that_changed(campaigns_world,
                                                                run_campaigns_sync):
    edit_upstream(campaigns_world, "Draft: Winter Preview", subject="Winter is coming")
    changed = sim_campaign(campaigns_world, "Draft: Winter Preview")
    log = RequestLog(campaigns_world.sim)

    run = run_campaigns_sync("incremental")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.kind == SyncRun.Kind.INCREMENTAL
    row = Campaign.objects.get(cc_id=changed["campaign_id"])
    assert row.email.subject == "Winter is coming"
    calls = [(a.method, a.path) for a in log.api()]
    # One listing filtered by updated_at, then the one changed email: its activity id
    # is known from the first sync, so no GET /emails/{id}.
    assert calls == [("GET", "/v3/emails"),
                     ("GET", f"/v3/emails/activities/{changed['_primary']}")]


def test_an_incremental_sync_asks_for_changes_since_the_last_run(campaigns_world,
                                                                 run_campaigns_sync,
                                                                 monkeypatch):
    seen = []
    original = campaigns_world.sim.dispatch

    def spy(req):
        if req.path == "/v3/emails":
            seen.append(req.q("after_date"))
        return original(req)

    monkeypatch.setattr(campaigns_world.sim, "dispatch", spy)
    previous = SyncRun.objects.filter(scope="campaigns", status="succeeded").latest("created_at")

    run_campaigns_sync("incremental")

    assert len(seen) == 1 and seen[0]
    asked = datetime.fromisoformat(seen[0].replace("Z", "+00:00"))
    # A few minutes' overlap with the last run: clocks differ, nothing is missed.
    assert previous.high_water_mark - timedelta(minutes=10) < asked < previous.high_water_mark


def test_the_first_incremental_sync_reads_everything(synced_world, run_campaigns_sync):
    run = run_campaigns_sync("incremental")

    assert run.kind == SyncRun.Kind.FULL
    assert Campaign.objects.filter(workspace=synced_world.workspace).count() == 4


def test_a_scheduled_send_is_mirrored_then_turns_into_sent(campaigns_world, run_campaigns_sync):
    draft = sim_campaign(campaigns_world, "Draft: Winter Preview")
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    campaigns_world.gate("approver").call("emails.schedule", campaign_activity_id=draft["_primary"],
                                          json={"scheduled_date": iso(when.timestamp())})

    run_campaigns_sync("incremental")

    row = Campaign.objects.get(cc_id=draft["campaign_id"])
    assert row.status == CampaignStatus.SCHEDULED
    assert row.email.status == CampaignStatus.SCHEDULED
    assert row.email.scheduled_at == when

    campaigns_world.sim.advance(3 * 24 * 3600)
    run = run_campaigns_sync("incremental")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    row.refresh_from_db()
    row.email.refresh_from_db()
    assert row.status == CampaignStatus.DONE
    assert row.email.scheduled_at is None
    assert row.email.sent_at == when  # the schedule it went out on


def test_a_change_made_in_constant_contact_voids_an_approval(campaigns_world,
                                                             run_campaigns_sync):
    campaign = Campaign.objects.get(name="Draft: Winter Preview")
    approval = ApprovalFactory(  # of the email as it is now
        campaign=campaign, decision=Approval.Decision.APPROVED,
        requested_by=campaigns_world.editor, decided_by=campaigns_world.approver,
    )
    edit_upstream(campaigns_world, "Draft: Winter Preview", subject="Changed behind our back")

    run_campaigns_sync("incremental")

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED


def test_an_unchanged_campaign_keeps_its_approval(campaigns_world, run_campaigns_sync):
    campaign = Campaign.objects.get(name="Draft: Winter Preview")
    approval = ApprovalFactory(  # of the email as it is now
        campaign=campaign, decision=Approval.Decision.APPROVED,
        requested_by=campaigns_world.editor, decided_by=campaigns_world.approver,
    )

    run_campaigns_sync("full")

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED


# --- One at a time, failures ------------------------------------------------------

def test_a_second_start_gets_the_running_sync_back(connected_world):
    first, created = campaigns_sync_start(workspace=connected_world.workspace, kind="full",
                                          membership=connected_world.membership("editor"))
    second, created_again = campaigns_sync_start(
        workspace=connected_world.workspace, kind="incremental",
        membership=connected_world.membership("admin"),
    )

    assert created and not created_again
    assert second.pk == first.pk
    assert SyncRun.objects.filter(scope="campaigns").count() == 1


def test_a_campaigns_sync_does_not_block_a_contacts_sync(connected_world):
    from apps.contacts.services.sync import contacts_sync_start

    campaigns_sync_start(workspace=connected_world.workspace, kind="full",
                         membership=connected_world.membership("editor"))
    _, created = contacts_sync_start(workspace=connected_world.workspace, kind="full",
                                     membership=connected_world.membership("editor"))

    assert created


def test_an_upstream_outage_fails_the_run_with_a_message_and_keeps_the_mirror(
        campaigns_world, run_campaigns_sync, no_backoff):
    before = {c.cc_id: (c.status, c.updated_upstream) for c in Campaign.objects.all()}
    campaigns_world.control("POST", "faults", error_rate_503=1.0)

    run = run_campaigns_sync("incremental")

    assert run.status == SyncRun.Status.FAILED
    assert "did not answer" in run.error
    assert {c.cc_id: (c.status, c.updated_upstream) for c in Campaign.objects.all()} == before
    # The next incremental run starts from the last *successful* one.
    campaigns_world.control("DELETE", "faults")
    edit_upstream(campaigns_world, "Draft: Winter Preview", subject="After the outage")
    assert run_campaigns_sync("incremental").status == SyncRun.Status.SUCCEEDED
    assert Campaign.objects.get(name="Draft: Winter Preview").email.subject == "After the outage"


def test_a_member_without_campaigns_read_cannot_sync_them(connected_world, run_campaigns_sync):
    role = connected_world.roles["viewer"]
    role.grants = {**role.grants, "campaigns": "none"}
    role.save()

    run = run_campaigns_sync("full", who="viewer")

    assert run.status == SyncRun.Status.FAILED
    assert "role" in run.error.lower()
    assert not Campaign.objects.exists()


def test_beat_starts_one_incremental_sync_per_connected_workspace(
        connected_world, django_capture_on_commit_callbacks):
    from apps.campaigns.tasks import campaigns_sync_scheduled

    with django_capture_on_commit_callbacks(execute=True):
        started = campaigns_sync_scheduled()

    assert started == 1
    run = SyncRun.objects.get(scope="campaigns")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.requested_by is None  # nobody pressed a button
