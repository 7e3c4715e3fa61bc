"""A segment as a campaign's audience: the editor picks lists or one segment,
Constant Contact receives `segment_ids` as the spec describes (one integer, no
lists), and the pre-send audience check counts the segment from the mirror."""

from apps.campaigns.selectors.presend import email_audience
from apps.mirror.models import Campaign, Segment
from apps.mirror.selectors.segments import segment_estimate
from tests.campaigns.test_campaigns_create import form_data, sim_campaign_named
from tests.segments.conftest import segments_url


def campaigns_url(world, name, **kwargs):
    from django.urls import reverse
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


def test_the_editor_sends_a_campaign_to_one_segment(client, segments_world):
    client.force_login(segments_world.editor)
    segment = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    page = client.get(campaigns_url(segments_world, "campaign_create")).content.decode()
    assert "A segment" in page and "Acme people (about" in page

    response = client.post(campaigns_url(segments_world, "campaign_create"), form_data(
        name="To Acme", audience="segment", segment_id=segment.cc_id,
        contact_list_ids=[]))
    assert response.status_code == 302, response.content.decode()[:2000]
    upstream = sim_campaign_named(segments_world, "To Acme")["activity"]
    assert upstream["segment_ids"] == [int(segment.cc_id)]
    assert upstream["contact_list_ids"] == []

    campaign = Campaign.objects.get(workspace=segments_world.workspace, name="To Acme")
    audience = email_audience(email=campaign.email)
    expected = segment_estimate(segment=segment, sendable_only=True).count
    assert audience.names == ["Segment “Acme people”"]
    assert audience.count == expected and audience.counted_from == "segment"
    detail = client.get(campaigns_url(segments_world, "campaign_detail", campaign_id=campaign.pk))
    assert "Segment “Acme people”" in detail.content.decode()


def test_choosing_a_segment_without_naming_one_is_explained(client, segments_world):
    client.force_login(segments_world.editor)
    response = client.post(campaigns_url(segments_world, "campaign_create"), form_data(
        name="Nobody yet", audience="segment", segment_id=""))
    assert response.status_code == 200
    assert "Choose the segment to send to" in response.content.decode()
    assert sim_campaign_named(segments_world, "Nobody yet") is None


def test_the_segments_page_lists_the_campaigns_sent_to_it(client, segments_world):
    client.force_login(segments_world.editor)
    segment = Segment.objects.get(workspace=segments_world.workspace, name="VIP members")
    client.post(campaigns_url(segments_world, "campaign_create"), form_data(
        name="VIP news", audience="segment", segment_id=segment.cc_id))
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=segment.pk))
    assert "VIP news" in page.content.decode()


def test_the_picker_leaves_out_sizes_for_a_member_without_contacts_read(client, segments_world):
    # A size is contact-level data, as on the segments pages themselves.
    from tests.factories import MembershipFactory, RoleFactory

    role = RoleFactory(workspace=segments_world.workspace,
                       grants={"campaigns": "write", "segments": "read"})
    member = MembershipFactory(workspace=segments_world.workspace, role=role).user
    client.force_login(member)

    page = client.get(campaigns_url(segments_world, "campaign_create")).content.decode()

    assert "Acme people" in page
    assert "Acme people (about" not in page
