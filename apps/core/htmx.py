"""htmx helpers shared by every view."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as the views see it: django-htmx's middleware adds `.htmx`."""

    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """True when htmx asked for a piece of a page rather than a whole page.

    Boosted navigations and history restores want the whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
