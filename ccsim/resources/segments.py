"""/v3/segments and a small ``segment_criteria`` evaluator (contract §3.5).

``segment_criteria`` is JSON serialised into a string.  Only one example of
the grammar is public, so the evaluator supports a pragmatic subset::

    {"version": "1.0.0", "criteria": {"type": "and"|"or", "group": [ITEM...]}}
    ITEM = nested {"type", "group"} | {"source", "field", "op", "const_value", "param"?}
    source "list_membership" | "tags": const_value = id or list of ids (member of any)
    source "contact": field = a contact property (first_name, company_name, permission_to_send,
                      email_address, created_at, updated_at ...), op eq|ne|contains|
                      starts-with|gt|lt|gte|lte|in|not-in|empty|not-empty
    source "tracking": field opened|not_opened|clicked|not_clicked|sent|bounced,
                      const_value "last-n-campaigns" with param N (default 5)
Unknown sources/fields/ops -> 400 at create/update time.
"""
from __future__ import annotations

import json

from ..errors import ApiError, bad_request, conflict
from .. import validate as V
from ..web import no_content, ok

MAX_SEGMENTS = 100
CONTACT_OPS = ("eq", "ne", "contains", "starts-with", "gt", "lt", "gte", "lte", "in", "not-in", "empty", "not-empty")
TRACKING_FIELDS = ("opened", "not_opened", "clicked", "not_clicked", "sent", "bounced")


def _public(seg, detail=True):
    out = {"name": seg["name"], "segment_id": seg["segment_id"], "created_at": seg["created_at"],
           "edited_at": seg["edited_at"]}
    if detail:
        out["segment_criteria"] = seg["segment_criteria"]
    return out


def _get(st, sid, allow_deleted=True):
    try:
        seg = st.segments.get(int(sid))
    except ValueError:
        seg = None
    if not seg or (seg.get("_deleted") and not allow_deleted):
        raise ApiError(404, "segments.api.not_found", "Segment not found.")
    return seg


def _parse_criteria(raw):
    if not isinstance(raw, str):
        raise bad_request("segment_criteria must be a JSON string.")
    if len(raw) > 20000:
        raise bad_request("segment_criteria exceeds 20000 characters.")
    try:
        doc = json.loads(raw)
        crit = doc["criteria"]
    except (ValueError, KeyError, TypeError):
        raise bad_request("segment_criteria is not valid segment JSON.", "segments.api.invalid_criteria")
    _check_group(crit)
    return doc


def _check_group(g):
    if not isinstance(g, dict) or g.get("type") not in ("and", "or", "add") or not isinstance(g.get("group"), list):
        raise bad_request("Each criteria group needs type and/or and a group array.", "segments.api.invalid_criteria")
    for item in g["group"]:
        if isinstance(item, dict) and "group" in item:
            _check_group(item)
            continue
        src = item.get("source") if isinstance(item, dict) else None
        if src not in ("contact", "list_membership", "tags", "tracking"):
            raise bad_request(f"Unsupported criteria source {src!r}.", "segments.api.invalid_criteria")
        if src == "tracking" and item.get("field") not in TRACKING_FIELDS:
            raise bad_request(f"Unsupported tracking field {item.get('field')!r}.", "segments.api.invalid_criteria")
        if src == "contact" and item.get("op", "eq") not in CONTACT_OPS:
            raise bad_request(f"Unsupported operator {item.get('op')!r}.", "segments.api.invalid_criteria")


def evaluate_segment(st, seg) -> set:
    key = ("segment", seg["segment_id"], seg["edited_at"], len(st.tracking))
    return st.cached_count(key, lambda: _eval_group(st, json.loads(seg["segment_criteria"])["criteria"]))


def _all_live(st):
    return {cid for cid, c in st.contacts.items() if not c.get("deleted_at")}


def _eval_group(st, g) -> set:
    sets = [(_eval_group(st, it) if "group" in it else _eval_item(st, it)) for it in g["group"]]
    if not sets:
        return _all_live(st)
    if g["type"] == "or":
        return set().union(*sets)
    out = sets[0].copy()
    for s in sets[1:]:
        out &= s
    return out


def _ids(v):
    if isinstance(v, list):
        return v
    return [x.strip() for x in str(v or "").split(",") if x.strip()]


def _eval_item(st, it) -> set:
    src = it["source"]
    live = _all_live(st)
    if src == "list_membership":
        return set().union(*(st.list_members.get(l, set()) for l in _ids(it.get("const_value")))) & live
    if src == "tags":
        return set().union(*(st.tag_members.get(t, set()) for t in _ids(it.get("const_value")))) & live
    if src == "contact":
        return {cid for cid in live if _contact_match(st.contacts[cid], it)}
    # tracking over the last N sent primary activities
    n = int(it.get("param") or 5)
    sent = sorted((a for a in st.campaign_activities.values() if a.get("_sent_at")),
                  key=lambda a: a["_sent_at"], reverse=True)[:n]
    field = it["field"]
    kind = {"opened": "opens", "not_opened": "opens", "clicked": "clicks", "not_clicked": "clicks",
            "sent": "sends", "bounced": "bounces"}[field]
    hit, sent_to = set(), set()
    for a in sent:
        tr = st.tracking.get(a["campaign_activity_id"], {})
        hit |= {e["contact_id"] for e in tr.get(kind, [])}
        sent_to |= {e["contact_id"] for e in tr.get("sends", [])}
    if field.startswith("not_"):
        return (sent_to - hit) & live
    return hit & live


def _contact_match(c, it) -> bool:
    field, op, want = it.get("field"), it.get("op", "eq"), it.get("const_value")
    if field in ("email_address", "email"):
        val = (c.get("email_address") or {}).get("address")
    elif field == "permission_to_send":
        val = (c.get("email_address") or {}).get("permission_to_send")
    else:
        val = c.get(field)
    sval = "" if val is None else str(val).lower()
    swant = "" if want is None else str(want).lower()
    if op == "eq":
        return sval == swant
    if op == "ne":
        return sval != swant
    if op == "contains":
        return swant in sval
    if op == "starts-with":
        return sval.startswith(swant)
    if op in ("in", "not-in"):
        inside = sval in [x.lower() for x in _ids(want)]
        return inside if op == "in" else not inside
    if op == "empty":
        return not sval
    if op == "not-empty":
        return bool(sval)
    if val is None:
        return False
    return {"gt": sval > swant, "lt": sval < swant, "gte": sval >= swant, "lte": sval <= swant}[op]


# ---------------------------------------------------------------- handlers
def list_segments(req):
    st = req.state
    try:
        limit = int(req.q("limit") or "1000")      # declared as a string, default "1000"
    except ValueError:
        raise bad_request("limit must be a number.")
    if limit < 1:
        raise bad_request("limit must be >= 1.")
    sort_by = req.q("sort_by") or "date"
    V.enum(sort_by, ("date", "name"), "sort_by")
    segs = [s for s in st.segments.values() if not s.get("_deleted")]
    if sort_by == "name":
        segs.sort(key=lambda s: s["name"].lower())
    else:
        segs.sort(key=lambda s: (s["edited_at"], s["segment_id"]), reverse=True)
    from ..pagination import page_items
    req.query.setdefault("limit", [str(limit)])
    page, links = page_items(req, "segments", segs, 1000, 1000000)
    body = {"segments": [_public(s, False) for s in page]}
    if links:
        body["_links"] = links
    return ok(body)


def get_segment(req):
    return ok(_public(_get(req.state, req.params["segment_id"])))


def _dup(st, name, except_id=None):
    for s in st.segments.values():
        if not s.get("_deleted") and s["name"].lower() == name.lower() and s["segment_id"] != except_id:
            raise conflict(f"A segment named {name!r} already exists.", "segments.api.conflict")


def create_segment(req):
    st = req.state
    body = req.json()
    name = V.req_str(body, "name")
    raw = V.req_field(body, "segment_criteria")
    _parse_criteria(raw)
    _dup(st, name)
    if sum(1 for s in st.segments.values() if not s.get("_deleted")) >= MAX_SEGMENTS:
        raise bad_request(f"An account can have at most {MAX_SEGMENTS} segments.", "segments.api.limit")
    now = st.now()
    sid = st.next_segment_id
    st.next_segment_id += 1
    seg = {"segment_id": sid, "name": name, "segment_criteria": raw, "created_at": now, "edited_at": now}
    st.segments[sid] = seg
    st.dirty = True
    return ok(_public(seg), 201)


def put_segment(req):
    st = req.state
    seg = _get(st, req.params["segment_id"], allow_deleted=False)
    body = req.json()
    name = V.req_str(body, "name")                      # both required on PUT (contract §3.5)
    raw = V.req_field(body, "segment_criteria")
    _parse_criteria(raw)
    _dup(st, name, seg["segment_id"])
    seg.update(name=name, segment_criteria=raw, edited_at=st.now())
    st.dirty = True
    return ok(_public(seg))


def patch_segment_name(req):
    st = req.state
    seg = _get(st, req.params["segment_id"], allow_deleted=False)
    name = V.req_str(req.json(), "name")
    _dup(st, name, seg["segment_id"])
    seg.update(name=name, edited_at=st.now())
    st.dirty = True
    return ok(_public(seg))


def delete_segment(req):
    st = req.state
    seg = _get(st, req.params["segment_id"], allow_deleted=False)
    for a in st.campaign_activities.values():
        if a["current_status"] == "SCHEDULED" and seg["segment_id"] in (a.get("segment_ids") or []):
            raise conflict("The segment is used by a scheduled campaign.", "segments.api.in_use")
    seg["_deleted"] = True
    st.dirty = True
    return no_content()
