"""In real Chromium: the main pages on a phone, in dark mode, from the keyboard and
under axe-core.

- At 390 px no page scrolls sideways (wide tables scroll in their own box), the
  side navigation folds behind "Menu", and the review's Approve and Request
  changes are thumb-sized.
- axe-core finds no serious or critical violation on any main page, in the light
  and in the dark colour scheme.
- "/", "g c", "?" and friends work, and do nothing while typing in a field.

With CCADMIN_SHOTS_DIR set, screenshots land in $CCADMIN_SHOTS_DIR/phone/.
"""

from dataclasses import dataclass
import os
from pathlib import Path

from django.urls import reverse
from django.utils import timezone
import pytest

from apps.accounts.demo import demo_ensure
from apps.accounts.models import Workspace
from apps.mirror.models import EmailStatus
from tests.browser.test_clear_filters import log_in
from tests.factories import (
    ApprovalFactory,
    AuditEventFactory,
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    EmailActivityFactory,
    ListMembershipFactory,
    TagFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = os.environ.get("CCADMIN_SHOTS_DIR")

HTML = ("<html><body>[[trackingImage]]\n<h1>Spring sale</h1>\n<p>Everything is 20% off "
        "until Sunday.</p>\n<p>See you soon.</p>\n</body></html>")


@dataclass
class Pages:
    workspace: Workspace
    main: dict[str, str]  # a name -> its path
    review: str  # a pending review the admin may decide
    changed_review: str  # a review whose campaign changed since it was asked for


def _url(name: str, slug: str, **kwargs) -> str:
    return reverse(name, kwargs={"workspace_slug": slug, **kwargs})


def build_world() -> Pages:
    """The demo workspace with something on every main page."""
    workspace = demo_ensure()
    slug = workspace.slug
    vip = ContactListFactory(workspace=workspace, cc_id="l-vip", name="VIP customers",
                             membership_count=55)
    TagFactory(workspace=workspace, name="Trade show 2026")
    CustomFieldFactory(workspace=workspace, label="Shoe size", name="shoe_size")
    contacts = []
    for n in range(60):
        contact = ContactFactory(
            workspace=workspace, email=f"customer{n:03}@example.com", company_name="Acme Outdoor",
            email_status=EmailStatus.UNSUBSCRIBED if n % 20 == 0 else EmailStatus.EXPLICIT)
        if n < 55:  # not everyone: the list's pages count differently from the whole
            ListMembershipFactory(contact=contact, contact_list=vip)
        contacts.append(contact)

    author = UserFactory(email="editor@example.com", full_name="Eddie Editor")
    spring = CampaignFactory(workspace=workspace, cc_id="c-spring", name="Spring sale")
    EmailActivityFactory(campaign=spring, cc_id="a-spring", subject="Spring sale: 20% off",
                         from_name="Acme Outdoor", from_email="news@example.com",
                         reply_to_email="news@example.com", html_content=HTML,
                         contact_list_ids=["l-vip"],
                         planned_send_at=timezone.now() + timezone.timedelta(days=2))
    ApprovalFactory(campaign=spring, requested_by=author, request_note="Ready for Friday")

    summer = CampaignFactory(workspace=workspace, cc_id="c-summer", name="Summer preview")
    email = EmailActivityFactory(campaign=summer, cc_id="a-summer", subject="Summer is coming",
                                 from_name="Acme Outdoor", from_email="news@example.com",
                                 reply_to_email="news@example.com", html_content=HTML,
                                 contact_list_ids=["l-vip"])
    ApprovalFactory(campaign=summer, requested_by=author)
    # Changed behind the request's back: the review shows what changed, line by line.
    email.subject = "Summer is coming: early-bird prices for our most loyal customers"
    email.html_content = HTML.replace("20% off until Sunday", "25% off until the end of the month")
    email.save()

    AuditEventFactory(workspace=workspace, action="campaign.approved", actor_label="admin@example.com",
                      target="campaign c-spring", details={"fingerprint": "3f9a" * 16})
    AuditEventFactory(workspace=workspace, action="cc.contacts.get", actor_label="admin@example.com",
                      target=f"GET /contacts/{contacts[0].cc_id}", details={"status": 200})

    main = {
        "overview": _url("dashboard:home", slug),
        "contacts": _url("contacts:contact_list", slug),
        "contact": _url("contacts:contact_detail", slug, contact_id=contacts[1].pk),
        "lists": _url("contacts:list_index", slug),
        "list": _url("contacts:list_detail", slug, list_id=vip.pk),
        "tags": _url("contacts:tag_index", slug),
        "custom-fields": _url("contacts:custom_field_index", slug),
        "segments": _url("segments:segment_index", slug),
        "bulk-jobs": _url("bulk:job_list", slug),
        "campaigns": _url("campaigns:campaign_list", slug),
        "campaign": _url("campaigns:campaign_detail", slug, campaign_id=spring.pk),
        "review": _url("campaigns:approval_review", slug, campaign_id=spring.pk),
        "changed-review": _url("campaigns:approval_review", slug, campaign_id=summer.pk),
        "reports": _url("reporting:overview", slug),
        "account": _url("campaigns:account", slug),
        "team": _url("accounts:members", slug),
        "constant-contact": _url("constantcontact:connection", slug),
        "api-budget": _url("constantcontact:budget", slug),
        "audit-log": _url("audit:events", slug),
    }
    return Pages(workspace=workspace, main=main, review=main["review"], changed_review=main["changed-review"])


def signed_in_page(browser, live_server, *, viewport: dict, scheme: str = "light"):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    folder = Path(SHOTS) / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(150)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_no_main_page_scrolls_sideways_on_a_phone(browser, live_server):
    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=PHONE)
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        log_in(page, pages.workspace)
        too_wide = {}
        for name, path in pages.main.items():
            page.goto(path)
            page.wait_for_load_state("networkidle")
            if (width := page_width(page)) > PHONE["width"] + 1:
                too_wide[name] = width
        assert too_wide == {}
        assert errors == []  # nothing the CSP blocked
    finally:
        context.close()


def test_the_menu_folds_on_a_phone_and_opens_with_one_tap(browser, live_server):
    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=PHONE)
    try:
        log_in(page, pages.workspace)
        page.goto(pages.main["contacts"])
        toggle = page.locator("summary.nav-toggle")
        nav = page.get_by_role("navigation", name="Workspace")
        assert toggle.is_visible()
        assert "Contacts" in toggle.inner_text()  # says where you are
        assert not nav.is_visible()
        assert toggle.get_attribute("aria-controls") == "sidenav"
        assert toggle.get_attribute("aria-expanded") == "false"
        assert toggle.bounding_box()["height"] >= 44

        toggle.click()
        nav.get_by_role("link", name="Campaigns").wait_for()
        assert toggle.get_attribute("aria-expanded") == "true"
        shoot(page, "menu-open-phone")
        nav.get_by_role("link", name="Campaigns").click()
        page.wait_for_url(f"**{pages.main['campaigns']}")
        page.get_by_role("heading", name="Campaigns", exact=True).wait_for()
        assert not page.get_by_role("navigation", name="Workspace").is_visible()  # closed again

        # On a wide screen the navigation is simply there, and "Menu" is not.
        page.set_viewport_size(DESKTOP)
        page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Contacts").wait_for()
        assert not page.locator("summary.nav-toggle").is_visible()
    finally:
        context.close()


def test_the_menu_works_without_javascript(browser, live_server):
    pages = build_world()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, pages.workspace)
        page.goto(pages.main["overview"])
        nav = page.get_by_role("navigation", name="Workspace")
        assert not nav.is_visible()
        page.locator("summary.nav-toggle").click()
        nav.get_by_role("link", name="Lists").click()
        page.wait_for_url(f"**{pages.main['lists']}")
        # ... and a wide screen shows the navigation without it too.
        page.set_viewport_size(DESKTOP)
        assert page.get_by_role("navigation", name="Workspace").is_visible()
    finally:
        context.close()


def test_a_review_can_be_decided_with_one_thumb(browser, live_server):
    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=PHONE)
    try:
        log_in(page, pages.workspace)
        page.goto(pages.changed_review)
        page.locator("pre.diff").wait_for()
        assert page_width(page) <= PHONE["width"] + 1
        shoot(page, "review-changed-phone")

        page.goto(pages.review)
        for name in ("Approve", "Request changes"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        # The comment box spans the screen (approving itself, against the simulator, is
        # test_campaign_approval_flow's part).
        assert page.get_by_label("Comment").bounding_box()["width"] >= PHONE["width"] - 80
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_any_main_page(browser, live_server, scheme):
    from axe_playwright_python.sync_playwright import Axe

    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=DESKTOP, scheme=scheme)
    axe = Axe()
    try:
        log_in(page, pages.workspace)
        found = {}
        for name, path in pages.main.items():
            page.goto(path)
            page.wait_for_load_state("networkidle")
            for width in (DESKTOP, PHONE):
                page.set_viewport_size(width)
                page.wait_for_timeout(100)  # the layout and app.js settle at the new width
                results = axe.run(page)
                serious = [
                    f"{v['id']} ({v['impact']}): "
                    + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
                    for v in results.response["violations"]
                    if v["impact"] in ("serious", "critical")
                ]
                if serious:
                    found[f"{name}@{width['width']}"] = serious
            page.set_viewport_size(DESKTOP)
        assert found == {}
    finally:
        context.close()


def test_keyboard_shortcuts(browser, live_server):
    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=DESKTOP)
    try:
        log_in(page, pages.workspace)
        page.goto(pages.main["contacts"])
        page.wait_for_load_state("networkidle")

        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.name") == "q"
        # Typing in the box is typing, not shortcuts: "g c" stays in the box.
        page.keyboard.type("gc")
        assert page.url.endswith(pages.main["contacts"]) or "q=gc" in page.url
        assert page.get_by_label("Search").input_value() == "gc"
        page.locator("h1").click()  # leave the field

        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        dialog.wait_for()
        assert "Go to Campaigns" in dialog.inner_text()
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")

        page.keyboard.press("g")
        page.keyboard.press("c")
        page.wait_for_url(f"**{pages.main['campaigns']}")
        page.get_by_role("heading", name="Campaigns", exact=True).wait_for()
        page.keyboard.press("g")
        page.keyboard.press("l")
        page.wait_for_url(f"**{pages.main['lists']}")
        page.keyboard.press("g")
        page.keyboard.press("o")
        page.wait_for_url(f"**{pages.main['overview']}")

        # The user menu offers the list too, for those who don't know to press "?".
        page.locator("details.user-menu summary").click()
        page.get_by_role("button", name="Keyboard shortcuts").click()
        dialog.wait_for()
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")
    finally:
        context.close()


def test_contacts_paging_forward_and_back_keeps_the_filter_and_the_checkboxes(browser, live_server):
    pages = build_world()
    context, page = signed_in_page(browser, live_server, viewport=DESKTOP)
    try:
        log_in(page, pages.workspace)
        page.goto(pages.main["contacts"])
        page.get_by_label("List").select_option(label="VIP customers")
        results = page.locator("#contact-results")
        results.get_by_text("1–50 of 55").wait_for()
        results.get_by_role("link", name="Next →").click()
        results.get_by_text("51–55 of 55").wait_for()
        assert "list=" in page.url
        assert results.locator('input[type=checkbox][name="ids"]').count() == 5
        results.get_by_role("link", name="← Previous").click()
        results.get_by_text("1–50 of 55").wait_for()
        assert "list=" in page.url
        # Choosing every row on the page still ticks every box.
        results.get_by_label("Choose every contact on this page").check()
        assert results.locator('input[name="ids"]:checked').count() == 50
    finally:
        context.close()


@pytest.mark.skipif(not SHOTS, reason="set CCADMIN_SHOTS_DIR to take screenshots")
def test_screenshots(browser, live_server):
    pages = build_world()
    for scheme in ("light", "dark"):
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context, page = signed_in_page(browser, live_server, viewport=viewport, scheme=scheme)
            try:
                log_in(page, pages.workspace)
                for name in ("overview", "contacts", "review", "changed-review", "campaign"):
                    page.goto(pages.main[name])
                    page.wait_for_load_state("networkidle")
                    shoot(page, f"{name}-{label}-{scheme}")
                if label == "phone":
                    page.goto(pages.main["review"])
                    page.locator("summary.nav-toggle").click()
                    shoot(page, f"menu-open-phone-{scheme}")
                else:
                    page.goto(pages.main["contacts"])
                    page.keyboard.press("?")
                    page.get_by_role("dialog").wait_for()
                    shoot(page, f"shortcuts-desktop-{scheme}")
            finally:
                context.close()
