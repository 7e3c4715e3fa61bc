"""The exact count from Constant Contact: asked for on a segment's page, polled
with htmx, through Constant Contact's "still evaluating" (202) answers."""


from apps.mirror.models import Segment
from apps.segments.models import SegmentCount
from apps.segments.services import counts
from tests.segments.conftest import segments_url


def acme(world) -> Segment:
    return Segment.objects.get(workspace=world.workspace, name="Acme people")


def test_the_count_waits_out_evaluating_and_the_poll_stops(client, segments_world,
                                                           django_capture_on_commit_callbacks):
    client.force_login(segments_world.editor)
    seg = acme(segments_world)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(segments_url(segments_world, "segment_count", segment_id=seg.pk))
    assert response.status_code == 302
    count = SegmentCount.objects.get(segment=seg)
    assert count.status == SegmentCount.Status.DONE
    assert count.evaluating_answers == 1 and count.count > 0
    poll = client.get(segments_url(segments_world, "segment_count_status", segment_id=seg.pk,
                                   count_id=count.pk), HTTP_HX_REQUEST="true")
    assert poll.status_code == 286
    assert "Exact count from Constant Contact" in poll.content.decode()
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    assert f"{count.count} contact" in page.content.decode()


def test_a_segment_still_evaluating_is_explained(client, segments_world, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    segments_world.sim.options.segment_evaluation_polls = 50
    monkeypatch.setattr(counts, "MAX_EVALUATING_ANSWERS", 3)
    client.force_login(segments_world.editor)
    seg = acme(segments_world)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(segments_url(segments_world, "segment_count", segment_id=seg.pk))
    count = SegmentCount.objects.get(segment=seg)
    assert count.status == SegmentCount.Status.FAILED
    assert "still evaluating" in count.error
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    assert "still evaluating this segment" in page.content.decode()


def test_an_active_count_is_polled_and_says_evaluating(client, segments_world):
    seg = acme(segments_world)
    count = SegmentCount.objects.create(workspace=segments_world.workspace, segment=seg,
                                        status=SegmentCount.Status.EVALUATING,
                                        evaluating_answers=2)
    client.force_login(segments_world.viewer)
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    html = page.content.decode()
    assert "Constant Contact is still evaluating this segment" in html
    assert "hx-trigger=\"every" in html
    poll = client.get(segments_url(segments_world, "segment_count_status", segment_id=seg.pk,
                                   count_id=count.pk), HTTP_HX_REQUEST="true")
    assert poll.status_code == 200


def test_a_member_who_cannot_read_contacts_gets_no_size_and_no_count(client, segments_world):
    # An editor (segments write) without contacts read: a size is contact-level
    # data (review finding 12a), and the count's calls list contacts.
    role = segments_world.roles["editor"]
    role.grants = {**role.grants, "contacts": "none"}
    role.save()
    client.force_login(segments_world.editor)
    seg = acme(segments_world)
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    html = page.content.decode()
    assert "needs read access to contacts" in html
    assert "Estimate from the mirror" not in html and "Get the exact count" not in html
    response = client.post(segments_url(segments_world, "segment_count", segment_id=seg.pk),
                           follow=True)
    assert "which your role may not read" in response.content.decode()
    assert not SegmentCount.objects.filter(segment=seg).exists()
