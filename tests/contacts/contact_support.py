"""Helpers for the contact-screen tests: mirror what the simulator holds (without
depending on the sync), read a contact back from the simulator, and seed one
contact with everything a PUT could lose (SMS, notes, extra phones and addresses,
several custom fields)."""

import copy

from apps.mirror.models import Contact
from apps.mirror.services.audience import (
    contact_mirror_save,
    custom_field_mirror_save,
    list_mirror_save,
    tag_mirror_save,
)
from ccsim.resources.contacts import SUBRESOURCES, render


def mirror_collections(cw) -> None:
    """Lists, tags and custom fields, as the sync would mirror them."""
    st = cw.sim.state
    with st.lock:
        lists = copy.deepcopy(list(st.active_lists().values()))
        tags = copy.deepcopy(list(st.active_tags().values()))
        fields = copy.deepcopy(list(st.custom_fields.values()))
    for data in lists:
        list_mirror_save(workspace=cw.workspace, data=data)
    for data in tags:
        tag_mirror_save(workspace=cw.workspace, data=data)
    for data in fields:
        custom_field_mirror_save(workspace=cw.workspace, data=data)


def mirror_contact(cw, cc_id: str) -> Contact:
    return contact_mirror_save(workspace=cw.workspace, data=sim_contact(cw, cc_id),
                               raw_merge=False)


def mirror_all(cw) -> None:
    """The whole simulated account, mirrored (what a full sync would leave)."""
    mirror_collections(cw)
    st = cw.sim.state
    with st.lock:
        ids = list(st.contact_order)
    for cc_id in ids:
        mirror_contact(cw, cc_id)


def sim_contact(cw, cc_id: str) -> dict:
    """The simulator's copy of a contact, rendered with every sub-resource."""
    st = cw.sim.state
    with st.lock:
        return copy.deepcopy(render(st.contacts[cc_id], SUBRESOURCES))


def sim_change(cw, cc_id: str, **fields) -> None:
    """Change a contact at the simulator, as someone in Constant Contact's UI would
    (which moves `updated_at`)."""
    st = cw.sim.state
    with st.lock:
        contact = st.contacts[cc_id]
        contact.update(fields)
        contact["updated_at"] = st.now()
        st.touch()


def sim_field_ids(cw) -> dict[str, str]:
    """Custom field label -> id at the simulator."""
    st = cw.sim.state
    with st.lock:
        return {f["label"]: f["custom_field_id"] for f in st.custom_fields.values()}


def sim_list_ids(cw) -> dict[str, str]:
    st = cw.sim.state
    with st.lock:
        return {lst["name"]: lst["list_id"] for lst in st.active_lists().values()}


def sim_tag_ids(cw) -> dict[str, str]:
    st = cw.sim.state
    with st.lock:
        return {tag["name"]: tag["tag_id"] for tag in st.active_tags().values()}


def seed_rich_contact(cw, *, email: str = "rich.person@example.com",
                      permission: str = "implicit") -> dict:
    """A contact with every kind of data, added straight into the simulator."""
    st = cw.sim.state
    fields = sim_field_ids(cw)
    lists = sim_list_ids(cw)
    tags = sim_tag_ids(cw)
    with st.lock:
        now = st.now()
        contact = {
            "contact_id": st.new_id(),
            "email_address": {"address": email, "permission_to_send": permission,
                              "created_at": now, "updated_at": now, "opt_in_source": "Account",
                              "opt_in_date": now, "confirm_status": "off"},
            "first_name": "Rita", "last_name": "Rich", "job_title": "Buyer",
            "company_name": "Globex", "birthday_month": 4, "birthday_day": 12,
            "anniversary": "2015-06-01",
            "create_source": "Account", "update_source": "Account",
            "created_at": now, "updated_at": now,
            "custom_fields": [
                {"custom_field_id": fields["Favorite Color"], "value": "teal"},
                {"custom_field_id": fields["Plan"], "value": "Gold"},
                {"custom_field_id": fields["Loyalty Points"], "value": "1200"},
            ],
            "phone_numbers": [
                {"phone_number_id": st.new_id(), "phone_number": "555-100-2000", "kind": "work",
                 "created_at": now, "updated_at": now},
                {"phone_number_id": st.new_id(), "phone_number": "555-300-4000",
                 "kind": "mobile", "created_at": now, "updated_at": now},
            ],
            "street_addresses": [
                {"street_address_id": st.new_id(), "kind": "work", "street": "1 Main St",
                 "city": "Boston", "state": "MA", "postal_code": "02108",
                 "country": "United States", "created_at": now, "updated_at": now},
                {"street_address_id": st.new_id(), "kind": "home", "street": "9 Elm St",
                 "city": "Denver", "state": "CO", "postal_code": "80202",
                 "country": "United States", "created_at": now, "updated_at": now},
            ],
            "list_memberships": [lists["Newsletter"], lists["VIP"]],
            "taggings": [tags["lead"], tags["high-value"]],
            "notes": [
                {"note_id": st.new_id(), "created_at": now, "content": "Met at the trade show."},
                {"note_id": st.new_id(), "created_at": now, "content": "Prefers email."},
            ],
            "sms_channel": {
                "sms_channel_id": st.new_id(), "sms_address": "5551234567", "dial_code": "1",
                "country_code": "US", "create_source": "Account", "update_source": "Account",
                "sms_channel_consents": [{"sms_consent_permission": "explicit",
                                          "consent_type": "promotional_sms",
                                          "created_at": now, "updated_at": now}],
            },
        }
        st.add_contact(contact)
    return sim_contact(cw, contact["contact_id"])


def without_volatile(document: dict) -> dict:
    """A contact minus what any successful PUT changes (timestamps, source, the
    ids Constant Contact gives re-sent phones and addresses)."""
    doc = copy.deepcopy(document)
    for key in ("updated_at", "update_source"):
        doc.pop(key, None)
    doc.get("email_address", {}).pop("updated_at", None)
    for key, id_name in (("phone_numbers", "phone_number_id"),
                         ("street_addresses", "street_address_id")):
        for item in doc.get(key) or []:
            for volatile in (id_name, "created_at", "updated_at"):
                item.pop(volatile, None)
    return doc
