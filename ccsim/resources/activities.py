"""Bulk activities (/v3/activities/*), contact exports, and activity progress.

Activities are time-driven (contract §3.6, §6): ``initialized`` for
``activity_start_delay`` seconds, then ``processing`` with ``percent_done``
growing at ``activity_items_per_second``, then ``completed``.  The effect on
the data is applied once, at completion (``process_due`` runs on the ticker
and lazily before every /v3 request; advance the simulated clock in tests).
At most 1,000 queued activities per account -> 429 (contract §2.5).
Row-level problems are reported as strings in ``activity_errors`` and counted
in ``status.error_count``.
"""
from __future__ import annotations

import csv
import io
import json
import re

from ..clock import iso
from ..errors import ApiError, ObjectError, bad_request, not_found
from ..pagination import page_items
from .. import validate as V
from ..web import Response, ok
from .contacts import new_contact, soft_delete
from .segments import evaluate_segment

MAX_QUEUED = 1000
MAX_IMPORT_BYTES = 4 * 1024 * 1024     # 4 MB (spec bulkImportContactsJSON)
MAX_IMPORT_CONTACTS = 40000            # contract §3.6 [DOC:import_contacts]
FINAL = ("completed", "cancelled", "failed", "timed_out")


# ---------------------------------------------------------------- lifecycle
def create_activity(sim, kind: str, payload: dict, total: int, *, errors=None, source_file_name=None,
                    extra=None) -> dict:
    st = sim.state
    if len(st.pending_activities) >= MAX_QUEUED:
        # Body undocumented (contract §2.4); we use the single-object 429 form.
        raise ObjectError(429, "too_many_activities",
                          "You exceeded 1,000 queued activities for this user account.")
    now = st.clock.time()
    a = {"activity_id": st.new_id(), "kind": kind, "state": "initialized",
         "created_at": iso(now), "updated_at": iso(now), "_created_ts": now,
         "items_total": max(1, int(total)), "percent_done": 0, "payload": payload,
         "errors": list(errors or []), "extra": extra or {}}
    if source_file_name:
        a["source_file_name"] = source_file_name
    st.activities[a["activity_id"]] = a
    st.pending_activities.add(a["activity_id"])
    st.dirty = True
    return a


def process_due(sim):
    st = sim.state
    if not st.pending_activities:
        return
    now = st.clock.time()
    opts = sim.options
    for aid in sorted(st.pending_activities, key=lambda k: st.activities[k]["_created_ts"]):
        a = st.activities[aid]
        start = a["_created_ts"] + opts.activity_start_delay
        duration = max(0.5, a["items_total"] / max(opts.activity_items_per_second, 1e-9))
        if now < start:
            continue
        if a["state"] == "initialized":
            a.update(state="processing", started_at=iso(start), updated_at=iso(start))
        if now < start + duration:
            a["percent_done"] = min(99, int(100 * (now - start) / duration))
            a["updated_at"] = iso(now)
            continue
        try:
            APPLY[a["kind"]](sim, a)
            a["state"] = "completed"
        except Exception as e:          # never wedge the queue
            a["state"] = "failed"
            a["errors"].append(f"internal error: {e}")
        done = iso(start + duration)
        a.update(percent_done=100, completed_at=done, updated_at=done)
        st.pending_activities.discard(aid)
        st.dirty = True


# ---------------------------------------------------------------- rendering
def render_activity(st, a) -> dict:
    kind = a["kind"]
    href = f"/v3/activities/{a['activity_id']}"
    out = {"activity_id": a["activity_id"], "state": a["state"]}
    for k in ("started_at", "completed_at"):
        if a.get(k):
            out[k] = a[k]
    out.update(created_at=a["created_at"], updated_at=a["updated_at"], percent_done=a["percent_done"])
    if a.get("source_file_name"):
        out["source_file_name"] = a["source_file_name"]
    done = a["state"] == "completed"
    total = a["items_total"]
    completed = total if done else total * a["percent_done"] // 100
    if kind == "tag_delete":
        # ActivityGeneric: errors are objects {message} (contract §2.4)
        out["activity_errors"] = [{"message": m} for m in a["errors"]]
    else:
        out["activity_errors"] = list(a["errors"])
    status = {"items_total_count": total, "items_completed_count": completed}
    if kind in ("json_import", "file_import"):
        x = a["extra"]
        # error_count is "the number of non-correctable errors"; correctable ones are
        # "invalid email address format, birthday or anniversary format error, or
        # does not have minimal contact information" (spec ActivityImport status).
        correctable = sum(1 for m in a["errors"] if _correctable(m))
        status = {"items_total_count": total, "items_completed_count": completed,
                  "person_count": x.get("person_count", 0) if done else 0,
                  "error_count": len(a["errors"]) - correctable,
                  "correctable_count": correctable,
                  "cannot_add_to_list_count": x.get("cannot_add_to_list_count", 0) if done else 0}
    elif kind in ("add_list_memberships", "remove_list_memberships", "list_delete", "contact_delete"):
        status["list_count"] = len(a["payload"].get("list_ids") or [])
    out["status"] = status
    out["_links"] = {"self": {"href": href}}
    if kind == "contact_export" and done:
        out["_links"]["results"] = {"href": f"/v3/contact_exports/{a['activity_id']}"}
    return out


def _correctable(message: str) -> bool:
    text = message.lower()
    return any(word in text for word in ("invalid email", "email or sms_number is required",
                                         "birthday", "anniversary"))


def _created(st, a):
    return ok(render_activity(st, a), 201)


# ---------------------------------------------------------------- GET
def get_activity(req):
    st = req.state
    a = st.activities.get(req.params["activity_id"])
    if not a:
        raise ApiError(404, "activities.api.not_found", "Activity not found.")
    return ok(render_activity(st, a))


def list_activities(req):
    st = req.state
    cutoff = st.clock.time() - 10 * 86400       # the past 10 days only (contract §3.6)

    def items(r):
        state = V.enum(r.q("state"), ("processing", "completed", "cancelled", "failed", "timed_out"), "state")
        acts = [a for a in st.activities.values() if a["_created_ts"] >= cutoff and (not state or a["state"] == state)]
        return sorted(acts, key=lambda a: a["_created_ts"], reverse=True)

    page, links = page_items(req, "activities", items, 50, 500)
    body = {"activities": [render_activity(st, a) for a in page]}
    if links:
        body["_links"] = links
    return ok(body)


def get_export(req):
    st = req.state
    data = st.exports.get(req.params["file_export_id"])
    if data is None:
        raise ApiError(404, "activities.api.not_found", "Export file not found.")
    return Response(200, data, content_type="text/csv")


# ---------------------------------------------------------------- helpers
def _existing_lists(st, ids, name="list_ids"):
    V.uuid_list(ids, name)
    for lid in ids:
        l = st.lists.get(lid)
        if not l or l.get("deleted_at"):
            raise ApiError(404, "contact_lists.api.not_found", f"List {lid} not found.")
    return ids


def _one_source(src: dict, allowed):
    given = [k for k in allowed if src.get(k) not in (None, [], False)]
    if len(given) != 1:
        raise bad_request(f"source must contain exactly one of: {', '.join(allowed)}.")
    return given[0]


def _source_contacts(st, kind, value, exclude=()) -> list:
    """Resolve an activity ``source`` to contact ids (non-deleted)."""
    live = lambda cid: cid in st.contacts and not st.contacts[cid].get("deleted_at")
    if kind == "contact_ids":
        ids = [c for c in value if live(c)]
    elif kind == "list_ids":
        ids = set().union(*(st.list_members.get(l, set()) for l in value))
    elif kind == "tag_ids":
        ids = set().union(*(st.tag_members.get(t, set()) for t in value))
    elif kind == "all_active_contacts":
        ids = [cid for cid in st.contact_order
               if live(cid) and (st.contacts[cid].get("email_address") or {}).get("permission_to_send")
               in ("explicit", "implicit", "pending_confirmation")]
    elif kind == "segment_id":
        seg = st.segments.get(int(value))
        if not seg or seg.get("_deleted"):
            raise not_found("segment")
        ids = evaluate_segment(st, seg)
    elif kind == "engagement_level":
        ids = []       # engagement levels are not simulated: empty audience
    else:
        ids = []
    ex = set(exclude or ())
    return [cid for cid in sorted(ids, key=st.contact_pos.get) if live(cid) and cid not in ex]


# ---------------------------------------------------------------- imports
CONTACT_KEYS = ("first_name", "last_name", "job_title", "company_name", "anniversary")
PHONE_KEYS = {"phone": "other", "home_phone": "home", "work_phone": "work", "mobile_phone": "mobile",
              "other_phone": "other"}


def _prepare_rows(st, rows, errors, start_line=1):
    """Validate import rows; keep the good ones.  Row numbers in errors are 1-based."""
    good = []
    fields_by_name = {f["name"]: f["custom_field_id"] for f in st.custom_fields.values()}
    for i, row in enumerate(rows, start_line):
        if not isinstance(row, dict):
            errors.append(f"Row {i}: not an object")
            continue
        email = (row.get("email") or "").strip()
        if not email and not row.get("sms_number"):
            errors.append(f"Row {i}: email or sms_number is required")
            continue
        if email and (not V.EMAIL_RE.match(email) or len(email) > 80):
            errors.append(f"Row {i}: invalid email address {email!r}")
            continue
        bad_cf = [k[3:] for k in row if k.startswith("cf:") and k[3:] not in fields_by_name]
        if bad_cf:
            errors.append(f"Row {i}: unknown custom field(s) {', '.join(bad_cf)}")
            continue
        too_long = [k for k in CONTACT_KEYS if isinstance(row.get(k), str) and len(row[k]) > 50 and k != "anniversary"]
        if too_long:
            errors.append(f"Row {i}: {too_long[0]} exceeds 50 characters")
            continue
        good.append(row)
    return good


def _apply_import(sim, a):
    st = sim.state
    now = st.now()
    list_ids = [l for l in a["payload"]["list_ids"] if l in st.lists and not st.lists[l].get("deleted_at")]
    fields_by_name = {f["name"]: f["custom_field_id"] for f in st.custom_fields.values()}
    persons = cannot = 0
    for row in a["payload"]["rows"]:
        email = (row.get("email") or "").strip()
        c = st.find_by_email(email) if email else None
        scal = {k: row[k] for k in CONTACT_KEYS if row.get(k)}
        for k in ("birthday_month", "birthday_day"):
            if str(row.get(k) or "").isdigit():
                scal[k] = int(row[k])
        cfs = [{"custom_field_id": fields_by_name[k[3:]], "value": str(v)[:255]}
               for k, v in row.items() if k.startswith("cf:") and k[3:] in fields_by_name][:25]
        phones = [{"phone_number_id": st.new_id(), "phone_number": str(row[k])[:25], "kind": kind,
                   "created_at": now, "updated_at": now} for k, kind in PHONE_KEYS.items() if row.get(k)][:3]
        addr = None
        if any(row.get(k) for k in ("street", "city", "state", "zip", "country")):
            addr = {"street_address_id": st.new_id(), "kind": "home", "street": row.get("street"),
                    "city": row.get("city"), "state": row.get("state"), "postal_code": row.get("zip"),
                    "country": row.get("country"), "created_at": now, "updated_at": now}
            addr = {k: v for k, v in addr.items() if v}
        persons += 1
        if c is None:
            # New contacts: implicit permission, opt_in_source Account (spec bulkImportContactsJSON).
            c = new_contact(st, now, address=email or None, permission="implicit", source="Account",
                            custom_fields=cfs, phone_numbers=phones,
                            street_addresses=[addr] if addr else [], **scal)
            st.add_contact(c)
            st.set_contact_lists(c, list_ids)
            continue
        # Existing: partial update, permission unchanged; revive deleted.
        c.update(scal)
        if cfs:
            merged = {x["custom_field_id"]: x for x in c.get("custom_fields") or []}
            merged.update({x["custom_field_id"]: x for x in cfs})
            c["custom_fields"] = list(merged.values())[:25]
        if phones:
            c["phone_numbers"] = phones
        if addr:
            c["street_addresses"] = [addr]
        c.pop("deleted_at", None)
        c["updated_at"] = now
        if (c.get("email_address") or {}).get("permission_to_send") == "unsubscribed":
            # previously unsubscribed: counted here, not in errors (pitfall §5.10)
            cannot += 1
        else:
            st.set_contact_lists(c, (c.get("list_memberships") or []) + list_ids)
    a["extra"].update(person_count=persons, cannot_add_to_list_count=cannot)
    st.touch()


def json_import(req):
    st = req.state
    body = req.json()
    data = V.req_field(body, "import_data")
    if not isinstance(data, list):
        raise bad_request("import_data must be an array.")
    lids = V.opt_list(body, "list_ids", 50, min_items=1)
    if not lids:
        raise bad_request("list_ids is required.", "api.validation.required")
    _existing_lists(st, lids)
    V.enum(body.get("sms_permission_to_send"), ("explicit", "not_set"), "sms_permission_to_send")
    if len(data) > MAX_IMPORT_CONTACTS:
        raise bad_request(f"import_data can contain at most {MAX_IMPORT_CONTACTS} contacts.",
                          "activities.api.import.too_many_contacts")
    rows = data
    if len(req.body) > MAX_IMPORT_BYTES:
        # Only the contacts contained in the first 4 MB are imported; the rest is
        # dropped silently (spec bulkImportContactsJSON, pitfall §5.10).
        size, rows = len('{"import_data":['), []
        for row in data:
            size += len(json.dumps(row, separators=(",", ":"))) + 1
            if size > MAX_IMPORT_BYTES:
                break
            rows.append(row)
    errors = []
    good = _prepare_rows(st, rows, errors)
    a = create_activity(req.sim, "json_import", {"rows": good, "list_ids": lids}, total=len(rows) + 1,
                        errors=errors, extra={"submitted": len(data), "accepted_rows": len(rows)})
    return _created(st, a)


def _parse_multipart(req):
    ctype = req.headers.get("Content-Type") or ""
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.lower().startswith("multipart/form-data") or not m:
        raise ApiError(415, "api.unsupported_media_type",
                       "This endpoint requires multipart/form-data (let the client set the boundary).")
    from email.parser import BytesParser
    from email.policy import HTTP
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + req.body)
    parts = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


def file_import(req):
    st = req.state
    parts = _parse_multipart(req)
    if "file" not in parts:
        raise bad_request("file is required.", "api.validation.required")
    fname, data = parts["file"]
    if not (fname or "").lower().endswith(".csv"):
        raise ApiError(415, "api.unsupported_media_type", "The file must be a .csv file.")
    lids = [x.strip() for x in (parts.get("list_ids", (None, b""))[1].decode()).split(",") if x.strip()]
    if not lids:
        raise bad_request("list_ids is required.", "api.validation.required")
    if len(lids) > 50:
        raise bad_request("list_ids exceeds the maximum of 50 items.")
    _existing_lists(st, lids)
    data = data[:MAX_IMPORT_BYTES]             # only the first 4 MB is processed
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", "replace")))
    lines = list(reader)[:MAX_IMPORT_CONTACTS]   # lines above 40,000 (incl. header) are not processed
    if not lines:
        raise bad_request("The file is empty.")
    header = [h.strip().lower() if not h.strip().lower().startswith("cf:") else "cf:" + h.strip()[3:]
              for h in lines[0]]
    if "email" not in header and "sms_number" not in header:
        raise bad_request("The CSV header must contain an email or sms_number column.")
    rows = [dict(zip(header, r)) for r in lines[1:] if any(x.strip() for x in r)]
    errors = []
    good = _prepare_rows(st, rows, errors, start_line=2)
    a = create_activity(req.sim, "file_import", {"rows": good, "list_ids": lids}, total=len(lines),
                        errors=errors, source_file_name=fname)
    return _created(st, a)


# ---------------------------------------------------------------- list memberships
def _membership_body(req, remove: bool):
    st = req.state
    body = req.json()
    src = body.get("source")
    if not isinstance(src, dict):
        raise bad_request("source is required.", "api.validation.required")
    allowed = ("list_ids", "contact_ids", "all_active_contacts", "tag_ids", "engagement_level") + \
              (() if remove else ("segment_id",))
    kind = _one_source(src, allowed)
    # Prose limits (the spec's maxItems: 0 is a defect, contract §1 defect 1).
    if kind == "list_ids":
        V.opt_list(src, "list_ids", 50)
        _existing_lists(st, src["list_ids"], "source.list_ids")
    if kind == "contact_ids":
        V.opt_list(src, "contact_ids", 500)
        V.uuid_list(src["contact_ids"], "source.contact_ids")
    lids = V.opt_list(body, "list_ids", 50, min_items=1)
    if not lids:
        raise bad_request("list_ids is required.", "api.validation.required")
    _existing_lists(st, lids)
    exclude = (body.get("exclude") or {}).get("contact_ids") or []
    if exclude and kind not in ("all_active_contacts", "list_ids"):
        raise bad_request("exclude is only allowed with all_active_contacts or list_ids.")
    ids = _source_contacts(st, kind, src[kind], exclude)
    errors = []
    if kind == "contact_ids":
        missing = [c for c in src["contact_ids"] if c not in st.contacts]
        errors = [f"Contact {c} not found" for c in missing]
    return lids, ids, errors


def add_list_memberships(req):
    lids, ids, errors = _membership_body(req, remove=False)
    a = create_activity(req.sim, "add_list_memberships", {"list_ids": lids, "contact_ids": ids},
                        total=len(ids), errors=errors)
    return _created(req.state, a)


def remove_list_memberships(req):
    lids, ids, errors = _membership_body(req, remove=True)
    a = create_activity(req.sim, "remove_list_memberships", {"list_ids": lids, "contact_ids": ids},
                        total=len(ids), errors=errors)
    return _created(req.state, a)


def _apply_add_lists(sim, a):
    st = sim.state
    lids = [l for l in a["payload"]["list_ids"] if l in st.lists and not st.lists[l].get("deleted_at")]
    for cid in a["payload"]["contact_ids"]:
        c = st.contacts.get(cid)
        if c and not c.get("deleted_at"):
            st.set_contact_lists(c, (c.get("list_memberships") or []) + lids)


def _apply_remove_lists(sim, a):
    st = sim.state
    drop = set(a["payload"]["list_ids"])
    for cid in a["payload"]["contact_ids"]:
        c = st.contacts.get(cid)
        if c:
            st.set_contact_lists(c, [l for l in c.get("list_memberships") or [] if l not in drop])


# ---------------------------------------------------------------- delete / export / tags
def contact_delete(req):
    st = req.state
    body = req.json()
    cids = V.opt_list(body, "contact_ids", 500)
    lids = V.opt_list(body, "list_ids", 50)
    if bool(cids) == bool(lids):
        raise bad_request("Specify either contact_ids or list_ids (mutually exclusive).")
    if cids:
        V.uuid_list(cids, "contact_ids")
        ids, errors = [c for c in cids if c in st.contacts], [f"Contact {c} not found" for c in cids
                                                              if c not in st.contacts]
    else:
        _existing_lists(st, lids)
        ids, errors = _source_contacts(st, "list_ids", lids), []
    a = create_activity(req.sim, "contact_delete", {"contact_ids": ids, "list_ids": lids or []},
                        total=len(ids), errors=errors)
    return _created(st, a)


def _apply_contact_delete(sim, a):
    st = sim.state
    now = st.now()
    for cid in a["payload"]["contact_ids"]:
        c = st.contacts.get(cid)
        if c and not c.get("deleted_at"):
            soft_delete(st, c, now)


EXPORT_DEFAULT_FIELDS = ["email_address", "first_name", "last_name", "company_name", "job_title",
                         "phone_number", "email_lists", "email_optin_source", "email_optin_date",
                         "email_optout_source", "email_optout_date", "email_optout_reason",
                         "created_at", "updated_at"]


def contact_export(req):
    st = req.state
    body = req.json()
    excl = ("contact_ids", "tag_ids", "segment_id")
    given = [k for k in excl if body.get(k) not in (None, [])]
    if len(given) > 1 or (given and body.get("list_ids")):
        raise bad_request("contact_ids, list_ids, tag_ids and segment_id are mutually exclusive.")
    V.opt_list(body, "contact_ids", 500)
    V.opt_list(body, "list_ids", 50)
    V.opt_list(body, "tag_ids", 50)
    fields = V.opt_list(body, "fields") or EXPORT_DEFAULT_FIELDS
    status = body.get("status")
    exclude = (body.get("exclude") or {}).get("contact_ids") or []
    if body.get("contact_ids"):
        ids = _source_contacts(st, "contact_ids", body["contact_ids"])
    elif body.get("list_ids"):
        _existing_lists(st, body["list_ids"])
        ids = _source_contacts(st, "list_ids", body["list_ids"], exclude)
    elif body.get("tag_ids"):
        ids = _source_contacts(st, "tag_ids", body["tag_ids"])
    elif body.get("segment_id") is not None:
        ids = _source_contacts(st, "segment_id", body["segment_id"])
    else:
        ids = [cid for cid in st.contact_order if not st.contacts[cid].get("deleted_at") and cid not in set(exclude)]
    if status:
        want = {"active": ("explicit", "implicit", "pending_confirmation"), "unsubscribed": ("unsubscribed",)}
        perms = want.get(status, (status,))
        ids = [cid for cid in ids if (st.contacts[cid].get("email_address") or {}).get("permission_to_send") in perms]
    a = create_activity(req.sim, "contact_export", {"contact_ids": ids, "fields": fields}, total=len(ids))
    return _created(st, a)


def _apply_export(sim, a):
    st = sim.state
    fields = a["payload"]["fields"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(fields)
    for cid in a["payload"]["contact_ids"]:
        c = st.contacts.get(cid)
        if not c:
            continue
        em = c.get("email_address") or {}
        vals = {"email_address": em.get("address"), "email_lists": ",".join(c.get("list_memberships") or []),
                "phone_number": (c.get("phone_numbers") or [{}])[0].get("phone_number"),
                "email_optin_source": em.get("opt_in_source"), "email_optin_date": em.get("opt_in_date"),
                "email_optout_source": em.get("opt_out_source"), "email_optout_date": em.get("opt_out_date"),
                "email_optout_reason": em.get("opt_out_reason"), "email_status": em.get("permission_to_send")}
        # Custom fields by their import column name, cf:<name> (a simulator choice:
        # the spec names no format for them in `fields`).
        by_name = {f["name"]: f["custom_field_id"] for f in st.custom_fields.values()}
        values = {x.get("custom_field_id"): x.get("value") for x in c.get("custom_fields") or []}
        for f in fields:
            if f.startswith("cf:") and f[3:] in by_name:
                vals[f] = values.get(by_name[f[3:]])
        w.writerow([vals.get(f, c.get(f)) if vals.get(f, c.get(f)) is not None else "" for f in fields])
    st.exports[a["activity_id"]] = buf.getvalue()


def list_delete_bulk(req):
    st = req.state
    body = req.json()
    lids = V.opt_list(body, "list_ids", 100, min_items=1)
    if not lids:
        raise bad_request("list_ids is required.", "api.validation.required")
    _existing_lists(st, lids)
    a = create_activity(req.sim, "list_delete", {"list_ids": lids}, total=len(lids))
    return _created(st, a)


def _apply_list_delete(sim, a):
    st = sim.state
    now = st.now()
    for lid in a["payload"]["list_ids"]:
        l = st.lists.get(lid)
        if not l or l.get("deleted_at"):
            continue
        l["deleted_at"] = now
        l["updated_at"] = now
        for cid in list(st.list_members.get(lid, ())):
            c = st.contacts[cid]
            st.set_contact_lists(c, [x for x in c["list_memberships"] if x != lid])


def tags_delete_bulk(req):
    st = req.state
    body = req.json()
    tids = V.opt_list(body, "tag_ids", 500, min_items=1)
    if not tids:
        raise bad_request("tag_ids is required.", "api.validation.required")
    a = create_activity(req.sim, "tag_delete", {"tag_ids": tids}, total=len(tids))
    return _created(st, a)


def _apply_tag_delete(sim, a):
    st = sim.state
    for tid in a["payload"]["tag_ids"]:
        t = st.tags.get(tid)
        if not t:
            a["errors"].append(f"Tag {tid} not found")
            continue
        t["_deleted"] = True
        for cid in list(st.tag_members.get(tid, ())):
            c = st.contacts[cid]
            st.set_contact_tags(c, [x for x in c["taggings"] if x != tid])


def _taggings(req, remove):
    st = req.state
    body = req.json()
    src = body.get("source")
    if not isinstance(src, dict):
        raise bad_request("source is required.", "api.validation.required")
    kind = _one_source(src, ("contact_ids", "list_ids", "tag_ids", "all_active_contacts", "new_subscriber"))
    tids = V.opt_list(body, "tag_ids", 50, min_items=1)
    if not tids:
        raise bad_request("tag_ids is required.", "api.validation.required")
    for t in tids:
        if t not in st.active_tags():
            raise ApiError(404, "contact_tags.api.not_found", f"Tag {t} not found.")
    ids = _source_contacts(st, kind, src[kind], (body.get("exclude") or {}).get("contact_ids") or [])
    a = create_activity(req.sim, "taggings_remove" if remove else "taggings_add",
                        {"tag_ids": tids, "contact_ids": ids}, total=len(ids))
    return _created(st, a)


def taggings_add(req):
    return _taggings(req, False)


def taggings_remove(req):
    return _taggings(req, True)


def _apply_taggings(remove):
    def apply(sim, a):
        st = sim.state
        tids = a["payload"]["tag_ids"]
        for cid in a["payload"]["contact_ids"]:
            c = st.contacts.get(cid)
            if not c:
                continue
            cur = c.get("taggings") or []
            st.set_contact_tags(c, [t for t in cur if t not in tids] if remove else cur + tids)
    return apply


def custom_fields_delete_bulk(req):
    st = req.state
    body = req.json()
    ids = V.opt_list(body, "custom_field_ids", 100, min_items=1)   # prose limit 100 (spec maxItems 0 defect)
    if not ids:
        raise bad_request("custom_field_ids is required.", "api.validation.required")
    a = create_activity(req.sim, "custom_fields_delete", {"custom_field_ids": ids}, total=len(ids))
    return _created(st, a)


def _apply_cf_delete(sim, a):
    missing = [f for f in a["payload"]["custom_field_ids"] if f not in sim.state.custom_fields]
    a["errors"].extend(f"Custom field {f} not found" for f in missing)
    sim.state.remove_custom_fields(a["payload"]["custom_field_ids"])


APPLY = {
    "json_import": _apply_import, "file_import": _apply_import,
    "add_list_memberships": _apply_add_lists, "remove_list_memberships": _apply_remove_lists,
    "contact_delete": _apply_contact_delete, "contact_export": _apply_export,
    "list_delete": _apply_list_delete, "tag_delete": _apply_tag_delete,
    "taggings_add": _apply_taggings(False), "taggings_remove": _apply_taggings(True),
    "custom_fields_delete": _apply_cf_delete,
}
