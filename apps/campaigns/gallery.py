"""The email templates shipped with the product: the gallery a new campaign starts from.

Each template is a whole, responsive HTML document under `email_templates/`: a
600-px table layout that narrows to the screen below 620 px, with Constant
Contact's `[[trackingImage]]` tag first thing inside `<body>` (contract §3.7; the
html_checks refuse a body without it) and a footer block (`class="email-footer"`)
saying why the reader gets the email. Constant Contact appends its own footer
with the account's postal address and the unsubscribe link below ours, so the
templates carry neither.

The files are read once per process: they only change with a release.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

_FOLDER = Path(__file__).resolve().parent / "email_templates"

# The slug the form's "start from" value and the URLs carry for "no template".
BLANK = "blank"


@dataclass(frozen=True)
class EmailTemplate:
    slug: str
    name: str
    summary: str

    @property
    def html(self) -> str:
        return _read(self.slug)


GALLERY: tuple[EmailTemplate, ...] = (
    EmailTemplate("newsletter", "Newsletter",
                  "A header and two stories with “Read more” links: the monthly news."),
    EmailTemplate("announcement", "Announcement",
                  "One headline, one button: a launch, a sale or a change people should act on."),
    EmailTemplate("event", "Event invitation",
                  "When and where side by side, a few words, and a button to reserve a place."),
    EmailTemplate("letter", "Plain letter",
                  "A personal note in a single column: thanks, apologies, honest news."),
)


@cache
def _read(slug: str) -> str:
    return (_FOLDER / f"{slug}.html").read_text(encoding="utf-8")


def email_template(slug: str) -> EmailTemplate | None:
    """The shipped template with this slug; None for anything else (a hand-edited URL)."""
    return next((t for t in GALLERY if t.slug == slug), None)


def blank_html() -> str:
    """A valid starting point for members who bring their own HTML: the tracking
    image is already where Constant Contact wants it."""
    return (
        "<!doctype html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title></title>\n"
        "</head>\n<body>\n  [[trackingImage]]\n  <h1>Hello</h1>\n  <p></p>\n</body>\n</html>\n"
    )
