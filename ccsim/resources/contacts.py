"""/v3/contacts: list (filters, cursor, include_count), CRUD, sign_up_form, counts.

CC quirks implemented (contract §3.1):
* deleted contacts are soft-deleted and hidden unless ``status=all|deleted``;
* sub-resources appear only when named in ``include``;
* PUT overwrites every top-level property not sent (set to null/removed) but
  keeps omitted sub-resources (spec text for putContact);
* ``sign_up_form`` is a partial upsert that appends lists and RE-OPTS-IN
  unsubscribed contacts (§3.1, pitfall §5.4): 201 created / 200 updated;
* opt-outs do not touch ``updated_at`` (pitfall §5.5), so ``optout_after`` is
  the only reliable way to sync them.
"""
from __future__ import annotations

from .. import validate as V
from ..clock import iso_from_query
from ..errors import ApiError, bad_request, conflict, not_found
from ..pagination import decode_cursor, next_link
from ..web import no_content, ok

SUBRESOURCES = ("custom_fields", "list_memberships", "phone_numbers", "street_addresses",
                "taggings", "notes", "sms_channel")
SCALARS = ("first_name", "last_name", "job_title", "company_name", "birthday_month",
           "birthday_day", "anniversary")
PERMISSIONS = ("explicit", "implicit", "not_set", "pending_confirmation", "temp_hold", "unsubscribed")
STATUSES = ("all", "active", "deleted", "not_set", "pending_confirmation", "temp_hold", "unsubscribed")
ACTIVE = ("explicit", "implicit", "pending_confirmation")
SOURCES = ("Contact", "Account")


# ---------------------------------------------------------------- rendering
_SUBRESOURCE_KEYS = frozenset(SUBRESOURCES)


def render(c: dict, include=()) -> dict:
    # The hot path of a sync's pages (500 contacts each): a set lookup and a first
    # character, not a tuple scan and startswith, for every key of every contact.
    out = {k: v for k, v in c.items()
           if v is not None and k not in _SUBRESOURCE_KEYS and k[:1] != "_"}
    for k in include:
        if k == "sms_channel":
            if c.get("sms_channel"):
                out["sms_channel"] = c["sms_channel"]
        elif k in SUBRESOURCES:
            out[k] = c.get(k) or []
    if "_as_sent" in c:
        for k, v in c["_as_sent"].items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
    return out


def hold_as_sent(st, c: dict, **values):
    """Make contact ``c`` read back with ``values`` exactly as given (None: the key
    left out), past this simulator's own validation: what a real account can still
    send (a 60-character job title from before a limit, a record without its
    contact_id), so a client's defences can be tested.  Does not touch updated_at."""
    with st.lock:
        c["_as_sent"] = {**c.get("_as_sent", {}), **values}
        st.touch()


def parse_include(values, allowed=SUBRESOURCES):
    inc = []
    for v in values:
        if v not in allowed:
            raise bad_request(f"include value {v!r} is not valid. Allowed: {', '.join(allowed)}.",
                              "api.validation.enum")
        inc.append(v)
    return inc


def contact_status_ok(c, statuses) -> bool:
    if "all" in statuses:
        return True
    if c.get("deleted_at"):
        return "deleted" in statuses
    if not statuses:
        return True
    perm = c["email_address"].get("permission_to_send") if c.get("email_address") else "not_set"
    return perm in statuses or ("active" in statuses and perm in ACTIVE)


# ---------------------------------------------------------------- GET /contacts
def list_contacts(req):
    st = req.state
    pos = 0
    if req.q("cursor"):
        # The cursor carries the whole original query (contract §2.6).
        q, p = decode_cursor(req.q("cursor"))
        req.query = q
        try:
            pos = int(p)
        except ValueError:
            raise bad_request("The cursor is invalid.", "api.invalid_cursor")
    limit = req.q_int("limit", 50, 1, 500)
    statuses = req.q_csv("status")
    for s in statuses:
        V.enum(s, STATUSES, "status")
    include = parse_include(req.q_csv("include"))
    lists = req.q_csv("lists")
    tags = req.q_csv("tags")
    if len(lists) > 25:
        raise bad_request("lists accepts at most 25 list ids.")
    if len(tags) > 50:
        raise bad_request("tags accepts at most 50 tag ids.")
    include_count = req.q_bool("include_count")
    seg_id = req.q("segment_id")
    dates = {}
    for name in ("updated_after", "updated_before", "created_after", "created_before",
                 "optout_after", "optout_before"):
        v = req.q(name)
        if v:
            try:
                dates[name] = iso_from_query(v)
            except ValueError:
                raise bad_request(f"{name} must be an ISO-8601 date-time.", "api.validation.format")
    email = (req.q("email") or "").strip().lower()

    seg_members = None
    if seg_id:
        # segment_id combines only with limit (contract §3.1).
        from .segments import evaluate_segment, segment_answer_ready
        try:
            seg = st.segments.get(int(seg_id))
        except ValueError:
            seg = None
        if not seg or seg.get("_deleted"):
            raise not_found("segment")
        if set(req.query) - {"segment_id", "limit", "cursor"}:
            raise bad_request("segment_id can only be combined with the limit query parameter.")
        # "the V3 API may return a 202 ... Retry sending your API request to return
        # the completed results and a 200" (spec getContacts, segment_id).
        if not segment_answer_ready(st, seg, req.sim.options.segment_evaluation_polls):
            return ok({"contacts": [], "status": "processing"}, 202)
        seg_members = evaluate_segment(st, seg)

    list_sets = [st.list_members.get(l, set()) for l in lists]
    tag_sets = [st.tag_members.get(t, set()) for t in tags]

    def match(c) -> bool:
        if not contact_status_ok(c, statuses):
            return False
        cid = c["contact_id"]
        if list_sets and not any(cid in s for s in list_sets):
            return False
        if tag_sets and not any(cid in s for s in tag_sets):
            return False
        if seg_members is not None and cid not in seg_members:
            return False
        if dates:
            for name, val in dates.items():
                if name.startswith("optout_"):
                    field = (c.get("email_address") or {}).get("opt_out_date")
                else:
                    field = c.get(name.split("_")[0] + "_at")
                if field is None:
                    return False
                if name.endswith("_after") and not field >= val:
                    return False
                if name.endswith("_before") and not field <= val:
                    return False
        return True

    order = st.contact_order
    contacts = st.contacts
    if email:
        cid = st.email_index.get(email)
        candidates = [cid] if cid else []
    else:
        cand_set = None
        if list_sets or tag_sets or seg_members is not None:
            u = set().union(*list_sets, *tag_sets) if (list_sets or tag_sets) else set(seg_members)
            if len(u) < len(order) // 4:
                cand_set = u
        if cand_set is not None:
            candidates = sorted(cand_set, key=st.contact_pos.__getitem__)
        else:
            candidates = None
    page, next_pos = [], None
    if candidates is None:
        i, n = pos, len(order)
        while i < n:
            c = contacts[order[i]]
            i += 1
            if match(c):
                if len(page) == limit:
                    next_pos = i - 1
                    break
                page.append(c)
    else:
        for cid in candidates:
            p = st.contact_pos[cid]
            if p < pos:
                continue
            c = contacts[cid]
            if match(c):
                if len(page) == limit:
                    next_pos = p
                    break
                page.append(c)
    body = {"contacts": [render(c, include) for c in page]}
    if include_count:
        key = tuple(sorted((k, tuple(v)) for k, v in req.query.items() if k not in ("cursor", "limit", "include")))
        if candidates is None:
            body["contacts_count"] = st.cached_count(("contacts", key),
                                                     lambda: sum(1 for cid in order if match(contacts[cid])))
        else:
            body["contacts_count"] = sum(1 for cid in candidates if match(contacts[cid]))
    if next_pos is not None:
        body["_links"] = next_link("contacts", req.query, next_pos)
    return ok(body)


# ---------------------------------------------------------------- GET one
def _get(st, cid, allow_deleted=True) -> dict:
    c = st.contacts.get(cid)
    if not c or (c.get("deleted_at") and not allow_deleted):
        raise ApiError(404, "contacts.api.not_found", "Contact not found.")
    return c


def get_contact(req):
    c = _get(req.state, req.params["contact_id"])
    return ok(render(c, parse_include(req.q_csv("include"))))


# ---------------------------------------------------------------- body validation
def _validate_subresources(st, body, now, where=""):
    """Validate and normalise sub-resources present in a POST/PUT body; returns dict."""
    out = {}
    cfs = V.opt_list(body, "custom_fields", 25)
    if cfs is not None:
        norm = []
        for cf in cfs:
            if not isinstance(cf, dict):
                raise bad_request("custom_fields items must be objects.")
            fid = V.req_str(cf, "custom_field_id", where="custom_fields.")
            if fid not in st.custom_fields:
                raise bad_request(f"custom_field_id {fid} does not exist.", "contacts.api.validation.custom_field")
            V.opt_str(cf, "value", 255, "custom_fields.")
            item = {"custom_field_id": fid, "value": cf.get("value") or ""}
            if cf.get("choice_ids"):
                item["choice_ids"] = cf["choice_ids"]
            norm.append(item)
        out["custom_fields"] = norm
    phones = V.opt_list(body, "phone_numbers", 3)
    if phones is not None:
        norm = []
        for ph in phones:
            V.opt_str(ph, "phone_number", 25, "phone_numbers.")
            V.enum(ph.get("kind"), ("home", "work", "mobile", "other"), "phone_numbers.kind")
            norm.append({"phone_number_id": st.new_id(), "phone_number": ph.get("phone_number"),
                         "kind": ph.get("kind") or "home", "created_at": now, "updated_at": now})
        out["phone_numbers"] = norm
    addrs = V.opt_list(body, "street_addresses", 3)
    if addrs is not None:
        norm = []
        for a in addrs:
            V.enum(V.req_str(a, "kind", where="street_addresses."), ("home", "work", "other"), "street_addresses.kind")
            for f, mx in (("street", 255), ("city", 50), ("state", 50), ("postal_code", 50), ("country", 50)):
                V.opt_str(a, f, mx, "street_addresses.")
            item = {"street_address_id": st.new_id(), "kind": a["kind"]}
            item.update({f: a[f] for f in ("street", "city", "state", "postal_code", "country") if a.get(f)})
            item.update(created_at=now, updated_at=now)
            norm.append(item)
        out["street_addresses"] = norm
    lm = V.opt_list(body, "list_memberships", 50)
    if lm is not None:
        V.uuid_list(lm, "list_memberships")
        for lid in lm:
            l = st.lists.get(lid)
            if not l or l.get("deleted_at"):
                raise bad_request(f"list {lid} does not exist.", "contacts.api.validation.list")
        out["list_memberships"] = list(dict.fromkeys(lm))
    tg = V.opt_list(body, "taggings", 50)
    if tg is not None:
        V.uuid_list(tg, "taggings")
        for tid in tg:
            if tid not in st.active_tags():
                raise bad_request(f"tag {tid} does not exist.", "contacts.api.validation.tag")
        out["taggings"] = list(dict.fromkeys(tg))
    notes = V.opt_list(body, "notes", 150)
    if notes is not None:
        norm = []
        for n in notes:
            V.opt_str(n, "content", 2000, "notes.")
            norm.append({"note_id": n.get("note_id") or st.new_id(), "created_at": n.get("created_at") or now,
                         "content": n.get("content") or ""})
        out["notes"] = sorted(norm, key=lambda n: n["created_at"], reverse=True)
    if body.get("sms_channel") is not None:
        sc = body["sms_channel"]
        if not isinstance(sc, dict):
            raise bad_request("sms_channel must be an object.")
        V.req_str(sc, "full_sms_address", where="sms_channel.")
        V.req_field(sc, "sms_channel_consents", "sms_channel.")
        out["sms_channel"] = {"sms_channel_id": st.new_id(), "sms_address": sc["full_sms_address"],
                              "dial_code": "1", "country_code": "US", "create_source": "Account",
                              "update_source": "Account",
                              "sms_channel_consents": [dict(x, created_at=now, updated_at=now)
                                                       for x in sc["sms_channel_consents"]]}
    return out


def _validate_scalars(body):
    for f in ("first_name", "last_name", "job_title", "company_name"):
        V.opt_str(body, f, 50)
    V.opt_str(body, "anniversary", 10)
    bm = V.opt_int(body, "birthday_month", 1, 12)
    bd = V.opt_int(body, "birthday_day", 1, 31)
    if (bm is None) != (bd is None):
        raise bad_request("birthday_month and birthday_day must be provided together.")


def _email_obj(body):
    ea = body.get("email_address")
    if ea is None:
        return None
    if not isinstance(ea, dict):
        raise bad_request("email_address must be an object.")
    addr = V.req_str(ea, "address", 80, "email_address.")
    V.email(addr, "email_address.address")
    V.enum(ea.get("permission_to_send"), PERMISSIONS, "email_address.permission_to_send")
    return ea


def new_contact(st, now, *, address=None, permission="implicit", source="Account", opt_in_source=None, **fields):
    c = {"contact_id": st.new_id()}
    if address:
        c["email_address"] = {"address": address, "permission_to_send": permission,
                              "created_at": now, "updated_at": now,
                              "opt_in_source": opt_in_source or source, "confirm_status": "off"}
        if permission in ("explicit", "implicit"):
            c["email_address"]["opt_in_date"] = now
        if permission == "unsubscribed":
            c["email_address"].update(opt_out_source="Account", opt_out_date=now)
    for k in SCALARS:
        if fields.get(k) is not None:
            c[k] = fields[k]
    c.update(create_source=source, update_source=source, created_at=now, updated_at=now)
    for k in ("custom_fields", "phone_numbers", "street_addresses", "list_memberships", "taggings", "notes"):
        c[k] = fields.get(k) or []
    if fields.get("sms_channel"):
        c["sms_channel"] = fields["sms_channel"]
    return c


# ---------------------------------------------------------------- POST
def create_contact(req):
    st = req.state
    body = req.json()
    now = st.now()
    ea = _email_obj(body)
    src = V.enum(V.req_str(body, "create_source"), SOURCES, "create_source")
    # Prose rule (contract §3.1): at least one of first_name, last_name, email_address, sms_channel.
    if not (ea or body.get("first_name") or body.get("last_name") or body.get("sms_channel")):
        raise bad_request("One of email_address, first_name, last_name or sms_channel is required.")
    _validate_scalars(body)
    subs = _validate_subresources(st, body, now)
    if ea and st.find_by_email(ea["address"]):
        # 409 on duplicate email: that is why sign_up_form exists (contract §3.1).
        raise conflict(f"Email address {ea['address']} already exists.", "contacts.api.conflict")
    fields = {k: body.get(k) for k in SCALARS}
    fields.update(subs)
    c = new_contact(st, now, address=ea["address"] if ea else None,
                    permission=(ea or {}).get("permission_to_send") or "implicit", source=src, **fields)
    st.add_contact(c)
    return ok(render(c, SUBRESOURCES), 201)


# ---------------------------------------------------------------- PUT (full replace)
def put_contact(req):
    st = req.state
    c = _get(st, req.params["contact_id"])
    body = req.json()
    now = st.now()
    src = V.enum(V.req_str(body, "update_source"), SOURCES, "update_source")
    ea = _email_obj(body)
    _validate_scalars(body)
    subs = _validate_subresources(st, body, now)
    if c.get("deleted_at") and src != "Account":
        # Reviving a deleted contact requires update_source=Account (spec putContact).
        raise bad_request("To restore a deleted contact, update_source must be Account.")
    if ea:
        other = st.find_by_email(ea["address"])
        if other and other["contact_id"] != c["contact_id"]:
            raise conflict(f"Email address {ea['address']} already exists.", "contacts.api.conflict")
        if not c.get("email_address"):
            c["email_address"] = {"address": ea["address"], "permission_to_send": "implicit",
                                  "created_at": now, "updated_at": now, "opt_in_source": "Account",
                                  "confirm_status": "off"}
        em = c["email_address"]
        if em["address"] != ea["address"]:
            st.set_contact_email(c, ea["address"])
            em["updated_at"] = now
        perm = ea.get("permission_to_send")
        if perm and perm != em.get("permission_to_send"):
            _set_permission(em, perm, now, "Account")
    # Every top-level property left out is overwritten with null (spec putContact).
    for k in SCALARS:
        if body.get(k) is None:
            c.pop(k, None)
        else:
            c[k] = body[k]
    # ...but omitted sub-resources are kept (spec putContact).
    for k, v in subs.items():
        if k == "list_memberships":
            st.set_contact_lists(c, v)
        elif k == "taggings":
            st.set_contact_tags(c, v)
        else:
            c[k] = v
    c.pop("deleted_at", None)
    c["update_source"] = src
    c["updated_at"] = now
    st.touch()
    return ok(render(c, SUBRESOURCES))


def _set_permission(em: dict, perm: str, now: str, source: str, reason: str | None = None):
    em["permission_to_send"] = perm
    em["updated_at"] = now
    if perm == "unsubscribed":
        em.update(opt_out_source=source, opt_out_date=now)
        if reason:
            em["opt_out_reason"] = reason
    else:
        for k in ("opt_out_source", "opt_out_date", "opt_out_reason"):
            em.pop(k, None)
        if perm in ("explicit", "implicit"):
            em["opt_in_date"] = now


def unsubscribe(st, c: dict, when: str, reason: str | None = None, source: str = "Contact"):
    """Opt a contact out (delivery opt-outs).  Does NOT bump contact.updated_at (pitfall §5.5)."""
    em = c.get("email_address")
    if not em:
        return
    em["permission_to_send"] = "unsubscribed"
    em.update(opt_out_source=source, opt_out_date=when, updated_at=when)
    if reason:
        em["opt_out_reason"] = reason
    st.touch()


# ---------------------------------------------------------------- DELETE
def soft_delete(st, c, now):
    c["deleted_at"] = now[:10]      # a date on contacts (contract §2.2)
    c["updated_at"] = now
    st.touch()


def delete_contact(req):
    st = req.state
    c = _get(st, req.params["contact_id"], allow_deleted=False)
    soft_delete(st, c, st.now())
    return no_content()


# ---------------------------------------------------------------- sign_up_form
def sign_up_form(req):
    st = req.state
    body = req.json()
    now = st.now()
    address = body.get("email_address")
    if not address and not body.get("sms_channel"):
        raise bad_request("Either email_address or sms_channel is required.")
    if address is not None:
        V.opt_str(body, "email_address", 50)
        V.email(address)
    lm = V.opt_list(body, "list_memberships", 50, min_items=1)
    if lm is None:
        raise bad_request("list_memberships is required.", "api.validation.required")
    _validate_scalars(body)
    V.opt_str(body, "phone_number", 25)
    cfs = V.opt_list(body, "custom_fields", 50)
    sub_body = {"list_memberships": lm}
    if cfs:
        sub_body["custom_fields"] = cfs
    if body.get("street_address"):
        sub_body["street_addresses"] = [body["street_address"]]
    if body.get("phone_number"):
        sub_body["phone_numbers"] = [{"phone_number": body["phone_number"], "kind": "home"}]
    subs = _validate_subresources(st, sub_body, now)
    c = st.find_by_email(address) if address else None
    if c is None:
        fields = {k: body.get(k) for k in SCALARS}
        fields.update(subs)
        c = new_contact(st, now, address=address, permission="explicit", source="Contact",
                        opt_in_source="Contact", **fields)
        st.add_contact(c)
        return ok({"contact_id": c["contact_id"], "action": "created"}, 201)
    # Partial update; lists and custom fields are appended (contract §3.1).
    for k in SCALARS:
        if body.get(k) is not None:
            c[k] = body[k]
    st.set_contact_lists(c, (c.get("list_memberships") or []) + subs["list_memberships"])
    if "custom_fields" in subs:
        merged = {cf["custom_field_id"]: cf for cf in c.get("custom_fields") or []}
        merged.update({cf["custom_field_id"]: cf for cf in subs["custom_fields"]})
        c["custom_fields"] = list(merged.values())[:25]
    for k in ("phone_numbers", "street_addresses"):
        if k in subs:
            c[k] = ((c.get(k) or []) + subs[k])[-3:]
    # Existing contacts are set to explicit even if they were unsubscribed (contract §3.1, §5.4).
    em = c["email_address"]
    _set_permission(em, "explicit", now, "Contact")
    em["opt_in_source"] = "Contact"
    c.pop("deleted_at", None)      # updating a deleted contact restores it
    c["update_source"] = "Contact"
    c["updated_at"] = now
    st.touch()
    return ok({"contact_id": c["contact_id"], "action": "updated"}, 200)


# ---------------------------------------------------------------- misc
def counts(req):
    st = req.state
    out = {"total": 0, "explicit": 0, "implicit": 0, "pending": 0, "unsubscribed": 0}
    for c in st.contacts.values():
        if c.get("deleted_at"):
            continue
        out["total"] += 1
        perm = (c.get("email_address") or {}).get("permission_to_send")
        if perm == "pending_confirmation":
            out["pending"] += 1
        elif perm in out:
            out[perm] += 1
    if req.q("include") == "new_subscriber":
        cutoff = _days_ago(st, 30)
        out["new_subscriber"] = sum(1 for c in st.contacts.values()
                                    if not c.get("deleted_at") and c["created_at"] >= cutoff)
    return ok(out)


def _days_ago(st, days):
    from ..clock import iso, plus
    return iso(plus(st.clock.now(), -days * 86400))


def resubscribe(req):
    st = req.state
    c = _get(st, req.params["contact_id"], allow_deleted=False)
    body = req.json()
    lids = V.opt_list(body, "list_ids", 50, min_items=1)
    if not lids:
        raise bad_request("list_ids is required.", "api.validation.required")
    em = c.get("email_address") or {}
    if em.get("permission_to_send") != "unsubscribed":
        raise conflict("The contact is not unsubscribed.")
    if c.get("_resubscribe_sent"):
        # One confirmation email per unsubscribed contact (contract §3.1).
        raise conflict("A resubscribe email was already sent to this contact.")
    c["_resubscribe_sent"] = True
    _set_permission(em, "pending_confirmation", st.now(), "Contact")
    st.set_contact_lists(c, (c.get("list_memberships") or []) + lids)
    return ok({})
