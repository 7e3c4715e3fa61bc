"""/v3/reports: per-activity tracking, links, campaign summaries, stats and the
contact-level reports (contract §3.9).

Tracking reports exist for primary_email (and resend) activities; an unsent
activity returns ``{"tracking_activities": []}``.  Summaries are keyed by
``campaign_id`` and contain no activity id (pitfall §5.11).

Every count and percentage follows its field's description in the spec, not
only its type:

* counts named "unique" (summary ``unique_counts``, stats ``em_sends``,
  ``em_opens``, ``em_clicks``, ``em_bounces``, ``em_optouts``, ``em_forwards``
  and each ``em_bounces_<reason>``) count contacts, not events; ``*_all``
  count events;
* ``em_not_opened`` = ``em_sends - em_opens - em_bounces``, never below zero;
* ``open``, ``did_not_open`` and ``unsubscribe`` are percentages of the
  recipients who received the email (sends less bounces); ``bounce`` of the
  sends; ``click`` of the recipients who *opened* ("who opened the email who
  also clicked one or more links in it");
* ``desktop_*`` and ``mobile_*`` are shares of all opens or clicks, and
  "mobile" is phones *and* tablets ("mobile phone, tablet computer, or
  similar small mobile device");
* percentages carry one decimal; a denominator of zero gives 0.

The stats endpoints report partial failures inside the 200 (``errors``): a
campaign or activity that was never sent has no stats.  An id that does not
exist at all makes the campaign stats call 404 as a whole (spec).
"""
from __future__ import annotations

from datetime import timedelta

from ..clock import parse_iso
from ..links import links_of, url_id_of
from ..errors import ApiError, bad_request
from ..pagination import page_items
from ..web import ok

REPORT_KINDS = {"sends": "sends", "opens": "opens", "unique_opens": "opens", "clicks": "clicks",
                "bounces": "bounces", "optouts": "optouts", "forwards": "forwards", "didnotopens": None}
LINKS_REQUIRED = ("optouts", "bounces")     # schema marks _links required there
CONTACT_ACTIVITY_TYPES = {"em_sends": "sends", "em_opens": "opens", "em_clicks": "clicks",
                          "em_bounces": "bounces", "em_optouts": "optouts", "em_forwards": "forwards",
                          # Landing pages are not simulated: valid, and always empty.
                          "p_contact_open": None, "p_contact_click": None, "p_contact_add": None,
                          "p_contact_update": None}
# The most recent campaigns the contact action summary covers (spec).
CONTACT_SUMMARY_CAMPAIGNS = 200
# The longest range the contact open and click rates accept (spec: 5 years).
RATES_RANGE = timedelta(days=5 * 366)


def _activity(st, aid):
    a = st.campaign_activities.get(aid)
    if not a or a["role"] not in ("primary_email", "resend"):
        raise ApiError(404, "reports.api.not_found", "Campaign activity not found.")
    return a


def _as_of_now(st, event: dict) -> dict:
    """The event as a report shows it today: a deleted contact carries its
    deletion date, a bounce the contact's current address."""
    c = st.contacts.get(event["contact_id"])
    if not c:
        return event
    out = event
    if c.get("deleted_at"):
        out = dict(out, deleted_at=c["deleted_at"])
    if "current_email_address" in event:
        current = (c.get("email_address") or {}).get("address")
        if current and current != event["current_email_address"]:
            out = dict(out, current_email_address=current)
    return out


def tracking(req):
    st = req.state
    kind = req.params["report"]
    if kind not in REPORT_KINDS:
        raise ApiError(404, "api.not_found", f"Unknown tracking report {kind}.")
    aid = req.params["campaign_activity_id"]
    _activity(st, aid)
    tr = st.tracking.get(aid) or {}

    def items(r):
        if kind == "didnotopens":
            opened = {e["contact_id"] for e in tr.get("opens", [])}
            bounced = {e["contact_id"] for e in tr.get("bounces", [])}
            return [dict(e, tracking_activity_type="em_didnotopens") for e in tr.get("sends", [])
                    if e["contact_id"] not in opened and e["contact_id"] not in bounced]
        evs = tr.get(REPORT_KINDS[kind], [])
        if kind == "unique_opens":
            # "the last time that each contact opened": lists are newest first.
            seen, out = set(), []
            for e in evs:
                if e["contact_id"] not in seen:
                    seen.add(e["contact_id"])
                    out.append(e)
            return out
        if kind == "clicks" and r.q("url_id"):
            try:
                int(r.q("url_id"))
            except ValueError:
                raise bad_request("url_id must be an integer.")
            return [e for e in evs if e["url_id"] == r.q("url_id")]
        if kind == "bounces" and r.q_all("bounce_code"):
            codes = set(r.q_all("bounce_code"))
            unknown = codes - {"B", "D", "F", "S", "V", "X", "Z"}
            if unknown:
                raise bad_request(f"bounce_code must be one of B, D, F, S, V, X, Z, not {sorted(unknown)}.")
            return [e for e in evs if e["bounce_code"] in codes]
        return evs

    page, links = page_items(req, f"reports/email_reports/{aid}/tracking/{kind}", items, 500, 500)
    body = {"tracking_activities": [_as_of_now(st, e) for e in page]}
    if links:
        body["_links"] = links
    elif kind in LINKS_REQUIRED:
        body["_links"] = {}
    return ok(body)


def _unique(tr, kind) -> int:
    return len({e["contact_id"] for e in tr.get(kind, [])})


def unique_counts(st, aid) -> dict:
    tr = st.tracking.get(aid) or {}
    sends, opens, bounces = _unique(tr, "sends"), _unique(tr, "opens"), _unique(tr, "bounces")
    return {"sends": sends, "opens": opens, "clicks": _unique(tr, "clicks"),
            "forwards": _unique(tr, "forwards"), "optouts": _unique(tr, "optouts"),
            "abuse": _unique(tr, "abuse"), "bounces": bounces,
            "not_opened": max(0, sends - opens - bounces)}


def _pct(n, d):
    return round(100.0 * n / d, 1) if d else 0.0


def percents(*, sends: int, opens: int, clicks: int, bounces: int, optouts: int) -> dict:
    """The five rates as the spec's PercentsEmail describes each one."""
    delivered = max(0, sends - bounces)
    return {"open": _pct(opens, delivered), "click": _pct(clicks, opens),
            "bounce": _pct(bounces, sends),
            "did_not_open": _pct(max(0, sends - opens - bounces), delivered),
            "unsubscribe": _pct(optouts, delivered)}


def _sent_primary(st, camp):
    a = st.campaign_activities.get(camp["_primary"])
    return a if a and a.get("_sent_at") else None


def campaign_summaries(req):
    st = req.state
    try:
        lim = int(req.q("limit") or "50")      # declared as a string
    except ValueError:
        raise bad_request("limit must be a number.")
    if not 1 <= lim <= 500:
        raise bad_request("limit must be between 1 and 500.")

    def items(r):
        rows = []
        for camp in st.campaigns.values():
            a = _sent_primary(st, camp)
            if a is None:
                continue
            rows.append({"campaign_id": camp["campaign_id"],
                         "campaign_type": camp.get("type", "NEWSLETTER").title(),
                         "last_sent_date": a["_sent_at"],
                         "unique_counts": unique_counts(st, a["campaign_activity_id"])})
        rows.sort(key=lambda x: x["last_sent_date"], reverse=True)
        return rows[:500]      # "up to five hundred email campaigns"

    page, links = page_items(req, "reports/summary_reports/email_campaign_summaries", items, 50, 500)
    tot = {k: sum(r["unique_counts"][k] for r in page)
           for k in ("sends", "opens", "clicks", "bounces", "optouts")}
    body = {"bulk_email_campaign_summaries": page, "aggregate_percents": percents(**tot)}
    if links:
        body["_links"] = links
    return ok(body)


BOUNCE_STAT = {"Z": "em_bounces_blocked", "F": "em_bounces_mailbox_full", "B": "em_bounces_nonexistent_address",
               "X": "em_bounces_other", "S": "em_bounces_suspended", "D": "em_bounces_undeliverable",
               "V": "em_bounces_vacation"}


def activity_stats(st, aid) -> dict:
    tr = st.tracking.get(aid) or {}
    uc = unique_counts(st, aid)
    s = {"em_sends": uc["sends"], "em_opens": uc["opens"], "em_clicks": uc["clicks"], "em_bounces": uc["bounces"],
         "em_forwards": uc["forwards"], "em_optouts": uc["optouts"], "em_abuse": len(tr.get("abuse", [])),
         "em_not_opened": uc["not_opened"], "em_opens_all": len(tr.get("opens", [])),
         "em_clicks_all": len(tr.get("clicks", []))}
    for dev in ("computer", "mobile", "tablet", "other", "none"):
        s[f"em_opens_all_{dev}"] = sum(1 for e in tr.get("opens", []) if (e.get("device_type") or "none") == dev)
        s[f"em_clicks_all_{dev}"] = sum(1 for e in tr.get("clicks", []) if (e.get("device_type") or "none") == dev)
    # "Unique number bounced ...": contacts per reason, not bounce events.
    for code, key in BOUNCE_STAT.items():
        s[key] = len({e["contact_id"] for e in tr.get("bounces", []) if e["bounce_code"] == code})
    return s


def _device_percents(s) -> dict:
    return {"desktop_open": _pct(s["em_opens_all_computer"], s["em_opens_all"]),
            "mobile_open": _pct(s["em_opens_all_mobile"] + s["em_opens_all_tablet"], s["em_opens_all"]),
            "desktop_click": _pct(s["em_clicks_all_computer"], s["em_clicks_all"]),
            "mobile_click": _pct(s["em_clicks_all_mobile"] + s["em_clicks_all_tablet"], s["em_clicks_all"])}


def _no_stats(key: str, what: str) -> dict:
    return {"error_key": f"reportingsvc.not_found.invalid_path_param.{key}.",
            "error_message": f"Could not find any campaign stats for {what}."}


def stats_activities(req):
    st = req.state
    ids = [x.strip() for x in req.params["campaign_activity_ids"].split(",") if x.strip()]
    if not ids or len(ids) > 10:
        raise bad_request("Provide 1 to 10 campaign_activity_ids.")
    results, errors = [], []
    for aid in ids:
        a = st.campaign_activities.get(aid)
        if not a or not a.get("_sent_at"):
            # Missing, deleted or never sent: reported inside the 200 (StatsError, spec).
            errors.append(_no_stats("campaign_activity_ids", f"campaign activity {aid}"))
            continue
        results.append({"campaign_id": a["campaign_id"], "campaign_activity_id": aid,
                        "stats": activity_stats(st, aid), "last_refresh_time": st.now()})
    return ok({"errors": errors, "results": results})


def stats_campaigns(req):
    st = req.state
    ids = [x.strip() for x in req.params["campaign_ids"].split(",") if x.strip()]
    if not ids or len(ids) > 150:
        raise bad_request("Provide 1 to 150 campaign_ids.")
    results, errors = [], []
    for cid in ids:
        camp = st.campaigns.get(cid)
        if not camp:
            raise ApiError(404, "reportingsvc.not_found", f"Campaign {cid} was not found.")  # whole request 404
        if _sent_primary(st, camp) is None:
            errors.append(_no_stats("campaign_ids", f"campaign {cid}"))
            continue
        s = activity_stats(st, camp["_primary"])
        stats = {k: v for k, v in s.items() if not k.startswith("em_bounces_") and k != "em_abuse"}
        pct = percents(sends=s["em_sends"], opens=s["em_opens"], clicks=s["em_clicks"],
                       bounces=s["em_bounces"], optouts=s["em_optouts"])
        pct.update(_device_percents(s))
        results.append({"campaign_id": cid, "stats": stats, "percents": pct,
                        "last_refresh_time": st.now()})
    return ok({"errors": errors, "results": results})


def link_stats(req):
    st = req.state
    aid = req.params["campaign_activity_id"]
    a = _activity(st, aid)
    no_clicks = req.q_bool("no_clicks", False)
    clicks = (st.tracking.get(aid) or {}).get("clicks", [])
    by: dict = {}
    for e in clicks:
        by.setdefault(e["url_id"], {"url_id": e["url_id"], "link_url": e["link_url"], "_c": set()})
        by[e["url_id"]]["_c"].add(e["contact_id"])
    links = []
    # In the order the links appear in the email, then any no longer in it.
    for url in links_of(a.get("html_content")):
        uid = url_id_of(url)
        d = by.pop(uid, None)
        if d is not None or no_clicks:
            links.append({"link_url": url, "url_id": uid, "unique_clicks": len(d["_c"]) if d else 0})
    for d in by.values():
        links.append({"link_url": d["link_url"], "url_id": d["url_id"], "unique_clicks": len(d["_c"])})
    return ok({"campaign_activity_id": aid, "link_click_counts": links})


# ---------------------------------------------------------------- contact reports
def _contact(st, cid):
    c = st.contacts.get(cid)
    if not c:
        raise ApiError(404, "reports.api.not_found", "Contact not found.")
    return c


def _names(st) -> dict:
    """{campaign_activity_id: the campaign's name} for primary emails."""
    out = {}
    for camp in st.campaigns.values():
        out[camp["_primary"]] = camp["name"]
    return out


def _range(req) -> tuple:
    start, end = req.q("start"), req.q("end")
    if not start or not end:
        raise bad_request("start and end are required.", "api.validation.required")
    try:
        lo, hi = parse_iso(start), parse_iso(end)
    except ValueError:
        raise bad_request("start and end must be ISO 8601 dates.", "api.validation.format")
    if hi < lo:
        raise bad_request("end must not be before start.")
    return lo, hi


def contact_activity_details(req):
    st = req.state
    cid = req.params["contact_id"]
    _contact(st, cid)

    def items(r):
        # Read after page_items: a next-page cursor carries the original query.
        listed, typed = r.q_csv("tracking_activities_list"), r.q_all("tracking_activity_type")
        if listed and typed:
            raise bad_request("tracking_activities_list and tracking_activity_type are mutually "
                              "exclusive.")
        wanted = listed or typed
        if not wanted:
            raise bad_request("Choose tracking_activities_list or tracking_activity_type.",
                              "api.validation.required")
        unknown = [t for t in wanted if t not in CONTACT_ACTIVITY_TYPES]
        if unknown:
            raise bad_request(f"Unknown tracking activity types: {', '.join(unknown)}.")
        with_names = r.q_bool("include_campaign_activity_names", True)
        names = _names(st) if with_names else {}
        kinds = {CONTACT_ACTIVITY_TYPES[t] for t in wanted} - {None}
        out = []
        for aid, tr in st.tracking.items():
            for kind in kinds:
                for e in tr.get(kind, []):
                    if e["contact_id"] != cid:
                        continue
                    item = {"contact_id": cid, "campaign_activity_id": aid,
                            "created_time": e["created_time"],
                            "tracking_activity_type": e["tracking_activity_type"]}
                    if with_names and aid in names:
                        item["campaign_activity_name"] = names[aid]
                    out.append(item)
        out.sort(key=lambda x: x["created_time"], reverse=True)
        return out

    page, links = page_items(req, f"reports/contact_reports/{cid}/activity_details", items, 100, 100)
    body = {"tracking_activities": page}
    if links:
        body["_links"] = links
    return ok(body)


def _contact_activities(st, cid, lo, hi) -> list:
    """[(activity id, last send to the contact, its events by kind)] sent in [lo, hi], newest first."""
    out = []
    for aid, tr in st.tracking.items():
        sends = [e["created_time"] for e in tr.get("sends", []) if e["contact_id"] == cid]
        if not sends:
            continue
        last = max(sends)
        if not lo <= parse_iso(last) <= hi:
            continue
        mine = {k: [e for e in evs if e["contact_id"] == cid] for k, evs in tr.items()}
        out.append((aid, last, mine))
    out.sort(key=lambda x: x[1], reverse=True)
    return out


def contact_activity_summary(req):
    st = req.state
    cid = req.params["contact_id"]
    _contact(st, cid)
    lo, hi = _range(req)
    rows = [{"campaign_activity_id": aid, "start_on": last,
             "em_bounces": len(mine.get("bounces", [])), "em_clicks": len(mine.get("clicks", [])),
             "em_forwards": len(mine.get("forwards", [])), "em_opens": len(mine.get("opens", [])),
             "em_sends": len(mine.get("sends", [])), "em_unsubscribes": len(mine.get("optouts", []))}
            for aid, last, mine in _contact_activities(st, cid, lo, hi)[:CONTACT_SUMMARY_CAMPAIGNS]]
    return ok({"contact_id": cid, "campaign_activities": rows})


def contact_open_and_click_rates(req):
    st = req.state
    cid = req.params["contact_id"]
    _contact(st, cid)
    lo, hi = _range(req)
    if hi - lo > RATES_RANGE:
        raise bad_request("The date range cannot exceed 5 years.")
    acts = _contact_activities(st, cid, lo, hi)
    n = len(acts)
    opened = sum(1 for _, _, mine in acts if mine.get("opens"))
    clicked = sum(1 for _, _, mine in acts if mine.get("clicks"))
    # "The average rate the contact opened emails sent to them": a fraction, as the
    # spec's example (0.6) shows; 0 when nothing was sent in the range.
    return ok({"contact_id": cid, "included_activities_count": n,
               "average_open_rate": round(opened / n, 4) if n else 0.0,
               "average_click_rate": round(clicked / n, 4) if n else 0.0})
