"""Contacts: paging to the last page, filters, create/409, PUT full replace, sign_up_form."""
from __future__ import annotations

from ccsim.clock import iso

from .spec_validation import assert_matches


def _all_pages(api, first):
    pages, url = [], first
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        nxt = r.json().get("_links", {}).get("next", {}).get("href")
        assert nxt is None or nxt.startswith("/v3/contacts?cursor=")
        url = nxt
    return pages


def test_paging_to_last_page_with_count(api, sim):
    pages = _all_pages(api, "/contacts?limit=40&include_count=true&include=list_memberships")
    ids = [c["contact_id"] for p in pages for c in p["contacts"]]
    expected = sum(1 for c in sim.state.contacts.values() if not c.get("deleted_at"))
    assert len(ids) == len(set(ids)) == expected
    assert all(p["contacts_count"] == expected for p in pages)
    assert "_links" not in pages[-1]
    assert all("list_memberships" in c for c in pages[0]["contacts"])
    assert "custom_fields" not in pages[0]["contacts"][0]      # only when included


def test_cursor_preserves_filters(api, sim):
    lid = next(iter(sim.state.lists))
    pages = _all_pages(api, f"/contacts?lists={lid}&limit=10&status=all")
    got = {c["contact_id"] for p in pages for c in p["contacts"]}
    assert got == set(sim.state.list_members[lid])


def test_limit_validation(api):
    assert api.get("/contacts?limit=501").status_code == 400
    assert api.get("/contacts?limit=0").status_code == 400
    assert len(api.get("/contacts").json()["contacts"]) == 50


def test_status_email_and_date_filters(api, sim):
    r = api.get("/contacts?status=unsubscribed&limit=500")
    assert r.json()["contacts"]
    assert all(c["email_address"]["permission_to_send"] == "unsubscribed" for c in r.json()["contacts"])
    deleted = api.get("/contacts?status=deleted&limit=500").json()["contacts"]
    assert all("deleted_at" in c for c in deleted)
    one = r.json()["contacts"][0]
    r2 = api.get("/contacts", params={"email": one["email_address"]["address"].upper()})
    assert [c["contact_id"] for c in r2.json()["contacts"]] == [one["contact_id"]]
    future = api.get("/contacts", params={"updated_after": "2999-01-01T00:00:00Z"}).json()
    assert future["contacts"] == []


def test_create_get_409(api, sim):
    lid = next(iter(sim.state.lists))
    body = {"email_address": {"address": "new.person@example.org", "permission_to_send": "explicit"},
            "first_name": "New", "last_name": "Person", "create_source": "Account",
            "list_memberships": [lid], "phone_numbers": [{"phone_number": "555-0100", "kind": "mobile"}]}
    r = api.post("/contacts", json=body)
    assert r.status_code == 201, r.text
    assert_matches(r, "/contacts", "post")
    cid = r.json()["contact_id"]
    dup = api.post("/contacts", json=body)
    assert dup.status_code == 409 and dup.json()[0]["error_key"]
    missing = api.post("/contacts", json={"email_address": {"address": "x@example.org"}})
    assert missing.status_code == 400 and isinstance(missing.json(), list)
    assert api.post("/contacts", data="{}", headers={"Content-Type": "text/plain"}).status_code == 415
    g = api.get(f"/contacts/{cid}?include=list_memberships,phone_numbers")
    assert g.json()["list_memberships"] == [lid]
    assert_matches(g, "/contacts/{contact_id}")
    assert api.get("/contacts/00000000-0000-4000-8000-000000000000").status_code == 404


def test_put_full_replace(api, sim):
    r = api.post("/contacts", json={"email_address": {"address": "put.me@example.org"}, "first_name": "Put",
                                    "last_name": "Me", "job_title": "CTO", "create_source": "Account",
                                    "phone_numbers": [{"phone_number": "555-1", "kind": "home"}]})
    cid = r.json()["contact_id"]
    r = api.put(f"/contacts/{cid}", json={"email_address": {"address": "put.me@example.org"},
                                          "first_name": "Putty", "update_source": "Account"})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["first_name"] == "Putty"
    assert "last_name" not in c and "job_title" not in c          # omitted top-level fields removed
    assert c["phone_numbers"][0]["phone_number"] == "555-1"       # omitted sub-resources kept (spec)
    assert api.put(f"/contacts/{cid}", json={"first_name": "x"}).status_code == 400   # update_source required


def test_delete_and_revive(api):
    cid = api.post("/contacts", json={"email_address": {"address": "gone@example.org"},
                                      "create_source": "Account"}).json()["contact_id"]
    assert api.delete(f"/contacts/{cid}").status_code == 204
    assert api.get(f"/contacts/{cid}").json()["deleted_at"]
    emails = {c["email_address"]["address"] for c in api.get("/contacts?email=gone@example.org").json()["contacts"]}
    assert emails == set()
    r = api.put(f"/contacts/{cid}", json={"email_address": {"address": "gone@example.org"},
                                          "update_source": "Account"})
    assert r.status_code == 200 and "deleted_at" not in r.json()


def test_sign_up_form_reopts_in(api, sim):
    lids = list(sim.state.lists)[:2]
    r = api.post("/contacts/sign_up_form", json={"email_address": "signup@example.org", "list_memberships": [lids[0]],
                                                 "first_name": "Sign"})
    assert r.status_code == 201 and r.json()["action"] == "created"
    assert_matches(r, "/contacts/sign_up_form", "post")
    cid = r.json()["contact_id"]
    c = sim.state.contacts[cid]
    with sim.state.lock:
        from ccsim.resources.contacts import unsubscribe
        unsubscribe(sim.state, c, sim.state.now(), "test")
    assert api.get(f"/contacts/{cid}").json()["email_address"]["permission_to_send"] == "unsubscribed"
    r = api.post("/contacts/sign_up_form", json={"email_address": "signup@example.org", "list_memberships": [lids[1]]})
    assert r.status_code == 200 and r.json() == {"contact_id": cid, "action": "updated"}
    got = api.get(f"/contacts/{cid}?include=list_memberships").json()
    assert got["email_address"]["permission_to_send"] == "explicit"
    assert set(got["list_memberships"]) == set(lids)               # appended
    assert got["first_name"] == "Sign"                             # partial update
    assert api.post("/contacts/sign_up_form", json={"email_address": "a@b.org"}).status_code == 400


def test_optout_after_finds_unsubscribes(api, sim):
    since = iso(sim.clock.now())
    sim.clock.advance(5)
    cid = api.post("/contacts", json={"email_address": {"address": "optout@example.org"},
                                      "create_source": "Account"}).json()["contact_id"]
    before = api.get(f"/contacts/{cid}").json()["updated_at"]
    sim.clock.advance(5)
    with sim.state.lock:
        from ccsim.resources.contacts import unsubscribe
        unsubscribe(sim.state, sim.state.contacts[cid], sim.state.now(), None)
    got = api.get("/contacts", params={"optout_after": since, "limit": 500}).json()["contacts"]
    assert cid in [c["contact_id"] for c in got]
    assert api.get(f"/contacts/{cid}").json()["updated_at"] == before     # pitfall §5.5
