"""Team administration screens (members, invitations, roles, workspace settings)
and the public page where an invitation is accepted.

Every workspace page here is `workspace_view(Area.ACCOUNT, Access.WRITE)`. Views
validate a form, call one service and report its outcome; a refusal from a
service (a ValidationError, such as "A workspace must keep at least one admin")
is shown to the admin and changes nothing.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.access import workspace_view
from apps.accounts.emails import invitation_email_send
from apps.accounts.forms import (
    InvitationAcceptForm,
    InviteForm,
    MemberRoleForm,
    RoleForm,
    WorkspaceSettingsForm,
)
from apps.accounts.grants import Access, Area
from apps.accounts.models import Invitation, Role
from apps.accounts.selectors import (
    account_exists,
    invitation_in_workspace,
    invitations_recent,
    member_rows,
    membership_in_workspace,
    role_in_workspace,
    roles_with_use,
    user_has_mfa,
    workspace_memberships,
    workspace_roles,
)
from apps.accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    role_delete,
    role_save,
    workspace_update_settings,
)
from apps.core.htmx import HtmxHttpRequest, wants_fragment

logger = logging.getLogger(__name__)

def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _members_url(request: HttpRequest) -> str:
    return reverse("accounts:members", kwargs={"workspace_slug": request.workspace.slug})


# --- Members and invitations ---------------------------------------------------

@require_GET
@workspace_view(Area.ACCOUNT, Access.WRITE)
def members(request: HtmxHttpRequest) -> HttpResponse:
    workspace = request.workspace
    return render(request, "accounts/members.html", {
        "rows": member_rows(memberships=workspace_memberships(workspace=workspace)),
        "roles": workspace_roles(workspace=workspace),
        "invitations": invitations_recent(workspace=workspace),
        "invite_form": InviteForm(workspace=request.workspace),
        "invitation_lifetime_days": settings.INVITATION_LIFETIME_DAYS,
    })


@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def invite(request: HtmxHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = invitation_create(
                workspace=request.workspace, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], invited_by=request.user,
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            accept_url = request.build_absolute_uri(reverse("invitations:accept", args=[token]))
            try:
                invitation_email_send(invitation=invitation, accept_url=accept_url)
            except OSError as exc:  # smtplib's errors are OSErrors too
                # Only the error's type: SMTP errors quote the recipient's address.
                logger.error("Invitation email %s could not be sent (%s)", invitation.pk,
                             type(exc).__name__)
                # Only the email carries the token: an unsent invitation is unusable,
                # so withdraw it rather than list it as pending.
                invitation_revoke(invitation=invitation, actor=request.user)
                messages.error(
                    request,
                    f"The email to {invitation.email} could not be sent, so the invitation "
                    "was withdrawn. Check the mail settings and try again.",
                )
                return redirect(_members_url(request))
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect(_members_url(request))
    return render(request, "accounts/invite.html", {
        "form": form, "invitation_lifetime_days": settings.INVITATION_LIFETIME_DAYS,
    })


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def member_role(request: HtmxHttpRequest, member_id: int) -> HttpResponse:
    membership = membership_in_workspace(workspace=request.workspace, member_id=member_id)
    form = MemberRoleForm(request.POST, workspace=request.workspace)
    error = notice = ""
    if not form.is_valid():
        error = "Choose one of this workspace's roles."
    else:
        role = form.cleaned_data["role"]
        try:
            membership_change_role(membership=membership, role=role, actor=request.user)
        except ValidationError as exc:
            error = _error_text(exc)
            membership.refresh_from_db()  # the service had already swapped the role in memory
        else:
            notice = f"{membership.user.display_name} is now {role.name}."

    if membership.user_id == request.user.pk and not membership.role.is_admin:
        # The admin demoted themselves: this page is no longer theirs to see.
        messages.success(request, f"{notice} You no longer administer this workspace.")
        home = reverse("dashboard:home", kwargs={"workspace_slug": request.workspace.slug})
        return HttpResponseClientRedirect(home) if request.htmx else redirect(home)
    if wants_fragment(request):
        return render(request, "accounts/members.html#member-row", {
            "row": member_rows(memberships=[membership])[0],
            "roles": workspace_roles(workspace=request.workspace),
            "row_error": error, "row_notice": notice,
        })
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_members_url(request))


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def member_remove(request: HtmxHttpRequest, member_id: int) -> HttpResponse:
    membership = membership_in_workspace(workspace=request.workspace, member_id=member_id)
    name, is_self = membership.user.display_name, membership.user_id == request.user.pk
    try:
        membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(_members_url(request))
    messages.success(request, f"{name} was removed from {request.workspace.name}.")
    return redirect("index" if is_self else _members_url(request))


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def invitation_revoke_view(request: HtmxHttpRequest, invitation_id: int) -> HttpResponse:
    invitation = invitation_in_workspace(workspace=request.workspace,
                                         invitation_id=invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect(_members_url(request))


# --- Roles -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.ACCOUNT, Access.WRITE)
def roles(request: HtmxHttpRequest) -> HttpResponse:
    role_list = roles_with_use(workspace=request.workspace)
    # Areas down, roles across: the grant matrix reads as "who may do what here".
    matrix = [
        {"area": area, "cells": [role.access_for(area) for role in role_list]} for area in Area
    ]
    return render(request, "accounts/roles.html", {"role_list": role_list, "matrix": matrix})


def _role_form_page(request: HtmxHttpRequest, role: Role | None) -> HttpResponse:
    form = RoleForm(request.POST or None, role=role)
    if request.method == "POST" and form.is_valid():
        try:
            saved = role_save(
                workspace=request.workspace, actor=request.user, role=role,
                name=form.cleaned_data["name"], description=form.cleaned_data["description"],
                grants=form.grants(), can_approve=form.cleaned_data["can_approve"],
                can_send=form.cleaned_data["can_send"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            if role is not None:
                role.refresh_from_db()  # the service had already changed it in memory
        else:
            messages.success(request, f"Role “{saved.name}” saved.")
            if saved.pk == request.membership.role_id and not saved.is_admin:
                # They took account write away from their own role (another admin remains).
                return redirect("dashboard:home", workspace_slug=request.workspace.slug)
            return redirect("accounts:roles", workspace_slug=request.workspace.slug)
    return render(request, "accounts/role_form.html", {"form": form, "role": role})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def role_create(request: HtmxHttpRequest) -> HttpResponse:
    return _role_form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def role_edit(request: HtmxHttpRequest, role_id: int) -> HttpResponse:
    return _role_form_page(request, role_in_workspace(workspace=request.workspace, role_id=role_id))


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def role_delete_view(request: HtmxHttpRequest, role_id: int) -> HttpResponse:
    role = role_in_workspace(workspace=request.workspace, role_id=role_id)
    name = role.name
    try:
        role_delete(role=role, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Role “{name}” deleted.")
    return redirect("accounts:roles", workspace_slug=request.workspace.slug)


# --- Workspace settings ------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def workspace_settings(request: HtmxHttpRequest) -> HttpResponse:
    workspace = request.workspace
    form = WorkspaceSettingsForm(request.POST or None, initial={
        "name": workspace.name, "time_zone": workspace.time_zone,
        "require_mfa": workspace.require_mfa,
        "require_second_approver": workspace.require_second_approver,
        "unschedule_when_approval_voided": workspace.unschedule_when_approval_voided,
    })
    if request.method == "POST" and form.is_valid():
        workspace_update_settings(
            workspace=workspace, actor=request.user, name=form.cleaned_data["name"],
            time_zone=form.cleaned_data["time_zone"],
            require_mfa=form.cleaned_data["require_mfa"],
            require_second_approver=form.cleaned_data["require_second_approver"],
            unschedule_when_approval_voided=form.cleaned_data["unschedule_when_approval_voided"],
        )
        messages.success(request, "Settings saved.")
        return redirect("accounts:settings", workspace_slug=workspace.slug)
    return render(request, "accounts/settings.html", {
        "form": form, "you_have_mfa": user_has_mfa(request.user),
    })


# --- Accepting an invitation (public: the invitee may have no account yet) ------------

def _accept_page(request, invitation: Invitation, state: str, status: int = 200, **extra):
    context = {"invitation": invitation, "state": state, **extra}
    return render(request, "accounts/invitation_accept.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """One page, five situations: unusable link (410), new account, existing account
    (log in first), logged in as the invitee (confirm), logged in as someone else."""
    invitation = invitation_for_token(token=token)
    if invitation is None:
        raise Http404("No such invitation.")
    if not invitation.is_usable:
        # 410 Gone: the link was real, and will never work again.
        return _accept_page(request, invitation, "unusable", status=410)

    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return _accept_page(request, invitation, "wrong_account",
                                status=403 if request.method == "POST" else 200)
        if request.method == "POST":
            return _accept_and_enter(request, invitation, user=user)
        return _accept_page(request, invitation, "confirm")

    if account_exists(email=invitation.email):
        login_url = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
        return _accept_page(request, invitation, "log_in", login_url=login_url)

    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        return _accept_and_enter(
            request, invitation, full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["password1"], form=form,
        )
    return _accept_page(request, invitation, "sign_up", form=form)


def _accept_and_enter(request, invitation: Invitation, *, user=None, form=None, **account):
    try:
        membership = invitation_accept(invitation=invitation, user=user, **account)
    except ValidationError as error:
        # Lost a race: accepted, revoked or expired meanwhile, or the account now exists.
        invitation.refresh_from_db()
        if not invitation.is_usable:
            return _accept_page(request, invitation, "unusable", status=410)
        if form is not None:
            form.add_error(None, error)
            return _accept_page(request, invitation, "sign_up", form=form)
        messages.error(request, _error_text(error))
        return redirect(request.path)
    if user is None:
        # ModelBackend: the account was just made with this password; no MFA yet to check.
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(
        request, f"Welcome to {membership.workspace.name}. You are {membership.role.name} here."
    )
    return redirect("dashboard:home", workspace_slug=membership.workspace.slug)
