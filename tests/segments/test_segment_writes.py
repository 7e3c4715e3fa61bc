"""Creating, editing, renaming and deleting segments through the screens: what
reaches Constant Contact (the simulator), what the mirror holds after, and what a
member reads when something is refused."""

import json

import pytest

from apps.constantcontact import errors
from apps.mirror.criteria import criteria_from_document
from apps.mirror.models import ContactList, Segment
from tests.segments.conftest import segments_url


def vip_id(world) -> str:
    return ContactList.objects.get(workspace=world.workspace, name="VIP").cc_id


def builder_post(world, name: str, **extra) -> dict:
    """The create form as a browser posts it: one group with one list rule."""
    return {"name": name, "groups": "1", "g0-rules": "1", "g0-type": "and",
            "g0-r0-field": "lists", "g0-r0-ids": [vip_id(world)],
            "criteria_json": "", "criteria_json_shown": "", **extra}


def sim_segment(world, name: str) -> dict | None:
    with world.sim.state.lock:
        for seg in world.sim.state.segments.values():
            if seg["name"] == name and not seg.get("_deleted"):
                return dict(seg)
    return None


@pytest.fixture
def editor(client, segments_world):
    client.force_login(segments_world.editor)
    return client


def test_it_creates_a_segment_from_the_builder(editor, segments_world):
    response = editor.post(segments_url(segments_world, "segment_create"),
                           builder_post(segments_world, "VIPs again"))
    assert response.status_code == 302
    segment = Segment.objects.get(workspace=segments_world.workspace, name="VIPs again")
    upstream = sim_segment(segments_world, "VIPs again")
    criteria = json.loads(upstream["segment_criteria"])
    assert criteria["criteria"]["group"][0] == {
        "source": "list_membership", "field": "list_id", "op": "contains-any",
        "const_value": [vip_id(segments_world)]}
    assert segment.cc_id == str(upstream["segment_id"])
    page = editor.get(response["Location"])
    assert "on the list “VIP”" in page.content.decode()


def test_a_builder_button_rerenders_without_saving(editor, segments_world):
    data = builder_post(segments_world, "Not yet", builder="add-rule:0")
    response = editor.post(segments_url(segments_world, "segment_create"), data,
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="builder"' in html and "<html" not in html  # only the builder
    assert 'name="g0-rules" value="2"' in html
    assert "Complete the rules to see an estimate" in html  # the new rule is still blank
    assert sim_segment(segments_world, "Not yet") is None


def test_invalid_criteria_are_explained_and_nothing_is_sent(editor, segments_world):
    bad = json.dumps({"version": "1.0.0", "criteria": {"type": "or", "group": [
        {"source": "tracking", "field": "opened", "op": "contains-any",
         "const_value": "last-n-days", "param": "4000"}]}})
    data = builder_post(segments_world, "Too long ago", criteria_json=bad)
    response = editor.post(segments_url(segments_world, "segment_create"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The top level must combine its rules with AND" in html
    assert "Enter a number of days from 1 to 1,825" in html
    assert sim_segment(segments_world, "Too long ago") is None
    assert not Segment.objects.filter(name="Too long ago").exists()


def test_unreadable_json_is_explained(editor, segments_world):
    data = builder_post(segments_world, "Broken", criteria_json="{not json")
    response = editor.post(segments_url(segments_world, "segment_create"), data)
    assert "This is not valid JSON" in response.content.decode()
    assert sim_segment(segments_world, "Broken") is None


def test_a_duplicate_name_is_refused_on_the_name(editor, segments_world):
    response = editor.post(segments_url(segments_world, "segment_create"),
                           builder_post(segments_world, "vip MEMBERS"))
    assert response.status_code == 200
    assert "already has a segment with this name" in response.content.decode()
    assert Segment.objects.filter(workspace=segments_world.workspace).count() == 3


@pytest.mark.parametrize("error, message", [
    (errors.ValidationError(errors=[{"error_key": "x", "error_message": "Bad criteria."}]),
     "Constant Contact refused this segment"),
    (errors.Throttled(), "too many requests this second"),
    (errors.UpstreamUnavailable(), "Constant Contact"),
])
def test_an_upstream_refusal_leaves_nothing_half_written(editor, segments_world, refuse_endpoint,
                                                         error, message):
    refuse_endpoint("segments.create", error)
    response = editor.post(segments_url(segments_world, "segment_create"),
                           builder_post(segments_world, "Refused"))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Segment.objects.filter(name="Refused").exists()


def test_at_the_limit_nothing_is_asked_and_the_page_says_why(editor, segments_world):
    Segment.objects.bulk_create(
        Segment(workspace=segments_world.workspace, cc_id=str(1000 + i), name=f"Filler {i}")
        for i in range(97))
    page = editor.get(segments_url(segments_world, "segment_index")).content.decode()
    assert "100 of 100 segments used" in page and "reached Constant Contact's limit" in page
    response = editor.post(segments_url(segments_world, "segment_create"),
                           builder_post(segments_world, "One too many"))
    assert "the most Constant Contact allows (100)" in response.content.decode()
    assert sim_segment(segments_world, "One too many") is None


def test_nearing_the_limit_is_explained_before_it_is_hit(editor, segments_world):
    Segment.objects.bulk_create(
        Segment(workspace=segments_world.workspace, cc_id=str(1000 + i), name=f"Filler {i}")
        for i in range(88))
    page = editor.get(segments_url(segments_world, "segment_index")).content.decode()
    assert "Only 9 more segments can be created" in page
    form = editor.get(segments_url(segments_world, "segment_create")).content.decode()
    assert "Only 9 more segments can be created" in form


def test_editing_puts_the_name_and_the_criteria_together(editor, segments_world):
    segment = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    data = builder_post(segments_world, "Acme and VIP",
                        seen_edited_at=segment.raw["edited_at"])
    response = editor.post(segments_url(segments_world, "segment_edit", segment_id=segment.pk),
                           data)
    assert response.status_code == 302
    upstream = sim_segment(segments_world, "Acme and VIP")
    assert upstream["segment_id"] == int(segment.cc_id)
    assert json.loads(upstream["segment_criteria"])["criteria"]["group"][0]["source"] == \
        "list_membership"
    segment.refresh_from_db()
    assert segment.name == "Acme and VIP"
    assert criteria_from_document(segment.criteria).root.items[0].source == "list_membership"


def test_editing_refuses_to_overwrite_a_change_made_meanwhile(editor, segments_world):
    segment = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    data = builder_post(segments_world, "Mine", seen_edited_at="2001-01-01T00:00:00Z")
    response = editor.post(segments_url(segments_world, "segment_edit", segment_id=segment.pk),
                           data)
    assert "Someone changed this segment in Constant Contact" in response.content.decode()
    assert sim_segment(segments_world, "Mine") is None


def test_renaming_patches_only_the_name(editor, segments_world):
    segment = Segment.objects.get(workspace=segments_world.workspace, name="Acme people")
    before = sim_segment(segments_world, "Acme people")["segment_criteria"]
    response = editor.post(segments_url(segments_world, "segment_rename", segment_id=segment.pk),
                           {"name": "Acme staff"})
    assert response.status_code == 302
    after = sim_segment(segments_world, "Acme staff")
    assert after["segment_criteria"] == before
    segment.refresh_from_db()
    assert segment.name == "Acme staff"


def test_deleting_keeps_the_contacts(editor, segments_world):
    segment = Segment.objects.get(workspace=segments_world.workspace, name="VIP members")
    with segments_world.sim.state.lock:
        contacts_before = sum(1 for c in segments_world.sim.state.contacts.values()
                              if not c.get("deleted_at"))
    page = editor.get(segments_url(segments_world, "segment_delete", segment_id=segment.pk))
    assert "The contacts stay." in page.content.decode()
    response = editor.post(segments_url(segments_world, "segment_delete", segment_id=segment.pk))
    assert response.status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert sim_segment(segments_world, "VIP members") is None
    with segments_world.sim.state.lock:
        assert contacts_before == sum(1 for c in segments_world.sim.state.contacts.values()
                                      if not c.get("deleted_at"))


def test_constant_contacts_own_limit_is_explained_when_the_mirror_is_behind(editor,
                                                                             segments_world):
    with segments_world.sim.state.lock:
        st = segments_world.sim.state
        for i in range(97):
            sid = st.next_segment_id
            st.next_segment_id += 1
            st.segments[sid] = {**st.segments[1], "segment_id": sid, "name": f"Made in CC {i}"}
    response = editor.post(segments_url(segments_world, "segment_create"),
                           builder_post(segments_world, "One too many"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "limit of 100 segments. Delete one you no longer need" in html
    assert not Segment.objects.filter(name="One too many").exists()
