"""Editing the account against the simulator: a partial update that sends only
what the member changed, the physical address replaced (PUT) or created (POST,
falling back to PUT on 409), the checks Constant Contact makes caught on the
form first, its refusals shown on the form, a half-saved edit told as such,
and who may edit."""

import copy

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.selectors.account import account_snapshot_cached
from apps.constantcontact import errors
from apps.constantcontact.gate import ConstantContact

WRITES = ("cc.account.summary_update", "cc.account.physical_address_update",
          "cc.account.physical_address_create")


@pytest.fixture
def sim_contacts() -> int:
    return 0


@pytest.fixture
def as_admin(client, connected_world):
    client.force_login(connected_world.admin)
    return client


def url(cw, name: str = "account_edit") -> str:
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": cw.workspace.slug})


def sim_account(cw) -> dict:
    with cw.sim.state.lock:
        return copy.deepcopy(cw.sim.state.account)


def sim_set(cw, **fields) -> None:
    """Change the account at the simulator, as someone in Constant Contact's UI would."""
    with cw.sim.state.lock:
        for key, value in fields.items():
            if value is None:
                cw.sim.state.account.pop(key, None)
            else:
                cw.sim.state.account[key] = value


def shown_form(client, cw) -> dict:
    """What the browser would post back unchanged: each value and its hidden start."""
    form = client.get(url(cw)).context["form"]
    data = {}
    for name in form.fields:
        value = form.initial.get(name, "")
        data[name] = value
        data[form.add_initial_prefix(name)] = value
    return data


def writes() -> int:
    return AuditEvent.objects.filter(action__in=WRITES).count()


def test_the_form_starts_from_constant_contacts_copy(as_admin, connected_world):
    form = as_admin.get(url(connected_world)).context["form"]
    assert form.initial["organization_name"] == "ccsim Demo Co"
    assert form.initial["time_zone_id"] == "US/Eastern"
    assert form.initial["address_city"] == "Boston"
    assert form.initial["address_state_code"] == "MA"
    html = as_admin.get(url(connected_world)).content.decode()
    assert 'name="initial-organization_name" value="ccsim Demo Co"' in html


def test_it_sends_only_the_fields_the_member_changed(as_admin, connected_world):
    cw = connected_world
    data = shown_form(as_admin, cw)
    # A colleague changes the phone in Constant Contact while this form is open.
    sim_set(cw, contact_phone="555-0199")
    data["organization_name"] = "Acme Growth Ltd"

    response = as_admin.post(url(cw), data, follow=True)
    assert response.redirect_chain[-1][0] == url(cw, "account")
    assert "The account details were saved in Constant Contact." in [
        str(m) for m in response.context["messages"]]
    account = sim_account(cw)
    assert account["organization_name"] == "Acme Growth Ltd"
    assert account["contact_phone"] == "555-0199"  # the colleague's change stands
    # Fields the form doesn't have are untouched (PUT /account/summary is partial).
    assert (account["first_name"], account["last_name"]) == ("Demo", "Owner")
    assert account["organization_phone"] == "617-555-0100"
    assert account["physical_address"]["address_line1"] == "1 Main St"
    event = AuditEvent.objects.get(action="account.updated")
    assert event.actor == cw.admin and event.workspace == cw.workspace
    assert event.details == {"fields": ["organization_name"], "address": ""}
    assert not AuditEvent.objects.filter(action__startswith="cc.account.physical").exists()


def test_a_state_is_sent_with_its_country(as_admin, connected_world):
    cw = connected_world
    data = shown_form(as_admin, cw)
    data.update(state_code="ny", time_zone_id="America/New_York")
    as_admin.post(url(cw), data)
    account = sim_account(cw)
    assert (account["country_code"], account["state_code"]) == ("US", "NY")
    assert account["time_zone_id"] == "America/New_York"
    assert AuditEvent.objects.get(action="account.updated").details["fields"] == [
        "country_code", "state_code", "time_zone_id"]


def test_saving_shows_the_new_details_on_the_account_page_at_once(as_admin, connected_world):
    cw = connected_world
    as_admin.get(url(cw, "account"))
    assert account_snapshot_cached(workspace=cw.workspace) is not None
    data = shown_form(as_admin, cw)
    data["organization_name"] = "Acme Growth Ltd"
    response = as_admin.post(url(cw), data, follow=True)
    assert "Acme Growth Ltd" in response.content.decode()


def test_a_changed_address_replaces_the_whole_address(as_admin, connected_world):
    cw = connected_world
    data = shown_form(as_admin, cw)
    data.update(address_city="Cambridge", address_postal_code="02139", address_line2="")
    as_admin.post(url(cw), data)
    assert sim_account(cw)["physical_address"] == {
        "address_line1": "1 Main St", "city": "Cambridge", "state_code": "MA",
        "postal_code": "02139", "country_code": "US",
    }
    assert AuditEvent.objects.get(action="account.updated").details == {
        "fields": [], "address": "updated"}
    assert not AuditEvent.objects.filter(action="cc.account.summary_update").exists()


def test_an_address_is_created_when_the_account_has_none(as_admin, connected_world):
    cw = connected_world
    sim_set(cw, physical_address=None)
    data = shown_form(as_admin, cw)
    data.update(address_line1="10 Rue de Rivoli", address_city="Paris",
                address_postal_code="75001", address_state_name="Île-de-France",
                address_country_code="fr")
    as_admin.post(url(cw), data)
    assert sim_account(cw)["physical_address"] == {
        "address_line1": "10 Rue de Rivoli", "city": "Paris", "state_name": "Île-de-France",
        "postal_code": "75001", "country_code": "FR",
    }
    assert AuditEvent.objects.filter(action="cc.account.physical_address_create",
                                     outcome="success").count() == 1
    assert AuditEvent.objects.get(action="account.updated").details["address"] == "created"


def test_an_address_added_meanwhile_is_replaced_not_refused(as_admin, connected_world,
                                                            monkeypatch):
    cw = connected_world
    sim_set(cw, physical_address=None)
    data = shown_form(as_admin, cw)
    data.update(address_line1="2 Elm St", address_city="Salem", address_state_code="MA",
                address_postal_code="01970", address_country_code="US")
    # The account still had none when this member's save read it, but a colleague
    # adds one before the POST lands: Constant Contact answers 409.
    real_call = ConstantContact.call

    def colleague_first(self, name, **kwargs):
        if name == "account.physical_address_create":
            sim_set(cw, physical_address={"address_line1": "9 Oak St", "city": "Lynn",
                                          "state_code": "MA", "country_code": "US"})
        return real_call(self, name, **kwargs)

    monkeypatch.setattr(ConstantContact, "call", colleague_first)
    as_admin.post(url(cw), data)
    assert sim_account(cw)["physical_address"]["address_line1"] == "2 Elm St"
    assert AuditEvent.objects.get(action="cc.account.physical_address_create").outcome == \
        "failure"
    assert AuditEvent.objects.get(action="account.updated").details["address"] == "updated"


def test_nothing_changed_sends_nothing(as_admin, connected_world):
    response = as_admin.post(url(connected_world), shown_form(as_admin, connected_world),
                             follow=True)
    assert "Nothing was changed." in [str(m) for m in response.context["messages"]]
    assert writes() == 0
    assert not AuditEvent.objects.filter(action="account.updated").exists()


@pytest.mark.parametrize("changes, field", [
    ({"organization_name": " "}, "organization_name"),
    ({"contact_email": "not-an-address"}, "contact_email"),
    ({"contact_email": "a" * 70 + "@example.com"}, "contact_email"),
    ({"contact_phone": "1" * 26}, "contact_phone"),
    ({"website": "not a url"}, "website"),
    ({"time_zone_id": "Mars/Olympus"}, "time_zone_id"),
    ({"country_code": "USA"}, "country_code"),
    ({"country_code": "U1"}, "country_code"),
    ({"state_code": ""}, "state_code"),  # required for the US
    ({"address_line1": "x" * 81}, "address_line1"),
    ({"address_city": ""}, "address_city"),
    ({"address_postal_code": ""}, "address_postal_code"),  # required for the US
    ({"address_state_code": ""}, "address_state_code"),
    ({"address_state_name": "Massachusetts"}, "address_state_name"),
    ({"address_country_code": "GB"}, "address_state_code"),  # GB takes a region, not MA
])
def test_bad_input_is_explained_on_the_form_and_nothing_is_sent(as_admin, connected_world,
                                                                changes, field):
    before = sim_account(connected_world)
    data = shown_form(as_admin, connected_world)
    data.update(changes)
    response = as_admin.post(url(connected_world), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert writes() == 0
    assert sim_account(connected_world) == before


def test_the_physical_address_cannot_be_removed(as_admin, connected_world):
    data = shown_form(as_admin, connected_world)
    for name in list(data):
        if name.startswith("address_"):
            data[name] = ""
    response = as_admin.post(url(connected_world), data)
    assert "be removed, only changed" in str(response.context["form"].non_field_errors())
    assert writes() == 0


def test_a_refusal_from_constant_contact_is_shown_on_the_form(as_admin, connected_world,
                                                              refuse_endpoint):
    refuse_endpoint("account.summary_update", errors.ValidationError(errors=[
        {"error_key": "account.api.validation", "error_message": "Use a confirmed email."}]))
    data = shown_form(as_admin, connected_world)
    data["contact_email"] = "news@ccsim-demo.example"
    response = as_admin.post(url(connected_world), data)
    assert response.status_code == 200
    assert "Use a confirmed email." in str(response.context["form"].non_field_errors())
    assert response.context["form"]["contact_email"].value() == "news@ccsim-demo.example"
    assert sim_account(connected_world)["contact_email"] == "owner@ccsim-demo.example"
    assert not AuditEvent.objects.filter(action="account.updated").exists()


def test_an_unavailable_upstream_keeps_the_input_and_saves_nothing(as_admin, connected_world,
                                                                   no_backoff):
    cw = connected_world
    data = shown_form(as_admin, cw)
    data["organization_name"] = "Acme Growth Ltd"
    cw.control("POST", "faults", error_rate_503=1.0, count=50, path_prefix="/v3/account")
    response = as_admin.post(url(cw), data)
    cw.control("DELETE", "faults")
    form = response.context["form"]
    assert "Nothing was saved." in str(form.non_field_errors())
    assert "did not answer in time or is unavailable" in str(form.non_field_errors())
    assert form["organization_name"].value() == "Acme Growth Ltd"
    assert sim_account(cw)["organization_name"] == "ccsim Demo Co"


def test_details_saved_but_address_refused_is_told_as_such(as_admin, connected_world,
                                                           no_backoff):
    cw = connected_world
    as_admin.get(url(cw, "account"))
    data = shown_form(as_admin, cw)
    data.update(organization_name="Acme Growth Ltd", address_city="Cambridge")
    cw.control("POST", "faults", error_rate_503=1.0, count=50,
               path_prefix="/v3/account/summary/physical_address")
    response = as_admin.post(url(cw), data)
    cw.control("DELETE", "faults")
    assert response.status_code == 200
    message = str(response.context["form"].non_field_errors())
    assert "The account details were saved, but the physical address was not." in message
    account = sim_account(cw)
    assert account["organization_name"] == "Acme Growth Ltd"
    assert account["physical_address"]["city"] == "Boston"
    event = AuditEvent.objects.get(action="account.updated")
    assert event.details["fields"] == ["organization_name"]
    assert event.details["address"] == ""
    assert event.details["address_error"]
    # The account page must not keep showing the old name from its cache.
    assert account_snapshot_cached(workspace=cw.workspace) is None


def test_the_form_is_not_offered_when_constant_contact_cannot_be_read(as_admin, connected_world,
                                                                       no_backoff):
    connected_world.control("POST", "faults", error_rate_503=1.0, count=50)
    response = as_admin.get(url(connected_world))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "did not answer in time or is unavailable" in response.content.decode()


@pytest.mark.parametrize("member", ["viewer", "editor", "approver"])
def test_it_refuses_members_without_account_write(client, connected_world, member):
    client.force_login(connected_world.user(member))
    before = AuditEvent.objects.filter(action__startswith="cc.").count()
    assert client.get(url(connected_world)).status_code == 403
    assert client.post(url(connected_world), {"organization_name": "Taken"}).status_code == 403
    assert AuditEvent.objects.filter(action__startswith="cc.").count() == before
    assert sim_account(connected_world)["organization_name"] == "ccsim Demo Co"


def test_it_hides_the_workspace_from_outsiders(client, connected_world):
    client.force_login(connected_world.outsider)
    assert client.get(url(connected_world)).status_code == 404
    assert client.post(url(connected_world), {"organization_name": "Taken"}).status_code == 404
    assert sim_account(connected_world)["organization_name"] == "ccsim Demo Co"
