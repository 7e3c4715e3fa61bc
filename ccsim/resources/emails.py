"""/v3/emails: campaigns, campaign activities, schedules and test sends (contract §3.7).

Status case differs by level (pitfall §5.12): campaigns use Title-case
(``Draft``/``Scheduled``/``Done``/``Removed``), activities UPPER-case
(``DRAFT``/``SCHEDULED``/``DONE``/``REMOVED``).  Creating a campaign creates a
``primary_email`` and a ``permalink`` activity.  ``from_email`` and
``reply_to_email`` must be CONFIRMED account emails and format 5 HTML must
contain ``[[trackingImage]]`` (pitfall §5.14).

Spec rules: PUT only for primary_email in DRAFT or DONE; DELETE refused while
Scheduled; schedule only DRAFT/DONE/ERROR primary_email with recipients;
``scheduled_date: "0"`` = send now (returns ``[]``); unschedule reverts to the
prior status.  ``SimOptions.protect_sent`` additionally refuses PUT and
DELETE once a campaign was sent (stricter than the spec).
"""
from __future__ import annotations

from ..clock import iso, parse_iso
from ..errors import ApiError, bad_request, conflict
from ..pagination import emails_decode_next, emails_next_token
from .. import validate as V
from ..web import Response, no_content, ok

CAMPAIGN_STATUS = {"DRAFT": "Draft", "SCHEDULED": "Scheduled", "EXECUTING": "Executing",
                   "DONE": "Done", "ERROR": "Error", "REMOVED": "Removed"}
ACTIVITY_SUBRESOURCES = ("physical_address_in_footer", "permalink_url", "html_content", "document_properties")
TEST_SENDS_PER_DAY = 50


# ---------------------------------------------------------------- helpers
def confirmed_emails(st) -> set:
    return {e["email_address"].lower() for e in st.account_emails if e["confirm_status"] == "CONFIRMED"}


def campaign_status(st, camp) -> str:
    if camp.get("_removed"):
        return "Removed"
    prim = st.campaign_activities[camp["_primary"]]
    return CAMPAIGN_STATUS[prim["current_status"]]


def render_campaign(st, camp, with_activities=True) -> dict:
    out = {"campaign_id": camp["campaign_id"], "created_at": camp["created_at"],
           "current_status": campaign_status(st, camp), "name": camp["name"], "type": camp["type"],
           "type_code": camp["type_code"], "updated_at": camp["updated_at"]}
    if with_activities:
        out["campaign_activities"] = [{"campaign_activity_id": aid,
                                       "role": st.campaign_activities[aid]["role"]}
                                      for aid in camp["_activities"]]
    return out


def render_activity(a, include=()) -> dict:
    out = {k: v for k, v in a.items() if not k.startswith("_") and k not in ACTIVITY_SUBRESOURCES and v is not None}
    for k in include:
        if a.get(k) is not None:
            out[k] = a[k]
    return out


def _campaign_404(st, cid):
    c = st.campaigns.get(cid)
    if not c:
        raise ApiError(404, "emails.api.not_found", "Email campaign not found.")
    return c


def _activity_404(st, aid, allow_removed=False):
    a = st.campaign_activities.get(aid)
    if not a or (a["current_status"] == "REMOVED" and not allow_removed):
        raise ApiError(404, "emails.api.not_found", "Email campaign activity not found.")
    return a


def _check_address(body, where=""):
    pa = body.get("physical_address_in_footer")
    if pa is None:
        return None
    if not isinstance(pa, dict):
        raise bad_request(f"{where}physical_address_in_footer must be an object.")
    for f in ("address_line1", "country_code", "organization_name"):
        V.req_str(pa, f, where=f"{where}physical_address_in_footer.")
    if pa.get("country_code") == "US" and not pa.get("state_code"):
        raise bad_request("physical_address_in_footer.state_code is required for US addresses.")
    return pa


def _check_content(st, act: dict, where=""):
    V.req_str(act, "from_name", 100, where)
    V.email(V.req_str(act, "from_email", 80, where), f"{where}from_email")
    V.email(V.req_str(act, "reply_to_email", 80, where), f"{where}reply_to_email")
    V.req_str(act, "subject", None, where)
    V.opt_str(act, "preheader", 200, where)
    conf = confirmed_emails(st)
    for f in ("from_email", "reply_to_email"):
        if act[f].lower() not in conf:
            raise bad_request(f"{where}{f} must be a confirmed account email address.",
                              "emails.api.validation.unverified_email")


def account_footer(st):
    pa = st.account.get("physical_address")
    if not pa:
        return None
    out = {"address_line1": pa["address_line1"], "city": pa.get("city"), "country_code": pa["country_code"],
           "organization_name": st.account.get("organization_name") or "Organization",
           "postal_code": pa.get("postal_code"), "state_code": pa.get("state_code")}
    return {k: v for k, v in out.items() if v}


# ---------------------------------------------------------------- campaigns
def make_campaign(st, name, fmt, act, html, pa) -> dict:
    """Create a campaign plus its primary_email and permalink activities (no validation)."""
    now = st.now()
    cid = st.new_id()
    prim, perma = st.new_id(), st.new_id()
    base = {"campaign_id": cid, "format_type": fmt, "from_name": act["from_name"],
            "from_email": act["from_email"], "reply_to_email": act["reply_to_email"], "subject": act["subject"],
            "preheader": act.get("preheader"), "html_content": html, "physical_address_in_footer": pa,
            "contact_list_ids": [], "segment_ids": [], "current_status": "DRAFT"}
    st.campaign_activities[prim] = dict(base, campaign_activity_id=prim, role="primary_email",
                                        permalink_url=f"https://myemail.constantcontact.com/sim/{prim}.html")
    st.campaign_activities[perma] = dict(base, campaign_activity_id=perma, role="permalink")
    camp = {"campaign_id": cid, "name": name, "type": "NEWSLETTER", "type_code": 10,
            "created_at": now, "updated_at": now, "_primary": prim, "_activities": [prim, perma]}
    st.campaigns[cid] = camp
    st.dirty = True
    return camp


def create_campaign(req):
    st = req.state
    body = req.json()
    name = V.req_str(body, "name", 80)
    acts = V.opt_list(body, "email_campaign_activities", 1, min_items=1)
    if not acts:
        raise bad_request("email_campaign_activities is required.", "api.validation.required")
    act = acts[0]
    if not isinstance(act, dict):
        raise bad_request("email_campaign_activities items must be objects.")
    w = "email_campaign_activities[0]."
    fmt = V.opt_int(act, "format_type")
    if fmt is None:
        raise bad_request(f"{w}format_type is required.", "api.validation.required")
    if fmt not in (4, 5):
        raise bad_request(f"{w}format_type must be 4 or 5 (the API creates custom code emails).")
    _check_content(st, act, w)
    html = V.req_str(act, "html_content", 150000, w)
    if fmt == 5 and "[[trackingImage]]" not in html:
        raise bad_request("Custom code emails (format_type 5) must contain [[trackingImage]] in the <body>.",
                          "emails.api.validation.tracking_image")
    pa = _check_address(act, w) or account_footer(st)
    for c in st.campaigns.values():
        if c["name"].lower() == name.lower() and not c.get("_removed"):
            raise conflict(f"An email campaign named {name!r} already exists.", "emails.api.conflict")
    camp = make_campaign(st, name, fmt, act, html, pa)
    return ok(render_campaign(st, camp), 200)      # 200, not 201 (contract §2.3)


def list_campaigns(req):
    st = req.state
    limit = req.q_int("limit", 50, 1, 500)
    offset = emails_decode_next(req.q("next")) if req.q("next") else 0
    bounds = {}
    for name in ("before_date", "after_date"):
        if req.q(name):
            try:
                bounds[name] = iso(parse_iso(req.q(name)))
            except ValueError:
                raise bad_request(f"{name} must be an ISO-8601 date-time.")
    # Removed campaigns included; dates filter updated_at (pitfall §5.13). Newest first.
    camps = [c for c in reversed(list(st.campaigns.values()))
             if (not bounds.get("after_date") or c["updated_at"] >= bounds["after_date"])
             and (not bounds.get("before_date") or c["updated_at"] <= bounds["before_date"])]
    page = camps[offset:offset + limit]
    body = {"campaigns": [render_campaign(st, c, False) for c in page]}
    if offset + limit < len(camps):
        extra = "".join(f"&{k}={req.q(k)}" for k in ("after_date", "before_date") if req.q(k))
        body["_links"] = {"next": {"href": f"/v3/emails?limit={limit}&next={emails_next_token(offset + limit)}{extra}"}}
    return ok(body)


def get_campaign(req):
    st = req.state
    return ok(render_campaign(st, _campaign_404(st, req.params["campaign_id"])))


def rename_campaign(req):
    st = req.state
    camp = _campaign_404(st, req.params["campaign_id"])
    name = V.req_str(req.json(), "name", 80)
    if camp.get("_removed"):
        raise bad_request("You cannot rename a Removed email campaign.", "emails.api.removed")
    for c in st.campaigns.values():
        if c is not camp and c["name"].lower() == name.lower() and not c.get("_removed"):
            raise conflict(f"An email campaign named {name!r} already exists.", "emails.api.conflict")
    camp["name"] = name
    camp["updated_at"] = st.now()
    st.dirty = True
    return ok(render_campaign(st, camp))


def delete_campaign(req):
    st = req.state
    camp = _campaign_404(st, req.params["campaign_id"])
    status = campaign_status(st, camp)
    if status == "Removed":
        raise ApiError(404, "emails.api.not_found", "Email campaign not found.")
    if status in ("Scheduled", "Executing"):
        raise bad_request(f"You cannot delete an email campaign with {status} status.", "emails.api.invalid_status")
    if req.sim.options.protect_sent and status == "Done":
        raise bad_request("You cannot delete an email campaign that was sent.", "emails.api.invalid_status")
    camp["_removed"] = True
    camp["updated_at"] = st.now()
    for aid in camp["_activities"]:
        a = st.campaign_activities[aid]
        a["_status_before_removed"] = a["current_status"]
        a["current_status"] = "REMOVED"
    st.dirty = True
    return no_content()


# ---------------------------------------------------------------- activities
def get_activity(req):
    st = req.state
    a = _activity_404(st, req.params["campaign_activity_id"])
    include = req.q_csv("include")
    for i in include:
        V.enum(i, ACTIVITY_SUBRESOURCES, "include")
    return ok(render_activity(a, include))


def put_activity(req):
    st = req.state
    a = _activity_404(st, req.params["campaign_activity_id"])
    body = req.json()
    if a["role"] != "primary_email":
        raise bad_request("Only primary_email activities can be updated.", "emails.api.invalid_role")
    allowed = ("DRAFT",) if req.sim.options.protect_sent else ("DRAFT", "DONE")
    if a["current_status"] not in allowed:
        raise bad_request(f"You cannot update an email campaign activity in {a['current_status']} status.",
                          "emails.api.invalid_status")
    _check_content(st, body)
    lists = V.opt_list(body, "contact_list_ids") or []
    segs = V.opt_list(body, "segment_ids", 1) or []
    if lists and segs:
        raise bad_request("Use contact_list_ids or segment_ids, not both.", "emails.api.validation.recipients")
    for lid in lists:
        l = st.lists.get(lid)
        if not l or l.get("deleted_at"):
            raise bad_request(f"Contact list {lid} does not exist.", "emails.api.validation.recipients")
    for sid in segs:
        s = st.segments.get(sid) if isinstance(sid, int) else None
        if not s or s.get("_deleted"):
            raise bad_request(f"Segment {sid} does not exist.", "emails.api.validation.recipients")
    if body.get("html_content") is not None:
        html = V.opt_str(body, "html_content", 150000)
        if a["format_type"] == 5 and "[[trackingImage]]" not in html:
            raise bad_request("Custom code emails (format_type 5) must contain [[trackingImage]].",
                              "emails.api.validation.tracking_image")
        a["html_content"] = html
    pa = _check_address(body)
    if pa is not None:
        a["physical_address_in_footer"] = pa
    if isinstance(body.get("document_properties"), dict):
        a["document_properties"] = body["document_properties"]
    # Missing top-level properties are overwritten; sub-resources kept (spec updateEmailCampaignActivity).
    for f in ("from_name", "from_email", "reply_to_email", "subject"):
        a[f] = body[f]
    a["preheader"] = body.get("preheader")
    a["contact_list_ids"] = lists
    a["segment_ids"] = segs
    camp = st.campaigns[a["campaign_id"]]
    camp["updated_at"] = st.now()
    st.dirty = True
    return ok(render_activity(a, ACTIVITY_SUBRESOURCES))


# ---------------------------------------------------------------- schedules
def get_schedules(req):
    st = req.state
    a = _activity_404(st, req.params["campaign_activity_id"])
    if a["current_status"] == "SCHEDULED":
        return ok([{"scheduled_date": a["_scheduled_date"]}])
    return ok([])


def post_schedule(req):
    st = req.state
    sim = req.sim
    a = _activity_404(st, req.params["campaign_activity_id"])
    body = req.json()
    raw = V.req_field(body, "scheduled_date")
    if a["role"] != "primary_email":
        raise bad_request("Only primary_email activities can be scheduled.", "emails.api.invalid_role")
    if a["current_status"] not in ("DRAFT", "DONE", "ERROR"):
        raise bad_request(f"You cannot schedule an email campaign activity in {a['current_status']} status.",
                          "emails.api.invalid_status")
    if not a.get("contact_list_ids") and not a.get("segment_ids"):
        raise bad_request("Add contact_list_ids or segment_ids before scheduling.", "emails.api.schedule.no_recipients")
    conf = confirmed_emails(st)
    if a["from_email"].lower() not in conf or a["reply_to_email"].lower() not in conf:
        raise bad_request("from_email and reply_to_email must be confirmed account emails.",
                          "emails.api.validation.unverified_email")
    if not a.get("physical_address_in_footer"):
        raise bad_request("A physical address is required before sending.", "emails.api.schedule.no_address")
    if a["format_type"] == 5 and "[[trackingImage]]" not in (a.get("html_content") or ""):
        raise bad_request("html_content must contain [[trackingImage]].", "emails.api.validation.tracking_image")
    now = st.clock.now()
    if str(raw) == "0":
        when, resp = now, []          # send now: empty array (spec)
    else:
        try:
            when = parse_iso(str(raw))
        except ValueError:
            raise bad_request("scheduled_date must be an ISO-8601 date-time or \"0\".")
        if when <= now:
            raise bad_request("scheduled_date must be in the future (use \"0\" to send now).",
                              "emails.api.schedule.past_date")
        resp = None
    a["_status_before_schedule"] = a["current_status"]
    a["current_status"] = "SCHEDULED"
    a["_scheduled_date"] = iso(when)
    a["_scheduled_ts"] = when.timestamp()
    camp = st.campaigns[a["campaign_id"]]
    camp["updated_at"] = iso(now)
    st.dirty = True
    return ok(resp if resp is not None else [{"scheduled_date": a["_scheduled_date"]}], 201)


def delete_schedule(req):
    st = req.state
    a = _activity_404(st, req.params["campaign_activity_id"])
    if a["current_status"] != "SCHEDULED":
        raise bad_request("Only SCHEDULED email campaign activities can be unscheduled.", "emails.api.invalid_status")
    a["current_status"] = a.pop("_status_before_schedule", "DRAFT")     # back to the prior status (spec)
    a.pop("_scheduled_date", None)
    a.pop("_scheduled_ts", None)
    st.campaigns[a["campaign_id"]]["updated_at"] = st.now()
    st.dirty = True
    return no_content()


def post_tests(req):
    st = req.state
    a = _activity_404(st, req.params["campaign_activity_id"])
    body = req.json()
    addrs = V.opt_list(body, "email_addresses", 5, min_items=1)     # max 5 per request (spec)
    if not addrs:
        raise bad_request("email_addresses is required.", "api.validation.required")
    for x in addrs:
        V.email(x, "email_addresses")
    V.opt_str(body, "personal_message")
    day = st.clock.now().strftime("%Y-%m-%d")
    used = st.test_sends.get(day, 0)
    if used + len(addrs) > TEST_SENDS_PER_DAY:
        # 50 test recipients per day (contract §2.5)
        raise bad_request("You exceeded the limit of 50 test emails per day.", "emails.api.test_send.daily_limit")
    st.test_sends[day] = used + len(addrs)
    a.setdefault("_test_sends", []).append({"at": st.now(), "to": addrs})
    st.dirty = True
    return no_content()


def get_preview(req):
    a = _activity_404(req.state, req.params["campaign_activity_id"])
    import re
    text = re.sub(r"<[^>]+>", " ", (a.get("html_content") or "").replace("[[trackingImage]]", ""))
    return ok({"campaign_activity_id": a["campaign_activity_id"], "from_email": a["from_email"],
               "from_name": a["from_name"], "preheader": a.get("preheader") or "",
               "preview_html_content": (a.get("html_content") or "").replace("[[trackingImage]]", ""),
               "preview_text_content": " ".join(text.split()), "reply_to_email": a["reply_to_email"],
               "subject": a["subject"]})


def get_send_history(req):
    a = _activity_404(req.state, req.params["campaign_activity_id"])
    return ok(a.get("_send_history") or [])
