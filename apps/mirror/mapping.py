"""Constant Contact's JSON, as the column values of mirror rows.

The one mapping from upstream resources to the mirror's columns, shared by the
syncs and by every write (which updates the mirror from the API's answer), so
both agree on what a contact, list, tag, field, campaign or email looks like.

Sub-resources (a contact's lists, tags, custom fields, phones, addresses and
notes; an email's HTML, footer address and permalink) are only mapped when the
payload carries them: Constant Contact omits them unless asked with `include`
(contract §3.1, §3.7), and an absent key means "not sent", not "none".
"""

from dataclasses import dataclass
from datetime import datetime
import re
from typing import Any

from apps.constantcontact.times import parse_time
from apps.core.weburls import web_url
from apps.mirror.criteria import CriteriaError, criteria_document, criteria_loads
from apps.mirror.models import CampaignStatus, Contact, EmailStatus

# Every sub-resource of a contact, for the GET that precedes a full-replace PUT
# and for the sync (contract §3.1).
CONTACT_INCLUDE = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"
# Every sub-resource an email needs for the mirror and for the whole-activity PUT
# (contract §3.7). document_properties only exists for legacy format types 1-2.
ACTIVITY_INCLUDE = "html_content,physical_address_in_footer,permalink_url"


# --- The audience -------------------------------------------------------------------

@dataclass(frozen=True)
class Anomaly:
    """A value of one upstream record the mirror could not keep as it was sent.

    Worded for a member, and safe to log: it names the record and the field and
    says what was wrong, never the value itself (it may be personal data)."""

    cc_id: str  # the record's Constant Contact id; "" when it has no usable one
    field: str  # "job_title", "email_address.permission_to_send", ...
    problem: str
    quarantined: bool = False  # the whole record was left out of the mirror


@dataclass
class CheckedContact:
    """One ContactResource, checked and mapped: the columns of its Contact row,
    its list and tag ids, and what could not be kept as sent."""

    cc_id: str
    fields: dict[str, Any]
    raw: dict  # the JSON to keep: the record itself, or a copy the database can store
    list_ids: list[str] | None  # list_memberships; None when not sent (or unusable)
    tag_ids: list[str] | None  # taggings, likewise
    anomalies: list[Anomaly]

    @property
    def quarantined(self) -> bool:
        return any(anomaly.quarantined for anomaly in self.anomalies)


def contact_fields_from_upstream(data: dict) -> dict[str, Any]:
    """The column values of a Contact row for one ContactResource (checked: see
    `contact_from_upstream`; a quarantined record's columns are its best effort)."""
    return contact_from_upstream(data).fields


# The longest value each text column holds (PostgreSQL refuses longer ones; SQLite
# would keep them, so the check is ours, not the database's).
_LIMITS = {
    name: Contact._meta.get_field(name).max_length
    for name in ("cc_id", "email", "first_name", "last_name", "job_title", "company_name",
                 "anniversary", "create_source", "update_source", "opt_in_source",
                 "opt_out_source", "opt_out_reason")
}
_PERMISSIONS = frozenset(EmailStatus.values)


def contact_from_upstream(data: Any) -> CheckedContact:
    """Map one ContactResource to its row, checking every field on the way.

    Constant Contact validates what it stores, but one odd value must not cost a
    whole page of 500 (PostgreSQL refuses a page's INSERT over a single value
    too long for its column). So:
    - text longer than its column is clipped, and text that can't be stored at
      all (NUL, broken surrogates) loses those characters;
    - an optional value that makes no sense (a date that isn't one, a birthday
      month 13, a sub-resource that isn't a list) is left out;
    - a record the mirror can't hold meaningfully — no usable contact_id, an
      address too long to be one, a permission or deletion date it can't read,
      so it can't say whether the contact may be emailed or still exists — is
      quarantined: not mirrored at all.
    Each is recorded as an Anomaly. `raw` keeps the whole record as sent.
    """
    if not isinstance(data, dict):
        return _quarantined("", "contact", "is not a JSON object", {})
    cc_id = data.get("contact_id")
    if not isinstance(cc_id, str) or not cc_id.strip():
        return _quarantined("", "contact_id", "is missing", data)
    if len(cc_id) > _LIMITS["cc_id"]:
        return _quarantined("", "contact_id", f"is longer than {_LIMITS['cc_id']} characters",
                            data)
    check = _Check(cc_id)
    raw = check.storable(data)

    email = raw.get("email_address")
    if email is None:
        email = {}
    elif not isinstance(email, dict):
        check.quarantine("email_address", "is not an object")
        email = {}
    address = email.get("address") or ""
    if not isinstance(address, str) or len(address) > _LIMITS["email"]:
        # Clipped, it would be somebody else's address.
        check.quarantine("email_address.address", "is not an email address")
        address = ""
    permission = email.get("permission_to_send") or EmailStatus.NOT_SET
    if not isinstance(permission, str) or permission not in _PERMISSIONS:
        # The mirror could say "subscribed" of someone who may not be emailed.
        check.quarantine("email_address.permission_to_send",
                         "is not one of Constant Contact's permission values")
        permission = EmailStatus.NOT_SET
    deleted = parse_time(raw.get("deleted_at"))
    if deleted is None and raw.get("deleted_at"):
        # Removed or not? The mirror can't tell.
        check.quarantine("deleted_at", "is not a date")

    text = check.text
    fields = {
        "email": address.lower(),
        "email_status": permission,
        "opt_in_source": text(email.get("opt_in_source"), "opt_in_source",
                              "email_address.opt_in_source"),
        "opt_in_date": check.time(email.get("opt_in_date"), "email_address.opt_in_date"),
        "opt_out_source": text(email.get("opt_out_source"), "opt_out_source",
                               "email_address.opt_out_source"),
        "opt_out_date": check.time(email.get("opt_out_date"), "email_address.opt_out_date"),
        "opt_out_reason": text(email.get("opt_out_reason"), "opt_out_reason",
                               "email_address.opt_out_reason"),
        "first_name": text(raw.get("first_name"), "first_name"),
        "last_name": text(raw.get("last_name"), "last_name"),
        "job_title": text(raw.get("job_title"), "job_title"),
        "company_name": text(raw.get("company_name"), "company_name"),
        "birthday_month": check.number(raw.get("birthday_month"), "birthday_month", 12),
        "birthday_day": check.number(raw.get("birthday_day"), "birthday_day", 31),
        "anniversary": text(raw.get("anniversary"), "anniversary"),
        "create_source": text(raw.get("create_source"), "create_source"),
        "update_source": text(raw.get("update_source"), "update_source"),
        "created_upstream": check.time(raw.get("created_at"), "created_at"),
        "updated_upstream": check.time(raw.get("updated_at"), "updated_at"),
        "deleted_upstream": deleted,
    }
    for key in ("phone_numbers", "street_addresses", "notes", "custom_fields"):
        if key in raw:
            value = raw[key] or []
            if isinstance(value, list):
                fields[key] = value
            else:
                check.note(key, "is not a list; the mirror keeps what it had")
    fields["search_text"] = " ".join(
        part for part in (fields["first_name"], fields["last_name"], fields["email"]) if part
    ).lower()
    return CheckedContact(
        cc_id=cc_id, fields=fields, raw=raw, list_ids=check.ids(raw, "list_memberships"),
        tag_ids=check.ids(raw, "taggings"), anomalies=check.anomalies,
    )


def _quarantined(cc_id: str, field: str, problem: str, raw: dict) -> CheckedContact:
    return CheckedContact(cc_id=cc_id, fields={}, raw=raw, list_ids=None, tag_ids=None,
                          anomalies=[Anomaly(cc_id, field, problem, quarantined=True)])


class _Check:
    """The checks of one record, collecting its anomalies."""

    def __init__(self, cc_id: str):
        self.cc_id = cc_id
        self.anomalies: list[Anomaly] = []

    def note(self, field: str, problem: str) -> None:
        if not any(anomaly.quarantined for anomaly in self.anomalies):
            self.anomalies.append(Anomaly(self.cc_id, field, problem))

    def quarantine(self, field: str, problem: str) -> None:
        # One reason per record left out: the screen counts records, and the rest of
        # a record nobody will see isn't worth listing.
        if not any(anomaly.quarantined for anomaly in self.anomalies):
            self.anomalies[:] = [Anomaly(self.cc_id, field, problem, quarantined=True)]

    def text(self, value: Any, column: str, field: str = "") -> str:
        if value.__class__ is str and len(value) <= _LIMITS[column]:
            return value  # nearly always: a sync checks a dozen of these per contact
        field = field or column
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.note(field, "is not text; left empty")
                return ""
            value = str(value)
        limit = _LIMITS[column]
        if len(value) > limit:
            self.note(field, f"has {len(value)} characters, more than the {limit} the mirror "
                      "keeps; clipped")
            return value[:limit]
        return value

    def time(self, value: Any, field: str) -> datetime | None:
        if not value:
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.note(field, "is not a date; left empty")
        return parsed

    def number(self, value: Any, field: str, highest: int) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
            self.note(field, f"is not a number from 1 to {highest}; left empty")
            return None
        return value

    def ids(self, raw: dict, key: str) -> list[str] | None:
        if key not in raw:
            return None  # not sent: the mirror's memberships stay as they are
        value = raw[key] or []
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        self.note(key, "is not a list of ids; the mirror keeps what it had")
        return None

    def storable(self, data: dict) -> dict:
        """`data`, or a copy without what no database column can hold (NUL, lone
        surrogates), which PostgreSQL refuses in text and JSON alike."""
        if not _SUSPECT.search(repr(data)):
            return data
        clean = {}
        for key, value in data.items():
            if _unstorable(value):
                self.note(key, "has characters a database can't store; they were removed")
                value = _without_unstorable(value)
            clean[key] = value
        return clean


# repr() writes NUL as \x00 and a surrogate as \udXXX, in C: one search over it clears
# nearly every record at once. A hit (or a backslash that only looks like one) is
# settled value by value.
_SUSPECT = re.compile(r"\\x00|\\ud[89a-f]")


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(v) for v in value.values())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def _without_unstorable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "").encode(errors="replace").decode()
    if isinstance(value, dict):
        return {k: _without_unstorable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_unstorable(v) for v in value]
    return value


def list_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "description": data.get("description") or "",
        "favorite": bool(data.get("favorite")),
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }
    if "membership_count" in data:
        fields["membership_count"] = data["membership_count"]
    return fields


def tag_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "tag_source": data.get("tag_source") or "",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }
    if "contacts_count" in data:
        fields["contacts_count"] = data["contacts_count"]
    return fields


def custom_field_fields_from_upstream(data: dict) -> dict[str, Any]:
    return {
        "label": data.get("label") or "",
        "name": data.get("name") or "",
        "type": data.get("type") or "string",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }


def segment_fields_from_upstream(data: dict) -> dict[str, Any]:
    """A SegmentMaster (the listing: no criteria) or SegmentDetail. `criteria` is
    the parsed `segment_criteria` string (contract §3.5), and only mapped when the
    payload carries it; criteria Constant Contact stores but ccadmin can't read
    map to {} (the string stays in `raw`, and the screens say so)."""
    fields = {
        "name": data.get("name") or "",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("edited_at")),
        "raw": data,
    }
    if "segment_criteria" in data:
        try:
            fields["criteria"] = criteria_document(criteria_loads(data["segment_criteria"]))
        except CriteriaError:
            fields["criteria"] = {}
    return fields


# --- Campaigns ----------------------------------------------------------------------

_STATUSES = {choice.value for choice in CampaignStatus}


def status_from_upstream(value: Any) -> str:
    """`Draft`, `DRAFT`, `draft` -> "draft". An unknown status (a future
    Constant Contact addition) reads as an error, so nothing treats it as a draft."""
    text = str(value or "").strip().lower()
    return text if text in _STATUSES else CampaignStatus.ERROR


def campaign_fields_from_upstream(data: dict) -> dict[str, Any]:
    """Column values of a Campaign row for one EmailCampaign(s) object."""
    fields: dict[str, Any] = {
        "name": (data.get("name") or "")[:80],
        "status": status_from_upstream(data.get("current_status")),
        "type": str(data.get("type") or "")[:40],
        "type_code": data.get("type_code") if isinstance(data.get("type_code"), int) else None,
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
    }
    # The list endpoint carries no activities (contract §3.7); only GET /emails/{id}
    # and POST /emails do, and the ids never change once known.
    for activity in data.get("campaign_activities") or []:
        role = activity.get("role")
        if role == "primary_email":
            fields["primary_activity_id"] = str(activity.get("campaign_activity_id") or "")
        elif role == "permalink":
            fields["permalink_activity_id"] = str(activity.get("campaign_activity_id") or "")
    return fields


def email_fields_from_upstream(data: dict) -> dict[str, Any]:
    """Column values of an EmailActivity row for one EmailCampaignActivity.

    Sub-resources (html_content, physical_address_in_footer, permalink_url) only
    when the payload has them: Constant Contact leaves them out unless asked with
    `include`, and an absent key means "not sent", not "empty"."""
    fields: dict[str, Any] = {
        "status": status_from_upstream(data.get("current_status")),
        "from_name": data.get("from_name") or "",
        "from_email": data.get("from_email") or "",
        "reply_to_email": data.get("reply_to_email") or "",
        "subject": data.get("subject") or "",
        "preheader": data.get("preheader") or "",
        "contact_list_ids": [str(i) for i in data.get("contact_list_ids") or []],
        "segment_ids": list(data.get("segment_ids") or []),
    }
    if isinstance(data.get("format_type"), int):
        fields["format_type"] = data["format_type"]
    if "html_content" in data:
        fields["html_content"] = data.get("html_content") or ""
    if "physical_address_in_footer" in data:
        fields["physical_address_in_footer"] = data.get("physical_address_in_footer") or {}
    if "permalink_url" in data:
        fields["permalink_url"] = web_url(data.get("permalink_url"))[:500]
    return fields


def schedule_from_upstream(data: Any) -> datetime | None:
    """The time in GET …/schedules' answer: `[{scheduled_date}]`, or `[]`."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return parse_time(data[0].get("scheduled_date"))
    return None
