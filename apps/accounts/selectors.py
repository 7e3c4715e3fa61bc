"""Reads about members, workspaces, roles and invitations.

Views and the floors above (the gate, the syncs) read memberships through
these, so a lookup is always scoped to one workspace and written once.
"""

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, Role, User, Workspace

# Expired and revoked invitations stay listed this long, so an admin can see
# why someone's link stopped working, without the list growing for ever.
RECENT_INVITATIONS = timedelta(days=30)


def user_has_mfa(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def membership_for(*, user: User, workspace_slug: str) -> Membership:
    """The member's membership in that workspace, or 404 for outsiders."""
    membership = (
        Membership.objects.select_related("workspace", "role")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def memberships_of(*, user: User) -> list[Membership]:
    """Every workspace the person belongs to, by workspace name."""
    return list(
        Membership.objects.filter(user=user).select_related("workspace", "role")
        .order_by("workspace__name")
    )


def workspace_admins(*, workspace: Workspace) -> list[Membership]:
    """The workspace's active admins, longest-standing first.

    Grants are JSON on the role, so "is an admin" is decided in Python."""
    memberships = (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .select_related("role", "user").order_by("created_at", "pk")
    )
    return [m for m in memberships if m.role.is_admin]


def workspace_admin(*, workspace: Workspace) -> Membership | None:
    """The longest-standing active admin: whom scheduled background work acts for."""
    admins = workspace_admins(workspace=workspace)
    return admins[0] if admins else None


def workspace_admin_emails(*, workspace: Workspace) -> list[str]:
    return sorted(m.user.email for m in workspace_admins(workspace=workspace))


# --- The team screens ----------------------------------------------------------------

def membership_in_workspace(*, workspace: Workspace, member_id: int) -> Membership:
    """The workspace's membership `member_id`; 404 for any other workspace's."""
    return get_object_or_404(
        Membership.objects.select_related("user", "role", "workspace"),
        pk=member_id, workspace=workspace,
    )


def role_in_workspace(*, workspace: Workspace, role_id: int) -> Role:
    return get_object_or_404(Role, pk=role_id, workspace=workspace)


def invitation_in_workspace(*, workspace: Workspace, invitation_id: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("workspace"), pk=invitation_id, workspace=workspace
    )


def workspace_roles(*, workspace: Workspace) -> list[Role]:
    return list(Role.objects.filter(workspace=workspace).order_by("name"))


def workspace_memberships(*, workspace: Workspace) -> list[Membership]:
    return list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "role").prefetch_related("agents")  # removing one removes these
        .order_by("user__full_name", "user__email")
    )


def member_rows(*, memberships: list[Membership]) -> list[dict]:
    """Each membership with whether its person has set up two-factor authentication."""
    with_mfa = set(
        Authenticator.objects.filter(
            user_id__in=[m.user_id for m in memberships], type=Authenticator.Type.TOTP
        ).values_list("user_id", flat=True)
    )
    return [{"membership": m, "mfa": m.user_id in with_mfa} for m in memberships]


def invitations_recent(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Pending invitations, plus those that expired or were revoked lately."""
    since = timezone.now() - RECENT_INVITATIONS
    return (
        Invitation.objects.filter(workspace=workspace, accepted_at=None)
        .filter(Q(revoked_at=None, expires_at__gt=since) | Q(revoked_at__gte=since))
        .select_related("role", "invited_by")
    )


def roles_with_use(*, workspace: Workspace) -> list[Role]:
    """The workspace's roles, each with `member_count` and pending `invitation_count`."""
    pending = Q(
        invitations__accepted_at=None, invitations__revoked_at=None,
        invitations__expires_at__gt=timezone.now(),
    )
    return list(Role.objects.filter(workspace=workspace).annotate(
        member_count=Count("memberships", distinct=True),
        invitation_count=Count("invitations", filter=pending, distinct=True),
    ).order_by("name"))


def invitation_for_token(*, token_hash: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("workspace", "role")
        .filter(token_hash=token_hash).first()
    )


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
