"""Simulated email delivery and tracking data.

When a scheduled primary_email activity's send time has passed (background
ticker, plus lazily before every /v3 request) it is "sent": the audience is
resolved (contacts on its lists or in its segment, not deleted, permission
explicit/implicit; on a re-send of a DONE activity only contacts not sent
before, spec scheduleEmailCampaignActivity), and a deterministic RNG (seeded
by the server seed + activity id + run) produces sends, opens, clicks,
bounces, forwards and opt-outs.  Opt-outs really unsubscribe the contact
(``permission_to_send=unsubscribed`` + ``opt_out_date``) without touching the
contact's ``updated_at`` (pitfall §5.5), so ``optout_after`` sync can be tested.
Event lists are stored newest first, the order of the tracking reports (§3.9).
"""
from __future__ import annotations

import random
import re
import zlib

from .clock import iso

BOUNCE_CODES = ("B", "D", "F", "S", "V", "X", "Z")    # contract §3.9
DEVICES = ("computer", "mobile", "tablet", "other")
RATES = {"bounce": 0.04, "open": 0.42, "click": 0.30, "optout": 0.015, "forward": 0.02, "abuse": 0.002}
KINDS = ("sends", "opens", "clicks", "bounces", "optouts", "forwards", "abuse")


def process_due(sim):
    st = sim.state
    now = st.clock.time()
    for a in list(st.campaign_activities.values()):
        if a["current_status"] == "SCHEDULED" and a.get("_scheduled_ts", 1e18) <= now:
            deliver(st, a, a["_scheduled_ts"], sim.options.seed)


def audience(st, a) -> list:
    ids: set = set()
    if a.get("segment_ids"):
        from .resources.segments import evaluate_segment
        seg = st.segments.get(a["segment_ids"][0])
        if seg:
            ids = set(evaluate_segment(st, seg))
    for lid in a.get("contact_list_ids") or []:
        ids |= st.list_members.get(lid, set())
    already = set(a.get("_sent_contacts") or ())
    out = []
    for cid in ids:
        c = st.contacts.get(cid)
        if not c or c.get("deleted_at") or cid in already:
            continue
        if (c.get("email_address") or {}).get("permission_to_send") in ("explicit", "implicit"):
            out.append(cid)
    out.sort(key=st.contact_pos.get)
    return out


def _links(html: str) -> list:
    urls = re.findall(r'href=["\'](https?://[^"\']+)["\']', html or "")
    return list(dict.fromkeys(urls)) or ["https://www.example.com/"]


def deliver(st, a, send_ts: float, seed: int = 0):
    from .resources.contacts import unsubscribe
    now = st.clock.time()
    aid = a["campaign_activity_id"]
    run = len(a.get("_send_history") or [])
    rng = random.Random(f"{seed}:{aid}:{run}")
    links = _links(a.get("html_content"))
    url_ids = {u: str(10_000_000_000 + zlib.crc32(u.encode())) for u in links}
    tr = st.tracking.setdefault(aid, {k: [] for k in KINDS})
    recipients = audience(st, a)
    window = max(60.0, min(6 * 3600.0, now - send_ts))

    def at(lo=30.0):
        return iso(min(now, send_ts + rng.uniform(lo, window)))

    for cid in recipients:
        c = st.contacts[cid]
        base = {"contact_id": cid, "campaign_activity_id": aid,
                "email_address": c["email_address"]["address"]}
        for k in ("first_name", "last_name"):
            if c.get(k):
                base[k] = c[k]
        tr["sends"].append(dict(base, tracking_activity_type="em_sends", created_time=iso(send_ts)))
        if rng.random() < RATES["bounce"]:
            tr["bounces"].append(dict(base, tracking_activity_type="em_bounces", created_time=at(5),
                                      bounce_code=rng.choice(BOUNCE_CODES),
                                      current_email_address=base["email_address"]))
            continue
        if rng.random() < RATES["open"]:
            device = rng.choice(DEVICES)
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                tr["opens"].append(dict(base, tracking_activity_type="em_opens", device_type=device,
                                        created_time=at()))
            if rng.random() < RATES["click"]:
                url = rng.choice(links)
                tr["clicks"].append(dict(base, tracking_activity_type="em_clicks", device_type=device,
                                         url_id=url_ids[url], link_url=url, created_time=at(120)))
            if rng.random() < RATES["forward"]:
                tr["forwards"].append(dict(base, tracking_activity_type="em_forwards", created_time=at(300)))
        if rng.random() < RATES["optout"]:
            when = at(60)
            reason = rng.choice(("Too many emails", "Not relevant", "", "Never signed up"))
            tr["optouts"].append(dict(base, tracking_activity_type="em_optouts", created_time=when,
                                      **({"opt_out_reason": reason} if reason else {})))
            unsubscribe(st, c, when, reason or None, "Contact")
        elif rng.random() < RATES["abuse"]:
            tr["abuse"].append(dict(base, tracking_activity_type="em_abuse", created_time=at()))
    for k in KINDS:
        tr[k].sort(key=lambda e: e["created_time"], reverse=True)   # most recent first
    a["_sent_contacts"] = list(a.get("_sent_contacts") or []) + recipients
    a.setdefault("_send_history", []).append({
        "send_id": run + 1, "contact_list_ids": list(a.get("contact_list_ids") or []),
        "segment_ids": list(a.get("segment_ids") or []), "count": len(recipients),
        "run_date": iso(send_ts), "send_status": "COMPLETED", "reason_code": 0})
    a["current_status"] = "DONE"
    a["_sent_at"] = iso(send_ts)
    a.pop("_scheduled_ts", None)
    a.pop("_scheduled_date", None)
    a.pop("_status_before_schedule", None)
    camp = st.campaigns.get(a["campaign_id"])
    if camp:
        camp["updated_at"] = iso(send_ts)
        for other in camp["_activities"]:
            o = st.campaign_activities[other]
            if o["role"] == "permalink":
                o["current_status"] = "DONE"
    st.touch()
