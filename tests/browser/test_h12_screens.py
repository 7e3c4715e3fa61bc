"""Screenshots of the screens issue 12's fixes changed, desktop (1280) and phone
(390), for a person to look at. Only with CCADMIN_SHOTS_DIR set:

    CCADMIN_SHOTS_DIR=/tmp/shots/h12 .venv/bin/python -m pytest tests/browser/test_h12_screens.py
"""

from datetime import timedelta
import os
from pathlib import Path

from django.utils import timezone
import pytest

from apps.accounts.demo import demo_ensure
from apps.constantcontact.ratelimit import api_budget
from apps.mirror.models import EmailStatus, SyncRun
from tests.browser.test_clear_filters import log_in
from tests.factories import (
    AuditEventFactory,
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    EmailActivityFactory,
    ListMembershipFactory,
    SyncRunFactory,
)

SHOTS = os.environ.get("CCADMIN_SHOTS_DIR")
pytestmark = [
    pytest.mark.browser, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SHOTS, reason="set CCADMIN_SHOTS_DIR to take screenshots"),
]


def shoot(page, name: str, path: str | None = None) -> None:
    for label, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        if path:
            page.goto(path)
        page.wait_for_timeout(150)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{label}.png"), full_page=True)


def test_screens(page):
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    workspace = demo_ensure()
    slug = workspace.slug
    vip = ContactListFactory(workspace=workspace, cc_id="l-vip", name="VIP", membership_count=1_180)
    for n in range(1_203):
        contact = ContactFactory(
            workspace=workspace, email=f"member{n:04}@example.com",
            email_status=EmailStatus.UNSUBSCRIBED if n % 100 == 0 else EmailStatus.EXPLICIT)
        ListMembershipFactory(contact=contact, contact_list=vip)
    spring = CampaignFactory(workspace=workspace, cc_id="c-spring", name="Spring sale")
    EmailActivityFactory(campaign=spring, cc_id="a-spring")
    now = timezone.now()
    SyncRunFactory(workspace=workspace, status=SyncRun.Status.SUCCEEDED, kind="full",
                   started_at=now - timedelta(minutes=3), finished_at=now - timedelta(minutes=2),
                   processed=3_000, created_count=3_000, api_calls=14)
    SyncRunFactory(workspace=workspace, status=SyncRun.Status.SUCCEEDED, kind="incremental",
                   started_at=now - timedelta(minutes=1), finished_at=now,
                   processed=12, updated_count=12, api_calls=5)
    SyncRunFactory(workspace=workspace, scope=SyncRun.Scope.CAMPAIGNS, status=SyncRun.Status.RUNNING,
                   kind="full", started_at=now, phase="campaigns")
    for action, target, details in (
        ("cc.emails.schedule", "POST /emails/activities/a-spring/schedules",
         {"status": 201, "duration_ms": 184, "request_id": "b62231be-80a5-4aba-8259-c65e3cc3fa46"}),
        ("campaign.approved", "campaign c-spring", {"fingerprint": "3f9a" * 16}),
        ("cc.lists.update", "PUT /contact_lists/l-vip", {"status": 200, "duration_ms": 92}),
        ("cc.contacts.get", "GET /contacts/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", {"status": 404}),
    ):
        AuditEventFactory(workspace=workspace, action=action, actor_label="admin@example.com",
                          target=target, details=details)
    budget = api_budget()
    budget.record_call(area="contacts", member="", job="contacts.sync", attempts=14)
    budget.record_call(area="contacts", member="", job="bulk.remove_from_lists#42", attempts=3)
    budget.record_call(area="campaigns", member="", job="campaigns.test_send", attempts=1)

    log_in(page, workspace)
    page.goto(f"/w/{slug}/contacts/?q=member00")
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(lambda url: "?" not in url)
    shoot(page, "contacts-after-clear")
    shoot(page, "campaigns", f"/w/{slug}/campaigns/")
    shoot(page, "audit-log", f"/w/{slug}/audit/")
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"/w/{slug}/audit/")
    page.locator("tr", has_text="Scheduled campaign").locator("summary").click()
    page.screenshot(path=str(Path(SHOTS) / "audit-log-1024-open.png"), full_page=True)
    shoot(page, "sync", f"/w/{slug}/sync/")
    shoot(page, "list-detail", f"/w/{slug}/lists/{vip.pk}/")
    shoot(page, "lists", f"/w/{slug}/lists/")
    shoot(page, "budget", f"/w/{slug}/constant-contact/budget/")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/w/{slug}/campaigns/new/")
    page.locator("textarea[name=html_content]").evaluate(
        "el => { el.value = '<html><body>[[trackingImage]]' + 'x'.repeat(5000000) + '</body></html>' }")
    page.get_by_role("button", name="Create draft").click()
    page.get_by_text("Constant Contact accepts at most 150,000").first.wait_for()
    # The editor's script stops the post and keeps the member's text; a 5 MB
    # textarea is too slow for a full-page screenshot, so shorten it first.
    page.locator("textarea[name=html_content]").evaluate("el => { el.value = el.value.slice(0, 4000) }")
    shoot(page, "campaign-5mb")
