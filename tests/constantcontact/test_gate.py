"""The gate: grants and scopes are checked before anything is sent, and every
call, allowed or refused, is audited without tokens or personal data."""

import pytest

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from apps.constantcontact.errors import (
    BudgetExhausted,
    GrantDenied,
    NeedsReconnect,
    NotConnected,
    NotFound,
)
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import api_budget
from tests.constantcontact.conftest import API, TOKEN_URL, connect, token_payload

CONTACT_ID = "1618ae62-4752-11e9-9c8a-fa163e6b01c1"


def member(world, name: str) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(name))


def cc_as(world, name: str, **kwargs):
    return gate_for(workspace=world.workspace, actor=Actor.member(member(world, name)), **kwargs)


def last_event() -> AuditEvent:
    return AuditEvent.objects.filter(action__startswith="cc.").order_by("-id").first()


def test_a_viewer_is_refused_a_write_and_nothing_is_sent(world, connection, mocked):
    with pytest.raises(GrantDenied) as caught:
        cc_as(world, "viewer").call("contacts.create",
                                    json={"email_address": {"address": "x@example.com"}})
    assert caught.value.reason == "role_denies"
    assert len(mocked.calls) == 0
    event = last_event()
    assert event.action == "cc.contacts.create"
    assert event.outcome == "denied"
    assert event.actor == world.viewer
    assert event.target == "POST /contacts"
    assert event.details["reason"] == "role_denies"
    assert api_budget().usage().events["denied"] == 1


def test_an_allowed_call_is_audited_with_status_duration_and_request_id(world, connection, mocked):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID},
               headers={"x-amzn-RequestId": "req-42"})
    result = cc_as(world, "viewer").call("contacts.get", contact_id=CONTACT_ID)
    assert result.data["contact_id"] == CONTACT_ID
    event = last_event()
    assert (event.action, event.outcome) == ("cc.contacts.get", "success")
    assert event.actor == world.viewer
    assert event.target == f"GET /contacts/{CONTACT_ID}"
    details = event.details
    assert details["status"] == 200
    assert details["request_id"] == "req-42"
    assert details["attempts"] == 1
    assert details["endpoint"] == "GET /contacts/{contact_id}"
    assert isinstance(details["duration_ms"], int)


def test_an_upstream_error_is_audited_as_a_failure(world, connection, mocked):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", status=404,
               json=[{"error_key": "contacts.api.not_found", "error_message": "Not found"}])
    with pytest.raises(NotFound):
        cc_as(world, "editor").call("contacts.get", contact_id=CONTACT_ID)
    event = last_event()
    assert event.outcome == "failure"
    assert (event.details["status"], event.details["error_key"]) == (404, "contacts.api.not_found")


def test_a_call_without_the_scope_is_refused_before_sending(world, mocked):
    connect(world.workspace, scopes="contact_data offline_access")
    with pytest.raises(GrantDenied) as caught:
        cc_as(world, "admin").call("emails.list")
    assert caught.value.reason == "scope_missing"
    assert len(mocked.calls) == 0
    assert last_event().outcome == "denied"


def test_scheduling_needs_the_send_capability(world, connection, mocked):
    url = f"{API}/emails/activities/{CONTACT_ID}/schedules"
    mocked.post(url, status=201, json=[{"scheduled_date": "2026-12-01T10:00:00Z"}])
    with pytest.raises(GrantDenied) as caught:
        cc_as(world, "editor").call("emails.schedule", campaign_activity_id=CONTACT_ID,
                                    json={"scheduled_date": "2026-12-01T10:00:00Z"})
    assert caught.value.reason == "capability_missing"
    assert len(mocked.calls) == 0
    # The approver reads campaigns and may send: allowed.
    cc_as(world, "approver").call("emails.schedule", campaign_activity_id=CONTACT_ID,
                                  json={"scheduled_date": "2026-12-01T10:00:00Z"})
    assert len(mocked.calls) == 1


def test_a_job_is_refused_once_its_member_loses_the_grant(world, connection, mocked):
    editor = member(world, "editor")
    cc = gate_for(workspace=world.workspace,
                  actor=Actor.job("contacts.import", on_behalf_of=editor))
    editor.role = world.roles["viewer"]
    editor.save()  # demoted while the job was queued
    with pytest.raises(GrantDenied):
        cc.call("contacts.delete", contact_id=CONTACT_ID)
    assert len(mocked.calls) == 0
    event = last_event()
    assert event.details["job"] == "contacts.import"
    assert event.actor_label == "editor@example.com (job contacts.import)"


def test_a_member_of_another_workspace_is_refused(world, connection, mocked):
    outsider = Membership.objects.get(user=world.outsider)
    cc = gate_for(workspace=world.workspace, actor=Actor.member(outsider))
    with pytest.raises(GrantDenied) as caught:
        cc.call("contacts.list")
    assert caught.value.reason == "not_a_member"
    assert len(mocked.calls) == 0


def test_an_unconnected_workspace_is_refused_and_audited(world, mocked):
    with pytest.raises(NotConnected):
        cc_as(world, "admin").call("contacts.list")
    assert last_event().details["error_key"] == "not_connected"
    Connection.objects.create(workspace=world.workspace, status=Connection.Status.NEEDS_RECONNECT)
    with pytest.raises(NeedsReconnect):
        cc_as(world, "admin").call("contacts.list")
    assert len(mocked.calls) == 0


def test_query_values_and_bodies_never_reach_the_audit_log(world, connection, mocked):
    mocked.get(f"{API}/contacts", json={"contacts": []})
    cc_as(world, "editor").call("contacts.list", params={"email": "private.person@example.com"})
    mocked.post(f"{API}/contacts", status=201, json={"contact_id": CONTACT_ID})
    cc_as(world, "editor").call("contacts.create",
                                json={"email_address": {"address": "private.person@example.com"},
              "create_source": "Account"})
    assert mocked.calls[0].request.params == {"email": "private.person@example.com"}
    for event in AuditEvent.objects.filter(action__startswith="cc."):
        assert "private.person" not in f"{event.target} {event.details} {event.actor_label}"
        assert "access-1" not in str(event.details)


def test_a_path_parameter_must_be_an_id(world, connection, mocked):
    for bad in ("someone@example.com", "../account/summary", ""):
        with pytest.raises(ValueError):
            cc_as(world, "editor").call("contacts.get", contact_id=bad)
    assert len(mocked.calls) == 0


def test_pages_follow_the_next_link_to_the_last_page(world, connection, mocked):
    # Contacts carry the whole original query inside the cursor (contract §2.6).
    first = {"contacts": [{"contact_id": "c1"}],
             "_links": {"next": {"href": "/v3/contacts?cursor=bGltaXQ9MSZuZXh0PTI="}}}
    second = {"contacts": [{"contact_id": "c2"}],
              "_links": {"next": {"href": "/v3/contacts?cursor=bGltaXQ9MSZuZXh0PTM="}}}
    last = {"contacts": [{"contact_id": "c3"}]}
    mocked.get(f"{API}/contacts?limit=1&email=a%40example.com", json=first)
    mocked.get(f"{API}/contacts?cursor=bGltaXQ9MSZuZXh0PTI=", json=second)
    mocked.get(f"{API}/contacts?cursor=bGltaXQ9MSZuZXh0PTM=", json=last)

    pages = list(cc_as(world, "viewer").pages(
        "contacts.list", params={"limit": 1, "email": "a@example.com"}))

    ids = [c["contact_id"] for page in pages for c in page.data["contacts"]]
    assert ids == ["c1", "c2", "c3"]
    assert [call.request.url for call in mocked.calls] == [
        f"{API}/contacts?limit=1&email=a%40example.com",
        f"{API}/contacts?cursor=bGltaXQ9MSZuZXh0PTI=",  # as given, no parameters added
        f"{API}/contacts?cursor=bGltaXQ9MSZuZXh0PTM=",
    ]
    events = AuditEvent.objects.filter(action="cc.contacts.list")
    assert events.count() == 3
    assert {e.target for e in events} == {"GET /contacts"}  # never the cursor


def test_segments_stop_at_a_null_next_link(world, connection, mocked):
    mocked.get(f"{API}/segments", json={"segments": [{"segment_id": 1}], "_links": {"next": None}})
    assert len(list(cc_as(world, "viewer").pages("segments.list"))) == 1


def test_calls_are_counted_by_area_member_and_job(world, connection, mocked):
    mocked.get(f"{API}/contact_lists", json={"lists": []})
    editor = member(world, "editor")
    cc_as(world, "editor").call("lists.list")
    gate_for(workspace=world.workspace,
             actor=Actor.job("lists.sync", on_behalf_of=editor)).call("lists.list")
    usage = api_budget().usage()
    assert usage.total == 2
    assert usage.by_area == {"lists": 2}
    assert usage.by_member == {str(world.editor.pk): 2}
    assert usage.by_job == {"interactive": 1, "lists.sync": 1}


def test_a_job_cannot_spend_the_interactive_reserve(world, connection, mocked, settings):
    settings.CC_DAILY_QUOTA = 2
    settings.CC_INTERACTIVE_RESERVE = 1
    mocked.get(f"{API}/contact_tags", json={"tags": []})
    editor = member(world, "editor")
    job = gate_for(workspace=world.workspace, actor=Actor.job("tags.sync", on_behalf_of=editor))
    job.call("tags.list")
    with pytest.raises(BudgetExhausted):
        job.call("tags.list")
    assert len(mocked.calls) == 1
    cc_as(world, "editor").call("tags.list")  # a member waiting on a screen may use it
    assert len(mocked.calls) == 2
    assert last_event().outcome == "success"


def test_an_expired_token_is_refreshed_once_on_401_through_the_gate(world, connection, mocked):
    mocked.get(f"{API}/account/summary", status=401,
               json={"error_key": "unauthorized", "error_message": "Unauthorized"})
    mocked.get(f"{API}/account/summary", json={"organization_name": "Acme"})
    mocked.post(TOKEN_URL, json=token_payload(2))
    assert cc_as(world, "viewer").call("account.summary_get").data == {"organization_name": "Acme"}
    assert [c.request.url.split("/")[-1] for c in mocked.calls] == ["summary", "token", "summary"]
    assert mocked.calls[2].request.headers["Authorization"] == "Bearer access-2"


# --- the per-call check: one query, every call ------------------------------------------

def _queries_of(captured, table: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if table in q["sql"]]


def test_the_grant_and_connection_check_is_one_query_per_call(world, connection, mocked):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    mocked.get(f"{API}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID})
    cc = cc_as(world, "viewer")
    with CaptureQueriesContext(db) as captured:
        cc.call("contacts.get", contact_id=CONTACT_ID)
        cc.call("contacts.get", contact_id=CONTACT_ID)

    checks = _queries_of(captured, "accounts_membership")
    assert len(checks) == 2  # one per call, not one per table
    assert all("constantcontact_connection" in sql for sql in checks)
    # The audit events (each an insert chained under the audit chain's head) are
    # the only other queries; nothing else is read.
    others = [q["sql"] for q in captured.captured_queries if q["sql"] not in checks]
    assert len(_queries_of(captured, "INSERT INTO \"audit_auditevent\"")) == 2
    assert all("audit_audit" in sql for sql in others)


def test_one_gate_reuses_its_client_across_calls(world, connection, mocked):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID})
    cc = cc_as(world, "viewer")
    cc.call("contacts.get", contact_id=CONTACT_ID)
    client = cc._api
    cc.call("contacts.get", contact_id=CONTACT_ID)

    assert client is not None and cc._api is client


def test_a_grant_revoked_between_calls_stops_the_next_call(world, connection, mocked):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID})
    cc = cc_as(world, "editor")
    cc.call("contacts.get", contact_id=CONTACT_ID)

    editor = member(world, "editor")
    editor.role = world.roles["viewer"]
    editor.save()
    with pytest.raises(GrantDenied):
        cc.call("contacts.create", json={"email_address": {"address": "x@example.com"}})
    assert len(mocked.calls) == 1
