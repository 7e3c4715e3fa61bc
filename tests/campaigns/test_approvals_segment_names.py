"""The review page names a segment audience, as it names lists, rather than
showing Constant Contact's id; a segment deleted since keeps its id on screen."""

from apps.campaigns.selectors.approvals import readable_changes, snapshot_facts
from apps.mirror.models import Segment
from tests.factories import CampaignFactory


def test_a_changed_segment_audience_reads_by_name(world):
    Segment.objects.create(workspace=world.workspace, cc_id="7", name="Engaged VIPs")

    [change] = readable_changes(
        changes=[{"field": "segment_ids", "old": [], "new": [7]}], workspace=world.workspace)

    assert change["old_text"] == "(none)"
    assert change["new_text"] == "Segment “Engaged VIPs”"


def test_the_snapshot_audience_names_the_segment_or_keeps_a_deleted_ones_id(world):
    campaign = CampaignFactory(workspace=world.workspace)
    Segment.objects.create(workspace=world.workspace, cc_id="7", name="Engaged VIPs")

    facts = snapshot_facts(campaign=campaign, snapshot={"segment_ids": [7, 9]})

    assert facts["audience_names"] == ["Segment “Engaged VIPs”", "Segment 9"]
