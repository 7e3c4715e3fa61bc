"""In-memory store for one simulated CC account, plus JSON persistence.

All data lives in plain dicts keyed by id, in insertion order, guarded by a
single re-entrant lock (``State.lock``).  The HTTP layer holds the lock for the
whole handler, so handlers can read and write freely.  Contacts are never
physically removed (CC deletes are soft, contract §3.1) so ``contact_order``
is append-only and a cursor can be a plain position in it: a page of 500 is
O(500) no matter how many contacts there are.

Membership indexes (``list_members``, ``tag_members``) are kept in sync by
``set_contact_lists`` / ``set_contact_tags``; always go through them.  Likewise
``remove_custom_fields`` removes a field together with its values on contacts.
"""
from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any

from .clock import SimClock, iso

PERSISTED = (
    "contacts", "contact_order", "lists", "tags", "custom_fields", "segments",
    "next_segment_id", "activities", "exports", "campaigns", "campaign_activities",
    "tracking", "tracking_pending", "account", "account_emails", "next_email_id", "test_sends",
    "oauth_clients", "refresh_tokens", "token_epoch", "private_key_pem", "clock_offset",
)


class State:
    def __init__(self, clock: SimClock | None = None):
        self.lock = threading.RLock()
        self.clock = clock or SimClock()
        self.version = 0                 # bumped on contact mutations (count cache key)
        self.dirty = False
        self._count_cache: dict = {}
        # contacts
        self.contacts: dict[str, dict] = {}
        self.contact_order: list[str] = []
        self.contact_pos: dict[str, int] = {}
        self.email_index: dict[str, str] = {}
        # lists, tags, custom fields, segments
        self.lists: dict[str, dict] = {}
        self.list_members: dict[str, set] = {}
        self.tags: dict[str, dict] = {}
        self.tag_members: dict[str, set] = {}
        self.custom_fields: dict[str, dict] = {}
        self.segments: dict[int, dict] = {}
        self.next_segment_id = 1
        # (segment_id, edited_at) -> reads answered 202 so far; not persisted: a
        # restarted server evaluates again (ccsim.resources.segments).
        self.segment_reads: dict[tuple, int] = {}
        # bulk activities and exports
        self.activities: dict[str, dict] = {}
        self.exports: dict[str, str] = {}
        self.pending_activities: set = set()      # ids not yet completed (not persisted)
        # campaigns
        self.campaigns: dict[str, dict] = {}
        self.campaign_activities: dict[str, dict] = {}
        self.tracking: dict[str, dict] = {}
        # Events of a send whose moment hasn't come yet, oldest first (ccsim.delivery).
        self.tracking_pending: dict[str, list] = {}
        # account
        self.account: dict = {}
        self.account_emails: list[dict] = []
        self.next_email_id = 1
        self.test_sends: dict[str, int] = {}     # UTC date -> recipients (50/day, contract §2.5)
        # oauth (see oauth.py)
        self.oauth_clients: dict[str, dict] = {}
        self.auth_codes: dict[str, dict] = {}     # not persisted: 5-minute lifetime anyway
        self.refresh_tokens: dict[str, dict] = {}
        self.token_epoch = 0
        self.private_key_pem: str | None = None

    # ------------------------------------------------------------------ helpers
    def now(self) -> str:
        return iso(self.clock.now())

    def touch(self):
        self.version += 1
        self.dirty = True
        if len(self._count_cache) > 256:
            self._count_cache.clear()

    def new_id(self) -> str:
        return str(uuid.uuid4())

    # ------------------------------------------------------------------ contacts
    def add_contact(self, c: dict) -> dict:
        cid = c["contact_id"]
        self.contacts[cid] = c
        self.contact_pos[cid] = len(self.contact_order)
        self.contact_order.append(cid)
        addr = (c.get("email_address") or {}).get("address")
        if addr:
            self.email_index[addr.lower()] = cid
        for lid in c.get("list_memberships") or []:
            self.list_members.setdefault(lid, set()).add(cid)
        for tid in c.get("taggings") or []:
            self.tag_members.setdefault(tid, set()).add(cid)
        self.touch()
        return c

    def find_by_email(self, address: str) -> dict | None:
        cid = self.email_index.get((address or "").lower())
        return self.contacts.get(cid) if cid else None

    def set_contact_email(self, c: dict, address: str):
        old = (c.get("email_address") or {}).get("address")
        if old and self.email_index.get(old.lower()) == c["contact_id"]:
            del self.email_index[old.lower()]
        c["email_address"]["address"] = address
        self.email_index[address.lower()] = c["contact_id"]

    def set_contact_lists(self, c: dict, list_ids):
        cid = c["contact_id"]
        for lid in c.get("list_memberships") or []:
            self.list_members.get(lid, set()).discard(cid)
        new = list(dict.fromkeys(list_ids))
        c["list_memberships"] = new
        for lid in new:
            self.list_members.setdefault(lid, set()).add(cid)
        self.touch()

    def set_contact_tags(self, c: dict, tag_ids):
        cid = c["contact_id"]
        for tid in c.get("taggings") or []:
            self.tag_members.get(tid, set()).discard(cid)
        new = list(dict.fromkeys(tag_ids))
        c["taggings"] = new
        for tid in new:
            self.tag_members.setdefault(tid, set()).add(cid)
        self.touch()

    def active_lists(self) -> dict:
        return {k: v for k, v in self.lists.items() if not v.get("deleted_at")}

    def active_tags(self) -> dict:
        return {k: v for k, v in self.tags.items() if not v.get("_deleted")}

    def cached_count(self, key, fn):
        k = (self.version, key)
        if k not in self._count_cache:
            self._count_cache[k] = fn()
        return self._count_cache[k]

    def queued_activity_count(self) -> int:
        return sum(1 for a in self.activities.values() if a["state"] in ("initialized", "processing"))

    # ------------------------------------------------------------------ custom fields
    def remove_custom_fields(self, ids):
        """Drop the field definitions and their values on every contact.

        Shared by the synchronous DELETE and the bulk delete activity, so it
        lives with the data rather than in either resource module.
        """
        ids = set(ids)
        for fid in ids:
            self.custom_fields.pop(fid, None)
        for c in self.contacts.values():
            if c.get("custom_fields") and any(cf["custom_field_id"] in ids for cf in c["custom_fields"]):
                c["custom_fields"] = [cf for cf in c["custom_fields"] if cf["custom_field_id"] not in ids]
        self.touch()

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            d = {k: getattr(self, k) for k in PERSISTED if k != "clock_offset"}
            d["clock_offset"] = self.clock.offset
            d["segments"] = {str(k): v for k, v in self.segments.items()}
            return json.loads(json.dumps(d, default=_json_default))

    def load_dict(self, d: dict):
        with self.lock:
            for k in PERSISTED:
                if k in d and k != "clock_offset":
                    setattr(self, k, d[k])
            self.segments = {int(k): v for k, v in self.segments.items()}
            if d.get("clock_offset"):
                self.clock._offset = max(self.clock.offset, float(d["clock_offset"]))
            self.pending_activities = {k for k, a in self.activities.items()
                                       if a["state"] in ("initialized", "processing")}
            self.contact_pos = {cid: i for i, cid in enumerate(self.contact_order)}
            self.email_index = {}
            self.list_members, self.tag_members = {}, {}
            for cid in self.contact_order:
                c = self.contacts[cid]
                addr = (c.get("email_address") or {}).get("address")
                if addr:
                    self.email_index[addr.lower()] = cid
                for lid in c.get("list_memberships") or []:
                    self.list_members.setdefault(lid, set()).add(cid)
                for tid in c.get("taggings") or []:
                    self.tag_members.setdefault(tid, set()).add(cid)
            self.touch()
            self.dirty = False

    def save(self, path: str):
        with self.lock:
            data = self.to_dict()
            self.dirty = False
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)

    def load(self, path: str) -> bool:
        if not os.path.exists(path):
            return False
        with open(path, encoding="utf-8") as fh:
            self.load_dict(json.load(fh))
        return True

    def counts(self) -> dict:
        with self.lock:
            return {
                "contacts": len(self.contacts),
                "contacts_not_deleted": sum(1 for c in self.contacts.values() if not c.get("deleted_at")),
                "lists": len(self.active_lists()),
                "tags": len(self.active_tags()),
                "custom_fields": len(self.custom_fields),
                "segments": sum(1 for s in self.segments.values() if not s.get("_deleted")),
                "activities": len(self.activities),
                "campaigns": len(self.campaigns),
                "account_emails": len(self.account_emails),
                "refresh_tokens": len(self.refresh_tokens),
            }


def _json_default(o):
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(type(o))
