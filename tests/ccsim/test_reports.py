"""The reporting endpoints as the spec defines them: shapes, every count and
percentage as its description says, the contact-level reports, and delivery
that unfolds over time."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from ccsim.clock import parse_iso
from ccsim.server import start_in_thread

from .conftest import Api
from .spec_validation import assert_matches

LINKS = ("https://shop.example.com/sale", "https://blog.example.com/post", "https://example.com/unclicked")
HTML = ('<html><body>[[trackingImage]]<p>Hi</p>'
        + "".join(f'<a href="{u}">link</a>' for u in LINKS) + "</body></html>")
TRACKING = "/reports/email_reports/{campaign_activity_id}/tracking/"


@pytest.fixture(scope="module")
def sim():
    s = start_in_thread(port=0, contacts=400, rate_per_second=0, daily_quota=0,
                        token_rate_per_second=0, auto_approve=True)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api(sim):
    return Api(sim)


def _send(api, sim, name: str, html: str = HTML) -> tuple[str, str]:
    """A campaign sent now to the Newsletter list; returns (campaign_id, activity id)."""
    lid = next(l for l, v in sim.state.lists.items() if v["name"] == "Newsletter")
    act = {"format_type": 5, "from_name": "Demo", "from_email": "news@ccsim-demo.example",
           "reply_to_email": "news@ccsim-demo.example", "subject": name, "html_content": html}
    camp = api.post("/emails", json={"name": name, "email_campaign_activities": [act]}).json()
    aid = next(a["campaign_activity_id"] for a in camp["campaign_activities"]
               if a["role"] == "primary_email")
    body = api.get(f"/emails/activities/{aid}?include=html_content").json()
    body["contact_list_ids"] = [lid]
    assert api.put(f"/emails/activities/{aid}", json=body).status_code == 200
    assert api.post(f"/emails/activities/{aid}/schedules", json={"scheduled_date": "0"}).status_code == 201
    sim.advance(1)
    return camp["campaign_id"], aid


def _advance(api, sim, seconds: float) -> None:
    """Move the clock; access tokens live 24 hours, so take a fresh one."""
    sim.advance(seconds)
    api.set_token(sim.mint_token())


def _all(api, path: str) -> list[dict]:
    items, url = [], path
    while url:
        page = api.get(url).json()
        items += page["tracking_activities"]
        url = (page.get("_links") or {}).get("next", {}).get("href")
    return items


@pytest.fixture(scope="module")
def sent(api, sim):
    """One campaign sent, observed an hour in and then eight days later."""
    cid, aid = _send(api, sim, "Reported")
    _advance(api, sim, 3600)
    early = {k: len(_all(api, f"/reports/email_reports/{aid}/tracking/{k}"))
             for k in ("sends", "opens", "clicks")}
    _advance(api, sim, 8 * 86400)
    return {"campaign_id": cid, "activity_id": aid, "early": early}


def test_every_reporting_endpoint_answers_as_the_spec_says(api, sent):
    aid, cid = sent["activity_id"], sent["campaign_id"]
    for kind in ("sends", "opens", "unique_opens", "didnotopens", "clicks", "forwards", "optouts",
                 "bounces"):
        r = api.get(f"/reports/email_reports/{aid}/tracking/{kind}?limit=20")
        assert r.status_code == 200
        assert_matches(r, TRACKING.replace("tracking/", f"tracking/{kind}"))
    assert_matches(api.get(f"/reports/email_reports/{aid}/links?no_clicks=true"),
                   "/reports/email_reports/{campaign_activity_id}/links")
    assert_matches(api.get("/reports/summary_reports/email_campaign_summaries?limit=500"),
                   "/reports/summary_reports/email_campaign_summaries")
    assert_matches(api.get(f"/reports/stats/email_campaigns/{cid}"),
                   "/reports/stats/email_campaigns/{campaign_ids}")
    assert_matches(api.get(f"/reports/stats/email_campaign_activities/{aid}"),
                   "/reports/stats/email_campaign_activities/{campaign_activity_ids}")
    contact = _all(api, f"/reports/email_reports/{aid}/tracking/opens")[0]["contact_id"]
    base = f"/reports/contact_reports/{contact}"
    assert_matches(api.get(f"{base}/activity_details?tracking_activities_list=em_sends,em_opens"),
                   "/reports/contact_reports/{contact_id}/activity_details")
    window = "start=2000-01-01T00:00:00Z&end=2099-01-01T00:00:00Z"
    assert_matches(api.get(f"{base}/activity_summary?{window}"),
                   "/reports/contact_reports/{contact_id}/activity_summary")
    assert_matches(api.get(f"{base}/open_and_click_rates?start=2024-01-01T00:00:00-0500"
                           f"&end=2028-01-01T00:00:00-0500"),
                   "/reports/contact_reports/{contact_id}/open_and_click_rates")


def test_counts_are_unique_contacts_and_the_all_counts_are_events(api, sent):
    aid = sent["activity_id"]
    ev = {k: _all(api, f"/reports/email_reports/{aid}/tracking/{k}")
          for k in ("sends", "opens", "clicks", "bounces", "optouts", "forwards")}
    stats = api.get(f"/reports/stats/email_campaign_activities/{aid}").json()["results"][0]["stats"]
    unique = {k: len({e["contact_id"] for e in items}) for k, items in ev.items()}
    assert stats["em_sends"] == unique["sends"] == len(ev["sends"])
    assert stats["em_opens"] == unique["opens"] < stats["em_opens_all"] == len(ev["opens"])
    assert stats["em_clicks"] == unique["clicks"] <= stats["em_clicks_all"] == len(ev["clicks"])
    assert stats["em_bounces"] == unique["bounces"]
    assert stats["em_optouts"] == unique["optouts"]
    assert stats["em_forwards"] == unique["forwards"]
    assert stats["em_not_opened"] == max(0, unique["sends"] - unique["opens"] - unique["bounces"])
    by_code = Counter(e["bounce_code"] for e in ev["bounces"])
    assert stats["em_bounces_blocked"] == by_code["Z"]
    assert stats["em_bounces_nonexistent_address"] == by_code["B"]
    assert sum(v for k, v in stats.items() if k.startswith("em_bounces_")) == stats["em_bounces"]
    devices = sum(stats[f"em_opens_all_{d}"] for d in ("computer", "mobile", "tablet", "other", "none"))
    assert devices == stats["em_opens_all"]


def test_percentages_follow_each_fields_description(api, sent):
    cid = sent["campaign_id"]
    result = api.get(f"/reports/stats/email_campaigns/{cid}").json()["results"][0]
    s, p = result["stats"], result["percents"]
    delivered = s["em_sends"] - s["em_bounces"]
    assert p["open"] == round(100 * s["em_opens"] / delivered, 1)
    # "Percentage of recipients who opened the email who also clicked": clicks over opens.
    assert p["click"] == round(100 * s["em_clicks"] / s["em_opens"], 1)
    assert p["bounce"] == round(100 * s["em_bounces"] / s["em_sends"], 1)
    assert p["unsubscribe"] == round(100 * s["em_optouts"] / delivered, 1)
    assert p["did_not_open"] == round(100 * s["em_not_opened"] / delivered, 1)
    # "mobile phone, tablet computer, or similar": phones and tablets together.
    mobile = s["em_opens_all_mobile"] + s["em_opens_all_tablet"]
    assert p["mobile_open"] == round(100 * mobile / s["em_opens_all"], 1)
    assert p["desktop_open"] == round(100 * s["em_opens_all_computer"] / s["em_opens_all"], 1)


def test_summaries_agree_with_stats_and_aggregate_their_page(api, sent):
    body = api.get("/reports/summary_reports/email_campaign_summaries?limit=500").json()
    rows = body["bulk_email_campaign_summaries"]
    assert [r["last_sent_date"] for r in rows] == sorted((r["last_sent_date"] for r in rows),
                                                        reverse=True)
    mine = next(r for r in rows if r["campaign_id"] == sent["campaign_id"])
    stats = api.get(f"/reports/stats/email_campaigns/{sent['campaign_id']}").json()
    s = stats["results"][0]["stats"]
    assert mine["unique_counts"]["sends"] == s["em_sends"]
    assert mine["unique_counts"]["opens"] == s["em_opens"]
    assert mine["unique_counts"]["clicks"] == s["em_clicks"]
    assert mine["unique_counts"]["bounces"] == s["em_bounces"]
    assert mine["unique_counts"]["optouts"] == s["em_optouts"]
    tot = {k: sum(r["unique_counts"][k] for r in rows) for k in ("sends", "opens", "clicks", "bounces")}
    agg = body["aggregate_percents"]
    assert agg["open"] == round(100 * tot["opens"] / (tot["sends"] - tot["bounces"]), 1)
    assert agg["click"] == round(100 * tot["clicks"] / tot["opens"], 1)
    assert agg["bounce"] == round(100 * tot["bounces"] / tot["sends"], 1)


def test_activity_unfolds_over_days_with_a_peak_in_the_first_hours(api, sent):
    aid = sent["activity_id"]
    sends = _all(api, f"/reports/email_reports/{aid}/tracking/sends")
    opens = _all(api, f"/reports/email_reports/{aid}/tracking/opens")
    # Everything was sent at once; an hour in, only part of the opens had happened.
    assert sent["early"]["sends"] == len(sends)
    assert 0 < sent["early"]["opens"] < len(opens)
    start = min(parse_iso(e["created_time"]) for e in sends)
    hours = Counter(int((parse_iso(e["created_time"]) - start).total_seconds() // 3600) for e in opens)
    first_six = sum(hours[h] for h in range(6))
    assert first_six > sum(hours[h] for h in range(6, 12))  # most come early
    assert max(hours) >= 24                                  # and some a day or more later


def test_opt_outs_unsubscribe_only_once_their_moment_comes(api, sim):
    # Each send's randomness is seeded by its activity id (a fresh uuid), and opt-outs
    # are rare (1.5 %): send again until one has an opt-out still to come.
    for attempt in range(20):
        _, aid = _send(api, sim, f"Opt-out timing {attempt}")
        with sim.state.lock:
            pending = [e for e in sim.state.tracking_pending.get(aid, []) if e[1] == "optouts"]
        if pending:
            break
    assert pending, "twenty sends to the seeded audience should produce a later opt-out"
    contact = pending[0][2]["contact_id"]
    assert api.get(f"/contacts/{contact}").json()["email_address"]["permission_to_send"] != "unsubscribed"
    _advance(api, sim, 60 * 86400)
    optouts = _all(api, f"/reports/email_reports/{aid}/tracking/optouts")
    assert contact in {e["contact_id"] for e in optouts}
    assert api.get(f"/contacts/{contact}").json()["email_address"]["permission_to_send"] == "unsubscribed"


def test_unique_opens_lists_each_contacts_last_open(api, sent):
    aid = sent["activity_id"]
    opens = _all(api, f"/reports/email_reports/{aid}/tracking/opens")
    unique = _all(api, f"/reports/email_reports/{aid}/tracking/unique_opens")
    last = {}
    for e in opens:
        last[e["contact_id"]] = max(last.get(e["contact_id"], ""), e["created_time"])
    assert {e["contact_id"]: e["created_time"] for e in unique} == last


def test_the_link_report_counts_unique_clickers_and_can_list_unclicked_links(api, sent):
    aid = sent["activity_id"]
    clicks = _all(api, f"/reports/email_reports/{aid}/tracking/clicks")
    links = api.get(f"/reports/email_reports/{aid}/links").json()
    assert links["campaign_activity_id"] == aid
    counted = {lk["url_id"]: lk["unique_clicks"] for lk in links["link_click_counts"]}
    clickers: dict = {}
    for e in clicks:
        clickers.setdefault(e["url_id"], set()).add(e["contact_id"])
    assert counted == {u: len(c) for u, c in clickers.items()}
    every = api.get(f"/reports/email_reports/{aid}/links?no_clicks=true").json()["link_click_counts"]
    assert {lk["link_url"] for lk in every} >= set(LINKS)
    one = next(iter(clickers))
    only = _all(api, f"/reports/email_reports/{aid}/tracking/clicks?url_id={one}")
    assert {e["url_id"] for e in only} == {one}


def test_stats_report_unsent_campaigns_as_partial_errors_and_unknown_ids_as_404(api, sim, sent):
    act = {"format_type": 5, "from_name": "Demo", "from_email": "news@ccsim-demo.example",
           "reply_to_email": "news@ccsim-demo.example", "subject": "Draft", "html_content": HTML}
    draft = api.post("/emails", json={"name": "Never sent", "email_campaign_activities": [act]}).json()
    both = f"{sent['campaign_id']},{draft['campaign_id']}"
    body = api.get(f"/reports/stats/email_campaigns/{both}").json()
    assert [r["campaign_id"] for r in body["results"]] == [sent["campaign_id"]]
    assert body["errors"][0]["error_key"].startswith("reportingsvc.not_found")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"/reports/stats/email_campaigns/{sent['campaign_id']},{unknown}").status_code == 404
    draft_aid = next(a["campaign_activity_id"] for a in draft["campaign_activities"]
                     if a["role"] == "primary_email")
    body = api.get(f"/reports/stats/email_campaign_activities/{draft_aid}").json()
    assert body["results"] == [] and len(body["errors"]) == 1
    assert api.get(f"/reports/email_reports/{draft_aid}/tracking/sends").json() == {
        "tracking_activities": []}


def test_contact_activity_details_lists_one_contacts_events_newest_first(api, sent):
    aid = sent["activity_id"]
    contact = next(e["contact_id"] for e in _all(api, f"/reports/email_reports/{aid}/tracking/clicks"))
    base = f"/reports/contact_reports/{contact}/activity_details"
    assert api.get(base).status_code == 400  # a type is required
    both = f"{base}?tracking_activities_list=em_opens&tracking_activity_type=em_sends"
    assert api.get(both).status_code == 400  # the two parameters are mutually exclusive
    assert api.get(f"{base}?tracking_activities_list=em_nonsense").status_code == 400
    items = _all(api, f"{base}?tracking_activity_type=em_sends&tracking_activity_type=em_opens"
                      f"&tracking_activity_type=em_clicks&limit=2")
    assert {i["tracking_activity_type"] for i in items} >= {"em_sends", "em_opens", "em_clicks"}
    assert [i["created_time"] for i in items] == sorted((i["created_time"] for i in items),
                                                       reverse=True)
    assert {i["campaign_activity_name"] for i in items if i["campaign_activity_id"] == aid} == {"Reported"}
    mine = [e for e in _all(api, f"/reports/email_reports/{aid}/tracking/opens")
            if e["contact_id"] == contact]
    assert len([i for i in items if i["campaign_activity_id"] == aid
                and i["tracking_activity_type"] == "em_opens"]) == len(mine)
    plain = api.get(f"{base}?tracking_activities_list=em_sends&include_campaign_activity_names=false")
    assert all("campaign_activity_name" not in i for i in plain.json()["tracking_activities"])
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"/reports/contact_reports/{unknown}/activity_details"
                   "?tracking_activities_list=em_sends").status_code == 404


def test_contact_summary_and_rates_count_what_the_contact_did(api, sent):
    aid = sent["activity_id"]
    contact = next(e["contact_id"] for e in _all(api, f"/reports/email_reports/{aid}/tracking/clicks"))
    window = "start=2000-01-01T00:00:00Z&end=2099-01-01T00:00:00Z"
    assert api.get(f"/reports/contact_reports/{contact}/activity_summary").status_code == 400
    rows = api.get(f"/reports/contact_reports/{contact}/activity_summary?{window}").json()
    row = next(r for r in rows["campaign_activities"] if r["campaign_activity_id"] == aid)
    opens = [e for e in _all(api, f"/reports/email_reports/{aid}/tracking/opens")
             if e["contact_id"] == contact]
    assert row["em_sends"] == 1 and row["em_opens"] == len(opens) and row["em_clicks"] >= 1
    too_long = "start=2000-01-01T00:00:00Z&end=2010-01-01T00:00:00Z"
    assert api.get(f"/reports/contact_reports/{contact}/open_and_click_rates?{too_long}").status_code == 400
    now = parse_iso(api.sim.state.now())
    recent = (f"start={(now - timedelta(days=365)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
              f"&end={now.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    rates = api.get(f"/reports/contact_reports/{contact}/open_and_click_rates?{recent}").json()
    received = len(rows["campaign_activities"])
    assert rates["included_activities_count"] == received
    assert 0 < rates["average_click_rate"] <= rates["average_open_rate"] <= 1
