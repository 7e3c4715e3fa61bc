"""The audit log's CSV export: same access and filters as the screen, formula-proof cells,
and the export itself audited."""

import csv
import io
import json

import pytest

from apps.audit.csv_export import COLUMNS, neutralise
from apps.audit.models import AuditEvent, Outcome
from tests.audit.conftest import make_event
from tests.factories import AuditEventFactory


def rows(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_it_exports_the_log_as_csv(admin_client, world, export_url):
    make_event(action="contact.updated", actor=world.editor, workspace=world.workspace,
               target="Jane Doe", details={"status": 200})

    response = admin_client.get(export_url, {"action": "contact.updated"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-marketing-')
    [row] = rows(response)
    assert tuple(row) == COLUMNS
    assert row == {
        "time_utc": "2025-03-10T12:00:00.000000Z",
        "actor": "editor@example.com",
        "workspace": "Acme Marketing",
        "action": "contact.updated",
        "target": "Jane Doe",
        "outcome": "success",
        "details": '{"status": 200}',
    }


@pytest.mark.parametrize(
    "target", ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
)
def test_it_neutralises_formula_cells(admin_client, world, export_url, target):
    make_event(action="contact.updated", actor=world.editor, workspace=world.workspace,
               target=target)

    [row] = rows(admin_client.get(export_url, {"action": "contact.updated"}))

    assert row["target"] == "'" + target


def test_it_neutralises_every_column(admin_client, world, export_url):
    AuditEventFactory(action="contact.updated", actor_label="=evil", workspace=world.workspace,
                      target="@x", details={"a": 1})

    [row] = rows(admin_client.get(export_url, {"action": "contact.updated"}))

    assert row["actor"] == "'=evil"
    assert row["target"] == "'@x"


@pytest.mark.parametrize("cell", [
    " =1+1",  # a space
    "\u00a0=HYPERLINK(\"http://evil.example\")",  # a non-breaking space
    "\t=1+1",  # a tab
    "\r=1+1",  # a carriage return
    "\n+1+1",  # a line feed
    " \t\u00a0\r\n-1+1",  # several of them
    "\u2003@SUM(A1)",  # an em space, one of Unicode's other spaces
    "\u3000=1",  # an ideographic space
    "\ufeff=1",  # a byte order mark, which spreadsheets drop too
    "\u200b =1",  # a zero-width space
])
def test_neutralise_sees_past_leading_whitespace(cell):
    assert neutralise(cell) == "'" + cell


def test_a_formula_behind_a_space_is_neutralised_in_the_file(admin_client, world, export_url):
    make_event(action="contact.updated", actor=world.editor, workspace=world.workspace,
               target="\u00a0=cmd|' /C calc'!A0")

    [row] = rows(admin_client.get(export_url, {"action": "contact.updated"}))

    assert row["target"] == "'\u00a0=cmd|' /C calc'!A0"


def test_neutralise_leaves_ordinary_text_alone():
    assert neutralise("jane@example.com") == "jane@example.com"
    assert neutralise("a=b") == "a=b"
    assert neutralise(" Jane Doe") == " Jane Doe"
    assert neutralise("\u00a0") == "\u00a0"
    assert neutralise("") == ""


def test_it_respects_the_filters(admin_client, world, export_url):
    make_event(action="login.failed", target=world.viewer.email, outcome=Outcome.FAILURE)
    make_event(action="contact.updated", actor=world.editor, workspace=world.workspace)

    exported = rows(admin_client.get(export_url, {"outcome": "failure"}))

    assert [r["action"] for r in exported] == ["login.failed"]
    assert exported[0]["workspace"] == ""


def test_it_never_exports_another_workspaces_events(admin_client, world, export_url):
    make_event(action="secret.thing", actor=world.outsider, workspace=world.other_workspace)
    make_event(action="login.succeeded", actor=world.outsider, target=world.outsider.email)

    exported = rows(admin_client.get(export_url))

    assert "secret.thing" not in {r["action"] for r in exported}
    assert "outsider@example.com" not in json.dumps(exported)


def test_exporting_is_audited(admin_client, world, export_url):
    response = admin_client.get(export_url, {"outcome": "denied", "action": "login."})

    rows(response)
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor == world.admin
    assert event.workspace == world.workspace
    assert event.details == {"filters": {"outcome": "denied", "action": "login."}}


def test_the_file_does_not_contain_its_own_export_event(admin_client, export_url):
    exported = rows(admin_client.get(export_url))

    assert "audit.exported" not in {r["action"] for r in exported}


def test_invalid_filters_are_a_form_error_not_a_crash(admin_client, export_url):
    response = admin_client.get(export_url, {"date_from": "soon"})

    assert response.status_code == 400
    assert b"Some filters need fixing" in response.content
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


@pytest.mark.parametrize("member", ["editor", "viewer"])
def test_it_refuses_members_without_account_write(client, world, export_url, member):
    client.force_login(world.user(member))

    assert client.get(export_url).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_it_hides_the_workspace_from_outsiders(client, world, export_url):
    client.force_login(world.outsider)

    assert client.get(export_url).status_code == 404


def test_it_refuses_post(admin_client, export_url):
    assert admin_client.post(export_url).status_code == 405
