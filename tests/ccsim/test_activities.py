"""Bulk activities: json/csv import, list memberships, delete, export, 4 MB rule."""
from __future__ import annotations

import json

from .conftest import Api
from .spec_validation import assert_matches


def _new_list(api, name):
    return api.post("/contact_lists", json={"name": name}).json()["list_id"]


def test_json_import_progress_and_row_errors(fresh_sim):
    # Slow processing (53 items at 10/s = 5.3 s) so "processing" is observable
    # however long the real time between these requests is on a loaded machine.
    fresh_sim.options.activity_items_per_second = 10
    api = Api(fresh_sim)
    lid = _new_list(api, "Imported")
    rows = [{"email": f"imp{i}@example.org", "first_name": f"I{i}"} for i in range(50)]
    rows += [{"email": "not-an-email"}, {"first_name": "no email"}]
    r = api.post("/activities/contacts_json_import", json={"import_data": rows, "list_ids": [lid]})
    assert r.status_code == 201, r.text
    assert_matches(r, "/activities/contacts_json_import", "post")
    a = r.json()
    assert a["state"] == "initialized"
    assert a["status"]["items_total_count"] == 53          # rows + header row
    aid = a["activity_id"]
    fresh_sim.clock.advance(1.01)
    mid = api.get(f"/activities/{aid}").json()
    assert mid["state"] == "processing"
    fresh_sim.advance(10)
    done = api.get(f"/activities/{aid}")
    assert_matches(done, "/activities/{activity_id}")
    d = done.json()
    assert d["state"] == "completed" and d["percent_done"] == 100
    # Both problems are correctable (an invalid address, no minimal contact
    # information): error_count counts only the non-correctable (spec ActivityImport).
    assert d["status"]["person_count"] == 50 and d["status"]["correctable_count"] == 2
    assert d["status"]["error_count"] == 0
    assert any("Row 51" in e for e in d["activity_errors"])
    got = api.get(f"/contacts?lists={lid}&include_count=true").json()
    assert got["contacts_count"] == 50
    assert got["contacts"][0]["email_address"]["permission_to_send"] == "implicit"
    listing = api.get("/activities").json()
    assert aid in [x["activity_id"] for x in listing["activities"]]


def test_json_import_4mb_and_40k_rules(fresh_sim):
    api = Api(fresh_sim)
    lid = _new_list(api, "Big")
    filler = "x" * 45
    rows = [{"email": f"big{i}@example.org", "first_name": filler, "last_name": filler, "company_name": filler,
             "job_title": filler, "city": filler, "street": filler * 10} for i in range(12000)]
    body = json.dumps({"import_data": rows, "list_ids": [lid]})
    assert len(body) > 4 * 1024 * 1024
    r = api.post("/activities/contacts_json_import", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    total = r.json()["status"]["items_total_count"] - 1
    assert 0 < total < 12000                                  # silently truncated at 4 MB
    fresh_sim.advance(60)
    assert api.get(f"/activities/{r.json()['activity_id']}").json()["status"]["person_count"] == total
    too_many = {"import_data": [{"email": f"a{i}@e.org"} for i in range(40001)], "list_ids": [lid]}
    r = api.post("/activities/contacts_json_import", json=too_many)
    assert r.status_code == 400


def test_csv_file_import(fresh_sim):
    api = Api(fresh_sim)
    lid = _new_list(api, "CSV")
    csv_data = "email,first_name,last_name\ncsv1@example.org,A,B\ncsv2@example.org,C,D\nbad,E,F\n"
    r = api.s.post(api.url("/activities/contacts_file_import"),
                   files={"file": ("contacts.csv", csv_data, "text/csv")}, data={"list_ids": lid})
    assert r.status_code == 201, r.text
    assert r.json()["source_file_name"] == "contacts.csv"
    fresh_sim.advance(5)
    d = api.get(f"/activities/{r.json()['activity_id']}").json()
    # "bad" is an invalid address: a correctable error, not counted in error_count.
    assert d["status"]["person_count"] == 2 and d["status"]["correctable_count"] == 1
    assert d["status"]["error_count"] == 0 and len(d["activity_errors"]) == 1
    r = api.post("/activities/contacts_file_import", json={"x": 1})
    assert r.status_code == 415


def test_list_memberships_delete_and_export(fresh_sim):
    api = Api(fresh_sim)
    src, dst = _new_list(api, "Src"), _new_list(api, "Dst")
    ids = [api.post("/contacts", json={"email_address": {"address": f"m{i}@example.org"}, "create_source": "Account",
                                       "list_memberships": [src]}).json()["contact_id"] for i in range(5)]
    r = api.post("/activities/add_list_memberships", json={"source": {"list_ids": [src]}, "list_ids": [dst]})
    assert r.status_code == 201
    assert_matches(r, "/activities/add_list_memberships", "post")
    bad = api.post("/activities/add_list_memberships",
                   json={"source": {"list_ids": [src], "contact_ids": ids}, "list_ids": [dst]})
    assert bad.status_code == 400                              # exactly one source
    fresh_sim.advance(5)
    assert api.get(f"/contacts?lists={dst}&include_count=true").json()["contacts_count"] == 5
    r = api.post("/activities/remove_list_memberships", json={"source": {"contact_ids": ids[:2]}, "list_ids": [dst]})
    assert r.status_code == 201
    fresh_sim.advance(5)
    assert api.get(f"/contacts?lists={dst}&include_count=true").json()["contacts_count"] == 3
    r = api.post("/activities/contact_exports", json={"list_ids": [dst], "fields": ["email_address", "first_name"]})
    assert r.status_code == 201
    assert_matches(r, "/activities/contact_exports", "post")
    fresh_sim.advance(5)
    a = api.get(f"/activities/{r.json()['activity_id']}").json()
    href = a["_links"]["results"]["href"]
    assert href.startswith("/v3/contact_exports/")
    csv_resp = api.get(href)
    assert csv_resp.headers["Content-Type"].startswith("text/csv")
    lines = csv_resp.text.strip().splitlines()
    assert lines[0] == "email_address,first_name" and len(lines) == 4
    r = api.post("/activities/contact_delete", json={"contact_ids": ids[:1]})
    assert r.status_code == 201
    assert_matches(r, "/activities/contact_delete", "post")
    assert api.post("/activities/contact_delete", json={"contact_ids": ids, "list_ids": [src]}).status_code == 400
    fresh_sim.advance(5)
    assert api.get(f"/contacts/{ids[0]}").json()["deleted_at"]


def test_queued_activity_limit(fresh_sim):
    from ccsim.resources.activities import create_activity
    api = Api(fresh_sim)
    lid = _new_list(api, "Q")
    with fresh_sim.state.lock:
        for _ in range(1000):
            create_activity(fresh_sim, "list_delete", {"list_ids": []}, total=1)
    r = api.post("/activities/contacts_json_import",
                 json={"import_data": [{"email": "q@example.org"}], "list_ids": [lid]})
    assert r.status_code == 429
    fresh_sim.advance(30)
    r = api.post("/activities/contacts_json_import",
                 json={"import_data": [{"email": "q@example.org"}], "list_ids": [lid]})
    assert r.status_code == 201


def test_custom_fields_delete_removes_values_on_contacts(fresh_sim):
    # The bulk delete shares its data effect with DELETE /contact_custom_fields/{id}:
    # the field and every contact's value for it go; unknown ids become row errors.
    api = Api(fresh_sim)
    lid = _new_list(api, "Shoes")
    fid = api.post("/contact_custom_fields", json={"label": "Shoe Size", "type": "string"}).json()["custom_field_id"]
    r = api.post("/activities/contacts_json_import",
                 json={"import_data": [{"email": "shoe@example.org", "cf:shoe_size": "42"}], "list_ids": [lid]})
    fresh_sim.advance(5)
    with fresh_sim.state.lock:
        c = fresh_sim.state.find_by_email("shoe@example.org")
        assert [cf["custom_field_id"] for cf in c["custom_fields"]] == [fid]
    missing = "00000000-0000-4000-8000-000000000000"
    r = api.post("/activities/custom_fields_delete", json={"custom_field_ids": [fid, missing]})
    assert r.status_code == 201, r.text
    fresh_sim.advance(5)
    done = api.get(f"/activities/{r.json()['activity_id']}").json()
    assert done["state"] == "completed"
    assert done["activity_errors"] == [f"Custom field {missing} not found"]
    assert api.get(f"/contact_custom_fields/{fid}").status_code == 404
    with fresh_sim.state.lock:
        assert fresh_sim.state.find_by_email("shoe@example.org")["custom_fields"] == []
