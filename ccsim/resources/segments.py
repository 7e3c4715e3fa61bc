"""/v3/segments and the ``segment_criteria`` evaluator (contract §3.5).

``segment_criteria`` is one JSON document serialised into a string (at most
20,000 characters)::

    {"version": "1.0.0", "criteria": GROUP}
    GROUP = {"type": "and" | "or", "group": [RULE | GROUP, ...]}

What the spec documents, and this enforces (a 400 otherwise): the top-level
group is an "and" (the spec writes "add", a typo, accepted too); `tracking` and
`contact` rules sit in and/or groups, `list_membership` and `tags` only in or
groups (so one group can't AND two of them); without a `list_membership` rule
every contact is evaluated; criteria may not span more than 500 campaigns or
1,825 days.

The rest of the grammar is unpublished; this reads rules as ccadmin's
apps/mirror/criteria.py documents them, and the two must agree rule for rule
(a test compares the mirror's estimate with this evaluator's count)::

    list_membership  field "list_id", op "contains-any", const_value [list ids]: on any
    tags             field "tag_id",  op "contains-any", const_value [tag ids]: tagged any
    contact          field a property or "custom_field" (its id in param); op by kind:
                     text   eq ne contains not-contains starts-with empty not-empty
                            (without regard to case)
                     number eq ne gt gte lt lte empty not-empty (values that aren't
                            numbers never match)
                     date   eq lt gt last-n-days empty not-empty (UTC days, "YYYY-MM-DD")
                     permission_to_send eq ne
                     ne and not-contains match exactly what eq / contains don't.
    tracking         field opened clicked not_opened not_clicked sent bounced,
                     op "contains-any", const_value "last-n-campaigns" (param N <= 500),
                     "last-n-days" (param N <= 1825: campaigns sent in the last N days)
                     or "campaign" (param a campaign_activity_id). not_x: was sent one
                     of them and x none.

Only contacts not deleted are ever members. Unknown sources, fields, ops,
lists, tags, custom fields or campaigns -> 400 at create/update time.

GET /contacts?segment_id= answers 202 (``status: "processing"``) while a
segment created or edited since it was last read is still being evaluated
(spec getContacts), ``SimOptions.segment_evaluation_polls`` times (default
once), then 200.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
import json
import re

from ..clock import UTC
from ..errors import ApiError, bad_request, conflict
from .. import validate as V
from ..web import no_content, ok

MAX_SEGMENTS = 100
MAX_CRITERIA = 20000
MAX_CAMPAIGNS = 500
MAX_DAYS = 1825
SOURCES = ("contact", "list_membership", "tags", "tracking")
CONTACT_FIELDS = {
    "email_address": "text", "first_name": "text", "last_name": "text", "company_name": "text",
    "job_title": "text", "permission_to_send": "permission", "birthday_month": "number",
    "birthday_day": "number", "anniversary": "date", "created_at": "date", "updated_at": "date",
}
CUSTOM_KINDS = {"number": "number", "currency": "number", "date": "date", "datetime": "date"}
OPS = {
    "text": ("eq", "ne", "contains", "not-contains", "starts-with", "empty", "not-empty"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "not-empty"),
    "date": ("eq", "lt", "gt", "last-n-days", "empty", "not-empty"),
    "permission": ("eq", "ne"),
}
PERMISSIONS = ("explicit", "implicit", "pending_confirmation", "unsubscribed", "temp_hold", "not_set")
TRACKING_FIELDS = {"opened": "opens", "clicked": "clicks", "not_opened": "opens",
                   "not_clicked": "clicks", "sent": "sends", "bounced": "bounces"}
SCOPES = ("last-n-campaigns", "last-n-days", "campaign")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
COUNT = re.compile(r"^[0-9]{1,6}$")
INVALID = "segments.api.invalid_criteria"


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


# ---------------------------------------------------------------- checking criteria
def _invalid(msg):
    return bad_request(msg, INVALID)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v).strip()


def _ids(v) -> list:
    if isinstance(v, list):
        return [_text(x) for x in v if _text(x)]
    return [x.strip() for x in _text(v).split(",") if x.strip()]


def _count(v, hi):
    v = _text(v)
    if not COUNT.match(v):
        return None
    n = int(v)
    return n if 1 <= n <= hi else None


def _parse_criteria(st, raw):
    if not isinstance(raw, str):
        raise bad_request("segment_criteria must be a JSON string.")
    if len(raw) > MAX_CRITERIA:
        raise bad_request(f"segment_criteria exceeds {MAX_CRITERIA} characters.")
    try:
        doc = json.loads(raw)
        crit = doc["criteria"]
    except (ValueError, KeyError, TypeError):
        raise _invalid("segment_criteria is not valid segment JSON.")
    if not isinstance(crit, dict) or crit.get("type") not in ("and", "add"):
        raise _invalid("The top-level criteria group type must be and.")
    _check_group(st, crit)
    return doc


def _check_group(st, g):
    if not isinstance(g, dict) or g.get("type") not in ("and", "or", "add") or not isinstance(g.get("group"), list):
        raise _invalid("Each criteria group needs type and/or and a group array.")
    or_only = {"list_membership": 0, "tags": 0}
    for item in g["group"]:
        if isinstance(item, dict) and "group" in item:
            _check_group(st, item)
            continue
        src = item.get("source") if isinstance(item, dict) else None
        if src not in SOURCES:
            raise _invalid(f"Unsupported criteria source {src!r}.")
        if src in or_only:
            or_only[src] += 1
            _check_membership(st, item)
        elif src == "tracking":
            _check_tracking(st, item)
        else:
            _check_contact(st, item)
    if g["type"] != "or" and max(or_only.values()) > 1:
        raise _invalid("list_membership and tags criteria support or groups only.")


def _check_membership(st, item):
    lists = item["source"] == "list_membership"
    if item.get("op", "contains-any") != "contains-any":
        raise _invalid(f"Unsupported operator {item.get('op')!r} for {item['source']}.")
    ids = _ids(item.get("const_value"))
    known = st.lists if lists else st.tags
    if not ids or any(i not in known for i in ids):
        raise _invalid(f"{item['source']} criteria name an unknown {'list' if lists else 'tag'}.")


def _check_tracking(st, item):
    if item.get("field") not in TRACKING_FIELDS:
        raise _invalid(f"Unsupported tracking field {item.get('field')!r}.")
    if item.get("op", "contains-any") != "contains-any":
        raise _invalid(f"Unsupported operator {item.get('op')!r} for tracking.")
    scope, param = item.get("const_value"), item.get("param")
    if scope not in SCOPES:
        raise _invalid(f"Unsupported tracking const_value {scope!r}.")
    if scope == "campaign":
        if _text(param) not in st.campaign_activities:
            raise _invalid("The tracking criteria name an unknown campaign activity.")
    elif scope == "last-n-days" and _count(param, MAX_DAYS) is None:
        raise _invalid(f"Criteria may not span more than {MAX_DAYS} days.")
    elif scope == "last-n-campaigns" and _count(param, MAX_CAMPAIGNS) is None:
        raise _invalid(f"Criteria may not request more than {MAX_CAMPAIGNS} campaigns.")


def _kind(st, item):
    field = item.get("field")
    if field == "custom_field":
        cf = st.custom_fields.get(_text(item.get("param")))
        return CUSTOM_KINDS.get(cf["type"], "text") if cf else None
    return CONTACT_FIELDS.get(field)


def _check_contact(st, item):
    kind = _kind(st, item)
    if kind is None:
        raise _invalid(f"Unsupported contact field {item.get('field')!r}.")
    op = item.get("op")
    if op not in OPS[kind]:
        raise _invalid(f"Unsupported operator {op!r} for {item.get('field')}.")
    if op in ("empty", "not-empty"):
        return
    v = item.get("const_value")
    if isinstance(v, (list, dict)) or not _text(v):
        raise _invalid("Contact criteria need a const_value.")
    v = _text(v)
    if op == "last-n-days":
        if _count(v, MAX_DAYS) is None:
            raise _invalid(f"Criteria may not span more than {MAX_DAYS} days.")
    elif kind == "number" and not NUMBER.match(v):
        raise _invalid("A number criterion needs a number.")
    elif kind == "date" and not _is_day(v):
        raise _invalid("A date criterion needs a YYYY-MM-DD date.")
    elif kind == "permission" and v not in PERMISSIONS:
        raise _invalid("Unknown permission_to_send value.")


def _is_day(v: str) -> bool:
    if len(v) != 10 or not DAY.match(v):
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- evaluating
def _tracking_version(st) -> int:
    return sum(len(events) for tr in st.tracking.values() for events in tr.values())


def evaluate_segment(st, seg) -> set:
    today = st.clock.now().date()
    key = ("segment", seg["segment_id"], seg["edited_at"], _tracking_version(st), today)
    return st.cached_count(key, lambda: _Evaluation(st, today).group(
        json.loads(seg["segment_criteria"])["criteria"]))


class _Evaluation:
    def __init__(self, st, today: date):
        self.st = st
        self.today = today
        self.live = {cid for cid, c in st.contacts.items() if not c.get("deleted_at")}

    def group(self, g) -> set:
        sets = [self.group(it) if "group" in it else self.item(it) for it in g["group"]]
        if not sets:
            return set(self.live)
        if g["type"] == "or":
            return set().union(*sets)
        out = sets[0].copy()
        for s in sets[1:]:
            out &= s
        return out

    def item(self, it) -> set:
        st, src = self.st, it["source"]
        if src == "list_membership":
            return set().union(*(st.list_members.get(l, set()) for l in _ids(it.get("const_value")))) & self.live
        if src == "tags":
            return set().union(*(st.tag_members.get(t, set()) for t in _ids(it.get("const_value")))) & self.live
        if src == "contact":
            kind = _kind(st, it)
            op = it.get("op")
            positive = {"ne": "eq", "not-contains": "contains"}.get(op)
            if positive:
                return {cid for cid in self.live if not self.match(st.contacts[cid], it, kind, positive)}
            return {cid for cid in self.live if self.match(st.contacts[cid], it, kind, op)}
        return self.tracking(it)

    # contact details
    def value(self, c, it):
        field = it.get("field")
        if field == "custom_field":
            fid = _text(it.get("param"))
            for cf in c.get("custom_fields") or []:
                if cf.get("custom_field_id") == fid:
                    return cf.get("value")
            return None
        if field == "email_address":
            return (c.get("email_address") or {}).get("address")
        if field == "permission_to_send":
            return (c.get("email_address") or {}).get("permission_to_send")
        return c.get(field)

    def days_back(self, v):
        return self.today - timedelta(days=int(v)), self.today

    def match(self, c, it, kind, op) -> bool:
        val = self.value(c, it)
        sval = "" if val is None else _text(val) if not isinstance(val, str) else val
        want = _text(it.get("const_value"))
        if op in ("empty", "not-empty"):
            return bool(sval) == (op == "not-empty")
        if kind == "permission":
            return sval == want
        if kind == "text":
            low, w = sval.lower(), want.lower()
            return {"eq": low == w, "contains": w in low, "starts-with": low.startswith(w)}[op]
        if kind == "number":
            if not NUMBER.match(sval):
                return False
            try:
                a, b = Decimal(sval), Decimal(want)
            except InvalidOperation:
                return False
            return {"eq": a == b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
        # dates: a timestamp by its UTC day; a text value by its leading YYYY-MM-DD
        if it.get("field") in ("created_at", "updated_at"):
            if not sval:
                return False
            day = datetime.fromisoformat(sval.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()
        else:
            if not DAY.match(sval):
                return False
            day = sval[:10]
        if op == "last-n-days":
            first, last = self.days_back(want)
            return first.isoformat() <= day <= last.isoformat()
        return {"eq": day == want, "lt": day < want, "gt": day > want}[op]

    # engagement
    def campaigns(self, it) -> list:
        st, scope, param = self.st, it.get("const_value"), _text(it.get("param"))
        sent = [a for a in st.campaign_activities.values() if a.get("_sent_at")]
        if scope == "campaign":
            return [a for a in sent if a["campaign_activity_id"] == param]
        if scope == "last-n-days":
            first, _ = self.days_back(param)
            return [a for a in sent if a["_sent_at"][:10] >= first.isoformat()]
        sent.sort(key=lambda a: a["_sent_at"], reverse=True)
        return sent[:int(param or 5)]

    def tracking(self, it) -> set:
        field = it["field"]
        kind = TRACKING_FIELDS[field]
        hit, sent_to = set(), set()
        for a in self.campaigns(it):
            tr = self.st.tracking.get(a["campaign_activity_id"], {})
            hit |= {e["contact_id"] for e in tr.get(kind, [])}
            sent_to |= {e["contact_id"] for e in tr.get("sends", [])}
        if field.startswith("not_"):
            return (sent_to - hit) & self.live
        return hit & self.live


def segment_answer_ready(st, seg, polls: int) -> bool:
    """False while the segment is still "being evaluated" (GET /contacts?segment_id=
    answers 202): for the first `polls` reads after each create or edit."""
    key = (seg["segment_id"], seg["edited_at"])
    seen = st.segment_reads.get(key, 0)
    if seen >= polls:
        return True
    st.segment_reads[key] = seen + 1
    return False


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
    _parse_criteria(st, raw)
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
    _parse_criteria(st, raw)
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
