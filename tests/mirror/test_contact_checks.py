"""Checking each upstream contact while mapping it: what is clipped, what is left
out, what quarantines the record — and that an anomaly never carries the value."""

from apps.mirror.mapping import contact_from_upstream

CC_ID = "0f6a0a4e-2d29-4a4d-9b1e-6f5d1c6b8a11"


def record(**changes) -> dict:
    data = {
        "contact_id": CC_ID,
        "email_address": {"address": "Ava.Smith@example.com", "permission_to_send": "implicit",
                          "opt_in_source": "Account", "opt_in_date": "2024-01-02T03:04:05Z"},
        "first_name": "Ava", "last_name": "Smith", "job_title": "Engineer",
        "company_name": "Globex", "birthday_month": 4, "birthday_day": 12,
        "create_source": "Account", "update_source": "Account",
        "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-02-03T04:05:06Z",
        "custom_fields": [], "phone_numbers": [], "street_addresses": [], "notes": [],
        "list_memberships": ["list-1"], "taggings": ["tag-1"],
    }
    data.update(changes)
    return data


def problems(contact) -> dict[str, str]:
    return {anomaly.field: anomaly.problem for anomaly in contact.anomalies}


def test_a_well_formed_record_maps_without_anomalies():
    contact = contact_from_upstream(record())

    assert contact.anomalies == [] and not contact.quarantined
    assert contact.fields["email"] == "ava.smith@example.com"
    assert contact.fields["job_title"] == "Engineer"
    assert (contact.list_ids, contact.tag_ids) == (["list-1"], ["tag-1"])


def test_text_longer_than_its_column_is_clipped_and_the_raw_record_kept_whole():
    title = "Vice President of Strategic Partnerships and Alliances, EMEA"  # 60 characters
    data = record(job_title=title)

    contact = contact_from_upstream(data)

    assert not contact.quarantined
    assert contact.fields["job_title"] == title[:50]
    assert contact.raw["job_title"] == title
    [anomaly] = contact.anomalies
    assert (anomaly.cc_id, anomaly.field) == (CC_ID, "job_title")
    assert "60 characters" in anomaly.problem and "50" in anomaly.problem
    assert title[:10] not in anomaly.problem  # never the value itself


def test_a_record_without_a_usable_contact_id_is_quarantined():
    for bad in (None, "", 42, "x" * 65):
        data = record(contact_id=bad)
        if bad is None:
            del data["contact_id"]

        contact = contact_from_upstream(data)

        assert contact.quarantined and contact.cc_id == "" and contact.fields == {}
        assert [a.field for a in contact.anomalies] == ["contact_id"]


def test_a_record_whose_permission_or_deletion_cannot_be_read_is_quarantined():
    odd_permission = record(email_address={"address": "a@example.com",
                                           "permission_to_send": "maybe"})
    odd_deletion = record(deleted_at="last tuesday")
    odd_address = record(email_address={"address": "a" * 250 + "@example.com"})

    odd_type = record(email_address={"address": "a@example.com",
                                      "permission_to_send": ["implicit"]})
    several = record(deleted_at="someday", job_title="x" * 60,
                     email_address={"address": "a@example.com", "permission_to_send": "?"})

    for data, field in ((odd_permission, "email_address.permission_to_send"),
                        (odd_deletion, "deleted_at"), (odd_address, "email_address.address"),
                        (odd_type, "email_address.permission_to_send"),
                        (several, "email_address.permission_to_send")):
        contact = contact_from_upstream(data)
        assert contact.quarantined, field
        assert contact.cc_id == CC_ID
        assert problems(contact).keys() == {field}  # one reason per record left out


def test_optional_values_that_make_no_sense_are_left_out():
    contact = contact_from_upstream(record(
        birthday_month=13, birthday_day="7", created_at="not a date", company_name=["Globex"],
        phone_numbers="555-0100", taggings=[{"tag_id": "tag-1"}],
    ))

    assert not contact.quarantined
    fields = contact.fields
    assert fields["birthday_month"] is None and fields["birthday_day"] == 7
    assert fields["created_upstream"] is None and fields["company_name"] == ""
    assert "phone_numbers" not in fields  # not sent: the mirror keeps what it had
    assert contact.tag_ids is None and contact.list_ids == ["list-1"]
    assert problems(contact).keys() == {
        "birthday_month", "created_at", "company_name", "phone_numbers", "taggings",
    }


def test_characters_no_database_can_store_are_removed():
    contact = contact_from_upstream(record(
        first_name="A\x00va", notes=[{"note_id": "n1", "content": "broken \ud800 surrogate"}],
    ))

    assert not contact.quarantined
    assert contact.fields["first_name"] == "Ava" and contact.raw["first_name"] == "Ava"
    assert "\ud800" not in contact.raw["notes"][0]["content"]
    contact.raw["notes"][0]["content"].encode()  # storable now
    assert problems(contact).keys() == {"first_name", "notes"}
