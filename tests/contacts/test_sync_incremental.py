"""An incremental sync against the simulator: contacts changed since the last
successful run (by updated_after), opted out since then (by optout_after, since
an opt-out leaves updated_at alone), deleted since then (status=all brings them
back with deleted_at), and new ones — in a handful of calls."""

import pytest

from apps.constantcontact.times import format_time
from apps.mirror.mapping import contact_fields_from_upstream
from apps.mirror.models import Contact, ContactList, ListMembership, SyncRun, Tag
from apps.mirror.services import runs
from ccsim.resources.contacts import unsubscribe
from tests.constantcontact.helpers_sim import RequestLog


def sim_contact(world, *, deleted: bool = False, permission: str | None = None) -> dict:
    with world.sim.state.lock:
        for c in world.sim.state.contacts.values():
            if bool(c.get("deleted_at")) != deleted:
                continue
            if permission and c["email_address"]["permission_to_send"] != permission:
                continue
            return c
    raise AssertionError("no such contact in the seed")


def edit_upstream(world, contact: dict, **changes) -> None:
    """A change made in Constant Contact itself (its own UI, another app)."""
    with world.sim.state.lock:
        contact.update(changes)
        contact["updated_at"] = world.sim.state.now()
        world.sim.state.touch()


@pytest.fixture
def log(connected_world) -> RequestLog:
    return RequestLog(connected_world.sim)


def test_it_catches_a_contact_changed_upstream(synced_world, run_sync):
    contact = sim_contact(synced_world)
    edit_upstream(synced_world, contact, first_name="Renamed", job_title="Chief Tester")

    run = run_sync("incremental", who="editor")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.kind == SyncRun.Kind.INCREMENTAL
    mirrored = Contact.objects.get(cc_id=contact["contact_id"])
    assert (mirrored.first_name, mirrored.job_title) == ("Renamed", "Chief Tester")
    assert "renamed" in mirrored.search_text
    assert run.updated_count == 1 and run.created_count == 0
    expected = contact_fields_from_upstream(mirrored.raw)
    assert {name: getattr(mirrored, name) for name in expected} == expected


def test_it_catches_an_opt_out_which_leaves_updated_at_alone(synced_world, run_sync):
    contact = sim_contact(synced_world, permission="implicit")
    updated_at = contact["updated_at"]
    with synced_world.sim.state.lock:
        unsubscribe(synced_world.sim.state, contact, synced_world.sim.state.now(),
                    reason="Too many emails")
    assert contact["updated_at"] == updated_at  # the trap (contract §5.5)

    run = run_sync("incremental")

    mirrored = Contact.objects.get(cc_id=contact["contact_id"])
    assert mirrored.email_status == "unsubscribed"
    assert mirrored.status == "unsubscribed"
    assert mirrored.opt_out_reason == "Too many emails"
    assert mirrored.opt_out_date is not None
    assert run.updated_count == 1


def test_it_catches_a_contact_deleted_upstream(synced_world, run_sync):
    contact = sim_contact(synced_world)
    synced_world.gate("editor").call("contacts.delete", contact_id=contact["contact_id"])

    run = run_sync("incremental")

    mirrored = Contact.objects.get(cc_id=contact["contact_id"])
    assert mirrored.status == "removed"
    assert mirrored.deleted_upstream is not None
    assert run.deleted_count == 1


def test_it_catches_a_new_contact_with_its_lists_and_tags(synced_world, run_sync):
    ws = synced_world.workspace
    newsletter = ContactList.objects.get(workspace=ws, name="Newsletter")
    tag = Tag.objects.filter(workspace=ws).first()
    answer = synced_world.gate("editor").call("contacts.create", json={
        "email_address": {"address": "new.person@example.com", "permission_to_send": "explicit"},
        "first_name": "New", "last_name": "Person", "create_source": "Account",
        "list_memberships": [newsletter.cc_id], "taggings": [tag.cc_id],
    })

    run = run_sync("incremental")

    mirrored = Contact.objects.get(cc_id=answer.data["contact_id"])
    assert mirrored.email == "new.person@example.com"
    assert list(mirrored.lists.all()) == [newsletter]
    assert list(mirrored.tags.all()) == [tag]
    assert run.created_count == 1


def test_a_membership_removed_upstream_is_removed_from_the_mirror(synced_world, run_sync):
    contact = next(
        c for c in synced_world.sim.state.contacts.values()
        if len(c.get("list_memberships") or []) >= 2 and not c.get("deleted_at")
    )
    keep = contact["list_memberships"][0]
    with synced_world.sim.state.lock:
        synced_world.sim.state.set_contact_lists(contact, [keep])
        contact["updated_at"] = synced_world.sim.state.now()

    run_sync("incremental")

    assert list(
        ListMembership.objects.filter(contact__cc_id=contact["contact_id"])
        .values_list("contact_list__cc_id", flat=True)
    ) == [keep]


def test_it_asks_by_updated_after_and_by_optout_after_since_the_last_successful_run(
    synced_world, run_sync, monkeypatch, log
):
    from apps.contacts.services import sync as sync_service

    sent: list[dict] = []
    original = sync_service._Sync.read_contacts

    def spy(self, params):
        sent.append(dict(params))
        return original(self, params)

    monkeypatch.setattr(sync_service._Sync, "read_contacts", spy)
    previous = SyncRun.objects.get(status="succeeded")
    log.clear()

    run = run_sync("incremental")

    since = format_time(previous.high_water_mark - runs.INCREMENTAL_OVERLAP)
    assert [
        {k: p.get(k) for k in ("updated_after", "optout_after", "status", "limit")} for p in sent
    ] == [
        {"updated_after": since, "optout_after": None, "status": "all", "limit": 500},
        {"updated_after": None, "optout_after": since, "status": "all", "limit": 500},
    ]
    # Lists, tags and custom fields in full, then one page for each contact query.
    assert run.api_calls == len(log.api()) == 3 + 2


def test_an_incremental_sync_with_nothing_to_start_from_reads_everything(
    connected_world, run_sync
):
    run = run_sync("incremental")

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.kind == SyncRun.Kind.FULL
    assert Contact.objects.filter(workspace=connected_world.workspace).count() == len(
        connected_world.sim.state.contacts
    )


def test_a_failed_run_does_not_move_the_starting_point(synced_world, run_sync, no_backoff):
    first = SyncRun.objects.get(status="succeeded")
    synced_world.sim.faults.set(error_rate_500=1.0)

    failed = run_sync("incremental")
    synced_world.sim.faults.clear()
    contact = sim_contact(synced_world)
    edit_upstream(synced_world, contact, first_name="Later")
    ok = run_sync("incremental")

    assert failed.status == SyncRun.Status.FAILED
    assert ok.status == SyncRun.Status.SUCCEEDED
    assert Contact.objects.get(cc_id=contact["contact_id"]).first_name == "Later"
    assert ok.high_water_mark > first.high_water_mark
