"""In real Chromium: the audit log fits a 1,024 px laptop screen, its rows read as
words, and a row's raw details open on demand."""

import pytest

from apps.accounts.demo import demo_ensure
from tests.browser.test_clear_filters import log_in
from tests.factories import AuditEventFactory, CampaignFactory, EmailActivityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_audit_log_fits_1024_px_and_reads_as_words(page):
    workspace = demo_ensure()
    spring = CampaignFactory(workspace=workspace, cc_id="c-spring", name="Spring sale")
    EmailActivityFactory(campaign=spring, cc_id="7f3c1e9a-4b2d-4c8e-9a1f-0d2b3c4e5f60")
    AuditEventFactory(
        workspace=workspace, action="cc.emails.schedule",
        actor_label="admin@example.com (job campaigns.schedule)",
        target="POST /emails/activities/7f3c1e9a-4b2d-4c8e-9a1f-0d2b3c4e5f60/schedules",
        details={"status": 201, "duration_ms": 184, "request_id": "b62231be-80a5-4aba-"
                 "8259-c65e3cc3fa46", "scheduled_date": "2026-12-05T09:00:00Z"},
    )

    page.set_viewport_size({"width": 1024, "height": 800})
    log_in(page, workspace)
    page.goto(f"/w/{workspace.slug}/audit/")
    row = page.locator("tr", has_text="Scheduled campaign")
    row.wait_for()
    assert "campaign “Spring sale”" in row.inner_text()

    # Nothing wider than the screen: no sideways scrolling, in the page or the table's box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")

    details = row.locator("details")
    assert not details.locator("code", has_text="cc.emails.schedule").is_visible()
    row.locator("summary").click()
    assert details.locator("code", has_text="cc.emails.schedule").is_visible()
