"""Campaign lifecycle, schedules, tests, delivery + tracking, reports, account."""
from __future__ import annotations

import pytest

from ccsim.server import start_in_thread

from .conftest import Api
from .spec_validation import assert_matches

HTML = '<html><body>[[trackingImage]]<p>Hi</p><a href="https://example.com/x">x</a></body></html>'


def _campaign(api, name, **over):
    act = {"format_type": 5, "from_name": "Demo", "from_email": "news@ccsim-demo.example",
           "reply_to_email": "news@ccsim-demo.example", "subject": "Hello", "html_content": HTML}
    act.update(over)
    return api.post("/emails", json={"name": name, "email_campaign_activities": [act]})


def _primary(camp):
    return next(a["campaign_activity_id"] for a in camp["campaign_activities"] if a["role"] == "primary_email")


def test_create_validation(api):
    r = _campaign(api, "Valid one")
    assert r.status_code == 200, r.text                      # 200, not 201
    assert_matches(r, "/emails", "post")
    assert {a["role"] for a in r.json()["campaign_activities"]} == {"primary_email", "permalink"}
    assert r.json()["current_status"] == "Draft"
    assert _campaign(api, "Valid one").status_code == 409
    assert _campaign(api, "Unverified", from_email="unverified@ccsim-demo.example").status_code == 400
    assert _campaign(api, "No tracking", html_content="<html><body>hi</body></html>").status_code == 400
    r = api.patch(f"/emails/{r.json()['campaign_id']}", json={"name": "Valid renamed"})
    assert r.status_code == 200 and r.json()["name"] == "Valid renamed"


def test_lifecycle_schedule_deliver_report(api, sim):
    lid = next(l for l, v in sim.state.lists.items() if v["name"] == "Newsletter")
    camp = _campaign(api, "Lifecycle").json()
    aid = _primary(camp)
    a = api.get(f"/emails/activities/{aid}?include=html_content")
    assert_matches(a, "/emails/activities/{campaign_activity_id}")
    body = a.json()
    assert body["current_status"] == "DRAFT" and "[[trackingImage]]" in body["html_content"]
    # cannot schedule without recipients
    assert api.post(f"/emails/activities/{aid}/schedules", json={"scheduled_date": "0"}).status_code == 400
    body.update(contact_list_ids=[lid], subject="Lifecycle subject")
    r = api.put(f"/emails/activities/{aid}", json=body)
    assert r.status_code == 200 and r.json()["contact_list_ids"] == [lid]
    # test sends: max 5 addresses
    assert api.post(f"/emails/activities/{aid}/tests",
                    json={"email_addresses": [f"t{i}@example.org" for i in range(6)]}).status_code == 400
    assert api.post(f"/emails/activities/{aid}/tests",
                    json={"email_addresses": ["t@example.org"]}).status_code == 204
    # schedule in the future
    from datetime import timedelta
    when = (sim.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = api.post(f"/emails/activities/{aid}/schedules", json={"scheduled_date": when})
    assert r.status_code == 201 and r.json() == [{"scheduled_date": when}]
    assert api.get(f"/emails/activities/{aid}/schedules").json() == [{"scheduled_date": when}]
    assert api.get(f"/emails/{camp['campaign_id']}").json()["current_status"] == "Scheduled"
    assert api.put(f"/emails/activities/{aid}", json=body).status_code == 400      # cannot edit
    assert api.delete(f"/emails/{camp['campaign_id']}").status_code == 400         # cannot delete while scheduled
    # unschedule -> DRAFT, then schedule again and let time pass
    assert api.delete(f"/emails/activities/{aid}/schedules").status_code == 204
    assert api.get(f"/emails/activities/{aid}").json()["current_status"] == "DRAFT"
    assert api.get(f"/emails/activities/{aid}/schedules").json() == []
    assert api.post(f"/emails/activities/{aid}/schedules", json={"scheduled_date": when}).status_code == 201
    sim.advance(3 * 3600)
    assert api.get(f"/emails/activities/{aid}").json()["current_status"] == "DONE"
    assert api.get(f"/emails/{camp['campaign_id']}").json()["current_status"] == "Done"
    sends = api.get(f"/reports/email_reports/{aid}/tracking/sends?limit=50")
    assert_matches(sends, "/reports/email_reports/{campaign_activity_id}/tracking/sends")
    audience = [c for c in sim.state.list_members[lid] if not sim.state.contacts[c].get("deleted_at")]
    total, url = 0, f"/reports/email_reports/{aid}/tracking/sends?limit=50"
    while url:
        page = api.get(url).json()
        total += len(page["tracking_activities"])
        url = page.get("_links", {}).get("next", {}).get("href")
    assert 0 < total <= len(audience)
    for kind in ("opens", "unique_opens", "clicks", "bounces", "optouts", "didnotopens"):
        r = api.get(f"/reports/email_reports/{aid}/tracking/{kind}")
        assert r.status_code == 200
        assert_matches(r, f"/reports/email_reports/{{campaign_activity_id}}/tracking/{kind}")
    opts = api.get(f"/reports/email_reports/{aid}/tracking/optouts").json()["tracking_activities"]
    for o in opts:
        c = api.get(f"/contacts/{o['contact_id']}").json()
        assert c["email_address"]["permission_to_send"] == "unsubscribed"
        assert c["email_address"]["opt_out_date"]
    stats = api.get(f"/reports/stats/email_campaign_activities/{aid}")
    assert_matches(stats, "/reports/stats/email_campaign_activities/{campaign_activity_ids}")
    assert stats.json()["results"][0]["stats"]["em_sends"] == total
    summ = api.get("/reports/summary_reports/email_campaign_summaries")
    assert_matches(summ, "/reports/summary_reports/email_campaign_summaries")
    assert camp["campaign_id"] in [s["campaign_id"] for s in summ.json()["bulk_email_campaign_summaries"]]
    # spec: sent campaigns can be deleted (not while Scheduled); they become Removed
    assert api.delete(f"/emails/{camp['campaign_id']}").status_code == 204
    assert api.get(f"/emails/{camp['campaign_id']}").json()["current_status"] == "Removed"
    assert api.get(f"/emails/activities/{aid}").status_code == 404


def test_send_now_and_protect_sent():
    s = start_in_thread(port=0, contacts=50, rate_per_second=0, protect_sent=True)
    try:
        api = Api(s)
        lid = next(iter(s.state.lists))
        camp = _campaign(api, "Now").json()
        aid = _primary(camp)
        body = api.get(f"/emails/activities/{aid}").json()
        body["contact_list_ids"] = [lid]
        assert api.put(f"/emails/activities/{aid}", json=body).status_code == 200
        r = api.post(f"/emails/activities/{aid}/schedules", json={"scheduled_date": "0"})
        assert r.status_code == 201 and r.json() == []
        s.advance(1)
        assert api.get(f"/emails/activities/{aid}").json()["current_status"] == "DONE"
        assert api.put(f"/emails/activities/{aid}", json=body).status_code == 400
        assert api.delete(f"/emails/{camp['campaign_id']}").status_code == 400     # refused once sent
    finally:
        s.stop()


def test_emails_paging_includes_removed(api):
    for i in range(7):
        assert _campaign(api, f"Paged {i}").status_code == 200
    doomed = _campaign(api, "Paged doomed").json()["campaign_id"]
    assert api.delete(f"/emails/{doomed}").status_code == 204
    r = api.get("/emails?limit=3")
    assert_matches(r, "/emails")
    seen, url = [], "/emails?limit=3"
    while url:
        body = api.get(url).json()
        seen += body["campaigns"]
        url = body.get("_links", {}).get("next", {}).get("href")
        assert url is None or ("next=" in url and "limit=3" in url)
    ids = [c["campaign_id"] for c in seen]
    assert len(ids) == len(set(ids)) == len(api.sim.state.campaigns)
    assert any(c["campaign_id"] == doomed and c["current_status"] == "Removed" for c in seen)


def test_account_endpoints(api):
    r = api.get("/account/summary?extra_fields=physical_address")
    assert_matches(r, "/account/summary")
    assert r.json()["physical_address"]["country_code"] == "US"
    r = api.get("/account/emails")
    assert_matches(r, "/account/emails")
    assert {e["confirm_status"] for e in r.json()} == {"CONFIRMED", "UNCONFIRMED"}
    assert all(e["confirm_status"] == "CONFIRMED" for e in api.get("/account/emails?confirm_status=CONFIRMED").json())
    r = api.put("/account/summary", json={"organization_name": "Renamed Org"})
    assert r.status_code == 200 and r.json()["organization_name"] == "Renamed Org"
    assert api.get("/account/summary").json()["first_name"] == "Demo"        # partial update
    r = api.put("/account/summary/physical_address",
                json={"address_line1": "2 Side St", "city": "Boston", "state_code": "MA", "country_code": "US"})
    assert r.status_code == 200
    assert_matches(r, "/account/summary/physical_address", "put")
    r = api.post("/account/emails", json={"email_address": "new-sender@example.org"})
    assert r.status_code == 201 and r.json()["confirm_status"] == "UNCONFIRMED"
    assert api.post("/account/emails", json={"email_address": "new-sender@example.org"}).status_code == 409
