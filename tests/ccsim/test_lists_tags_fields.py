"""Lists, tags, custom fields, segments: CRUD, 409s, async deletes, limits."""
from __future__ import annotations

import json

from .spec_validation import assert_matches


def test_list_crud_and_async_delete(api, sim):
    r = api.post("/contact_lists", json={"name": "Async list", "favorite": True})
    assert r.status_code == 201
    assert_matches(r, "/contact_lists", "post")
    lid = r.json()["list_id"]
    assert api.post("/contact_lists", json={"name": "async LIST"}).status_code == 409
    r = api.put(f"/contact_lists/{lid}", json={"name": "Async list 2", "description": "d"})
    assert r.status_code == 200 and r.json()["name"] == "Async list 2"
    cid = api.post("/contacts", json={"email_address": {"address": "member@example.org"}, "create_source": "Account",
                                      "list_memberships": [lid]}).json()["contact_id"]
    r = api.get(f"/contact_lists/{lid}?include_membership_count=all")
    assert r.json()["membership_count"] == 1
    d = api.delete(f"/contact_lists/{lid}")
    assert d.status_code == 202
    assert_matches(d, "/contact_lists/{list_id}", "delete")
    assert d.headers["Location"] == d.json()["_links"]["self"]["href"]
    act = d.json()["activity_id"]
    assert api.get(f"/contact_lists/{lid}").json().get("deleted_at") is None     # still there
    sim.advance(5)
    a = api.get(f"/activities/{act}").json()
    assert a["state"] == "completed" and a["percent_done"] == 100
    assert api.get(f"/contact_lists/{lid}").json()["deleted_at"]
    assert lid not in [l["list_id"] for l in api.get("/contact_lists").json()["lists"]]
    assert lid in [l["list_id"] for l in api.get("/contact_lists?status=all").json()["lists"]]
    assert api.get(f"/contacts/{cid}?include=list_memberships").json()["list_memberships"] == []


def test_list_paging_and_count(api):
    r = api.get("/contact_lists?limit=3&include_count=true")
    assert_matches(r, "/contact_lists")
    total = r.json()["lists_count"]
    seen, url = [], "/contact_lists?limit=3&include_count=true"
    while url:
        body = api.get(url).json()
        seen += [l["list_id"] for l in body["lists"]]
        url = body.get("_links", {}).get("next", {}).get("href")
    assert len(seen) == len(set(seen)) == total


def test_tags_crud_async_delete_and_limit(fresh_sim):
    from .conftest import Api
    api = Api(fresh_sim)
    r = api.post("/contact_tags", json={"name": "t0", "tag_source": "Import"})
    assert r.status_code == 201
    assert_matches(r, "/contact_tags", "post")
    assert api.post("/contact_tags", json={"name": "T0"}).status_code == 409
    tid = r.json()["tag_id"]
    r = api.put(f"/contact_tags/{tid}", json={"name": "t0-renamed"})
    assert r.json()["name"] == "t0-renamed" and r.json()["tag_source"] == "Import"
    for i in range(1, 500):
        assert api.post("/contact_tags", json={"name": f"t{i}"}).status_code == 201
    over = api.post("/contact_tags", json={"name": "one-too-many"})
    assert over.status_code == 400 and isinstance(over.json(), list)
    # cursor paging over 500 tags
    seen, url = 0, "/contact_tags?limit=200"
    while url:
        body = api.get(url).json()
        seen += len(body["tags"])
        url = body.get("_links", {}).get("next", {}).get("href")
        assert url is None or "cursor=" in url
    assert seen == 500
    d = api.delete(f"/contact_tags/{tid}")
    assert d.status_code == 202
    assert_matches(d, "/contact_tags/{tag_id}", "delete")
    fresh_sim.advance(5)
    assert api.get(f"/contact_tags/{tid}").status_code == 404
    assert api.post("/contact_tags", json={"name": "room-again"}).status_code == 201


def test_custom_field_limit_and_crud(fresh_sim):
    from .conftest import Api
    api = Api(fresh_sim)
    r = api.post("/contact_custom_fields", json={"label": "Shoe Size", "type": "string"})
    assert r.status_code == 201 and r.json()["name"] == "shoe_size"
    assert_matches(r, "/contact_custom_fields", "post")
    fid = r.json()["custom_field_id"]
    assert api.post("/contact_custom_fields", json={"label": "shoe size", "type": "string"}).status_code == 409
    assert api.post("/contact_custom_fields", json={"label": "Bad", "type": "weird"}).status_code == 400
    for i in range(99):
        assert api.post("/contact_custom_fields", json={"label": f"F{i}", "type": "string"}).status_code == 201
    assert api.post("/contact_custom_fields", json={"label": "F100", "type": "string"}).status_code == 400
    r = api.put(f"/contact_custom_fields/{fid}", json={"label": "Shoe size EU"})
    assert r.status_code == 200 and r.json()["label"] == "Shoe size EU"
    assert api.delete(f"/contact_custom_fields/{fid}").status_code == 204
    assert api.get(f"/contact_custom_fields/{fid}").status_code == 404
    assert len(api.get("/contact_custom_fields?limit=100").json()["custom_fields"]) == 99


def test_segments(api, sim):
    lid = next(iter(sim.state.lists))
    crit = json.dumps({"version": "1.0.0", "criteria": {"type": "and", "group": [
        {"source": "list_membership", "field": "list_id", "op": "contains-any", "const_value": [lid]}]}})
    r = api.post("/segments", json={"name": "On first list", "segment_criteria": crit})
    assert r.status_code == 201, r.text
    assert_matches(r, "/segments", "post")
    sid = r.json()["segment_id"]
    assert isinstance(sid, int)
    assert api.post("/segments", json={"name": "On first list", "segment_criteria": crit}).status_code == 409
    assert api.post("/segments", json={"name": "bad", "segment_criteria": "{nope"}).status_code == 400
    # A segment just created is "still being evaluated" first: 202, retry for the 200.
    assert api.get(f"/contacts?segment_id={sid}&limit=500").status_code == 202
    members = api.get(f"/contacts?segment_id={sid}&limit=500").json()["contacts"]
    live = {c for c in sim.state.list_members[lid] if not sim.state.contacts[c].get("deleted_at")}
    assert {c["contact_id"] for c in members} == live
    r = api.get("/segments")
    assert_matches(r, "/segments")
    assert api.patch(f"/segments/{sid}/name", json={"name": "Renamed"}).json()["name"] == "Renamed"
    assert api.delete(f"/segments/{sid}").status_code == 204
    assert api.get(f"/segments/{sid}").status_code == 200          # deleted ones stay readable
    assert sid not in [s["segment_id"] for s in api.get("/segments").json()["segments"]]
