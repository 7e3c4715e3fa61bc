"""`account_update` against the simulator: only what it is given is sent, the
address goes by PUT or POST, the gate refuses a member without Account write
whatever the screen did, and the page's cache is forgotten after a write."""

import copy

import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.selectors.account import account_snapshot, account_snapshot_cached
from apps.campaigns.services.account import account_update
from apps.constantcontact.errors import GrantDenied

ADDRESS = {"address_line1": "5 Pier Rd", "city": "Portland", "state_code": "ME",
           "postal_code": "04101", "country_code": "US"}


@pytest.fixture
def sim_contacts() -> int:
    return 0


def sim_account(cw) -> dict:
    with cw.sim.state.lock:
        return copy.deepcopy(cw.sim.state.account)


def update(cw, who: str = "admin", **kwargs):
    kwargs.setdefault("summary", {})
    kwargs.setdefault("address", None)
    kwargs.setdefault("address_exists", True)
    return account_update(workspace=cw.workspace, membership=cw.membership(who), **kwargs)


def cc_calls(cw) -> int:
    return AuditEvent.objects.filter(action__startswith="cc.account.", actor=cw.admin).count()


def test_nothing_to_send_makes_no_call(connected_world):
    before = cc_calls(connected_world)
    result = update(connected_world)
    assert not result.changed
    assert cc_calls(connected_world) == before


def test_the_summary_update_is_partial(connected_world):
    result = update(connected_world, summary={"website": "https://acme.example"})
    account = sim_account(connected_world)
    assert account["website"] == "https://acme.example"
    assert account["organization_name"] == "ccsim Demo Co"
    assert result.fields == ["website"] and result.address == ""


def test_an_existing_address_is_replaced_with_put(connected_world):
    result = update(connected_world, address=ADDRESS, address_exists=True)
    assert sim_account(connected_world)["physical_address"] == ADDRESS
    assert result.address == "updated"
    assert AuditEvent.objects.filter(action="cc.account.physical_address_update").exists()
    assert not AuditEvent.objects.filter(action="cc.account.physical_address_create").exists()


def test_a_missing_address_is_created_with_post(connected_world):
    with connected_world.sim.state.lock:
        connected_world.sim.state.account.pop("physical_address")
    result = update(connected_world, address=ADDRESS, address_exists=False)
    assert sim_account(connected_world)["physical_address"] == ADDRESS
    assert result.address == "created"


def test_a_write_forgets_the_cached_account(connected_world):
    cw = connected_world
    account_snapshot(workspace=cw.workspace, membership=cw.membership("admin"))
    update(cw, summary={"contact_phone": "555-0123"})
    assert account_snapshot_cached(workspace=cw.workspace) is None


@pytest.mark.parametrize("who", ["viewer", "editor", "approver"])
def test_the_gate_refuses_a_member_without_account_write(connected_world, who):
    with pytest.raises(GrantDenied):
        update(connected_world, who=who, summary={"organization_name": "Taken"})
    assert sim_account(connected_world)["organization_name"] == "ccsim Demo Co"
    event = AuditEvent.objects.get(action="cc.account.summary_update")
    assert event.outcome == "denied" and event.actor == connected_world.user(who)
    assert not AuditEvent.objects.filter(action="account.updated").exists()
