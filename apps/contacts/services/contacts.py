"""Writes for contacts: create, edit, delete, the sign-up-form upsert, and adding a
contact to or removing it from a list or tag.

Every write goes to Constant Contact first, through the gate; the mirror is
written only after Constant Contact answered OK, from its answer, so a failed
call leaves the mirror exactly as it was. No gate call happens inside a
transaction (the gate refuses: a token refresh must commit).

`PUT /contacts/{id}` replaces the whole contact (contract §3.1, §5.4): every
change here is a get-merge-put — GET the contact with every `include`, change
only what the member changed, PUT the whole merged document back. An edit also
carries the fingerprint of the contact as the form showed it; if Constant
Contact's copy changed since, nothing is written and the member is shown the
difference (`ContactChangedUpstream`).

The pure helpers (form values from a document, merging changes into one, the
PUT body, the fingerprint) are here too so the views and the tests share them.
"""

import copy
from dataclasses import dataclass
from datetime import date, datetime
import hashlib
import json
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Membership, Workspace
from apps.audit.services import audit_event_record
from apps.constantcontact.errors import ConstantContactError, NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.contacts.selectors.contacts import contact_count_invalidate
from apps.mirror.mapping import CONTACT_INCLUDE
from apps.mirror.models import Contact, ContactList, CustomField, Tag
from apps.mirror.services.audience import contact_mirror_save

# Constant Contact's per-contact limits (contract §3.1).
MAX_LISTS_PER_CONTACT = 50
MAX_TAGS_PER_CONTACT = 50
MAX_CUSTOM_FIELDS_PER_CONTACT = 25

# The sub-resources `include` asks for: a PUT answer that leaves one out is
# completed from what we sent (see _mirror_answer).
SUBRESOURCES = tuple(CONTACT_INCLUDE.split(","))

# The form's own fields, in the order the diff lists them (custom fields follow).
FIELD_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "company_name": "Company",
    "birthday_month": "Birthday month",
    "birthday_day": "Birthday day",
    "anniversary": "Anniversary",
    "phone_number": "Phone",
    "phone_kind": "Phone type",
    "address_kind": "Address type",
    "street": "Street",
    "city": "City",
    "state": "State",
    "postal_code": "Postal code",
    "country": "Country",
}
SCALARS = ("first_name", "last_name", "job_title", "company_name", "anniversary")
ADDRESS_PARTS = ("street", "city", "state", "postal_code", "country")
# Parts of a contact the edit form does not show; the diff names those that changed.
OTHER_PARTS = {
    "email_address": "email permission",
    "list_memberships": "lists",
    "taggings": "tags",
    "notes": "notes",
    "phone_numbers": "other phone numbers",
    "street_addresses": "other addresses",
    "custom_fields": "other custom fields",
    "sms_channel": "SMS",
    "deleted_at": "removed",
}


class ContactChangedUpstream(Exception):
    """The contact changed in Constant Contact since the form was opened; nothing
    was written. `document` is Constant Contact's copy now."""

    def __init__(self, document: dict):
        self.document = document
        super().__init__("The contact changed in Constant Contact since the form was opened.")


class ContactRefused(Exception):
    """A change we refuse before sending it (a limit, a removed contact); the
    message is for the member."""


# --- Documents: pure helpers ----------------------------------------------------

def custom_field_key(field: CustomField) -> str:
    """The form field name of a custom field."""
    return f"cf_{field.pk}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def contact_form_values(*, document: dict, custom_fields: list[CustomField]) -> dict[str, str]:
    """The edit form's values for a contact document, all as strings ("" = empty).

    The form shows the first phone number and the first address; the others
    stay in the document untouched."""
    email = document.get("email_address") or {}
    phones = document.get("phone_numbers") or []
    addresses = document.get("street_addresses") or []
    phone = phones[0] if phones else {}
    address = addresses[0] if addresses else {}
    values = {"email": _text(email.get("address")).lower()}
    for name in SCALARS:
        values[name] = _text(document.get(name))
    values["birthday_month"] = _text(document.get("birthday_month"))
    values["birthday_day"] = _text(document.get("birthday_day"))
    values["phone_number"] = _text(phone.get("phone_number"))
    values["phone_kind"] = _text(phone.get("kind")) if phone else ""
    values["address_kind"] = _text(address.get("kind")) if address else ""
    for part in ADDRESS_PARTS:
        values[part] = _text(address.get(part))
    by_id = {str(v.get("custom_field_id")): v for v in document.get("custom_fields") or []
             if isinstance(v, dict)}
    for field in custom_fields:
        values[custom_field_key(field)] = _text((by_id.get(field.cc_id) or {}).get("value"))
    return values


def contact_document_merge(
    *, document: dict, changes: dict[str, str], custom_fields: list[CustomField],
    choice_ids: dict[str, list[str]] | None = None,
) -> dict:
    """A copy of `document` with only `changes` applied (form field name -> new value).

    Raises ContactRefused when the result would break a per-contact limit."""
    doc = copy.deepcopy(document)
    if "email" in changes:
        email = doc.get("email_address") or {}
        if changes["email"]:
            email["address"] = changes["email"]
            doc["email_address"] = email
        else:
            doc.pop("email_address", None)
    for name in SCALARS:
        if name in changes:
            doc[name] = changes[name] or None
    for name in ("birthday_month", "birthday_day"):
        if name in changes:
            doc[name] = int(changes[name]) if changes[name] else None
    if "phone_number" in changes or "phone_kind" in changes:
        phones = list(doc.get("phone_numbers") or [])
        first = dict(phones[0]) if phones else {}
        number = changes.get("phone_number", first.get("phone_number") or "")
        kind = changes.get("phone_kind") or first.get("kind") or "home"
        if number:
            first.update(phone_number=number, kind=kind)
            phones[:1] = [first]
        else:
            phones = phones[1:]
        doc["phone_numbers"] = phones
    if any(part in changes for part in (*ADDRESS_PARTS, "address_kind")):
        addresses = list(doc.get("street_addresses") or [])
        first = dict(addresses[0]) if addresses else {}
        for part in ADDRESS_PARTS:
            if part in changes:
                first[part] = changes[part]
        first["kind"] = changes.get("address_kind") or first.get("kind") or "home"
        if any(first.get(part) for part in ADDRESS_PARTS):
            addresses[:1] = [first]
        else:
            addresses = addresses[1:]
        doc["street_addresses"] = addresses
    fields = {custom_field_key(f): f for f in custom_fields}
    if any(key in fields for key in changes):
        values = [dict(v) for v in doc.get("custom_fields") or [] if isinstance(v, dict)]
        for key, new in changes.items():
            field = fields.get(key)
            if field is None:
                continue
            item = {"custom_field_id": field.cc_id, "value": new}
            if choice_ids and choice_ids.get(key):
                item["choice_ids"] = choice_ids[key]
            at = next((i for i, v in enumerate(values)
                       if str(v.get("custom_field_id")) == field.cc_id), None)
            if at is None:
                if new:
                    values.append(item)
            elif new:
                values[at] = item  # in place: the contact's other values keep their order
            else:
                del values[at]
        if len(values) > MAX_CUSTOM_FIELDS_PER_CONTACT:
            raise ContactRefused(
                f"A contact can hold values for at most {MAX_CUSTOM_FIELDS_PER_CONTACT} custom "
                "fields in Constant Contact; clear another field first."
            )
        doc["custom_fields"] = values
    return doc


def contact_put_body(document: dict) -> dict:
    """The PUT body for a whole contact: everything writable, nothing read-only.

    Everything the document holds is sent back, because a PUT nulls what it
    leaves out. The exception is `sms_channel`: `include` cannot fetch it
    (contract §3.1), sub-resources left out of a PUT are kept, and re-sending its
    consents would re-assert SMS consent on the member's behalf."""
    body: dict[str, Any] = {"update_source": "Account"}
    email = document.get("email_address") or {}
    if email.get("address"):
        body["email_address"] = {"address": email["address"]}
        if email.get("permission_to_send"):
            body["email_address"]["permission_to_send"] = email["permission_to_send"]
        if email.get("opt_out_reason"):
            body["email_address"]["opt_out_reason"] = email["opt_out_reason"]
    for name in (*SCALARS, "birthday_month", "birthday_day"):
        if document.get(name) not in (None, ""):
            body[name] = document[name]
    if "custom_fields" in document:
        body["custom_fields"] = [
            {k: v[k] for k in ("custom_field_id", "value", "choice_ids") if k in v}
            for v in document["custom_fields"] or []
        ]
    if "phone_numbers" in document:
        # PhoneNumberPut and StreetAddressPut take no ids (contract §3.1).
        body["phone_numbers"] = [
            {"phone_number": p.get("phone_number"), "kind": p.get("kind") or "home"}
            for p in document["phone_numbers"] or []
        ]
    if "street_addresses" in document:
        body["street_addresses"] = [
            {"kind": a.get("kind") or "home",
             **{part: a[part] for part in ADDRESS_PARTS if a.get(part)}}
            for a in document["street_addresses"] or []
        ]
    for name in ("list_memberships", "taggings"):
        if name in document:
            body[name] = list(document[name] or [])
    if "notes" in document:
        body["notes"] = [
            {k: n[k] for k in ("note_id", "created_at", "content") if n.get(k) is not None}
            for n in document["notes"] or []
        ]
    return body


def _digest(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def contact_fingerprint(document: dict) -> dict[str, Any]:
    """What the edit form carries about the contact it was opened with: the
    upstream `updated_at` (readable), a hash of the whole document (decisive:
    an opt-out changes the document but not `updated_at`, contract §5.5), and a
    hash per part the form doesn't show (to say what else changed)."""
    return {
        "updated_at": document.get("updated_at") or "",
        "hash": _digest(document),
        "parts": {name: _digest(document.get(name)) for name in OTHER_PARTS},
    }


@dataclass(frozen=True)
class FieldDifference:
    label: str
    opened: str  # when the member opened the form
    upstream: str  # in Constant Contact now
    yours: str  # what the member submitted


@dataclass(frozen=True)
class UpstreamDifference:
    fields: list[FieldDifference]
    other_parts: list[str]  # labels of parts the form doesn't show that changed
    updated_at: datetime | None


def contact_difference(
    *, opened_values: dict[str, str], opened_fingerprint: dict, document: dict,
    submitted: dict[str, str], custom_fields: list[CustomField],
) -> UpstreamDifference:
    """What changed in Constant Contact between opening the form and submitting it."""
    now = contact_form_values(document=document, custom_fields=custom_fields)
    labels = dict(FIELD_LABELS)
    labels.update({custom_field_key(f): f.label for f in custom_fields})
    rows = [
        FieldDifference(label=labels[key], opened=opened_values.get(key, ""), upstream=now[key],
                        yours=submitted.get(key, ""))
        for key in labels
        if key in now and opened_values.get(key, "") != now[key]
    ]
    new_parts = contact_fingerprint(document)["parts"]
    old_parts = opened_fingerprint.get("parts") or {}
    others = [label for name, label in OTHER_PARTS.items()
              if old_parts.get(name) != new_parts.get(name)]
    return UpstreamDifference(fields=rows, other_parts=others,
                              updated_at=parse_datetime(str(document.get("updated_at") or "")))


def contact_form_rebase(*, opened_values: dict[str, str], submitted: dict[str, str],
                        document: dict, custom_fields: list[CustomField]) -> dict[str, str]:
    """The form's values after a conflict: Constant Contact's values now, except
    where the member changed a field, which keeps the member's value."""
    now = contact_form_values(document=document, custom_fields=custom_fields)
    return {
        key: submitted[key] if key in submitted and submitted[key] != opened_values.get(key, "")
        else value
        for key, value in now.items()
    }


# --- Talking to Constant Contact ------------------------------------------------

def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def _fetch(cc: ConstantContact, cc_id: str) -> dict:
    return cc.call("contacts.get", contact_id=cc_id, params={"include": CONTACT_INCLUDE}).data or {}


def _mirror_answer(*, workspace: Workspace, answer: dict, sent: dict) -> Contact:
    """Mirror Constant Contact's answer to a write. If the answer leaves out a
    sub-resource (the spec doesn't promise them), what we sent stands in: it is
    what Constant Contact accepted."""
    data = dict(answer)
    for name in SUBRESOURCES:
        if name not in data and name in sent:
            data[name] = sent[name]
    with transaction.atomic():
        # The answer is a whole contact: nothing of the old raw JSON should linger.
        return contact_mirror_save(workspace=workspace, data=data, raw_merge=False)


def _refresh_mirror(workspace: Workspace, document: dict) -> Contact:
    with transaction.atomic():
        return contact_mirror_save(workspace=workspace, data=document, raw_merge=False)


def _audit(*, action: str, membership: Membership, workspace: Workspace, cc_id: str,
           details: dict | None = None) -> None:
    audit_event_record(action=action, actor=membership.user, workspace=workspace,
                       target=f"contact {cc_id}", details=details or {})


def contact_fetch(*, workspace: Workspace, membership: Membership, contact: Contact) -> dict:
    """Constant Contact's whole copy of `contact` (every include), for the edit
    form to open on. Only read: the save refreshes the mirror."""
    return _fetch(_gate(workspace, membership), contact.cc_id)


@dataclass(frozen=True)
class NewContact:
    values: dict[str, str]  # the contact form's fields, as for an edit
    permission: str  # "implicit" or "explicit"
    lists: list[ContactList]
    tags: list[Tag]
    choice_ids: dict[str, list[str]] | None = None


def contact_create(*, workspace: Workspace, membership: Membership, new: NewContact,
                   custom_fields: list[CustomField]) -> Contact:
    """POST /contacts. A 409 (the address exists) is raised as Conflict for the
    form to offer the sign-up-form upsert instead."""
    doc = contact_document_merge(
        document={}, changes={k: v for k, v in new.values.items() if v},
        custom_fields=custom_fields, choice_ids=new.choice_ids,
    )
    body = contact_put_body(doc)
    del body["update_source"]
    body["create_source"] = "Account"
    if "email_address" in body:
        body["email_address"]["permission_to_send"] = new.permission
    body["list_memberships"] = [lst.cc_id for lst in new.lists]
    body["taggings"] = [tag.cc_id for tag in new.tags]
    for name in ("phone_numbers", "street_addresses", "custom_fields"):
        if not body.get(name):
            body.pop(name, None)
    answer = _gate(workspace, membership).call("contacts.create", json=body).data or {}
    contact = _mirror_answer(workspace=workspace, answer=answer, sent=body)
    contact_count_invalidate(workspace=workspace)
    _audit(action="contacts.contact_created", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"permission": new.permission,
                                         "lists": len(new.lists), "tags": len(new.tags)})
    return contact


def contact_update(
    *, workspace: Workspace, membership: Membership, contact: Contact, changes: dict[str, str],
    expected_hash: str, custom_fields: list[CustomField],
    choice_ids: dict[str, list[str]] | None = None,
) -> Contact:
    """Get-merge-put the member's `changes` onto the contact.

    Raises ContactChangedUpstream (writing nothing) if Constant Contact's copy is
    not the one the form was opened with (`expected_hash`)."""
    cc = _gate(workspace, membership)
    document = _fetch(cc, contact.cc_id)
    if contact_fingerprint(document)["hash"] != expected_hash:
        # Constant Contact's copy is the truth: the mirror may as well show it.
        _refresh_mirror(workspace, document)
        raise ContactChangedUpstream(document)
    if document.get("deleted_at"):
        raise ContactRefused("This contact was deleted in Constant Contact; saving would "
                             "restore it, so nothing was changed.")
    merged = contact_document_merge(document=document, changes=changes,
                                    custom_fields=custom_fields, choice_ids=choice_ids)
    body = contact_put_body(merged)
    answer = cc.call("contacts.update", contact_id=contact.cc_id, json=body).data or {}
    saved = _mirror_answer(workspace=workspace, answer=answer, sent=body)
    # Field names only: the values are personal data.
    _audit(action="contacts.contact_updated", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"fields": sorted(changes)})
    return saved


def contact_delete(*, workspace: Workspace, membership: Membership, contact: Contact) -> Contact:
    """DELETE /contacts/{id}: a soft delete upstream (contract §3.1). The mirror
    keeps the row, marked removed, as a sync with status=all would."""
    already_gone = False
    try:
        _gate(workspace, membership).call("contacts.delete", contact_id=contact.cc_id)
    except NotFound:
        # Deleted there already (Constant Contact answers 404 for a deleted
        # contact): the mirror just hadn't heard yet.
        already_gone = True
    now = timezone.now()
    with transaction.atomic():
        contact.deleted_upstream = now
        contact.raw = {**contact.raw, "deleted_at": now.date().isoformat()}
        contact.synced_at = now
        contact.save(update_fields=["deleted_upstream", "raw", "synced_at"])
    contact_count_invalidate(workspace=workspace)
    _audit(action="contacts.contact_deleted", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"already_deleted_upstream": already_gone})
    return contact


def contact_unsubscribe(*, workspace: Workspace, membership: Membership, contact: Contact,
                        reason: str = "") -> Contact:
    """Get-merge-put the contact with permission_to_send "unsubscribed": Constant
    Contact sends them no more campaigns, and only they can opt in again. Used
    when a member approves an agent's unsubscribe request (apps.agents)."""
    cc = _gate(workspace, membership)
    document = _fetch(cc, contact.cc_id)
    if document.get("deleted_at"):
        raise ContactRefused("This contact was deleted in Constant Contact; saving would "
                             "restore it, so nothing was changed.")
    email = dict(document.get("email_address") or {})
    if not email.get("address"):
        raise ContactRefused("This contact has no email address to unsubscribe.")
    email["permission_to_send"] = "unsubscribed"
    if reason:
        email["opt_out_reason"] = reason[:255]
    body = contact_put_body({**document, "email_address": email})
    answer = cc.call("contacts.update", contact_id=contact.cc_id, json=body).data or {}
    saved = _mirror_answer(workspace=workspace, answer=answer, sent=body)
    contact_count_invalidate(workspace=workspace)
    _audit(action="contacts.contact_unsubscribed", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={})
    return saved


@dataclass(frozen=True)
class SignUp:
    email: str
    lists: list[ContactList]
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    company_name: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class SignUpOutcome:
    created: bool
    contact: Contact | None  # None if the re-fetch after the upsert failed
    cc_id: str


def contact_signup_upsert(*, workspace: Workspace, membership: Membership,
                          signup: SignUp) -> SignUpOutcome:
    """POST /contacts/sign_up_form: create the contact, or update it — which sets
    its permission to explicit even if it had unsubscribed, and appends the lists
    (contract §3.1, §5.4). Only for a person who asked to be subscribed; the view
    makes the member confirm that first.

    The answer is only `{contact_id, action}`, so the contact is fetched again
    (with every include) to mirror it. If that fetch fails the upsert still
    happened: the outcome says so and the next sync catches up."""
    if not signup.lists:
        raise ContactRefused("Choose at least one list: Constant Contact requires one.")
    body: dict[str, Any] = {
        "email_address": signup.email,
        "list_memberships": [lst.cc_id for lst in signup.lists],
    }
    for name in ("first_name", "last_name", "job_title", "company_name", "phone_number"):
        value = getattr(signup, name)
        if value:
            body[name] = value
    cc = _gate(workspace, membership)
    result = cc.call("contacts.sign_up_form", json=body)
    answer = result.data or {}
    cc_id = str(answer.get("contact_id") or "")
    # 201 created, 200 updated; `action` is not enumerated (contract §3.1).
    created = result.status == 201
    _audit(action="contacts.contact_signup_upserted", membership=membership, workspace=workspace,
           cc_id=cc_id, details={"created": created, "lists": len(signup.lists),
                                 "consent_confirmed_by_member": True})
    contact_count_invalidate(workspace=workspace)
    try:
        document = _fetch(cc, cc_id)
    except ConstantContactError:
        return SignUpOutcome(created=created, contact=None, cc_id=cc_id)
    return SignUpOutcome(created=created, contact=_refresh_mirror(workspace, document),
                         cc_id=cc_id)


def _change_membership(*, workspace: Workspace, membership: Membership, contact: Contact,
                       key: str, cc_id: str, add: bool, limit: int, what: str) -> Contact:
    cc = _gate(workspace, membership)
    document = _fetch(cc, contact.cc_id)
    if document.get("deleted_at"):
        _refresh_mirror(workspace, document)
        raise ContactRefused("This contact was deleted in Constant Contact; nothing was changed.")
    current = [str(i) for i in document.get(key) or []]
    if add == (cc_id in current):
        # Already as asked (changed upstream, or a double submit): nothing to send.
        return _refresh_mirror(workspace, document)
    if add and len(current) >= limit:
        raise ContactRefused(f"A contact can have at most {limit} {what} in Constant Contact.")
    merged = copy.deepcopy(document)
    merged[key] = [*current, cc_id] if add else [i for i in current if i != cc_id]
    body = contact_put_body(merged)
    answer = cc.call("contacts.update", contact_id=contact.cc_id, json=body).data or {}
    return _mirror_answer(workspace=workspace, answer=answer, sent=body)


def contact_list_add(*, workspace: Workspace, membership: Membership, contact: Contact,
                     contact_list: ContactList) -> Contact:
    saved = _change_membership(workspace=workspace, membership=membership, contact=contact,
                               key="list_memberships", cc_id=contact_list.cc_id, add=True,
                               limit=MAX_LISTS_PER_CONTACT, what="lists")
    _audit(action="contacts.contact_list_added", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"list": contact_list.cc_id})
    return saved


def contact_list_remove(*, workspace: Workspace, membership: Membership, contact: Contact,
                        contact_list: ContactList) -> Contact:
    saved = _change_membership(workspace=workspace, membership=membership, contact=contact,
                               key="list_memberships", cc_id=contact_list.cc_id, add=False,
                               limit=MAX_LISTS_PER_CONTACT, what="lists")
    _audit(action="contacts.contact_list_removed", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"list": contact_list.cc_id})
    return saved


def contact_tag_add(*, workspace: Workspace, membership: Membership, contact: Contact,
                    tag: Tag) -> Contact:
    saved = _change_membership(workspace=workspace, membership=membership, contact=contact,
                               key="taggings", cc_id=tag.cc_id, add=True,
                               limit=MAX_TAGS_PER_CONTACT, what="tags")
    _audit(action="contacts.contact_tag_added", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"tag": tag.cc_id})
    return saved


def contact_tag_remove(*, workspace: Workspace, membership: Membership, contact: Contact,
                       tag: Tag) -> Contact:
    saved = _change_membership(workspace=workspace, membership=membership, contact=contact,
                               key="taggings", cc_id=tag.cc_id, add=False,
                               limit=MAX_TAGS_PER_CONTACT, what="tags")
    _audit(action="contacts.contact_tag_removed", membership=membership, workspace=workspace,
           cc_id=contact.cc_id, details={"tag": tag.cc_id})
    return saved


# Anniversary formats Constant Contact accepts (spec, ContactPutRequest.anniversary).
ANNIVERSARY = re.compile(
    r"^(\d{1,2}/\d{1,2}/\d{4}|\d{4}/\d{1,2}/\d{1,2}|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4})$"
)


def anniversary_is_valid(value: str) -> bool:
    """One of the accepted formats, and a real date."""
    if not ANNIVERSARY.match(value):
        return False
    parts = [int(p) for p in re.split(r"[/-]", value)]
    year, month, day = (parts[0], parts[1], parts[2]) if parts[0] > 31 else (
        parts[2], parts[0], parts[1])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
