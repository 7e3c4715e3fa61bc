"""Bulk actions against the simulator: the call shape chosen, lists and tags
changed upstream and in the mirror, an export with chosen fields stored as
Constant Contact wrote it, a delete that snapshots first, and the bad
selections refused with nothing sent."""

import csv
import io

import pytest

from apps.bulk.models import BulkFile, BulkJob, BulkRow
from apps.bulk.selectors.selections import (
    SelectionProblem,
    selection_from_json,
)
from apps.bulk.services.actions import action_preview, action_start
from apps.mirror.models import Contact, ContactList, Tag
from tests.bulk.conftest import sim_activities

Kind = BulkJob.Kind


def _chosen(world, n):
    pks = list(Contact.objects.filter(workspace=world.workspace, deleted_upstream=None)
               .order_by("pk").values_list("pk", flat=True))[:n]
    return selection_from_json(workspace=world.workspace, data={"mode": "contacts", "ids": pks})


def _run(world, capture, **kwargs):
    with capture(execute=True):
        job = action_start(membership=world.membership("editor"), **kwargs)
    job.refresh_from_db()
    return job


def test_chosen_contacts_are_added_to_a_list_by_id(synced_world, fast_waits,
                                                   django_capture_on_commit_callbacks):
    target = ContactList.objects.filter(workspace=synced_world.workspace).last()
    selection = _chosen(synced_world, 7)
    preview = action_preview(workspace=synced_world.workspace, kind=Kind.ADD_TO_LISTS,
                             selection=selection)
    assert (preview.size, preview.plan.shape, preview.plan.submissions) == (7, "contact_ids", 1)
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.ADD_TO_LISTS,
               selection=selection, targets=[target.cc_id])
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert job.counts["done"] == 7
    ids = [cc for cc in job.rows.values_list("contact_cc_id", flat=True)]
    with synced_world.sim.state.lock:
        members = synced_world.sim.state.list_members.get(target.cc_id, set())
        assert set(ids) <= members
    assert Contact.objects.filter(pk__in=selection.ids, lists=target).count() == 7
    assert "Add to “" in job.title and job.created_by == synced_world.editor


def test_a_whole_list_is_tagged_in_one_call_naming_the_list(
        synced_world, fast_waits, django_capture_on_commit_callbacks):
    source = ContactList.objects.filter(workspace=synced_world.workspace).first()
    tag = Tag.objects.filter(workspace=synced_world.workspace).first()
    selection = selection_from_json(workspace=synced_world.workspace,
                                    data={"mode": "filter", "list": source.pk})
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.ADD_TAGS,
               selection=selection, targets=[tag.cc_id])
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert job.shape == "list_ids"
    tagging = sim_activities(synced_world, "taggings_add")[-1]
    assert tagging["payload"]["tag_ids"] == [tag.cc_id]
    assert job.chunks.get().body["source"] == {"list_ids": [source.cc_id]}


def test_an_export_with_chosen_fields_is_stored_as_written_and_expires(
        synced_world, fast_waits, settings, django_capture_on_commit_callbacks):
    # Stored raw; the download neutralises (tests/bulk/test_job_safety.py).
    settings.CCADMIN_BULK_EXPORT_DAYS = 3
    contact = Contact.objects.filter(workspace=synced_world.workspace).order_by("pk").first()
    with synced_world.sim.state.lock:
        synced_world.sim.state.contacts[contact.cc_id]["first_name"] = "=HYPERLINK(\"x\")"
    selection = _chosen(synced_world, 5)
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.EXPORT,
               selection=selection, fields=["first_name", "last_name"])
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    stored = job.files.get(kind=BulkFile.Kind.EXPORT)
    rows = list(csv.reader(io.StringIO(bytes(stored.content).decode())))
    assert rows[0] == ["email_address", "first_name", "last_name"]
    assert len(rows) == 6 and stored.rows == 5
    assert "=HYPERLINK(\"x\")" in [r[1] for r in rows]
    assert (stored.expires_at - stored.created_at).days in (2, 3)


def test_a_delete_takes_a_snapshot_first_and_needs_the_typed_confirmation(
        synced_world, fast_waits, django_capture_on_commit_callbacks):
    selection = _chosen(synced_world, 4)
    with pytest.raises(SelectionProblem, match="delete 4"):
        action_start(membership=synced_world.membership("editor"), kind=Kind.DELETE,
                     selection=selection, confirmation="yes")
    assert not sim_activities(synced_world, "contact_delete")
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.DELETE,
               selection=selection, confirmation="delete 4")
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    snapshot = job.files.get(kind=BulkFile.Kind.SNAPSHOT)
    assert snapshot.rows == 4 and snapshot.expires_at is None
    header = bytes(snapshot.content).decode().splitlines()[0]
    assert header.startswith("email_address")
    # The snapshot went first, the delete after it.
    export = sim_activities(synced_world, "contact_export")[-1]
    delete = sim_activities(synced_world, "contact_delete")[-1]
    assert export["_created_ts"] <= delete["_created_ts"]
    assert Contact.objects.filter(pk__in=selection.ids, deleted_upstream=None).count() == 0
    assert job.rows.filter(status=BulkRow.Status.DONE).count() == 4


def test_an_empty_selection_and_an_oversized_one_are_refused(synced_world, settings):
    empty = selection_from_json(workspace=synced_world.workspace,
                                data={"mode": "filter", "q": "nobody-matches-this"})
    with pytest.raises(SelectionProblem, match="no contacts"):
        action_preview(workspace=synced_world.workspace, kind=Kind.ADD_TAGS, selection=empty)
    settings.CCADMIN_BULK_MAX_SELECTION = 3
    with pytest.raises(SelectionProblem, match="more than the 3"):
        action_preview(workspace=synced_world.workspace, kind=Kind.DELETE,
                       selection=_chosen(synced_world, 5))
    assert not BulkJob.objects.exists()


def test_the_gate_refuses_a_delete_to_a_role_without_write_on_contacts(synced_world):
    from apps.constantcontact.errors import GrantDenied
    from tests.factories import MembershipFactory, RoleFactory, UserFactory

    role = RoleFactory(workspace=synced_world.workspace,
                       grants={"bulk": "write", "contacts": "read"})
    member = MembershipFactory(workspace=synced_world.workspace, user=UserFactory(), role=role)
    from apps.constantcontact.gate import Actor, gate_for
    cc = gate_for(workspace=synced_world.workspace, actor=Actor.member(member))
    with pytest.raises(GrantDenied):
        cc.call("activities.contact_delete", json={"contact_ids": ["x"]})


def test_a_segment_over_the_limit_is_refused_before_anything_is_sent(synced_world, settings,
                                                                    monkeypatch):
    from apps.bulk.services import actions
    from apps.mirror.models import Segment

    segment = Segment.objects.create(workspace=synced_world.workspace, cc_id="7",
                                     name="Everyone who ever clicked")
    selection = selection_from_json(workspace=synced_world.workspace,
                                    data={"mode": "segment", "segment": segment.pk})
    settings.CCADMIN_BULK_MAX_SELECTION = 1_000
    # The mirror's estimate of the segment (apps/mirror/selectors/segments.py).
    monkeypatch.setattr(actions, "selection_size", lambda **kwargs: 5_000)
    with pytest.raises(SelectionProblem, match="segment holds about 5,000"):
        action_preview(workspace=synced_world.workspace, kind=Kind.EXPORT, selection=selection)
    assert not BulkJob.objects.exists()
