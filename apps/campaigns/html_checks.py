"""Checks on a campaign's HTML that Constant Contact would otherwise make us learn
from a refused save (or, worse, a refused schedule).

A custom-code email (format_type 5) must carry the `[[trackingImage]]` tag inside
its `<body>` (contract §3.7): Constant Contact swaps it for the open-tracking
pixel. A tag inside an HTML comment doesn't count — it is still there for
Constant Contact's substring test, but a reviewer reading the source would
rightly think it was switched off — and neither does one in `<head>`.
"""

import re

TRACKING_IMAGE = "[[trackingImage]]"
# Constant Contact's limit for html_content (contract §3.7).
MAX_HTML_LENGTH = 150_000

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


def tracking_image_problem(html: str) -> str | None:
    """Why `html` fails the tracking-image rule, in words for the member; None if it passes."""
    text = _COMMENT.sub("", html or "")
    opening = _BODY_OPEN.search(text)
    if opening is None:
        return (f"The HTML needs a <body> element containing {TRACKING_IMAGE}: Constant "
                "Contact requires the tracking image inside the body of custom-code emails.")
    closing = _BODY_CLOSE.search(text, opening.end())
    body = text[opening.end():closing.start() if closing else len(text)]
    if TRACKING_IMAGE not in body:
        if TRACKING_IMAGE in (html or ""):
            return (f"{TRACKING_IMAGE} must be inside the <body> (and not inside an HTML "
                    "comment): Constant Contact puts the open-tracking image there.")
        return (f"Add {TRACKING_IMAGE} somewhere inside the <body>: Constant Contact requires "
                "it in custom-code emails and replaces it with the open-tracking image.")
    return None


def html_too_long_message(length: int, *, approximate: bool = False) -> str:
    """The limit in words; `approximate` when only the size of the whole form is known."""
    size = f"about {length:,}" if approximate else f"{length:,}"
    return (f"The HTML is {size} characters long; Constant Contact accepts at most "
            f"{MAX_HTML_LENGTH:,}. Nothing was saved: shorten it and save again.")


def html_problems(html: str) -> list[str]:
    """Every reason Constant Contact would refuse this HTML for a custom-code email."""
    problems = []
    if len(html or "") > MAX_HTML_LENGTH:
        problems.append(html_too_long_message(len(html)))
    tracking = tracking_image_problem(html)
    if tracking:
        problems.append(tracking)
    return problems
