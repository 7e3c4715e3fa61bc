"""The segments sync: the mirror follows Constant Contact's listing (deleted
segments leave, new and edited ones bring their criteria), with freshness shown;
and the floor's selection of a segment's contacts, which bulk jobs use."""

import json

from apps.mirror.models import Segment, SyncRun
from apps.mirror.selectors.segments import segment_contacts, segment_estimate
from apps.segments.services.segments import segment_create
from apps.mirror.criteria import criteria_from_document
from tests.segments.conftest import segments_url


def test_the_mirror_follows_constant_contact(segments_world, run_segments_sync):
    sim = segments_world.sim
    with sim.state.lock:
        vip = next(s for s in sim.state.segments.values() if s["name"] == "VIP members")
        vip["_deleted"] = True
        acme = next(s for s in sim.state.segments.values() if s["name"] == "Acme people")
        acme["segment_criteria"] = json.dumps({"version": "1.0.0", "criteria": {
            "type": "and", "group": [{"source": "contact", "field": "company_name",
                                      "op": "eq", "const_value": "Globex"}]}})
        acme["edited_at"] = "2030-01-01T00:00:00Z"
    run = run_segments_sync("incremental")
    assert run.scope == SyncRun.Scope.SEGMENTS and run.deleted_count == 1
    names = set(Segment.objects.filter(workspace=segments_world.workspace)
                .values_list("name", flat=True))
    assert names == {"Acme people", "Not opened last 5"}
    row = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    assert row.criteria["criteria"]["group"][0]["const_value"] == "Globex"


def test_the_list_says_when_segments_were_synced(client, segments_world):
    client.force_login(segments_world.viewer)
    page = client.get(segments_url(segments_world, "segment_index")).content.decode()
    assert "Synced <time" in page and "just now</time>" in page


def test_a_segments_contacts_for_bulk_jobs(segments_world):
    criteria = criteria_from_document({"version": "1.0.0", "criteria": {"type": "and", "group": [
        {"source": "contact", "field": "permission_to_send", "op": "eq",
         "const_value": "explicit"}]}})
    segment = segment_create(workspace=segments_world.workspace,
                             membership=segments_world.membership("editor"),
                             name="Explicit", criteria=criteria)
    contacts = segment_contacts(segment=segment)
    assert contacts.count() == segment_estimate(segment=segment).count > 0
    assert set(contacts.values_list("email_status", flat=True)) == {"explicit"}
