"""One odd upstream value must not cost a sync its page: a value too long for its
column is clipped, a record the mirror can't hold is left out and kept as it was,
the rest of the page mirrors, and the run records what happened — without the
values themselves — for the sync screen.

PostgreSQL refuses a page's INSERT over a single over-long value where SQLite
stores it, so the checks are the mapping's own and these tests hold on both; the
last ones run only on PostgreSQL, where the page used to fail."""

import logging

from django.db import connection
import pytest

from apps.mirror.models import Contact, SyncAnomaly, SyncRun
from ccsim.resources.contacts import hold_as_sent
from tests.contacts.conftest import SEEDED_CONTACTS

TITLE_60 = "Vice President of Strategic Partnerships and Alliances, EMEA"

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite stores any length; PostgreSQL refuses"
)


def upstream_contacts(world, n: int) -> list[dict]:
    """The first `n` live contacts at the simulator, in its order."""
    with world.sim.state.lock:
        st = world.sim.state
        live = [st.contacts[cid] for cid in st.contact_order
                if not st.contacts[cid].get("deleted_at")]
    return live[:n]


def test_a_60_character_job_title_is_clipped_and_every_contact_mirrors(connected_world,
                                                                      run_sync):
    [odd] = upstream_contacts(connected_world, 1)
    hold_as_sent(connected_world.sim.state, odd, job_title=TITLE_60)

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Contact.objects.filter(workspace=connected_world.workspace).count() == SEEDED_CONTACTS
    mirrored = Contact.objects.get(cc_id=odd["contact_id"])
    assert mirrored.job_title == TITLE_60[:50]
    assert mirrored.raw["job_title"] == TITLE_60  # the record as sent is kept whole
    [anomaly] = SyncAnomaly.objects.filter(sync_run=run)
    assert (anomaly.cc_id, anomaly.field, anomaly.quarantined) == (
        odd["contact_id"], "job_title", False)
    assert "clipped" in anomaly.problem and TITLE_60[:20] not in anomaly.problem


def test_records_the_mirror_cannot_hold_are_left_out_and_the_rest_mirrors(connected_world,
                                                                          run_sync):
    no_id, odd_permission = upstream_contacts(connected_world, 2)
    hold_as_sent(connected_world.sim.state, no_id, contact_id=None)
    hold_as_sent(connected_world.sim.state, odd_permission,
                 email_address={**odd_permission["email_address"],
                                "permission_to_send": "opted_in_by_rumour"})

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.processed == SEEDED_CONTACTS and run.created_count == SEEDED_CONTACTS - 2
    mirrored = set(Contact.objects.values_list("cc_id", flat=True))
    assert len(mirrored) == SEEDED_CONTACTS - 2
    assert not {no_id["contact_id"], odd_permission["contact_id"]} & mirrored
    held = SyncAnomaly.objects.filter(sync_run=run, quarantined=True)
    assert set(held.values_list("cc_id", "field")) == {
        ("", "contact_id"), (odd_permission["contact_id"], "email_address.permission_to_send"),
    }


def test_a_mirrored_contact_that_turns_unreadable_stays_as_it_was(synced_world, run_sync):
    """A full sync drops what it did not see; a quarantined record was seen."""
    [odd] = upstream_contacts(synced_world, 1)
    before = Contact.objects.get(cc_id=odd["contact_id"])
    hold_as_sent(synced_world.sim.state, odd, deleted_at="sometime last week",
                 first_name="Changed")

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = Contact.objects.get(cc_id=odd["contact_id"])
    assert (after.first_name, after.deleted_upstream, after.raw) == (
        before.first_name, None, before.raw)
    assert run.deleted_count == 0
    assert SyncAnomaly.objects.get(sync_run=run).field == "deleted_at"


def test_the_log_names_the_record_and_the_field_never_the_value(connected_world, run_sync,
                                                                caplog):
    [odd] = upstream_contacts(connected_world, 1)
    hold_as_sent(connected_world.sim.state, odd, company_name="Secretive " * 8)

    with caplog.at_level(logging.WARNING, logger="apps.mirror.services.batches"):
        run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert odd["contact_id"] in caplog.text and "company_name" in caplog.text
    assert "Secretive" not in caplog.text


def test_each_run_keeps_only_its_own_anomalies(connected_world, run_sync):
    [odd] = upstream_contacts(connected_world, 1)
    hold_as_sent(connected_world.sim.state, odd, job_title=TITLE_60)
    first = run_sync("full")
    second = run_sync("full")  # reads the same record: the same anomaly, once

    assert not SyncAnomaly.objects.filter(sync_run=first).exists()
    assert SyncAnomaly.objects.filter(sync_run=second).count() == 1

    hold_as_sent(connected_world.sim.state, odd, job_title="CTO")  # fixed upstream
    third = run_sync("full")

    assert not SyncAnomaly.objects.exists()
    assert third.updated_count == 1
    assert Contact.objects.get(cc_id=odd["contact_id"]).job_title == "CTO"


@postgresql_only
def test_on_postgresql_a_60_character_job_title_no_longer_fails_the_page(connected_world,
                                                                        run_sync):
    # The report: 0 of 30 contacts mirrored, the run failed on the page's INSERT.
    [odd] = upstream_contacts(connected_world, 1)
    hold_as_sent(connected_world.sim.state, odd, job_title=TITLE_60)

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.created_count == SEEDED_CONTACTS
    assert Contact.objects.get(cc_id=odd["contact_id"]).job_title == TITLE_60[:50]


@postgresql_only
def test_on_postgresql_a_nul_character_no_longer_fails_the_page(connected_world, run_sync):
    # PostgreSQL stores NUL neither in text nor in jsonb; SQLite stores both.
    [odd] = upstream_contacts(connected_world, 1)
    hold_as_sent(connected_world.sim.state, odd, last_name="Null\x00son")

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Contact.objects.get(cc_id=odd["contact_id"]).last_name == "Nullson"
