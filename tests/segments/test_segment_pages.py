"""The segments list, a segment's page and the builder, as members see them."""

from apps.mirror.models import Segment
from tests.segments.conftest import segments_url


def test_the_list_shows_each_segment_in_words_and_the_limit(client, segments_world):
    client.force_login(segments_world.viewer)
    page = client.get(segments_url(segments_world, "segment_index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "VIP members" in html and "on the list “VIP”" in html
    assert "whose company is “Acme Corp”" in html
    assert "3 of 100 segments used" in html
    assert "Synced" in html
    assert "New segment" not in html  # a viewer can't write


def test_a_segments_page_estimates_from_the_mirror(client, segments_world):
    client.force_login(segments_world.editor)
    segment = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=segment.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Estimate from the mirror" in html
    assert "Get the exact count from Constant Contact" in html


def test_the_builder_renders_blank_and_for_an_existing_segment(client, segments_world):
    client.force_login(segments_world.editor)
    assert client.get(segments_url(segments_world, "segment_create")).status_code == 200
    for segment in Segment.objects.filter(workspace=segments_world.workspace):
        page = client.get(segments_url(segments_world, "segment_edit", segment_id=segment.pk))
        assert page.status_code == 200, segment.name
        page = client.get(segments_url(segments_world, "segment_delete", segment_id=segment.pk))
        assert "The contacts stay" in page.content.decode()
