"""In real Chromium: an editor walks the CSV import wizard (upload, map, the dry
run's error report, consent, start) and runs a bulk "add to list" from the
contacts screen's checkboxes; the contacts land in the simulator and the job
pages show the results. With CCADMIN_SHOTS_DIR set, it also saves screenshots
of every bulk screen, desktop and 390 px wide."""

import pytest

from apps.bulk.models import BulkChunk, BulkJob
from apps.mirror.models import Contact, ContactList
from tests.browser.support import shoot
from tests.conftest import PASSWORD
from tests.contacts.conftest import connected_world, sim, sim_contacts, sim_settings  # noqa: F401
from tests.contacts.contact_support import mirror_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


CSV = ("Email,First name,Last name,Company\n"
       + "".join(f"browser{i}@example.com,Bea{i},Rowe,Acme\n" for i in range(8))
       + "not-an-address,Bad,Row,Acme\nbrowser2@example.com,Dup,Row,Acme\n")


def test_an_editor_imports_a_file_and_adds_contacts_to_a_list(page, connected_world):  # noqa: F811
    cw = connected_world
    mirror_all(cw)
    slug = cw.workspace.slug
    errors = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text} {m.location}")
            if m.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(cw.editor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{slug}/")

    page.goto(f"/w/{slug}/bulk/")
    page.get_by_role("heading", name="Bulk jobs").wait_for()
    shoot(page, "bulk", "01-jobs-empty")

    # Upload: a bad file first, then the real one.
    page.get_by_role("link", name="Import contacts from a file…").click()
    page.get_by_role("heading", name="Import contacts from a file").wait_for()
    shoot(page, "bulk", "02-import-upload")
    page.set_input_files("input[type=file]", files=[{
        "name": "contacts.xlsx", "mimeType": "application/octet-stream",
        "buffer": b"PK\x03\x04not really a workbook"}])
    page.get_by_role("button", name="Upload and map the columns").click()
    page.get_by_text("spreadsheet workbook").wait_for()
    shoot(page, "bulk", "03-import-upload-refused")
    page.set_input_files("input[type=file]", files=[{
        "name": "leads.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.get_by_role("button", name="Upload and map the columns").click()

    # Map: the columns mapped themselves; pick a list.
    page.get_by_role("heading", name="Import of leads.csv").wait_for()
    assert page.locator("#col-0").input_value() == "email"
    assert page.locator("#col-3").input_value() == "company_name"
    target = ContactList.objects.filter(workspace=cw.workspace).order_by("name").first()
    page.get_by_label(target.name).first.check()
    shoot(page, "bulk", "04-import-map")
    page.get_by_role("button", name="Check every row").click()

    # The dry run: 8 to import, 1 invalid, 1 duplicate, and nothing sent yet.
    page.get_by_role("heading", name="Dry run: every row checked, nothing sent").wait_for()
    assert "2 rows won't be sent" in page.content()
    shoot(page, "bulk", "05-import-review")
    page.get_by_label("These people gave permission").check()
    page.get_by_role("button", name="Start the import of 8 contacts").click()

    page.get_by_role("heading", name="Row by row").wait_for()
    job = BulkJob.objects.get(kind=BulkJob.Kind.IMPORT)
    page.wait_for_function("() => !document.querySelector('[hx-trigger^=every]')",
                           timeout=30_000)
    job.refresh_from_db()
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    page.goto(f"/w/{slug}/bulk/jobs/{job.pk}/")
    shoot(page, "bulk", "06-job-detail-import")
    with cw.sim.state.lock:
        emails = {(c.get("email_address") or {}).get("address")
                  for c in cw.sim.state.contacts.values()}
    assert {f"browser{i}@example.com" for i in range(8)} <= emails

    # Bulk "add to list" from the contacts screen.
    page.goto(f"/w/{slug}/contacts/?q=browser")
    page.locator("#contact-results tbody tr").first.wait_for()
    shoot(page, "bulk", "07-contacts-selection")
    boxes = page.locator("#contact-results tbody input[name=ids]")
    for i in range(3):
        boxes.nth(i).check()
    page.get_by_role("button", name="Act on the chosen contacts…").click()
    page.get_by_role("heading", name="Change many contacts at once").wait_for()
    assert "3 chosen contacts" in page.content()
    page.get_by_label("Add to lists").check()
    other = ContactList.objects.filter(workspace=cw.workspace).order_by("name").last()
    page.locator("fieldset", has_text="for adding to or removing from lists") \
        .get_by_label(other.name).check()
    shoot(page, "bulk", "08-action-choose")
    page.get_by_role("button", name="Review before running").click()
    page.get_by_role("heading", name="Add to lists: review").wait_for()
    shoot(page, "bulk", "09-action-review")
    page.get_by_role("button", name="Start: add to lists for 3 contacts").click()
    page.get_by_role("heading", name="Row by row").wait_for()
    action = BulkJob.objects.get(kind=BulkJob.Kind.ADD_TO_LISTS)
    page.wait_for_function("() => !document.querySelector('[hx-trigger^=every]')",
                           timeout=30_000)
    action.refresh_from_db()
    assert action.state == BulkJob.State.SUCCEEDED, action.error
    chosen = list(action.rows.values_list("contact_cc_id", flat=True))
    with cw.sim.state.lock:
        assert set(chosen) <= cw.sim.state.list_members.get(other.cc_id, set())
    page.goto(f"/w/{slug}/bulk/jobs/{action.pk}/")
    shoot(page, "bulk", "10-job-detail-action")

    # The delete review with its typed confirmation (not run), and the list.
    page.goto(f"/w/{slug}/bulk/actions/?mode=filter&q=browser")
    page.get_by_label("Delete the contacts").check()
    page.get_by_role("button", name="Review before running").click()
    page.get_by_label("to confirm").wait_for()
    shoot(page, "bulk", "11-delete-review")
    page.goto(f"/w/{slug}/bulk/actions/?mode=all&kind=export")
    shoot(page, "bulk", "12-export-choose")

    # A job still running, as its page shows it while the bar moves.
    running = BulkJob.objects.create(
        workspace=cw.workspace, kind=BulkJob.Kind.IMPORT, state=BulkJob.State.RUNNING,
        created_by=cw.editor, title="Import of spring-fair.csv", total_items=4200,
        processed_items=1750, phase="Importing", counts={"rows": 4300, "valid": 4200,
                                                         "invalid": 80, "duplicates": 20},
        api_calls=9)
    for i in range(9):
        BulkChunk.objects.create(job=running, step="import", index=i,
                                 endpoint="activities.contacts_file_import", item_count=500,
                                 state="completed" if i < 3 else "submitted" if i < 5
                                 else "pending")
    page.goto(f"/w/{slug}/bulk/jobs/{running.pk}/")
    page.locator("#job-bar").wait_for()
    shoot(page, "bulk", "13-job-running")
    running.delete()
    page.goto(f"/w/{slug}/bulk/")
    shoot(page, "bulk", "14-jobs-list")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert Contact.objects.filter(workspace=cw.workspace, email__startswith="browser").count() == 8
