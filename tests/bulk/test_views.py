"""The bulk screens through the test client: the wizard end to end, the jobs
list and detail, the progress poll that stops with 286, cancel, downloads
(audited), the contacts screen's selection, and grants enforced server-side."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.bulk.models import BulkFile, BulkJob
from apps.mirror.models import Contact, ContactList
from tests.bulk.conftest import make_csv, sim_activities, sim_emails
from tests.factories import MembershipFactory, RoleFactory, UserFactory


def url(world, name, **kwargs):
    return reverse(f"bulk:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


@pytest.fixture
def editor_client(client, synced_world):
    client.force_login(synced_world.editor)
    return client


def _upload(client, world, data: bytes, name="leads.csv"):
    return client.post(url(world, "import_upload"),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_the_wizard_runs_an_import_end_to_end(editor_client, synced_world, fast_waits,
                                              django_capture_on_commit_callbacks):
    rows = [(f"wiz{i}@example.com", f"W{i}", "Z") for i in range(12)] + [("bad", "B", "")]
    answer = _upload(editor_client, synced_world, make_csv(rows))
    job = BulkJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == url(synced_world, "import_map",
                                                                   job_id=job.pk)
    page = editor_client.get(answer["Location"])
    assert page.status_code == 200 and "First name" in page.content.decode()
    target = ContactList.objects.filter(workspace=synced_world.workspace).first()
    answer = editor_client.post(url(synced_world, "import_map", job_id=job.pk), {
        "has_header": "on", "col-0": "email", "col-1": "first_name", "col-2": "last_name",
        "lists": [target.cc_id], "action": "check"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    review = editor_client.get(answer["Location"]).content.decode()
    assert "Will be imported" in review and "not a valid email" in review
    assert not sim_activities(synced_world, "file_import")  # nothing sent by the dry run
    report = editor_client.get(url(synced_world, "job_rows_csv", job_id=job.pk) + "?only=problems")
    assert report.status_code == 200 and b"bad" in report.content
    # Without consent: refused, nothing sent.
    answer = editor_client.post(url(synced_world, "import_review", job_id=job.pk), {})
    assert "permission" in answer.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = editor_client.post(url(synced_world, "import_review", job_id=job.pk),
                                    {"consent": "on"})
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert {f"wiz{i}@example.com" for i in range(12)} <= sim_emails(synced_world)
    detail = editor_client.get(url(synced_world, "job_detail", job_id=job.pk)).content.decode()
    assert "Imported" in detail and "wiz3@example.com" in detail
    poll = editor_client.get(url(synced_world, "job_progress", job_id=job.pk),
                             HTTP_HX_REQUEST="true")
    assert poll.status_code == 286
    listing = editor_client.get(url(synced_world, "job_list")).content.decode()
    assert "Import of leads.csv" in listing


@pytest.mark.parametrize("data, name, words", [
    (b"PK\x03\x04zip", "contacts.xlsx", "workbook"),
    (b"", "empty.csv", "empty"),
    (b"email,name\n\xc3\xa9mile@example.com,\xc3\x89mile\nzo\xe9@example.com,Zo\xe9\n",
     "mixed.csv", "mixes text encodings"),
])
def test_bad_uploads_come_back_with_a_reason_and_nothing_kept(editor_client, synced_world,
                                                              data, name, words):
    answer = _upload(editor_client, synced_world, data, name)
    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert not BulkJob.objects.exists()


def test_an_upload_over_the_limit_is_refused(editor_client, synced_world, settings):
    settings.CCADMIN_BULK_UPLOAD_MAX_MB = 1
    answer = _upload(editor_client, synced_world, b"email\n" + b"a@example.com\n" * 90_000)
    assert "larger than 1 MB" in answer.content.decode()
    assert not BulkJob.objects.exists()


def test_a_missing_email_column_is_explained(editor_client, synced_world):
    _upload(editor_client, synced_world, make_csv([("x", "y", "z")], header=("A", "B", "C")))
    job = BulkJob.objects.get()
    has_header = {"has_header": "on"} if job.parameters["has_header"] else {}
    answer = editor_client.post(url(synced_world, "import_map", job_id=job.pk), {
        **has_header, "col-0": "", "col-1": "", "col-2": "", "action": "check"})
    assert "which column holds the email" in answer.content.decode()


def test_bulk_add_to_list_from_the_contacts_screen(editor_client, synced_world, fast_waits,
                                                   django_capture_on_commit_callbacks):
    contacts_page = editor_client.get(reverse("contacts:contact_list", kwargs={
        "workspace_slug": synced_world.workspace.slug})).content.decode()
    assert 'form="bulk-chosen"' in contacts_page and "matching this filter" in contacts_page
    pks = list(Contact.objects.filter(workspace=synced_world.workspace)
               .values_list("pk", flat=True)[:3])
    choose = editor_client.get(url(synced_world, "action"), {"mode": "contacts", "ids": pks})
    assert choose.status_code == 200 and "3 chosen contacts" in choose.content.decode()
    target = ContactList.objects.filter(workspace=synced_world.workspace).last()
    selection = choose.context["selection_json_text"]
    review = editor_client.post(url(synced_world, "action"), {
        "selection": selection, "kind": "add_to_lists", "lists": [target.cc_id],
        "step": "review"})
    text = review.content.decode()
    assert review.status_code == 200 and "API calls" in text and "ids, up to 500 a call" in text
    with django_capture_on_commit_callbacks(execute=True):
        answer = editor_client.post(url(synced_world, "action"), {
            "selection": selection, "kind": "add_to_lists", "lists": [target.cc_id],
            "step": "start"})
    assert answer.status_code == 302
    job = BulkJob.objects.get()
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert Contact.objects.filter(pk__in=pks, lists=target).count() == 3


def test_a_selection_of_zero_contacts_is_refused_on_the_page(editor_client, synced_world):
    answer = editor_client.get(url(synced_world, "action"),
                               {"mode": "filter", "q": "zzz-nobody"})
    assert "holds no contacts" in answer.content.decode()


def test_grants_are_enforced_server_side(client, synced_world):
    viewer = synced_world.user("viewer")
    client.force_login(viewer)
    assert client.get(url(synced_world, "job_list")).status_code == 200
    assert client.get(url(synced_world, "import_upload")).status_code == 403
    assert client.post(url(synced_world, "action"), {}).status_code == 403
    # Bulk write without contacts write: no delete offered, and a posted one refused.
    role = RoleFactory(workspace=synced_world.workspace,
                       grants={"bulk": "write", "contacts": "read"})
    member = MembershipFactory(workspace=synced_world.workspace, user=UserFactory(), role=role)
    client.force_login(member.user)
    pks = list(Contact.objects.filter(workspace=synced_world.workspace)
               .values_list("pk", flat=True)[:2])
    page = client.get(url(synced_world, "action"), {"mode": "contacts", "ids": pks})
    assert "Delete the contacts" not in page.content.decode()
    answer = client.post(url(synced_world, "action"), {
        "selection": page.context["selection_json_text"], "kind": "delete", "step": "start",
        "confirmation": "delete 2"})
    assert answer.status_code == 400
    assert not BulkJob.objects.exists() and not sim_activities(synced_world, "contact_delete")


def test_downloads_are_audited_and_expired_files_refused(editor_client, synced_world):
    job = BulkJob.objects.create(workspace=synced_world.workspace, kind=BulkJob.Kind.EXPORT,
                                 state=BulkJob.State.SUCCEEDED, created_by=synced_world.editor,
                                 title="Export")
    stored = BulkFile.objects.create(job=job, kind=BulkFile.Kind.EXPORT, name="e.csv",
                                     content=b"email_address\na@example.com\n", rows=1)
    answer = editor_client.get(url(synced_world, "file_download", file_id=stored.pk))
    assert answer.status_code == 200 and answer.content.startswith(b"email_address")
    assert AuditEvent.objects.filter(action="bulk.file_downloaded").exists()
    from django.utils import timezone

    from apps.bulk.services.jobs import bulk_files_expire
    BulkFile.objects.filter(pk=stored.pk).update(expires_at=timezone.now())
    assert bulk_files_expire() == 1
    answer = editor_client.get(url(synced_world, "file_download", file_id=stored.pk))
    assert answer.status_code == 302


def test_a_custom_field_is_created_from_the_wizard_and_mapped(editor_client, synced_world):
    from apps.mirror.models import CustomField

    _upload(editor_client, synced_world,
            make_csv([("cf@example.com", "A", "12")], header=("Email", "First", "Shoe size")))
    job = BulkJob.objects.get()
    answer = editor_client.post(url(synced_world, "import_map", job_id=job.pk), {
        "has_header": "on", "col-0": "email", "col-1": "first_name", "col-2": "",
        "action": "create_field", "label": "Shoe size", "type": "number", "column": "2"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    field = CustomField.objects.get(workspace=synced_world.workspace, label="Shoe size")
    with synced_world.sim.state.lock:
        assert field.cc_id in synced_world.sim.state.custom_fields
    job.refresh_from_db()
    assert job.parameters["mapping"] == ["email", "first_name", f"cf:{field.cc_id}"]


def test_a_role_without_contacts_read_sees_counts_not_addresses(client, synced_world):
    role = RoleFactory(workspace=synced_world.workspace, grants={"bulk": "read"})
    member = MembershipFactory(workspace=synced_world.workspace, user=UserFactory(), role=role)
    job = BulkJob.objects.create(workspace=synced_world.workspace, kind=BulkJob.Kind.ADD_TAGS,
                                 state=BulkJob.State.SUCCEEDED, created_by=synced_world.editor,
                                 title="Tag “VIP”: 1 chosen contact")
    job.rows.create(line=1, email="secret@example.com", status="done")
    client.force_login(member.user)
    page = client.get(url(synced_world, "job_detail", job_id=job.pk)).content.decode()
    assert "secret@example.com" not in page and "roles that may read contacts" in page
    assert client.get(url(synced_world, "job_rows_csv", job_id=job.pk)).status_code == 302
