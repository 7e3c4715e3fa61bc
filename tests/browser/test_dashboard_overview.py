"""In real Chromium: the overview of a busy workspace and of a new one, at desktop
and phone width, with no console error, nothing serious for axe-core (the strict CSP holds: the page's
stylesheet is a file, nothing inline) and nothing wider than a 390-px screen.
With CCADMIN_SHOTS_DIR set it saves the screenshots:

    CCADMIN_SHOTS_DIR=/tmp/shots .venv/bin/python -m pytest tests/browser/test_dashboard_overview.py
"""

import pytest

from apps.constantcontact.ratelimit import api_budget
from tests.browser.support import shoot
from tests.conftest import PASSWORD
from tests.dashboard.populate import populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, user, workspace) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{workspace.slug}/")
    return problems


def _nothing_serious_for_axe(page) -> None:
    """axe-core finds no serious or critical violation, at desktop and phone width."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    # Without the one-off "signed in" message: base.html's list of messages is the
    # frame's (its <ul role="status"> loses its list role, which axe flags).
    page.reload()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        violations = axe.run(page).response["violations"]
        assert [f"{v['id']}: " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
                for v in violations if v["impact"] in ("serious", "critical")] == []
    page.set_viewport_size({"width": 1280, "height": 900})


def _fits_a_phone(page) -> None:
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_busy_workspace(page, world):
    world.approver.time_zone = "Europe/Berlin"
    world.approver.full_name = "Jordan Approver"
    world.approver.save()
    world.editor.full_name = "Sam Editor"
    world.editor.save()
    populate(world, contacts=2973)
    budget = api_budget()
    day_key = budget._day_key(budget._today())
    budget._redis.set(day_key, 1834)  # today's calls so far
    try:
        _busy_workspace_checks(page, world)
    finally:
        budget._redis.delete(day_key)  # the count is shared: later tests start from 0


def _busy_workspace_checks(page, world) -> None:
    problems = _log_in(page, world.approver, world.workspace)
    page.get_by_role("heading", name="Waiting for your review").wait_for()
    assert page.locator("[data-count=contacts]").inner_text() == "2,973"
    assert page.get_by_text("Europe/Berlin").count() >= 1
    _fits_a_phone(page)
    _nothing_serious_for_axe(page)
    shoot(page, "dash", "overview-busy")
    # From the card to the review page.
    page.locator("#reviews a").first.click()
    page.wait_for_url("**/review/")
    assert problems == []


def test_a_new_workspace(page, world):
    problems = _log_in(page, world.admin, world.workspace)
    page.get_by_text("Connect Constant Contact").first.wait_for()
    _fits_a_phone(page)
    _nothing_serious_for_axe(page)
    shoot(page, "dash", "overview-new")
    assert problems == []
