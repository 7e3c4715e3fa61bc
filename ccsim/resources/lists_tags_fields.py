"""/v3/contact_lists, /v3/contact_tags, /v3/contact_custom_fields (contract §3.2-3.4).

* list and tag DELETE are asynchronous: 202 + an activity; the list/tag keeps
  showing until the activity completes (pitfall §5.9);
* names are unique (409); at most 1,000 lists, 500 tags, 100 custom fields;
* tags' ``include_count`` fills ``contacts_count`` per tag;
* custom-field PUT overwrites omitted properties (contract §3.4).
"""
from __future__ import annotations

import re

from ..errors import ApiError, bad_request, conflict
from ..pagination import page_items
from .. import validate as V
from ..web import Response, no_content, ok
from .activities import create_activity, render_activity

MAX_LISTS = 1000
MAX_TAGS = 500
MAX_CUSTOM_FIELDS = 100
CF_TYPES = ("string", "date", "datetime", "single_select", "currency", "text_area",
            "multi_select", "number", "boolean")     # prose-only enum, contract §3.4


def _strip(d):
    return {k: v for k, v in d.items() if not k.startswith("_") and v is not None}


# ====================================================================== lists
def _list_404(st, list_id, allow_deleted=False):
    l = st.lists.get(list_id)
    if not l or (l.get("deleted_at") and not allow_deleted):
        raise ApiError(404, "contact_lists.api.not_found", "Contact list not found.")
    return l


def _membership_count(st, list_id, mode):
    members = st.list_members.get(list_id, ())
    n = 0
    for cid in members:
        c = st.contacts[cid]
        if c.get("deleted_at"):
            continue
        if mode == "active":
            perm = (c.get("email_address") or {}).get("permission_to_send")
            if perm not in ("explicit", "implicit", "pending_confirmation"):
                continue
        n += 1
    return n


def render_list(st, l, membership=None, with_count=True):
    out = _strip(l)
    if membership and with_count:
        out["membership_count"] = _membership_count(st, l["list_id"], membership)
    return out


def get_lists(req):
    st = req.state

    def items(r):
        status = r.q_csv("status") or ["active"]
        for s in status:
            V.enum(s, ("all", "active", "deleted"), "status")
        V.enum(r.q("channel_type"), ("email", "sms"), "channel_type")
        name = r.q("name")
        out = []
        for l in st.lists.values():
            deleted = bool(l.get("deleted_at"))
            if not ("all" in status or (deleted and "deleted" in status) or (not deleted and "active" in status)):
                continue
            if name is not None and l["name"] != name:
                continue
            out.append(l)
        return out

    # Schema says max 1000, prose 1-500 (contract §1 defect 2): accept 1000.
    page, links = page_items(req, "contact_lists", items, 50, 1000)
    mc = V.enum(req.q("include_membership_count"), ("all", "active"), "include_membership_count")
    body = {"lists": [render_list(st, l, mc) for l in page]}
    if req.q_bool("include_count"):
        body["lists_count"] = len(items(req))
    if links:
        body["_links"] = links
    return ok(body)


def get_list(req):
    st = req.state
    l = _list_404(st, req.params["list_id"], allow_deleted=True)
    mc = V.enum(req.q("include_membership_count"), ("all", "active"), "include_membership_count")
    return ok(render_list(st, l, mc))


def _list_input(body):
    name = V.req_str(body, "name", 255)
    V.opt_bool(body, "favorite")
    V.opt_str(body, "description")
    return name


def _dup_list_name(st, name, except_id=None):
    for l in st.lists.values():
        if l["name"].lower() == name.lower() and not l.get("deleted_at") and l["list_id"] != except_id:
            raise conflict(f"A list named {name!r} already exists.", "contact_lists.api.conflict")


def create_list(req):
    st = req.state
    body = req.json()
    name = _list_input(body)
    _dup_list_name(st, name)
    if len(st.active_lists()) >= MAX_LISTS:
        raise bad_request(f"An account can have at most {MAX_LISTS} lists.", "contact_lists.api.limit")
    now = st.now()
    l = {"list_id": st.new_id(), "name": name, "description": body.get("description") or "",
         "favorite": bool(body.get("favorite")), "created_at": now, "updated_at": now}
    st.lists[l["list_id"]] = l
    st.dirty = True
    return ok(render_list(st, l), 201)


def put_list(req):
    st = req.state
    l = _list_404(st, req.params["list_id"])
    body = req.json()
    name = _list_input(body)
    _dup_list_name(st, name, l["list_id"])
    l.update(name=name, description=body.get("description") or "", favorite=bool(body.get("favorite")),
             updated_at=st.now())
    st.dirty = True
    return ok(render_list(st, l))


def delete_list(req):
    st = req.state
    l = _list_404(st, req.params["list_id"])
    act = create_activity(req.sim, "list_delete", {"list_ids": [l["list_id"]]},
                          total=1 + len(st.list_members.get(l["list_id"], ())))
    body = render_activity(st, act)
    return Response(202, body, {"Location": body["_links"]["self"]["href"]})


# ====================================================================== tags
def _tag_404(st, tag_id):
    t = st.tags.get(tag_id)
    if not t or t.get("_deleted"):
        raise ApiError(404, "contact_tags.api.not_found", "Tag not found.")
    return t


def render_tag(st, t, count=False):
    out = _strip(t)
    if count:
        out["contacts_count"] = sum(1 for cid in st.tag_members.get(t["tag_id"], ())
                                    if not st.contacts[cid].get("deleted_at"))
    return out


def get_tags(req):
    st = req.state
    # limit 1-500 (the spec uses minLength/maxLength by mistake, contract §1 defect 3)
    page, links = page_items(req, "contact_tags", lambda r: list(st.active_tags().values()), 50, 500)
    body = {"tags": [render_tag(st, t, req.q_bool("include_count")) for t in page]}
    if links:
        body["_links"] = links
    return ok(body)


def get_tag(req):
    st = req.state
    return ok(render_tag(st, _tag_404(st, req.params["tag_id"]), req.q_bool("include_count")))


def _dup_tag(st, name, except_id=None):
    for t in st.active_tags().values():
        if t["name"].lower() == name.lower() and t["tag_id"] != except_id:
            raise conflict(f"A tag named {name!r} already exists.", "contact_tags.api.conflict")


def create_tag(req):
    st = req.state
    body = req.json()
    name = V.req_str(body, "name", 255)
    V.opt_str(body, "tag_source")
    _dup_tag(st, name)
    if len(st.active_tags()) >= MAX_TAGS:
        raise bad_request(f"An account can have at most {MAX_TAGS} tags.", "contact_tags.api.limit")
    now = st.now()
    t = {"tag_id": st.new_id(), "name": name, "created_at": now, "updated_at": now,
         "tag_source": body.get("tag_source") or "Contact"}
    st.tags[t["tag_id"]] = t
    st.dirty = True
    return ok(render_tag(st, t), 201)


def put_tag(req):
    st = req.state
    t = _tag_404(st, req.params["tag_id"])
    body = req.json()
    name = V.req_str(body, "name", 255)
    _dup_tag(st, name, t["tag_id"])
    t.update(name=name, updated_at=st.now())     # tag_source cannot change
    st.dirty = True
    return ok(render_tag(st, t))


def delete_tag(req):
    st = req.state
    t = _tag_404(st, req.params["tag_id"])
    act = create_activity(req.sim, "tag_delete", {"tag_ids": [t["tag_id"]]},
                          total=1 + len(st.tag_members.get(t["tag_id"], ())))
    return Response(202, render_activity(st, act))


# ====================================================================== custom fields
def _cf_404(st, fid):
    f = st.custom_fields.get(fid)
    if not f:
        raise ApiError(404, "contact_custom_fields.api.not_found", "Custom field not found.")
    return f


def cf_name(label: str) -> str:
    # "built from the label by replacing blanks with underscores"; real example Hobby -> hobby (§3.4)
    return re.sub(r"\s+", "_", label.strip()).lower()[:50]


def get_custom_fields(req):
    st = req.state
    page, links = page_items(req, "contact_custom_fields", lambda r: list(st.custom_fields.values()), 50, 100)
    body = {"custom_fields": [_strip(f) for f in page]}
    if links:
        body["_links"] = links
    return ok(body)


def get_custom_field(req):
    return ok(_strip(_cf_404(req.state, req.params["custom_field_id"])))


def _choices(st, fid, raw, now, put=False):
    items = V.opt_list({"choices": raw}, "choices", 100) or []
    out = []
    for i, ch in enumerate(items):
        V.opt_str(ch, "choice_label", 255, "choices.")
        out.append({"custom_field_id": fid, "choice_id": ch.get("choice_id") if put and ch.get("choice_id") else i + 1,
                    "choice_label": ch.get("choice_label") or "", "display_order": ch.get("display_order", i + 1),
                    "created_at": now, "updated_at": now})
    return out


def create_custom_field(req):
    st = req.state
    body = req.json()
    label = V.req_str(body, "label", 50)
    ftype = V.enum(V.req_str(body, "type", 20), CF_TYPES, "type")
    name = cf_name(label)
    for f in st.custom_fields.values():
        if f["name"] == name or f["label"].lower() == label.lower():
            raise conflict(f"A custom field labelled {label!r} already exists.", "contact_custom_fields.api.conflict")
    if len(st.custom_fields) >= MAX_CUSTOM_FIELDS:
        # At most 100 custom fields per account (contract §3.4).
        raise bad_request(f"An account can have at most {MAX_CUSTOM_FIELDS} custom fields.",
                          "contact_custom_fields.api.limit")
    now = st.now()
    fid = st.new_id()
    f = {"custom_field_id": fid, "label": label, "name": name, "type": ftype,
         "version": V.opt_int(body, "version", 1, 2) or 2, "created_at": now, "updated_at": now}
    if isinstance(body.get("metadata"), dict):
        f["metadata"] = body["metadata"]
    ch = _choices(st, fid, body.get("choices"), now)
    if ch:
        f["choices"] = ch
    st.custom_fields[fid] = f
    st.dirty = True
    return ok(_strip(f), 201)


def put_custom_field(req):
    st = req.state
    f = _cf_404(st, req.params["custom_field_id"])
    body = req.json()
    label = V.req_str(body, "label", 50)
    for other in st.custom_fields.values():
        if other is not f and other["label"].lower() == label.lower():
            raise conflict(f"A custom field labelled {label!r} already exists.", "contact_custom_fields.api.conflict")
    now = st.now()
    f["label"] = label
    # "Any properties omitted in the PUT request are overwritten with a null value" (§3.4)
    ch = _choices(st, f["custom_field_id"], body.get("choices"), now, put=True)
    if ch:
        f["choices"] = ch
    else:
        f.pop("choices", None)
    f["updated_at"] = now
    st.dirty = True
    return ok(_strip(f))


def delete_custom_field(req):
    st = req.state
    f = _cf_404(st, req.params["custom_field_id"])
    st.remove_custom_fields([f["custom_field_id"]])
    return no_content()
