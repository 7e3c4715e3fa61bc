"""/v3/reports: per-activity tracking, campaign summaries, stats (contract §3.9).

Tracking reports exist for primary_email (and resend) activities; an unsent
activity returns ``{"tracking_activities": []}``.  Summaries are keyed by
``campaign_id`` and contain no activity id (pitfall §5.11).
"""
from __future__ import annotations

from ..errors import ApiError, bad_request
from ..pagination import page_items
from ..web import ok

REPORT_KINDS = {"sends": "sends", "opens": "opens", "unique_opens": "opens", "clicks": "clicks",
                "bounces": "bounces", "optouts": "optouts", "forwards": "forwards", "didnotopens": None}
LINKS_REQUIRED = ("optouts", "bounces")     # schema marks _links required there


def _activity(st, aid):
    a = st.campaign_activities.get(aid)
    if not a or a["role"] not in ("primary_email", "resend"):
        raise ApiError(404, "reports.api.not_found", "Campaign activity not found.")
    return a


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
            return [e for e in evs if e["bounce_code"] in codes]
        return evs

    page, links = page_items(req, f"reports/email_reports/{aid}/tracking/{kind}", items, 500, 500)
    body = {"tracking_activities": page}
    if links:
        body["_links"] = links
    elif kind in LINKS_REQUIRED:
        body["_links"] = {}
    return ok(body)


def unique_counts(st, aid) -> dict:
    tr = st.tracking.get(aid) or {}
    u = lambda k: len({e["contact_id"] for e in tr.get(k, [])})
    sends, opens, bounces = u("sends"), u("opens"), u("bounces")
    return {"sends": sends, "opens": opens, "clicks": u("clicks"), "forwards": u("forwards"),
            "optouts": u("optouts"), "abuse": u("abuse"), "bounces": bounces,
            "not_opened": max(0, sends - opens - bounces)}


def _pct(n, d):
    return round(100.0 * n / d, 1) if d else 0.0


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
            a = st.campaign_activities[camp["_primary"]]
            if not a.get("_sent_at"):
                continue
            rows.append({"campaign_id": camp["campaign_id"], "campaign_type": "Newsletter",
                         "last_sent_date": a["_sent_at"], "unique_counts": unique_counts(st, a["campaign_activity_id"])})
        rows.sort(key=lambda x: x["last_sent_date"], reverse=True)
        return rows[:500]

    page, links = page_items(req, "reports/summary_reports/email_campaign_summaries", items, 50, 500)
    tot = {k: sum(r["unique_counts"][k] for r in page) for k in ("sends", "opens", "clicks", "bounces", "optouts")}
    delivered = tot["sends"] - tot["bounces"]
    body = {"bulk_email_campaign_summaries": page,
            "aggregate_percents": {"open": _pct(tot["opens"], delivered), "click": _pct(tot["clicks"], delivered),
                                   "did_not_open": _pct(max(0, delivered - tot["opens"]), delivered),
                                   "bounce": _pct(tot["bounces"], tot["sends"]),
                                   "unsubscribe": _pct(tot["optouts"], delivered)}}
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
         "em_forwards": uc["forwards"], "em_optouts": uc["optouts"], "em_abuse": uc["abuse"],
         "em_not_opened": uc["not_opened"], "em_opens_all": len(tr.get("opens", [])),
         "em_clicks_all": len(tr.get("clicks", []))}
    for dev in ("computer", "mobile", "tablet", "other", "none"):
        s[f"em_opens_all_{dev}"] = sum(1 for e in tr.get("opens", []) if e.get("device_type") == dev)
        s[f"em_clicks_all_{dev}"] = sum(1 for e in tr.get("clicks", []) if e.get("device_type") == dev)
    for key in BOUNCE_STAT.values():
        s[key] = 0
    for e in tr.get("bounces", []):
        s[BOUNCE_STAT[e["bounce_code"]]] += 1
    return s


def stats_activities(req):
    st = req.state
    ids = [x.strip() for x in req.params["campaign_activity_ids"].split(",") if x.strip()]
    if not ids or len(ids) > 10:
        raise bad_request("Provide 1 to 10 campaign_activity_ids.")
    results, errors = [], []
    for aid in ids:
        a = st.campaign_activities.get(aid)
        if not a:
            # Partial failures come back inside the 200 (StatsError, contract §2.4).
            errors.append({"error_key": "reportingsvc.not_found.invalid_path_param.campaign_activity_ids.",
                           "error_message": f"Campaign activity {aid} was not found."})
            continue
        results.append({"campaign_id": a["campaign_id"], "campaign_activity_id": aid,
                        "stats": activity_stats(st, aid), "last_refresh_time": st.now()})
    return ok({"errors": errors, "results": results})


def stats_campaigns(req):
    st = req.state
    ids = [x.strip() for x in req.params["campaign_ids"].split(",") if x.strip()]
    if not ids or len(ids) > 150:
        raise bad_request("Provide 1 to 150 campaign_ids.")
    results = []
    for cid in ids:
        camp = st.campaigns.get(cid)
        if not camp:
            raise ApiError(404, "reportingsvc.not_found", f"Campaign {cid} was not found.")  # whole request 404
        s = activity_stats(st, camp["_primary"])
        stats = {k: v for k, v in s.items() if not k.startswith("em_bounces_") and k != "em_abuse"}
        d = s["em_sends"] - s["em_bounces"]
        results.append({"campaign_id": cid, "stats": stats, "last_refresh_time": st.now(),
                        "percents": {"open": _pct(s["em_opens"], d), "click": _pct(s["em_clicks"], d),
                                     "bounce": _pct(s["em_bounces"], s["em_sends"]),
                                     "did_not_open": _pct(max(0, d - s["em_opens"]), d),
                                     "unsubscribe": _pct(s["em_optouts"], d),
                                     "desktop_open": _pct(s["em_opens_all_computer"], s["em_opens_all"]),
                                     "mobile_open": _pct(s["em_opens_all_mobile"], s["em_opens_all"]),
                                     "desktop_click": _pct(s["em_clicks_all_computer"], s["em_clicks_all"]),
                                     "mobile_click": _pct(s["em_clicks_all_mobile"], s["em_clicks_all"])}})
    return ok({"errors": [], "results": results})


def link_stats(req):
    st = req.state
    aid = req.params["campaign_activity_id"]
    _activity(st, aid)
    clicks = (st.tracking.get(aid) or {}).get("clicks", [])
    by = {}
    for e in clicks:
        d = by.setdefault(e["url_id"], {"url_id": e["url_id"], "link_url": e["link_url"], "_c": set()})
        d["_c"].add(e["contact_id"])
    links = [{"url_id": d["url_id"], "link_url": d["link_url"], "unique_clicks": len(d["_c"])} for d in by.values()]
    return ok({"link_click_counts": links})
