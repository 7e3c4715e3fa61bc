"""What a request to the bulk screens must never do (review of bf1a6cc): answer
a forged or odd input with a 500, start or change a job twice when a form is
sent twice, show a file's addresses to a role that may not read contacts, or
take in a whole oversized upload before refusing it."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.bulk.importfile import FileProblem, read_table, validate_rows
from apps.bulk.models import BulkJob
from apps.bulk.services import imports
from apps.mirror.models import Contact, ContactList, Tag
from tests.bulk.conftest import make_csv
from tests.factories import MembershipFactory, RoleFactory, UserFactory


def url(world, name, **kwargs):
    return reverse(f"bulk:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


@pytest.fixture
def editor_client(client, synced_world):
    client.force_login(synced_world.editor)
    return client


# --- odd input ---------------------------------------------------------------------

@pytest.mark.parametrize("month, day", [("²", "4"), ("3", "²"), ("3", "1" * 5000),
                                        ("9" * 30, "4")])
def test_a_birthday_cell_of_odd_digits_is_a_row_problem(month, day):
    data = f"email,month,day\nok@example.com,{month},{day}\n".encode()
    table = read_table(data, filename="f.csv")
    report = validate_rows(table, ["email", "birthday_month", "birthday_day"],
                           [])
    assert report.invalid == 1
    assert "birthday" in report.results[0][4]


@pytest.mark.parametrize("selection", [
    "[]", '"contacts"', "5", '{"mode": "contacts", "ids": 5}',
    '{"mode": "contacts", "ids": "12"}', '{"mode": "contacts", "ids": ["²"]}',
    '{"mode": "contacts", "ids": ["99999999999999999999999"]}',
    '{"mode": "lists", "lists": ["²"]}', '{"mode": "lists", "lists": 7}',
    '{"mode": "filter", "list": "²", "tag": "²", "status": ["x"]}',
    '{"mode": "segment", "segment": "²"}', '{"mode": ["contacts"]}',
    "[" * 100_000,
])
def test_a_forged_selection_is_refused_not_a_500(editor_client, synced_world, selection):
    answer = editor_client.post(url(synced_world, "action"), {
        "selection": selection, "kind": "add_tags", "step": "start"})
    assert answer.status_code == 400
    assert not BulkJob.objects.exists()


# --- sent twice ----------------------------------------------------------------------

def _checked_draft(world) -> BulkJob:
    job = imports.import_draft_create(
        workspace=world.workspace, user=world.editor, name="leads.csv",
        data=make_csv([(f"race{i}@example.com", "R", str(i)) for i in range(3)]))
    target = ContactList.objects.filter(workspace=world.workspace).first()
    imports.import_dry_run(job=job, mapping=["email", "first_name", "last_name"],
                           list_ids=[target.cc_id], tag_ids=[])
    return BulkJob.objects.get(pk=job.pk)


def test_an_import_started_from_two_tabs_starts_once(synced_world):
    first_tab = _checked_draft(synced_world)
    second_tab = BulkJob.objects.get(pk=first_tab.pk)  # loaded before the first start
    imports.import_start(job=first_tab, user=synced_world.editor, consent=True)
    with pytest.raises(FileProblem, match="already started"):
        imports.import_start(job=second_tab, user=synced_world.editor, consent=True)
    assert AuditEvent.objects.filter(action="bulk.job_started").count() == 1


def test_a_dry_run_from_a_stale_tab_leaves_a_started_import_alone(synced_world):
    job = _checked_draft(synced_world)
    stale = BulkJob.objects.get(pk=job.pk)
    imports.import_start(job=job, user=synced_world.editor, consent=True)
    rows = job.rows.count()
    with pytest.raises(FileProblem, match="already started"):
        imports.import_dry_run(job=stale, mapping=["email", "", ""], list_ids=[], tag_ids=[])
    with pytest.raises(FileProblem, match="already started"):
        imports.import_mapping_save(job=stale, mapping=["email", "", ""], list_ids=[],
                                    tag_ids=[], has_header=True)
    job.refresh_from_db()
    assert job.rows.count() == rows and job.parameters["list_ids"]
    assert job.state == BulkJob.State.QUEUED


def test_discarding_from_a_stale_tab_keeps_a_started_import(synced_world):
    job = _checked_draft(synced_world)
    stale = BulkJob.objects.get(pk=job.pk)
    imports.import_start(job=job, user=synced_world.editor, consent=True)
    assert imports.import_discard(job=stale) is False
    assert BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.QUEUED).exists()


def test_a_double_click_on_start_makes_one_job(editor_client, synced_world):
    pks = list(Contact.objects.filter(workspace=synced_world.workspace, deleted_upstream=None)
               .order_by("pk").values_list("pk", flat=True)[:3])
    tag = Tag.objects.filter(workspace=synced_world.workspace).first()
    review = editor_client.post(url(synced_world, "action"), {
        "selection": json.dumps({"mode": "contacts", "ids": pks}), "kind": "add_tags",
        "tags": [tag.cc_id], "step": "review"})
    assert review.status_code == 200
    token = review.context["start_token"]
    assert f'name="token" value="{token}"' in review.content.decode()
    form = {"selection": review.context["selection_json_text"], "kind": "add_tags",
            "tags": [tag.cc_id], "step": "start", "token": token}
    first = editor_client.post(url(synced_world, "action"), form)
    second = editor_client.post(url(synced_world, "action"), form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert BulkJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="bulk.job_started").count() == 1


# --- who sees the file's addresses ----------------------------------------------------------

def test_the_import_wizard_needs_read_on_contacts(client, synced_world):
    draft = imports.import_draft_create(
        workspace=synced_world.workspace, user=synced_world.editor, name="leads.csv",
        data=make_csv([("private@example.com", "P", "Q")]))
    role = RoleFactory(workspace=synced_world.workspace, grants={"bulk": "write"})
    member = MembershipFactory(workspace=synced_world.workspace, user=UserFactory(), role=role)
    client.force_login(member.user)
    for name in ("import_map", "import_review"):
        answer = client.get(url(synced_world, name, job_id=draft.pk))
        assert answer.status_code == 403
        assert b"private@example.com" not in answer.content
    assert client.get(url(synced_world, "import_upload")).status_code == 403
    assert client.post(url(synced_world, "import_discard", job_id=draft.pk)).status_code == 403
    assert BulkJob.objects.filter(pk=draft.pk).exists()
    page = client.get(url(synced_world, "job_list")).content.decode()
    assert "Import contacts from a file" not in page


# --- an oversized upload ------------------------------------------------------------------

def test_an_oversized_upload_is_refused_before_it_is_parsed(editor_client, synced_world,
                                                           settings, monkeypatch):
    from django.http import multipartparser

    parsed = []
    real_parse = multipartparser.MultiPartParser.parse

    def parse(self):
        parsed.append(True)
        return real_parse(self)

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", parse)
    settings.CCADMIN_BULK_UPLOAD_MAX_MB = 0  # the limit is then the envelope's margin alone
    data = b"email\n" + b"a@example.com\n" * 20_000
    answer = editor_client.post(url(synced_world, "import_upload"),
                                {"file": SimpleUploadedFile("big.csv", data, "text/csv")})
    assert answer.status_code == 413
    assert "nothing was read or kept" in answer.content.decode()
    assert not parsed and not BulkJob.objects.exists()
