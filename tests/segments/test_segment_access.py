"""Grants on the segments area, enforced on every page and every POST."""

import pytest

from apps.accounts.models import Membership
from apps.mirror.models import Segment
from tests.segments.conftest import segments_url


def segment(world) -> Segment:
    return Segment.objects.get(workspace=world.workspace, name="Acme people")


def write_pages(world):
    seg = segment(world)
    return [segments_url(world, "segment_create"),
            segments_url(world, "segment_edit", segment_id=seg.pk),
            segments_url(world, "segment_rename", segment_id=seg.pk),
            segments_url(world, "segment_delete", segment_id=seg.pk)]


def test_a_viewer_reads_but_cannot_write(client, segments_world):
    client.force_login(segments_world.viewer)
    seg = segment(segments_world)
    assert client.get(segments_url(segments_world, "segment_index")).status_code == 200
    detail = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    assert detail.status_code == 200
    assert "Edit rules" not in detail.content.decode()
    for url in write_pages(segments_world):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    assert client.post(segments_url(segments_world, "segments_sync")).status_code == 403
    assert Segment.objects.filter(pk=seg.pk, name="Acme people").exists()


def test_a_role_without_segments_sees_nothing(client, segments_world):
    membership = Membership.objects.get(workspace=segments_world.workspace,
                                        user=segments_world.viewer)
    role = membership.role
    role.grants = {**role.grants, "segments": "none"}
    role.save()
    client.force_login(segments_world.viewer)
    assert client.get(segments_url(segments_world, "segment_index")).status_code == 403
    seg = segment(segments_world)
    assert client.get(segments_url(segments_world, "segment_detail",
                                   segment_id=seg.pk)).status_code == 403
    assert client.post(segments_url(segments_world, "segment_count",
                                    segment_id=seg.pk)).status_code == 403
    home = client.get(f"/w/{segments_world.workspace.slug}/").content.decode()
    assert segments_url(segments_world, "segment_index") not in home


def test_an_outsider_cannot_reach_the_workspace(client, segments_world):
    client.force_login(segments_world.outsider)
    assert client.get(segments_url(segments_world, "segment_index")).status_code in (403, 404)


def test_another_workspaces_segment_is_not_found(client, segments_world):
    other = Segment.objects.create(workspace=segments_world.other_workspace, cc_id="77",
                                   name="Theirs")
    client.force_login(segments_world.editor)
    for name in ("segment_detail", "segment_edit", "segment_delete"):
        url = segments_url(segments_world, name, segment_id=other.pk)
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("who", ["editor", "admin"])
def test_the_nav_leads_to_the_real_area(client, segments_world, who):
    client.force_login(segments_world.user(who))
    home = client.get(f"/w/{segments_world.workspace.slug}/").content.decode()
    assert segments_url(segments_world, "segment_index") in home
    page = client.get(segments_url(segments_world, "segment_index")).content.decode()
    assert "Not built yet" not in page
