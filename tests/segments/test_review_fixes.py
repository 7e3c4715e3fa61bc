"""Review findings on the segments area (commit bf1a6cc), each held here:

- a forged builder button (negative or past-the-end index) re-renders the form,
  never a 500 (finding 3);
- criteria JSON nested hundreds of groups deep is a message on the form, never a
  500 (finding 4; the grammar itself: tests/mirror/test_criteria_depth.py);
- how many contacts rules match is contact-level data: without contacts read the
  builder, a segment's page and its delete page say so instead of an estimate
  (finding 12a);
- asking Constant Contact for an exact count spends the shared allowance, so it
  takes segments write, as a report's "Refresh now" takes reports write (Low).
"""

import re

import pytest

from apps.accounts.grants import Access, Area
from apps.mirror.criteria import MAX_DEPTH
from apps.mirror.models import Contact, Segment
from apps.segments.models import SegmentCount
from tests.segments.conftest import segments_url
from tests.segments.test_segment_writes import builder_post, sim_segment

SIZE_HIDDEN = "How many contacts match is contact-level data"


def acme(world) -> Segment:
    return Segment.objects.get(workspace=world.workspace, name="Acme people")


def nested(levels: int) -> str:
    """A segment document whose groups nest `levels` deep, the top-level group
    included (compact and written by hand, as a forger would, to fit the
    20,000-character limit; json.dumps would hit the recursion limit itself)."""
    rule = '{"source":"contact","field":"first_name","op":"eq","const_value":"Ava"}'
    inner = '{"type":"or","group":[' * (levels - 1) + rule
    return '{"version":"1.0.0","criteria":{"type":"and","group":[' + inner + "]}" * levels + "}"


# --- Finding 3: builder buttons ------------------------------------------------------

@pytest.mark.parametrize("action", ["add-rule:-5", "remove-group:-5", "remove-rule:0:-9",
                                    "remove-rule:-1:0", "add-rule:99", "remove-rule:0:99"])
def test_a_forged_builder_button_changes_nothing_and_is_no_500(client, segments_world, action):
    client.force_login(segments_world.editor)
    data = builder_post(segments_world, "Forged", builder=action)
    response = client.post(segments_url(segments_world, "segment_create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="groups" value="1"' in html and 'name="g0-rules" value="1"' in html
    assert sim_segment(segments_world, "Forged") is None


# --- Finding 4: deep JSON ------------------------------------------------------------

@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 500, 760])
def test_deeply_nested_json_is_a_message_not_a_500(client, segments_world, levels):
    text = nested(levels)
    assert len(text) <= 20000
    client.force_login(segments_world.editor)
    for extra in ({}, {"builder": "load-json"}, {"builder": "preview"}):
        data = builder_post(segments_world, "Deep", criteria_json=text, **extra)
        response = client.post(segments_url(segments_world, "segment_create"), data)
        assert response.status_code == 200, extra
        assert f"nest groups more than {MAX_DEPTH} deep" in response.content.decode(), extra
    assert sim_segment(segments_world, "Deep") is None


# --- Finding 12a: sizes need contacts read -------------------------------------------

@pytest.fixture
def editor_without_contacts(client, segments_world):
    role = segments_world.roles["editor"]
    role.grants = {**role.grants, "contacts": "none"}
    role.save()
    client.force_login(segments_world.editor)
    return client


def test_without_contacts_read_the_builder_shows_no_estimate(editor_without_contacts,
                                                             segments_world):
    client = editor_without_contacts
    # The oracle the review found: one address, and the size says whether it's there.
    address = Contact.objects.filter(workspace=segments_world.workspace).exclude(email="")[0]
    data = {"name": "Probe", "groups": "1", "g0-rules": "1", "g0-type": "and",
            "g0-r0-field": "contact:email_address", "g0-r0-op": "eq",
            "g0-r0-value": address.email,
            "criteria_json": "", "criteria_json_shown": "", "builder": "preview"}
    for response in (client.get(segments_url(segments_world, "segment_create")),
                     client.post(segments_url(segments_world, "segment_create"), data),
                     client.post(segments_url(segments_world, "segment_create"), data,
                                 HTTP_HX_REQUEST="true"),
                     client.get(segments_url(segments_world, "segment_edit",
                                             segment_id=acme(segments_world).pk))):
        html = response.content.decode()
        assert response.status_code == 200
        assert SIZE_HIDDEN in html
        assert "Estimate from the mirror" not in html
        assert not re.search(r"About [\d,]+ contact", html)


def test_without_contacts_read_a_segments_pages_show_no_size(editor_without_contacts,
                                                             segments_world):
    client = editor_without_contacts
    seg = acme(segments_world)
    SegmentCount.objects.create(workspace=segments_world.workspace, segment=seg,
                                status=SegmentCount.Status.DONE, count=42)
    detail = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    html = detail.content.decode()
    assert SIZE_HIDDEN in html
    assert "Estimate from the mirror" not in html and "42 contacts" not in html
    assert "Get the exact count" not in html and "Count again" not in html
    delete = client.get(segments_url(segments_world, "segment_delete", segment_id=seg.pk))
    assert "today)" not in delete.content.decode()
    assert "The contacts stay" in delete.content.decode()


def test_with_contacts_read_the_builder_still_estimates(client, segments_world):
    client.force_login(segments_world.editor)
    data = builder_post(segments_world, "Preview", builder="preview")
    html = client.post(segments_url(segments_world, "segment_create"), data).content.decode()
    assert "Estimate from the mirror" in html and SIZE_HIDDEN not in html


# --- Low: an exact count needs segments write -----------------------------------------

def test_an_exact_count_needs_segments_write(client, segments_world,
                                             django_capture_on_commit_callbacks):
    role = segments_world.roles["viewer"]
    assert role.allows(Area.CONTACTS, Access.READ) and role.allows(Area.SEGMENTS, Access.READ)
    assert not role.allows(Area.SEGMENTS, Access.WRITE)
    client.force_login(segments_world.viewer)  # segments read, contacts read
    seg = acme(segments_world)
    page = client.get(segments_url(segments_world, "segment_detail", segment_id=seg.pk))
    html = page.content.decode()
    assert "Estimate from the mirror" in html  # seeing sizes is a read
    assert "Get the exact count from Constant Contact" not in html
    assert "takes write access to segments" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(segments_url(segments_world, "segment_count", segment_id=seg.pk))
    assert response.status_code == 403
    assert not SegmentCount.objects.filter(segment=seg).exists()
