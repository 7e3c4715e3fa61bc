"""The email editor's pages: the template gallery a new campaign starts from, each
template's sandboxed thumbnail, and `email_editor_page`, the one place the CSP is
relaxed — for the draft editor's two URLs (create and edit) alone.

Why the editor page needs a looser policy (docs/email-editor.md has the whole
story): GrapesJS draws the email in a same-origin `about:blank` canvas iframe,
which inherits this page's CSP. The email's own CSS goes into that canvas as
`<style>` elements and `style` attributes, which `style-src 'self'` forbids,
and its images live on the sender's servers (`https:`). Scripts stay exactly as
strict as everywhere else: our own origin with a nonce, no inline script, no
eval.

The relaxation must not outlive the page. Its header only counts on a full page
load, so an htmx-boosted GET of an editor URL is answered with `HX-Redirect` (a
real navigation that brings the editor's own header), and the editor's form is
not boosted (`hx-boost="false"`), so the page after saving loads with the strict
policy again.
"""

from collections.abc import Callable
from functools import wraps

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_exempt, csp_replace
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.campaigns.gallery import BLANK, GALLERY, email_template
from apps.campaigns.html_checks import TRACKING_IMAGE
from apps.core.htmx import HtmxHttpRequest

# What the editor page adds to the site-wide policy, and nothing else (a test holds
# the two policies to differ by exactly this).
EDITOR_CSP_ADDITIONS = {
    # GrapesJS's canvas: the email's <style> elements and style attributes.
    "style-src": [UNSAFE_INLINE],
    # The email's images, wherever the sender hosts them.
    "img-src": ["https:"],
}

# A template's thumbnail document, as the campaign preview serves campaign HTML:
# sandboxed (an opaque origin, no script), and its own markup only.
THUMBNAIL_CSP = (
    "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
    "font-src https: data:"
)


def page_of_its_own(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view whose CSP differs from the site's: an htmx GET (a boosted link) gets
    `HX-Redirect` to itself, a real navigation, because a CSP header only counts for
    the page load that brought it: swapped into another page, the page would run
    under that page's policy, and its own would leak into the pages after it."""

    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET" and request.htmx:
            return HttpResponseClientRedirect(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def email_editor_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The draft editor's views: the site policy plus EDITOR_CSP_ADDITIONS, on a page
    of its own (above)."""

    @page_of_its_own
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response._csp_update = {k: list(v) for k, v in EDITOR_CSP_ADDITIONS.items()}
        return response

    return wrapped


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
@page_of_its_own
@csp_replace({"frame-src": [SELF]})
def campaign_gallery(request: HtmxHttpRequest) -> HttpResponse:
    """Step one of a new campaign: pick a shipped template, or bring your own HTML."""
    return render(request, "campaigns/campaigns/gallery.html", {
        "templates": GALLERY, "blank": BLANK, "tracking_image": TRACKING_IMAGE,
    })


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
@xframe_options_sameorigin
@csp_exempt()
def campaign_template_html(request: HttpRequest, slug: str) -> HttpResponse:
    """A shipped template as a document of its own, for the gallery's sandboxed thumbnails."""
    template = email_template(slug)
    if template is None:
        raise Http404("No such email template.")
    response = HttpResponse(template.html.replace(TRACKING_IMAGE, ""),
                            content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = THUMBNAIL_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("campaigns/new/templates/", campaign_gallery, name="campaign_gallery"),
    path("campaigns/new/templates/<slug:slug>/", campaign_template_html,
         name="campaign_template_html"),
]
