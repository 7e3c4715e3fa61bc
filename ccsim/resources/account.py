"""/v3/account: summary, physical address, account emails, privileges (contract §3.8).

``PUT /account/summary`` is a *partial* update (unlike most PUTs).
``GET /account/emails`` accepts one filter at a time and returns a bare array.
Unconfirmed emails cannot be used as campaign ``from_email`` (§5.14).
"""
from __future__ import annotations

from ..errors import ApiError, bad_request, conflict
from .. import validate as V
from ..web import ok

SUMMARY_FIELDS = ("contact_email", "contact_phone", "country_code", "encoded_account_id", "first_name",
                  "last_name", "organization_name", "organization_phone", "state_code", "time_zone_id", "website")
ROLE_CODES = {"C": "CONTACT", "B": "BILLING", "J": "JOURNALING", "R": "REPLY_TO", "O": "OTHER"}
PRIVILEGES = ["account:read", "account:update", "campaign:read", "campaign:write", "campaign:send",
              "contacts:read", "contacts:write", "contacts:lists:write", "ui:campaign:metrics"]


def get_summary(req):
    st = req.state
    extra = req.q_csv("extra_fields")
    for e in extra:
        V.enum(e, ("physical_address", "company_logo"), "extra_fields")
    out = {k: st.account[k] for k in SUMMARY_FIELDS + ("encoded_partner_id",) if st.account.get(k) is not None}
    if "physical_address" in extra and st.account.get("physical_address"):
        out["physical_address"] = st.account["physical_address"]
    if "company_logo" in extra and st.account.get("company_logo"):
        out["company_logo"] = st.account["company_logo"]
    return ok(out)


def put_summary(req):
    st = req.state
    body = req.json()
    V.opt_str(body, "contact_phone", 25)
    if body.get("contact_email") is not None:
        V.email(body["contact_email"], "contact_email")
    for k in SUMMARY_FIELDS:
        if k == "encoded_account_id":
            continue                      # read-only
        if k in body and body[k] is not None:
            st.account[k] = body[k]
    st.dirty = True
    return ok({k: st.account[k] for k in SUMMARY_FIELDS if st.account.get(k) is not None})


def _address(body):
    V.req_str(body, "address_line1", 80)
    V.opt_str(body, "address_line2", 80)
    V.opt_str(body, "address_line3", 80)
    V.req_str(body, "city")
    cc = V.req_str(body, "country_code")
    V.opt_str(body, "state_code", 2)
    if cc in ("US", "CA") and not body.get("state_code"):
        raise bad_request("state_code is required for US and CA addresses.")
    keep = ("address_line1", "address_line2", "address_line3", "city", "state_code", "state_name",
            "postal_code", "country_code")
    return {k: body[k] for k in keep if body.get(k) is not None}


def get_address(req):
    pa = req.state.account.get("physical_address")
    if not pa:
        raise ApiError(404, "account.api.not_found", "The account has no physical address.")
    return ok(pa)


def post_address(req):
    st = req.state
    if st.account.get("physical_address"):
        raise conflict("A physical address already exists; use PUT.", "account.api.conflict")
    st.account["physical_address"] = _address(req.json())
    st.dirty = True
    return ok(st.account["physical_address"], 201)


def put_address(req):
    st = req.state
    st.account["physical_address"] = _address(req.json())
    st.dirty = True
    return ok(st.account["physical_address"])


def get_emails(req):
    st = req.state
    filters = [k for k in ("confirm_status", "role_code", "email_address") if req.q(k)]
    if len(filters) > 1:
        raise bad_request("Use only one query parameter at a time.")
    out = st.account_emails
    cs = V.enum(req.q("confirm_status"), ("CONFIRMED", "C", "UNCONFIRMED", "U"), "confirm_status")
    if cs:
        want = "CONFIRMED" if cs.startswith("C") else "UNCONFIRMED"
        out = [e for e in out if e["confirm_status"] == want]
    rc = V.enum(req.q("role_code"), tuple(ROLE_CODES) + tuple(ROLE_CODES.values()), "role_code")
    if rc:
        role = ROLE_CODES.get(rc, rc)
        out = [e for e in out if role in e.get("roles", [])]
    if req.q("email_address"):
        out = [e for e in out if e["email_address"].lower() == req.q("email_address").lower()]
    return ok(out)


def post_email(req):
    st = req.state
    body = req.json()
    addr = V.req_str(body, "email_address", 80)
    V.email(addr)
    if any(e["email_address"].lower() == addr.lower() for e in st.account_emails):
        raise conflict("The email address already exists.", "account.api.conflict")
    e = {"email_address": addr, "email_id": st.next_email_id, "confirm_status": "UNCONFIRMED",
         "roles": ["OTHER"], "pending_roles": []}
    st.next_email_id += 1
    st.account_emails.append(e)
    st.dirty = True
    return ok({"email_address": addr, "email_id": e["email_id"], "confirm_status": "UNCONFIRMED"}, 201)


def privileges(req):
    return ok([{"privilege_id": i + 1, "privilege_name": p} for i, p in enumerate(PRIVILEGES)])
