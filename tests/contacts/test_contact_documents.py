"""The pure parts of get-merge-put: form values from a contact document, merging
only the member's changes, the PUT body, and the fingerprint."""

import pytest

from apps.contacts.services.contacts import (
    ContactRefused,
    anniversary_is_valid,
    contact_document_merge,
    contact_fingerprint,
    contact_form_values,
    contact_put_body,
)
from tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db

DOC = {
    "contact_id": "c1",
    "email_address": {"address": "Ava@Example.com", "permission_to_send": "unsubscribed",
                      "opt_out_reason": "Moved", "opt_in_source": "Account",
                      "created_at": "2024-01-01T00:00:00Z"},
    "first_name": "Ava", "last_name": "Smith", "birthday_month": 2, "birthday_day": 3,
    "create_source": "Account", "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-02-01T00:00:00Z",
    "custom_fields": [{"custom_field_id": "f1", "value": "red"},
                      {"custom_field_id": "f9", "value": "kept"}],
    "phone_numbers": [{"phone_number_id": "p1", "phone_number": "1", "kind": "work",
                       "created_at": "x"},
                      {"phone_number_id": "p2", "phone_number": "2", "kind": "home"}],
    "street_addresses": [{"street_address_id": "a1", "kind": "home", "city": "Boston"},
                         {"street_address_id": "a2", "kind": "work", "city": "Denver"}],
    "list_memberships": ["l1"], "taggings": ["t1"],
    "notes": [{"note_id": "n1", "created_at": "2024-01-01T00:00:00Z", "content": "Hi"}],
    "sms_channel": {"sms_address": "555", "sms_channel_consents": []},
}


@pytest.fixture
def fields(world):
    return [CustomFieldFactory(workspace=world.workspace, cc_id="f1", label="Colour")]


def test_values_show_the_first_phone_and_address(fields):
    values = contact_form_values(document=DOC, custom_fields=fields)
    assert values["email"] == "ava@example.com"
    assert (values["phone_number"], values["phone_kind"]) == ("1", "work")
    assert (values["city"], values["address_kind"]) == ("Boston", "home")
    assert values["birthday_month"] == "2"
    assert values[f"cf_{fields[0].pk}"] == "red"


def test_merge_applies_only_the_changes(fields):
    key = f"cf_{fields[0].pk}"
    merged = contact_document_merge(
        document=DOC, custom_fields=fields,
        changes={"first_name": "Eva", "phone_number": "9", "city": "", key: "blue"},
    )
    assert merged["first_name"] == "Eva" and merged["last_name"] == "Smith"
    assert [p["phone_number"] for p in merged["phone_numbers"]] == ["9", "2"]
    # Emptying the first address's only part drops it; the second stays.
    assert [a["city"] for a in merged["street_addresses"]] == ["Denver"]
    assert merged["custom_fields"] == [{"custom_field_id": "f1", "value": "blue"},
                                       {"custom_field_id": "f9", "value": "kept"}]
    assert DOC["first_name"] == "Ava"  # the original is untouched


def test_merge_refuses_a_26th_custom_field(world):
    many = CustomFieldFactory.create_batch(24, workspace=world.workspace)
    changes = {f"cf_{f.pk}": "x" for f in many}
    with pytest.raises(ContactRefused):
        contact_document_merge(document=DOC, changes=changes, custom_fields=many)


def test_the_put_body_sends_everything_writable_and_nothing_read_only():
    body = contact_put_body(DOC)
    assert body["update_source"] == "Account"
    assert body["email_address"] == {"address": "Ava@Example.com",
                                     "permission_to_send": "unsubscribed",
                                     "opt_out_reason": "Moved"}
    assert body["phone_numbers"] == [{"phone_number": "1", "kind": "work"},
                                     {"phone_number": "2", "kind": "home"}]
    assert body["street_addresses"] == [{"kind": "home", "city": "Boston"},
                                        {"kind": "work", "city": "Denver"}]
    assert body["notes"] == DOC["notes"]
    assert body["list_memberships"] == ["l1"] and body["taggings"] == ["t1"]
    for read_only in ("contact_id", "created_at", "updated_at", "create_source",
                      "sms_channel"):
        assert read_only not in body


def test_the_fingerprint_moves_with_any_change():
    same = contact_fingerprint(dict(DOC))
    assert same == contact_fingerprint(DOC)
    opted_out = {**DOC, "email_address": {**DOC["email_address"], "permission_to_send": "x"}}
    changed = contact_fingerprint(opted_out)
    assert changed["hash"] != same["hash"] and changed["updated_at"] == same["updated_at"]
    assert [k for k in same["parts"] if same["parts"][k] != changed["parts"][k]] == [
        "email_address"]


@pytest.mark.parametrize("value, ok", [
    ("12/31/2020", True), ("1/2/2020", True), ("2020/12/31", True), ("2020-1-2", True),
    ("12-31-2020", True), ("2020-02-30", False), ("31/12/2020", False), ("soon", False),
])
def test_anniversary_formats(value, ok):
    assert anniversary_is_valid(value) is ok
