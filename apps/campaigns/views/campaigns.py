"""The campaigns screens: the list (with its sync freshness and "Sync now"), a
campaign's page, the draft editor (create and edit), rename, delete, and the
preview.

Pages read the mirror only. Each action calls one service, which goes through
the gate as the member; a Constant Contact refusal becomes a message on the
form or page (`upstream_error_message`), never a 500, and leaves the mirror as
it was.

The preview never lets campaign HTML run in the dashboard's origin: the preview
page frames `campaign_preview_html` in iframes with an empty `sandbox` (no
scripts, no same-origin), and that response carries its own
`Content-Security-Policy: sandbox; default-src 'none'; ...`, so even opened on
its own it gets an opaque origin and runs no script.
"""

from datetime import timedelta
from urllib.parse import urlencode

from csp.constants import SELF
from csp.decorators import csp_exempt, csp_replace
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING
from redis.exceptions import LockError

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area, Capability
from apps.campaigns.forms.campaigns import (
    DUPLICATE_NAME,
    CampaignCreateForm,
    CampaignEmailForm,
    CampaignFilterForm,
    CampaignRenameForm,
)
from apps.campaigns.gallery import BLANK, blank_html, email_template
from apps.campaigns.html_checks import MAX_HTML_LENGTH, TRACKING_IMAGE, html_too_long_message
from apps.campaigns.selectors.approvals import campaigns_awaiting_review
from apps.campaigns.selectors.campaigns import (
    audience_list_choices,
    audience_segment_choices,
    campaign_audience,
    campaign_deletable_reason,
    campaign_editable_reason,
    campaign_email,
    campaign_for,
    campaign_rows,
    campaigns_freshness,
)
from apps.campaigns.services import campaigns as services
from apps.campaigns.services.sync import campaigns_sync_start
from apps.campaigns.views.editor import email_editor_page
from apps.campaigns.views.panels import campaign_panels
from apps.constantcontact.errors import Conflict, ConstantContactError, ValidationError
from apps.constantcontact.explain import upstream_error_message
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.core.uploads import reports_oversized_post
from apps.core.timezones import member_zone_name, zone_named
from apps.mirror.models import Campaign, CampaignStatus, SyncRun

# Campaign counts are small (hundreds), so plain page numbers are fine here.
PAGE_SIZE = 50

# The sandboxed preview's own policy: no script, no plugins, no forms, no
# connections; images, inline styles and web fonts load as an email client would
# show them. `sandbox` gives the document an opaque origin even when opened on
# its own; X-Frame-Options keeps it to our own pages.
PREVIEW_CSP = (
    "sandbox; default-src 'none'; img-src https: http: data:; "
    "style-src 'unsafe-inline' https:; font-src https: data:"
)
EMPTY_PREVIEW = (
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>No content</title></head>"
    "<body><p>This campaign has no HTML content in ccadmin yet. A sync reads it from "
    "Constant Contact.</p></body></html>"
)

LIST_PAGE = "campaigns/campaigns/list.html"


def _can_write(request: HttpRequest) -> bool:
    return request.role.allows(Area.CAMPAIGNS, Access.WRITE)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    return campaign_for(workspace=request.workspace, campaign_id=campaign_id)


# --- The list and its sync ---------------------------------------------------------

def _freshness_context(request: HttpRequest) -> dict:
    freshness = campaigns_freshness(workspace=request.workspace)
    age = ""
    if freshness.synced_at is not None:
        now = timezone.now()
        age = ("just now" if now - freshness.synced_at < timedelta(minutes=1)
               else f"{timesince(freshness.synced_at, now, depth=1)} ago")
    return {"freshness": freshness, "freshness_age": age, "can_write": _can_write(request)}


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
def campaign_list(request: HtmxHttpRequest) -> HttpResponse:
    can_approve = request.role.has_capability(Capability.APPROVE)
    form = CampaignFilterForm(request.GET, can_approve=can_approve)
    q, status, sort = form.value("q"), form.value("status"), form.sort_value
    review = form.value("review")
    rows = campaign_rows(workspace=request.workspace, status=status, q=q, sort=sort,
                         review=review, membership=request.membership)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    filter_query = urlencode({k: v for k, v in (
        ("q", q), ("status", status), ("review", review), ("sort", sort)) if v})
    context = {
        "form": form, "page": page, "filter_query": filter_query,
        "list_url": _url(request, "campaign_list"),
        "is_default": not q and not status and not review, "review": review,
        # The "Needs my review" shortcut above the list, with how many wait.
        "awaiting_count": (campaigns_awaiting_review(membership=request.membership).count()
                           if can_approve else None),
        **_freshness_context(request),
    }
    if wants_fragment(request):
        return render(request, f"{LIST_PAGE}#results", context)
    return render(request, LIST_PAGE, context)


@require_POST
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
def campaign_sync(request: HtmxHttpRequest) -> HttpResponse:
    back = redirect(_url(request, "campaign_list"))
    kind = request.POST.get("kind") or SyncRun.Kind.INCREMENTAL
    if kind not in SyncRun.Kind.values:
        messages.error(request, "Choose an incremental or a full sync.")
        return back
    try:
        _, created = campaigns_sync_start(
            workspace=request.workspace, kind=kind, membership=request.membership
        )
    except ConstantContactError as exc:
        messages.error(request, f"The sync did not start. {upstream_error_message(exc)}")
        return back
    except LockError:
        messages.error(request, "The sync did not start: another start was in progress. "
                       "Please try again in a moment.")
        return back
    if created:
        messages.success(request, "Campaigns sync started; the list updates when it is done.")
    else:
        messages.info(request, "A campaigns sync is already running. Only one runs at a time.")
    return back


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
def campaign_sync_status(request: HtmxHttpRequest) -> HttpResponse:
    """The freshness line, polled while a sync runs; 286 stops the polling."""
    context = _freshness_context(request)
    if not wants_fragment(request):
        return redirect(_url(request, "campaign_list"))
    response = render(request, f"{LIST_PAGE}#freshness", {**context, "polled": True})
    if context["freshness"].active is None:
        response.status_code = HTMX_STOP_POLLING
    return response


# --- A campaign's page --------------------------------------------------------------

@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
def campaign_detail(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    email = campaign_email(campaign)
    can_write = _can_write(request)
    context = {
        "campaign": campaign,
        "email": email,
        "audience": campaign_audience(workspace=request.workspace, email=email),
        "can_write": can_write,
        # Sent or sending campaigns link to their report, for members who may read reports.
        "report_link": (campaign.status in (CampaignStatus.EXECUTING, CampaignStatus.DONE)
                        and request.role.allows(Area.REPORTS, Access.READ)),
        "edit_blocked": campaign_editable_reason(campaign=campaign),
        "delete_blocked": campaign_deletable_reason(campaign=campaign),
        "html_length": len(email.html_content) if email else 0,
    }
    # The approval and sending panels' own context (apps/campaigns/selectors/approvals.py).
    context.update(campaign_panels(campaign=campaign, membership=request.membership))
    return render(request, "campaigns/campaigns/detail.html", context)


# --- Create and edit -------------------------------------------------------------

def _editor_form(request: HttpRequest, form_class, *, data=None, initial=None,
                 selected: list[str] | None = None, segment: str = ""):
    senders = services.sender_addresses_verified(
        workspace=request.workspace, membership=request.membership
    )
    zone_name = member_zone_name(request)
    form = form_class(
        data, initial=initial, senders=senders.addresses,
        lists=audience_list_choices(workspace=request.workspace, selected=selected),
        segments=audience_segment_choices(
            workspace=request.workspace, selected=segment,
            with_sizes=request.role.allows(Area.CONTACTS, Access.READ)),
        zone=zone_named(zone_name), zone_name=zone_name,
    )
    return form, senders


def _upstream_form_error(form: CampaignEmailForm, exc: ConstantContactError, *,
                         request: HttpRequest) -> None:
    if isinstance(exc, Conflict) and "name" in form.fields:
        form.add_error("name", DUPLICATE_NAME)
        return
    if isinstance(exc, ValidationError):
        # An address the cached list called verified may have been unconfirmed since.
        services.sender_addresses_forget(workspace=request.workspace)
    form.add_upstream_error(exc)


def _oversized_message(request: HttpRequest) -> str:
    # The body was too big for Django to read at all (apps/core/uploads.py): the form
    # comes back as it was last saved, with the limit the member ran into.
    if not request.oversized_post:
        return ""
    return html_too_long_message(int(request.META.get("CONTENT_LENGTH") or 0), approximate=True)


@reports_oversized_post
@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
@email_editor_page
def campaign_create(request: HtmxHttpRequest) -> HttpResponse:
    oversized = _oversized_message(request)
    # The gallery links here with ?template=<slug>; no (or an unknown) slug starts
    # from the blank document, in HTML source mode.
    template = email_template(request.GET.get("template", ""))
    form, senders = _editor_form(
        request, CampaignCreateForm, data=(request.POST or None) if not oversized else None,
        initial={"html_content": template.html if template else blank_html(),
                 "audience": "lists"},
        selected=request.POST.getlist("contact_list_ids"),
        segment=request.POST.get("segment_id", ""),
    )
    if request.method == "POST" and not oversized and form.is_valid():
        try:
            campaign = services.campaign_create(
                workspace=request.workspace, membership=request.membership,
                name=form.cleaned_data["name"].strip(), draft=form.draft(),
            )
        except services.CampaignCreatedIncompletely as partial:
            messages.warning(request, partial.message)
            return redirect(_url(request, "campaign_edit", campaign_id=partial.campaign.pk))
        except ConstantContactError as exc:
            _upstream_form_error(form, exc, request=request)
        else:
            messages.success(request, f"Draft “{campaign.name}” created.")
            return redirect(_url(request, "campaign_detail", campaign_id=campaign.pk))
    return render(request, "campaigns/campaigns/form.html", {
        "form": form, "senders": senders, "campaign": None, "blocked": "",
        "tracking_image": TRACKING_IMAGE, "oversized": oversized,
        "template": template, "blank": BLANK, "max_html_length": MAX_HTML_LENGTH,
        # Your own HTML opens in source mode; a gallery template in the visual editor.
        "editor_mode": "visual" if template else "source",
    })


def _edit_initial(request: HttpRequest, campaign: Campaign) -> dict:
    email = campaign_email(campaign)
    if email is None:
        return {}
    planned = None
    if email.planned_send_at is not None:
        # The widget shows what it is given: hand it the member's wall-clock time.
        planned = timezone.localtime(
            email.planned_send_at, zone_named(member_zone_name(request))
        ).replace(tzinfo=None)
    return {
        "from_name": email.from_name, "from_email": email.from_email.lower(),
        "reply_to_email": email.reply_to_email.lower(), "subject": email.subject,
        "preheader": email.preheader, "html_content": email.html_content,
        "contact_list_ids": [str(i) for i in email.contact_list_ids or []],
        "audience": "segment" if email.segment_ids else "lists",
        "segment_id": str(email.segment_ids[0]) if email.segment_ids else "",
        "planned_send_at": planned,
    }


@reports_oversized_post
@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
@email_editor_page
def campaign_edit(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    email = campaign_email(campaign)
    blocked = campaign_editable_reason(campaign=campaign)
    if blocked:
        # Nothing to edit: no form, and no call for the sender addresses.
        return render(request, "campaigns/campaigns/form.html", {
            "form": None, "campaign": campaign, "email": email, "blocked": blocked,
        })
    selected = (request.POST.getlist("contact_list_ids") if request.method == "POST"
                else [str(i) for i in (email.contact_list_ids if email else [])])
    segment = (request.POST.get("segment_id", "") if request.method == "POST"
               else str(email.segment_ids[0]) if email and email.segment_ids else "")
    oversized = _oversized_message(request)
    form, senders = _editor_form(
        request, CampaignEmailForm, data=(request.POST or None) if not oversized else None,
        initial=_edit_initial(request, campaign), selected=selected, segment=segment,
    )
    if request.method == "POST" and not oversized and form.is_valid():
        try:
            campaign = services.campaign_update(
                campaign=campaign, membership=request.membership, draft=form.draft(),
            )
        except services.CampaignNotEditable as refused:
            blocked = refused.message
            campaign.refresh_from_db()
        except ConstantContactError as exc:
            _upstream_form_error(form, exc, request=request)
        else:
            messages.success(request, f"“{campaign.name}” saved.")
            return redirect(_url(request, "campaign_detail", campaign_id=campaign.pk))
    return render(request, "campaigns/campaigns/form.html", {
        "form": form, "senders": senders, "campaign": campaign, "email": email,
        "blocked": blocked, "tracking_image": TRACKING_IMAGE,
        "has_segment": bool(email and email.segment_ids), "oversized": oversized,
        "editor_mode": "visual", "max_html_length": MAX_HTML_LENGTH,
    })


# --- Rename and delete -------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
def campaign_rename(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    form = CampaignRenameForm(request.POST or None, initial={"name": campaign.name})
    if request.method == "POST" and form.is_valid():
        try:
            renamed = services.campaign_rename(
                campaign=campaign, membership=request.membership,
                name=form.cleaned_data["name"].strip(),
            )
        except services.CampaignNotEditable as refused:
            form.add_error(None, refused.message)
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Renamed to “{renamed.name}”.")
            return redirect(_url(request, "campaign_detail", campaign_id=renamed.pk))
    return render(request, "campaigns/campaigns/rename.html", {"form": form, "campaign": campaign})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
def campaign_delete(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    blocked = campaign_deletable_reason(campaign=campaign)
    error = ""
    if request.method == "POST" and not blocked:
        name = campaign.name
        try:
            services.campaign_delete(campaign=campaign, membership=request.membership)
        except services.CampaignNotDeletable as refused:
            blocked = refused.message
            campaign.refresh_from_db()
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            messages.success(request, f"Campaign “{name}” deleted.")
            return redirect(_url(request, "campaign_list"))
    return render(request, "campaigns/campaigns/delete.html", {
        "campaign": campaign, "blocked": blocked, "error": error,
    })


# --- Preview -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
@csp_replace({"frame-src": [SELF]})
def campaign_preview(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    return render(request, "campaigns/campaigns/preview.html", {
        "campaign": campaign, "email": campaign_email(campaign),
    })


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
@xframe_options_sameorigin
@csp_exempt()
def campaign_preview_html(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    """The campaign's HTML as a document of its own, for the sandboxed iframes."""
    campaign = _campaign(request, campaign_id)
    email = campaign_email(campaign)
    html = (email.html_content if email else "") or EMPTY_PREVIEW
    # Constant Contact swaps the tag for its tracking pixel; a preview shows nothing there.
    response = HttpResponse(html.replace(TRACKING_IMAGE, ""),
                            content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/sync/", campaign_sync, name="campaign_sync"),
    path("campaigns/sync/status/", campaign_sync_status, name="campaign_sync_status"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/rename/", campaign_rename, name="campaign_rename"),
    path("campaigns/<int:campaign_id>/delete/", campaign_delete, name="campaign_delete"),
    path("campaigns/<int:campaign_id>/preview/", campaign_preview, name="campaign_preview"),
    path("campaigns/<int:campaign_id>/preview/html/", campaign_preview_html,
         name="campaign_preview_html"),
]
