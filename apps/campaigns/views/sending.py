"""Screens for sending: test send, schedule (a confirmation page, then the job),
unschedule, and the job-status partial the pages poll.

Test sends need campaigns write access; scheduling and unscheduling need the
*send* capability (and campaigns read). The schedule page re-reads the email
from Constant Contact and re-checks the approval and the pre-send checks every
time it is shown and again on confirm; the job checks once more before posting.

A job's progress is a partial htmx polls every 2 seconds; once the job has
finished the answer is 286 (htmx stops polling) with HX-Refresh, so the page
reloads and shows the campaign's new state. Without JavaScript the job page
shows the same and a refresh link.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HTMX_STOP_POLLING

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area, Capability
from apps.campaigns.forms.sending import (
    ScheduleConfirmForm,
    SendTestForm,
    UnscheduleConfirmForm,
)
from apps.campaigns.selectors.approvals import readable_changes
from apps.campaigns.selectors.campaigns import campaign_email, campaign_for
from apps.campaigns.selectors.sending import (
    daily_test_allowance,
    schedule_readiness,
    send_job_for,
    send_jobs_recent,
    send_time_phrase,
)
from apps.campaigns.services.sending import (
    SendRefused,
    send_schedule_request,
    send_test_request,
    send_unschedule_request,
)
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, gate_for
from apps.core.htmx import HtmxHttpRequest, wants_fragment


def _detail_url(request, campaign) -> str:
    return reverse("campaigns:campaign_detail", kwargs={
        "workspace_slug": request.workspace.slug, "campaign_id": campaign.pk})


# --- test send --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
def campaign_test_send(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    email = campaign_email(campaign)
    form = SendTestForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid() and email is not None:
        try:
            send_test_request(
                campaign=campaign, membership=request.membership,
                addresses=form.cleaned_data["addresses"],
                personal_message=form.cleaned_data["personal_message"],
            )
        except SendRefused as exc:
            error = exc.message
        else:
            count = len(form.cleaned_data["addresses"])
            messages.success(request, f"Test send to {count} address{'es' if count != 1 else ''} "
                             "queued; its progress is shown below.")
            return redirect(reverse("campaigns:test_send", kwargs={
                "workspace_slug": request.workspace.slug, "campaign_id": campaign.pk}))
    return render(request, "campaigns/sending/test_send.html", {
        "campaign": campaign, "email": email, "form": form, "error": error,
        "allowance": daily_test_allowance(workspace=request.workspace),
        "jobs": [job for job in send_jobs_recent(campaign=campaign) if job.kind == "test_send"],
    })


# --- schedule ---------------------------------------------------------------------


def _schedule_page(request, campaign, *, form, error: str = "") -> HttpResponse:
    """The confirmation page: reads Constant Contact, writes nothing."""
    email = campaign_email(campaign)
    readiness = None
    if email is None:
        error = error or ("This campaign has no email activity in the mirror yet; sync the "
                          "campaigns first.")
    else:
        cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
        try:
            readiness = schedule_readiness(campaign=campaign, cc=cc, now=timezone.now())
        except ConstantContactError as exc:
            error = error or f"Could not check the campaign. {upstream_error_message(exc)}"
    context = {"campaign": campaign, "email": email, "form": form,
               "error": error, "readiness": readiness, "changes": []}
    if readiness is not None and readiness.approval is not None:
        # The page shows this version: the confirmation carries its fingerprint.
        if form.is_bound:
            form.data = form.data.copy()
            form.data["fingerprint"] = readiness.approval.fingerprint
        else:
            form.initial["fingerprint"] = readiness.approval.fingerprint
    if readiness is not None:
        context["changes"] = readable_changes(
            changes=readiness.changes, workspace=request.workspace,
            zone=request.user.time_zone or "UTC",
        )
        context["when"] = send_time_phrase(when=readiness.send_at, workspace=request.workspace)
    return render(request, "campaigns/sending/schedule.html", context)


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.READ, capability=Capability.SEND)
def schedule(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    form = ScheduleConfirmForm(request.POST if request.method == "POST" else None,
                               campaign_name=campaign.name)
    if request.method == "GET" or not form.is_valid():
        return _schedule_page(request, campaign, form=form)
    cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
    try:
        send_schedule_request(campaign=campaign, membership=request.membership, cc=cc,
                              confirmation=form.cleaned_data["confirmation"],
                              shown_fingerprint=form.cleaned_data["fingerprint"])
    except SendRefused as exc:
        return _schedule_page(request, campaign, form=form, error=exc.message)
    except ConstantContactError as exc:
        return _schedule_page(request, campaign, form=form,
                              error=f"Nothing was scheduled. {upstream_error_message(exc)}")
    messages.success(request, "Scheduling… Constant Contact's answer shows below.")
    return redirect(_detail_url(request, campaign))


# --- unschedule -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CAMPAIGNS, Access.READ, capability=Capability.SEND)
def unschedule(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    form = UnscheduleConfirmForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
        try:
            send_unschedule_request(campaign=campaign, membership=request.membership, cc=cc)
        except SendRefused as exc:
            error = exc.message
        else:
            messages.success(request, "Taking the schedule back… Constant Contact's answer "
                             "shows below.")
            return redirect(_detail_url(request, campaign))
    return render(request, "campaigns/sending/unschedule.html", {
        "campaign": campaign, "email": campaign_email(campaign), "form": form, "error": error,
    })


# --- job status -------------------------------------------------------------------


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
def job_status(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = send_job_for(workspace=request.workspace, job_id=job_id)
    if not wants_fragment(request):
        return render(request, "campaigns/sending/job.html", {"job": job,
                                                              "campaign": job.campaign})
    response = render(request, "campaigns/sending/job.html#job-status", {"job": job})
    if not job.is_active:
        response.status_code = HTMX_STOP_POLLING
        # Reload the page: the campaign's status and buttons changed with the job.
        response["HX-Refresh"] = "true"
    return response


urlpatterns = [
    path("campaigns/<int:campaign_id>/test/", campaign_test_send, name="test_send"),
    path("campaigns/<int:campaign_id>/schedule/", schedule, name="schedule"),
    path("campaigns/<int:campaign_id>/unschedule/", unschedule, name="unschedule"),
    path("campaigns/jobs/<int:job_id>/status/", job_status, name="job_status"),
]
