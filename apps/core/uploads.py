"""Form posts larger than Django will parse (DATA_UPLOAD_MAX_MEMORY_SIZE).

Django refuses such a body the first time anything reads `request.POST` — the
CSRF check, before any view runs — with a 400 and a traceback in the log, and
htmx shows nothing for a 400: a 5 MB campaign body got no visible answer.

This middleware sits before CsrfViewMiddleware and answers first. A view marked
`@reports_oversized_post` still runs, with an empty POST and
`request.oversized_post` set, so it can show its own message next to the field
(the campaign editor shows its 150,000-character limit). Any other view gets a
plain 413 page. Either way the body is read and dropped in small pieces, never
held in memory, so the browser receives the answer instead of a reset connection.

A view that takes a file has a limit of its own (`@limits_upload`, the bulk
import's CCADMIN_BULK_UPLOAD_MAX_MB): a body declaring more than that plus a
margin for the form's envelope is refused the same way before it is parsed,
so an oversized file is never spooled to disk or handed to the view.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, QueryDict
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict

_DRAIN_CHUNK = 64 * 1024
# Room for the multipart envelope and the form's other fields around the file.
UPLOAD_MARGIN_BYTES = 64 * 1024


def reports_oversized_post(view):
    """Mark a view that handles an over-limit form post itself (see the module docstring)."""
    view.reports_oversized_post = True
    return view


def limits_upload(max_bytes):
    """Mark a view whose posted file may be at most `max_bytes()` bytes (a callable,
    so settings changed at run time count); larger bodies get the 413 page."""
    def decorator(view):
        view.max_upload_bytes = max_bytes
        return view
    return decorator


def _upload_too_large(request: HttpRequest, view_func) -> int | None:
    """The view's upload limit in bytes when the declared body exceeds it."""
    max_bytes = getattr(view_func, "max_upload_bytes", None)
    if request.method != "POST" or max_bytes is None:
        return None
    limit = max_bytes()
    return limit if _declared_length(request) > limit + UPLOAD_MARGIN_BYTES else None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.method != "POST" or limit is None or _declared_length(request) <= limit:
        return False
    # A multipart body may be large because of its files, which the limit leaves
    # out: only parsing it tells. A urlencoded one fails before a byte is read.
    try:
        request.POST  # noqa: B018 — parsing is the test
    except RequestDataTooBig:
        return True
    return False


class OversizedPostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.oversized_post = False
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        upload_limit = _upload_too_large(request, view_func)
        if upload_limit is not None:
            # Checked on the declared length alone: request.POST is never touched.
            self._drop_body(request)
            return render(request, "413.html", {"limit_mb": upload_limit / 1_048_576,
                                                "upload": True}, status=413)
        if not _too_large(request):
            return None
        self._drop_body(request)
        # The view can only run if the CSRF token came in a header (htmx sends it
        # there): the body, where a plain form carries it, was just dropped.
        if (getattr(view_func, "reports_oversized_post", False)
                and settings.CSRF_HEADER_NAME in request.META):
            return None
        return render(request, "413.html", {
            "limit_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000,
        }, status=413)

    @staticmethod
    def _drop_body(request: HttpRequest) -> None:
        while request.read(_DRAIN_CHUNK):
            pass
        request._post, request._files = QueryDict(), MultiValueDict()
        request.oversized_post = True
