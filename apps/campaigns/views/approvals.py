"""Screens for approvals: the review page (what is under review, what changed
since, the history), asking for review, and approving or rejecting.

Asking for review needs campaigns write access; deciding needs the *approve*
capability. Both POSTs answer with a redirect to the campaign page when they
succeed, and re-render the review page with the problem when they don't: a
refusal (four eyes, a changed campaign, a missing comment) is a message on the
form, never a 500. (Re-rendered pages answer 200 so htmx's boosted forms swap
them in: htmx ignores 4xx bodies.)
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area, Capability
from apps.campaigns.forms.approvals import ApprovalDecideForm, ApprovalRequestForm
from apps.campaigns.selectors.approvals import approval_for, snapshot_facts
from apps.campaigns.selectors.campaigns import campaign_for
from apps.campaigns.services.approvals import (
    ApprovalRefused,
    ApprovalVoided,
    approval_decide,
    approval_request,
)
from apps.campaigns.views.panels import campaign_panels
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, gate_for
from apps.core.htmx import HtmxHttpRequest

PAGE = "campaigns/approvals/review.html"

def _detail_url(request, campaign) -> str:
    return reverse("campaigns:campaign_detail", kwargs={
        "workspace_slug": request.workspace.slug, "campaign_id": campaign.pk})


def _review_page(request, campaign, *, error: str = "", **forms) -> HttpResponse:
    context = campaign_panels(campaign=campaign, membership=request.membership, **forms)
    panel = context["approval_panel"]
    facts = {}
    if panel.current is not None:
        facts = snapshot_facts(campaign=campaign, snapshot=panel.current.snapshot)
    return render(request, PAGE, {
        **context, **facts, "campaign": campaign, "email": panel.email, "error": error,
    })


@require_GET
@workspace_view(Area.CAMPAIGNS, Access.READ)
def approval_review(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    return _review_page(request, campaign)


@require_POST
@workspace_view(Area.CAMPAIGNS, Access.WRITE)
def approval_request_view(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    form = ApprovalRequestForm(request.POST)
    if not form.is_valid():
        return _review_page(request, campaign, request_form=form)
    cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
    try:
        approval_request(campaign=campaign, membership=request.membership, cc=cc,
                         note=form.cleaned_data["note"])
    except ApprovalRefused as exc:
        return _review_page(request, campaign, error=exc.message, request_form=form)
    except ConstantContactError as exc:
        return _review_page(request, campaign, request_form=form,
                            error=f"Review was not requested. {upstream_error_message(exc)}")
    messages.success(request, "Review requested. A member who can approve will look at it; "
                     "any change from now on voids the request.")
    return redirect(_detail_url(request, campaign))


@require_POST
@workspace_view(Area.CAMPAIGNS, Access.READ, capability=Capability.APPROVE)
def approval_decide_view(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(workspace=request.workspace, campaign_id=campaign_id)
    form = ApprovalDecideForm(request.POST)
    if not form.is_valid():
        return _review_page(request, campaign, decide_form=form)
    approval = approval_for(campaign=campaign, approval_id=form.cleaned_data["approval_id"])
    cc = gate_for(workspace=request.workspace, actor=Actor.member(request.membership))
    try:
        approval_decide(
            approval=approval, membership=request.membership, cc=cc, approve=form.approves,
            comment=form.cleaned_data["comment"],
            seen_fingerprint=form.cleaned_data["fingerprint"],
        )
    except ApprovalVoided as exc:
        # The panel shows the diff against the approval just voided.
        return _review_page(request, campaign, error=exc.message)
    except ApprovalRefused as exc:
        return _review_page(request, campaign, error=exc.message, decide_form=form)
    except ConstantContactError as exc:
        return _review_page(request, campaign, decide_form=form,
                            error=f"Nothing was decided. {upstream_error_message(exc)}")
    if form.approves:
        messages.success(request, "Approved. A member with the send capability can now "
                         "schedule it; any change voids the approval.")
    else:
        messages.success(request, "Changes requested. The author sees your comment on the "
                         "campaign page.")
    return redirect(_detail_url(request, campaign))


urlpatterns = [
    path("campaigns/<int:campaign_id>/review/", approval_review, name="approval_review"),
    path("campaigns/<int:campaign_id>/review/request/", approval_request_view,
         name="approval_request"),
    path("campaigns/<int:campaign_id>/review/decide/", approval_decide_view,
         name="approval_decide"),
]
