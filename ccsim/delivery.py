"""Simulated email delivery and tracking data.

When a scheduled primary_email activity's send time has passed (background
ticker, plus lazily before every /v3 request) it is "sent": the audience is
resolved (contacts on its lists or in its segment, not deleted, permission
explicit/implicit; on a re-send of a DONE activity only contacts not sent
before, spec scheduleEmailCampaignActivity), and a deterministic RNG (seeded
by the server seed + activity id + run) produces sends, opens, clicks,
bounces, forwards, opt-outs and abuse reports.

Timing is what real campaigns look like, so charts over time have shape:
bounces come back within minutes; first opens peak in the first hours and
tail off over days (a few come weeks later); re-opens follow the first one;
clicks come minutes after an open, opt-outs hours after. Every event is
generated at send time with its own timestamp, but one still in the future
waits in ``State.tracking_pending`` and joins the reports only once the
simulated clock passes it — so a report read an hour after the send shows
an hour of activity, and moving the clock forward (``sim.advance``) brings
the rest. An opt-out unsubscribes the contact (``permission_to_send=
unsubscribed`` + ``opt_out_date``) when its moment comes, without touching
the contact's ``updated_at`` (pitfall §5.5), so ``optout_after`` sync can be
tested. Event lists are stored newest first, the order of the tracking
reports (§3.9).
"""
from __future__ import annotations

import random

from .clock import iso
from .links import links_of, url_id_of

BOUNCE_CODES = ("B", "D", "F", "S", "V", "X", "Z")    # contract §3.9
# Blocked and mailbox-full bounces are the common ones in practice; suspended is rare.
BOUNCE_WEIGHTS = (22, 14, 18, 3, 12, 11, 20)
DEVICES = ("computer", "mobile", "tablet", "other")
DEVICE_WEIGHTS = (40, 45, 12, 3)
RATES = {"bounce": 0.04, "open": 0.42, "click": 0.30, "optout": 0.015, "forward": 0.02, "abuse": 0.002}
KINDS = ("sends", "opens", "clicks", "bounces", "optouts", "forwards", "abuse")
OPT_OUT_REASONS = ("Too many emails", "Not relevant", "", "Never signed up", "")

HOUR = 3600.0
DAY = 24 * HOUR
# Nothing arrives later than this after the send (real reports stop growing too).
LAST_ACTIVITY = 60 * DAY
# Sends leave at this rate, so a big list takes minutes to go out.
SENDS_PER_SECOND = 100


def process_due(sim):
    st = sim.state
    now = st.clock.time()
    for a in list(st.campaign_activities.values()):
        if a["current_status"] == "SCHEDULED" and a.get("_scheduled_ts", 1e18) <= now:
            deliver(st, a, a["_scheduled_ts"], sim.options.seed)
    release_due(st, now)


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


def _first_open_delay(rng) -> float:
    """Seconds from delivery to the first open: most within hours, some the next
    day, a tail over the following weeks."""
    r = rng.random()
    if r < 0.55:
        return 60 + rng.expovariate(1 / (2 * HOUR))
    if r < 0.87:
        return 30 * 60 + rng.expovariate(1 / (18 * HOUR))
    return DAY + rng.expovariate(1 / (6 * DAY))


def deliver(st, a, send_ts: float, seed: int = 0):
    now = st.clock.time()
    aid = a["campaign_activity_id"]
    run = len(a.get("_send_history") or [])
    rng = random.Random(f"{seed}:{aid}:{run}")
    links = links_of(a.get("html_content"))
    # The first link draws the most clicks, as in real emails.
    link_weights = [1 / (i + 1) for i in range(len(links))]
    recipients = audience(st, a)
    events: list = []   # [epoch seconds, kind, event]

    def add(kind: str, ts: float, event: dict):
        ts = min(ts, send_ts + LAST_ACTIVITY)
        events.append([ts, kind, dict(event, created_time=iso(ts))])

    for i, cid in enumerate(recipients):
        c = st.contacts[cid]
        base = {"contact_id": cid, "campaign_activity_id": aid,
                "email_address": c["email_address"]["address"]}
        for k in ("first_name", "last_name"):
            if c.get(k):
                base[k] = c[k]
        sent = send_ts + i // SENDS_PER_SECOND
        add("sends", sent, dict(base, tracking_activity_type="em_sends"))
        if rng.random() < RATES["bounce"]:
            add("bounces", sent + 5 + rng.expovariate(1 / 600),
                dict(base, tracking_activity_type="em_bounces",
                     bounce_code=rng.choices(BOUNCE_CODES, BOUNCE_WEIGHTS)[0],
                     current_email_address=base["email_address"]))
            continue
        last_seen = sent
        if rng.random() < RATES["open"]:
            device = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
            opened = sent + _first_open_delay(rng)
            last_seen = opened
            at = opened
            for n in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
                if n:
                    at += 120 + rng.expovariate(1 / (10 * HOUR))
                add("opens", at, dict(base, tracking_activity_type="em_opens", device_type=device))
            if rng.random() < RATES["click"]:
                at = opened
                for _ in range(rng.choice((1, 1, 1, 2))):
                    at += 5 + rng.expovariate(1 / (15 * 60))
                    url = rng.choices(links, link_weights)[0]
                    add("clicks", at, dict(base, tracking_activity_type="em_clicks",
                                           device_type=device, url_id=url_id_of(url), link_url=url))
            if rng.random() < RATES["forward"]:
                add("forwards", opened + 60 + rng.expovariate(1 / (2 * HOUR)),
                    dict(base, tracking_activity_type="em_forwards"))
        if rng.random() < RATES["optout"]:
            reason = rng.choice(OPT_OUT_REASONS)
            add("optouts", last_seen + 30 + rng.expovariate(1 / (3 * HOUR)),
                dict(base, tracking_activity_type="em_optouts",
                     **({"opt_out_reason": reason} if reason else {})))
        elif rng.random() < RATES["abuse"]:
            add("abuse", last_seen + 60 + rng.expovariate(1 / (3 * HOUR)),
                dict(base, tracking_activity_type="em_abuse"))

    st.tracking.setdefault(aid, {k: [] for k in KINDS})
    events.sort(key=lambda e: e[0])
    pending = st.tracking_pending.setdefault(aid, [])
    pending.extend(events)
    pending.sort(key=lambda e: e[0])
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
    release_due(st, now)
    st.touch()


def release_due(st, now: float):
    """Move every pending event whose moment has come into the reports; apply its
    opt-out. Pending lists are oldest first, so this stops at the first future one."""
    from .resources.contacts import unsubscribe
    for aid, pending in list(st.tracking_pending.items()):
        if not pending or pending[0][0] > now:
            continue
        cut = 0
        while cut < len(pending) and pending[cut][0] <= now:
            cut += 1
        due, st.tracking_pending[aid] = pending[:cut], pending[cut:]
        tr = st.tracking.setdefault(aid, {k: [] for k in KINDS})
        touched = set()
        for _, kind, event in due:
            tr.setdefault(kind, []).append(event)
            touched.add(kind)
            if kind == "optouts":
                c = st.contacts.get(event["contact_id"])
                perm = ((c or {}).get("email_address") or {}).get("permission_to_send")
                if c and not c.get("deleted_at") and perm != "unsubscribed":
                    unsubscribe(st, c, event["created_time"], event.get("opt_out_reason"), "Contact")
        for kind in touched:
            tr[kind].sort(key=lambda e: e["created_time"], reverse=True)   # most recent first
        if not st.tracking_pending[aid]:
            del st.tracking_pending[aid]
        st.dirty = True
