"""Helpers the browser tests share."""

import os
from pathlib import Path

# Screenshots are for a person to look at while building a screen, so they are
# taken only when asked for: CCADMIN_SHOTS_DIR=/tmp/shots pytest tests/browser
SHOTS_DIR = os.environ.get("CCADMIN_SHOTS_DIR")
WIDTHS = (("desktop", 1280), ("phone", 390))


def shoot(page, area: str, name: str) -> None:
    """Full-length screenshots at desktop and phone width, then back to desktop."""
    if not SHOTS_DIR:
        return
    folder = Path(SHOTS_DIR) / area
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        # From the top, so the sticky top bar sits where it belongs in a full-page shot.
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(150)  # let charts and layout settle at the new width
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def wait_until_htmx_bound(page, selector: str) -> None:
    """Wait until htmx has processed a freshly swapped element.

    An element is visible a moment before htmx attaches its triggers to it; an
    event fired in between (a select's change, say) is silently lost.
    """
    page.locator(selector).wait_for()
    page.wait_for_function(
        "sel => { const el = document.querySelector(sel);"
        " return !!(el && el['htmx-internal-data'] && el['htmx-internal-data'].initHash); }",
        arg=selector,
    )
